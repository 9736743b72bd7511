package io.dwcp.core.transport;

/**
 * Receives the transfers peers start. Called once per transfer, on a transport delivery thread (never an event
 * loop).
 */
@FunctionalInterface
public interface TransferHandler {
    /**
     * Returns the sink for this transfer's bytes. Throwing (or returning null) refuses the transfer: the sender's
     * future fails with the exception's code.
     *
     * @param session the session the transfer came on
     * @param transfer the transfer
     * @return where its bytes go
     */
    TransferSink onTransfer(Session session, InboundTransfer transfer);
}
