package io.dwcp.transport.netty;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Connections accepted by a listener that have not finished their handshake yet (no HELLO answered): at most
 * {@code maxPerPeer} from one peer address and {@code maxTotal} on the node. Without this, a peer opening raw TCP
 * connections and never sending HELLO held each one, with its channel and buffers, until connect-timeout, and a flood
 * of them starved the event loops and file descriptors that legitimate peers need.
 *
 * <p>A refused connection is not answered at once: it is held, unread, for a few seconds and then told why and closed
 * ({@link ServerHandshakeHandler}), so that a peer that reconnects whenever it is dropped does so a few times a minute,
 * not in a tight loop that would take the CPU the legitimate peers need. Refused connections held so are capped too
 * ({@link #holdRefused}, at the node's cap of pending ones); past that they are closed at once.
 *
 * <p>Thread-safe: event loops of different channels take and return places concurrently. The node's count is an
 * atomic; a peer's count is updated atomically per peer ({@link ConcurrentHashMap#compute}) and its entry removed when
 * it drops to zero. Each accepted channel holds at most one place, returned exactly once by its handshake handler.
 */
final class PendingConnections {
    private final int maxTotal;
    private final int maxPerPeer;
    private final AtomicInteger total = new AtomicInteger();
    /** Refused connections held before they are told and closed; at most {@link #maxTotal}. */
    private final AtomicInteger refused = new AtomicInteger();
    private final ConcurrentHashMap<String, Integer> perPeer = new ConcurrentHashMap<>();

    PendingConnections(int maxTotal, int maxPerPeer) {
        if (maxTotal <= 0 || maxPerPeer <= 0) {
            throw new IllegalArgumentException("limits must be positive, got " + maxTotal + " and " + maxPerPeer);
        }
        this.maxTotal = maxTotal;
        this.maxPerPeer = Math.min(maxTotal, maxPerPeer);
    }

    /**
     * Takes a place for a new connection from {@code peer} (its IP address).
     *
     * @throws DwcpException {@code LIMIT_EXCEEDED} naming the key whose limit was reached; nothing was taken then
     */
    void acquire(String peer) {
        perPeer.compute(peer, (k, v) -> {
            int n = v == null ? 0 : v;
            if (n >= maxPerPeer) {
                throw new DwcpException(ErrorCode.LIMIT_EXCEEDED, peer + " already has " + n + " connections in their"
                        + " handshake here (dwcp.transport.max-pending-connections-per-peer = " + maxPerPeer + ")");
            }
            for (;;) {
                int t = total.get();
                if (t >= maxTotal) {
                    throw new DwcpException(ErrorCode.LIMIT_EXCEEDED, "this node already has " + t + " connections in"
                            + " their handshake (dwcp.transport.max-pending-connections = " + maxTotal + ")");
                }
                if (total.compareAndSet(t, t + 1)) {
                    return n + 1;
                }
            }
        });
    }

    /** Returns the place of a connection from {@code peer} taken by {@link #acquire}. */
    void release(String peer) {
        perPeer.compute(peer, (k, v) -> v == null || v <= 1 ? null : v - 1);
        total.decrementAndGet();
    }

    /**
     * Takes a place for holding a refused connection until it is told; false when {@code maxTotal} are held already
     * (the connection is then closed at once).
     */
    boolean holdRefused() {
        for (;;) {
            int r = refused.get();
            if (r >= maxTotal) {
                return false;
            }
            if (refused.compareAndSet(r, r + 1)) {
                return true;
            }
        }
    }

    /** Returns a place taken by {@link #holdRefused}. */
    void releaseRefused() {
        refused.decrementAndGet();
    }

    /** Refused connections held now. */
    int refusedHeld() {
        return refused.get();
    }

    /** Connections in their handshake now (for tests and the health line). */
    int pending() {
        return total.get();
    }

    /** Connections from {@code peer} in their handshake now. */
    int pending(String peer) {
        return perPeer.getOrDefault(peer, 0);
    }
}
