/**
 * The Netty implementation of AMST: sessions of one control and N data connections, striping of chunks over the
 * streams that can take them, reassembly, acknowledgements, re-send, reconnection, TLS and metrics. The only type a
 * user names is {@link io.dwcp.transport.netty.AmstTransport} (for AMST-specific controls such as the dynamic rate
 * cap); everything else is package-private.
 */
package io.dwcp.transport.netty;
