package io.dwcp.sync;

import io.dwcp.core.Tier;

import java.net.InetSocketAddress;

/**
 * The sync component's bookkeeping for one configured peer. Outlives the component's runs (a peer added before a stop
 * is still a peer after the next start). The flags are written by the round scheduler; {@code roundQueued} and
 * {@code retryScheduled} are set under the object's own monitor and cleared without it.
 */
final class SyncPeer {
    final InetSocketAddress address;
    volatile long lastSyncMillis;
    /** A round is queued or running; at most one per peer at a time. */
    volatile boolean roundQueued;
    /** Rounds failed in a row since the last successful one; while above 0 the retry timer owns the peer. */
    volatile int failures;
    /** A retry is scheduled (one chain of retries per peer). */
    volatile boolean retryScheduled;
    volatile Tier tier = Tier.WAN;
    /** The peer's node id, learned from its answers; null until then. */
    volatile String nodeId;

    SyncPeer(InetSocketAddress address, long nowMillis) {
        this.address = address;
        this.lastSyncMillis = nowMillis;
    }
}
