/**
 * The transport as an application uses it: {@link io.dwcp.core.transport.Transport} (from
 * {@code DwcpManager.transport()}) listens and connects; a {@link io.dwcp.core.transport.Session} sends
 * {@link io.dwcp.core.transport.TransferRequest}s whose bytes come from a {@link io.dwcp.core.transport.PayloadSource},
 * and a {@link io.dwcp.core.transport.TransferHandler} takes inbound transfers into a
 * {@link io.dwcp.core.transport.TransferSink}. A transport provider implements these interfaces and is found
 * through {@link io.dwcp.core.spi.TransportProvider}. Public API.
 */
package io.dwcp.core.transport;
