package io.dwcp.core.transport;

/**
 * A transfer a peer started, as announced to the receiving {@link TransferHandler}.
 *
 * @param id transfer id, unique within the session
 * @param kind what the payload is
 * @param key application key
 * @param lengthBytes announced length, or -1 for a streaming transfer
 */
public record InboundTransfer(long id, TransferKind kind, String key, long lengthBytes) {
}
