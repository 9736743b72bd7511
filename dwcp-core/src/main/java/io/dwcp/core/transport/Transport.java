package io.dwcp.core.transport;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import io.dwcp.core.spi.Component;

/**
 * Moves framed payloads between peers. A {@link Session} is one logical link to a peer, possibly made of
 * many streams; both ends of a session may send.
 *
 * <p>Thread-safe. Futures complete on transport threads; do not block in their callbacks.
 */
public interface Transport extends Component {
    /**
     * Accepts sessions on {@code bindAddress} (port 0 picks a free port). Transfers that peers send are handed to
     * {@code handler}.
     *
     * @param bindAddress the address to bind
     * @param handler receives the transfers peers send
     * @return completes with the listener once bound, or exceptionally ({@code IO_ERROR}, {@code ILLEGAL_STATE})
     */
    CompletableFuture<TransportListener> listen(InetSocketAddress bindAddress, TransferHandler handler);

    /**
     * Opens a session to a listening peer. Transfers the peer sends back on this session go to {@code handler}.
     *
     * @param remoteAddress the peer's listening address
     * @param handler receives the transfers the peer sends back
     * @return completes with the session once the handshake is done, or exceptionally ({@code IO_ERROR},
     *     {@code AUTH_FAILED}, {@code PROTOCOL_ERROR}, {@code TIMEOUT})
     */
    CompletableFuture<Session> connect(InetSocketAddress remoteAddress, TransferHandler handler);
}
