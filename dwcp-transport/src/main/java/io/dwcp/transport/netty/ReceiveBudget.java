package io.dwcp.transport.netty;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;

import java.util.HashMap;
import java.util.Map;

/**
 * The receive windows a transport has promised, in total ({@code dwcp.transport.max-buffered}) and to each peer
 * identity ({@code max-buffered-per-peer}). A session reserves its window here before the peer is told it (HELLO or
 * HELLO_ACK) and returns it when the session ends. Because {@link InboundTransfers} holds every session's reorder
 * memory to the window it was told, the reorder memory of one peer and of the whole node stays within these caps
 * whatever the peers send. A peer near its cap gets smaller windows (it must wait for acknowledgements sooner); below
 * the smallest usable window a new session is refused with {@code LIMIT_EXCEEDED} naming the cap to raise.
 *
 * <p>Thread-safe: one monitor, held only for the arithmetic.
 */
final class ReceiveBudget {
    private final long nodeBytes;
    private final long perPeerBytes;
    @GuardedBy("this")
    private long reservedBytes;
    /** Bytes reserved by the sessions of each peer identity; entries at 0 are removed. */
    @GuardedBy("this")
    private final Map<String, Long> byPeer = new HashMap<>();

    ReceiveBudget(long nodeBytes, long perPeerBytes) {
        if (nodeBytes <= 0 || perPeerBytes <= 0) {
            throw new IllegalArgumentException("budgets must be positive, got " + nodeBytes + " and " + perPeerBytes);
        }
        this.nodeBytes = nodeBytes;
        this.perPeerBytes = Math.min(perPeerBytes, nodeBytes);
    }

    /**
     * Reserves a receive window of up to {@code wantedBytes} for a new session.
     *
     * @param peer the peer identity of a session a listener accepted, or null for a session this node opened (which
     *             counts against the node's budget only)
     * @param wantedBytes the window asked for (the reorder buffer)
     * @param minBytes the smallest usable window
     * @return the window granted, between {@code minBytes} and {@code wantedBytes}
     * @throws DwcpException LIMIT_EXCEEDED when less than {@code minBytes} is left, naming the cap that binds
     */
    synchronized long reserve(String peer, long wantedBytes, long minBytes) {
        long nodeLeft = nodeBytes - reservedBytes;
        long peerHeld = peer == null ? 0 : byPeer.getOrDefault(peer, 0L);
        long peerLeft = peer == null ? Long.MAX_VALUE : perPeerBytes - peerHeld;
        long grant = Math.min(wantedBytes, Math.min(nodeLeft, peerLeft));
        if (grant < minBytes) {
            if (peerLeft < nodeLeft) {
                throw new DwcpException(ErrorCode.LIMIT_EXCEEDED, "the sessions of " + peer + " already hold "
                        + peerHeld + " bytes of receive windows here, and a session needs at least " + minBytes
                        + " (dwcp.transport.max-buffered-per-peer = " + perPeerBytes + " bytes): raise it, or lower"
                        + " dwcp.transport.reorder-buffer");
            }
            throw new DwcpException(ErrorCode.LIMIT_EXCEEDED, "this node's sessions already hold " + reservedBytes
                    + " bytes of receive windows, and a session needs at least " + minBytes
                    + " (dwcp.transport.max-buffered = " + nodeBytes + " bytes): raise it, or lower"
                    + " dwcp.transport.reorder-buffer");
        }
        reservedBytes += grant;
        if (peer != null) {
            byPeer.merge(peer, grant, Long::sum);
        }
        return grant;
    }

    /** Returns a window reserved by {@link #reserve} with the same {@code peer}. */
    synchronized void release(String peer, long bytes) {
        reservedBytes -= bytes;
        if (peer != null) {
            byPeer.computeIfPresent(peer, (k, v) -> v - bytes <= 0 ? null : v - bytes);
        }
    }

    /** Bytes of receive windows reserved now, by {@code peer} or (null) in total. */
    synchronized long reservedBytes(String peer) {
        return peer == null ? reservedBytes : byPeer.getOrDefault(peer, 0L);
    }
}
