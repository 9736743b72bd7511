package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The memory budget of a node's migration receivers for partial codec frames: every round reserves what its frame
 * buffer holds, against the node's budget ({@code dwcp.migration.receive-buffer}) and against its peer's share of it
 * ({@code dwcp.migration.receive-buffer-per-peer}); a reservation past either fails that round with
 * {@code LIMIT_EXCEEDED} instead of waiting or growing the heap, so one peer that trickles large frames cannot take the
 * budget of the others. Thread-safe: the node's total is lock-free, a peer's share is updated atomically per peer
 * ({@link ConcurrentHashMap#compute}) and its entry is removed when it drops to zero. Created by the manager and shared
 * by its receivers, each round reserving through its peer's view ({@link #forPeer}); nothing for users to call.
 */
public final class ReceiveBuffers {
    private final long maxBytes;
    private final long maxBytesPerPeer;
    private final AtomicLong used = new AtomicLong();
    /** Bytes reserved per peer (its address); entries exist only while positive. Only in the node's budget. */
    private final ConcurrentHashMap<String, Long> perPeer = new ConcurrentHashMap<>();
    /** For a peer's view: the node's budget, and the peer it reserves for; null in the node's budget itself. */
    private final ReceiveBuffers node;
    private final String peer;

    private ReceiveBuffers(long maxBytes, long maxBytesPerPeer) {
        if (maxBytes <= 0 || maxBytesPerPeer <= 0) {
            throw new IllegalArgumentException("budgets must be positive, got " + maxBytes + " and " + maxBytesPerPeer);
        }
        this.maxBytes = maxBytes;
        this.maxBytesPerPeer = Math.min(maxBytes, maxBytesPerPeer);
        this.node = null;
        this.peer = null;
    }

    private ReceiveBuffers(ReceiveBuffers node, String peer) {
        this.maxBytes = node.maxBytesPerPeer;
        this.maxBytesPerPeer = node.maxBytesPerPeer;
        this.node = node;
        this.peer = peer;
    }

    /**
     * A budget of {@code maxBytes} with no smaller share per peer.
     *
     * @param maxBytes the budget in bytes
     * @return the budget
     */
    public static ReceiveBuffers of(long maxBytes) {
        return new ReceiveBuffers(maxBytes, maxBytes);
    }

    /**
     * A budget of {@code maxBytes}, of which one peer may hold at most {@code maxBytesPerPeer}.
     *
     * @param maxBytes        the node's budget in bytes
     * @param maxBytesPerPeer one peer's share in bytes (capped at {@code maxBytes})
     * @return the budget
     */
    public static ReceiveBuffers of(long maxBytes, long maxBytesPerPeer) {
        return new ReceiveBuffers(maxBytes, maxBytesPerPeer);
    }

    long maxBytes() {
        return maxBytes;
    }

    long usedBytes() {
        return node != null ? node.usedBytes(peer) : used.get();
    }

    long usedBytes(String peer) {
        return perPeer.getOrDefault(peer, 0L);
    }

    /**
     * A view of this node's budget for the rounds of {@code peer} (its address; null when unknown, which all unknown
     * peers share): its reservations count against the peer's share and the node's budget, and its
     * {@link #maxBytes()} is the share.
     */
    ReceiveBuffers forPeer(String peer) {
        if (node != null) {
            throw new IllegalStateException("already the view of peer " + this.peer);
        }
        return new ReceiveBuffers(this, peer == null ? "unknown peer" : peer);
    }

    /** Takes {@code bytes} of the budget for round transfer {@code what}, or fails with {@code LIMIT_EXCEEDED}. */
    void reserve(long bytes, String what) {
        if (node != null) {
            node.reserveFor(peer, bytes, what);
            return;
        }
        for (;;) {
            long u = used.get();
            if (u + bytes > maxBytes) {
                throw new DwcpException(ErrorCode.LIMIT_EXCEEDED, what + " needs " + bytes + " more bytes of frame buffer;"
                        + " the receiver holds " + u + " of its " + maxBytes + " (dwcp.migration.receive-buffer) for"
                        + " rounds in progress");
            }
            if (used.compareAndSet(u, u + bytes)) {
                return;
            }
        }
    }

    void release(long bytes) {
        if (node != null) {
            node.releaseFor(peer, bytes);
            return;
        }
        used.addAndGet(-bytes);
    }

    private void reserveFor(String peer, long bytes, String what) {
        perPeer.compute(peer, (k, v) -> {
            long u = v == null ? 0 : v;
            if (u + bytes > maxBytesPerPeer) {
                throw new DwcpException(ErrorCode.LIMIT_EXCEEDED, what + " needs " + bytes + " more bytes of frame"
                        + " buffer; its peer " + peer + " holds " + u + " of its share of " + maxBytesPerPeer
                        + " (dwcp.migration.receive-buffer-per-peer) for rounds in progress");
            }
            reserve(bytes, what);
            return u + bytes;
        });
    }

    private void releaseFor(String peer, long bytes) {
        perPeer.compute(peer, (k, v) -> {
            long left = (v == null ? 0 : v) - bytes;
            return left <= 0 ? null : left;
        });
        release(bytes);
    }
}
