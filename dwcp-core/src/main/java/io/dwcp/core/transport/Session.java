package io.dwcp.core.transport;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;

/**
 * One logical link to a peer. Thread-safe: transfers may be started from any thread and run concurrently.
 */
public interface Session extends AutoCloseable {
    /** {@return session id as hex text (128 random bits for AMST)} */
    String id();

    /** @return the peer's address */
    InetSocketAddress remoteAddress();

    /** {@return data streams currently connected} */
    int activeStreams();

    /**
     * The tier of the path to the peer as the transport classified it (from RTT measured in the
     * handshake), or the pinned tier. The default, for transports that do not classify, is WAN.
     *
     * @return the tier of the path
     */
    default io.dwcp.core.Tier tier() {
        return io.dwcp.core.Tier.WAN;
    }

    /** {@return whether the session can still carry transfers} */
    boolean isOpen();

    /**
     * Starts a transfer; returns at once. The source is read on transport threads and closed when the transfer ends.
     *
     * @param request what to send
     * @return the transfer, to follow or cancel
     * @throws io.dwcp.core.DwcpException {@code ILLEGAL_STATE} when the session is closed
     */
    Transfer send(TransferRequest request);

    /** {@return a future that completes when the session has closed, normally or not} */
    CompletableFuture<Void> closeFuture();

    /** Graceful close: drains in-flight transfers up to {@code close-timeout}, then aborts them. Idempotent. */
    @Override
    void close();
}
