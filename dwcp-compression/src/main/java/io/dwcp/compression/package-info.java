/**
 * HDE, the hierarchical delta encoder (SPEC §5): a lossless page-level delta + zstd codec for VM state. The only public
 * type is {@link io.dwcp.compression.HdeCodecProvider}, registered for {@link java.util.ServiceLoader}; everything else
 * is package-private engine code. The wire format is documented in {@code docs/hde-wire-format.md}.
 */
package io.dwcp.compression;
