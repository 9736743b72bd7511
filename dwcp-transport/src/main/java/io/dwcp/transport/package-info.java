/**
 * AMST, the adaptive multi-stream transport of DWCP. API: {@link io.dwcp.transport.AmstTransportProvider}
 * (found by ServiceLoader) and {@link io.dwcp.transport.netty.AmstTransport}; the wire format, controllers and Netty
 * layer live in the sub-packages {@code wire}, {@code control} and {@code netty}.
 */
package io.dwcp.transport;
