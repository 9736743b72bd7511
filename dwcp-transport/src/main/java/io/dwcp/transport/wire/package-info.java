/**
 * The AMST wire format: frame header layout, frame types and flags, the CRC32C rule, the frame decoder and
 * the handshake payloads. Byte layouts are documented in {@code docs/amst-wire-format.md}; golden vectors live in
 * {@code src/test/resources/wire/}. Internal to {@code dwcp-transport}: public only so the Netty layer can use it, no
 * compatibility promise.
 */
package io.dwcp.transport.wire;
