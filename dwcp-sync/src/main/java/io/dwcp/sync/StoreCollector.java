package io.dwcp.sync;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/*
 * Membership-driven cleanup of the sync store: retiring members (an operator's retire() or silence past
 * replica-retirement), collecting removed keys whose removal is causally stable at every live member, and pruning the
 * dots of retired members once their retirement is causally stable (see AssSync's maintainer notes).
 *
 * Owned by AssSync, created with the store at the first start. Called from the run's timer thread (collect, every
 * gc-interval), from tests (collect) and from user threads (retire). No lock of its own: the membership, the stability
 * table and the store are thread-safe; `retiredSeenAt` is a concurrent map that only grows (putIfAbsent), bounded by
 * the retirements.
 */
final class StoreCollector {
    /** Logs under the component's name, as before the collector had a class of its own. */
    private static final Logger LOG = LoggerFactory.getLogger(AssSync.class);

    private final ReplicatedStore store;
    private final Membership membership;
    private final StabilityTracker stability;
    private final Map<InetSocketAddress, SyncPeer> peers;
    private final Clock clock;
    /**
     * Per retired member, this store's change sequence when the retirement was first seen here (the frontier that must
     * become causally stable before its dots are pruned). Grows only; bounded by the retirements.
     */
    private final Map<String, Long> retiredSeenAt = new ConcurrentHashMap<>();

    StoreCollector(ReplicatedStore store, Membership membership, StabilityTracker stability,
                   Map<InetSocketAddress, SyncPeer> peers, Clock clock) {
        this.store = store;
        this.membership = membership;
        this.stability = stability;
        this.peers = peers;
        this.clock = clock;
    }

    /**
     * One garbage-collection pass (every gc-interval): retires members silent past replica-retirement (only while
     * this node hears from a majority), then drops the values of removed keys whose removal is causally stable at
     * every live member, then prunes the dots of retired members whose retirement is causally stable
     * ({@link ReplicatedStore#pruneRetired}).
     *
     * @param r the current (or last) run: its settings and messenger
     * @return how many keys were collected
     */
    int collect(SyncRun r) {
        long now = clock.millis();
        Set<String> peerIds = new HashSet<>();
        for (SyncPeer p : peers.values()) {
            if (p.nodeId != null) {
                peerIds.add(p.nodeId);
            }
        }
        for (String m : membership.silent(stability, now, now - r.settings.replicaRetirement.toMillis())) {
            if (!peerIds.contains(m)) {
                continue; // silence is only judged for members this node syncs with directly
            }
            LOG.warn("sync: retiring member '{}': not heard from for more than dwcp.sync.replica-retirement ({})",
                    m, r.settings.replicaRetirement);
            retire(m, r);
        }
        for (String m : membership.retired()) {
            stability.forget(m); // retirements made elsewhere: their entries leave this node's table too
            retiredSeenAt.putIfAbsent(m, store.changeSeq()); // at or after the change that brought the retirement here
        }
        long stable = stability.stableAtAll(membership.others());
        int n = store.collect(stable);
        if (n > 0) {
            LOG.debug("sync: collected {} causally stable removed key(s)", n);
        }
        Set<String> prunable = new HashSet<>();
        retiredSeenAt.forEach((m, seq) -> {
            if (seq <= stable) {
                prunable.add(m); // every live member held the retirement before a round that pulled all of it here
            }
        });
        int p = store.pruneRetired(prunable, stable);
        if (p > 0) {
            LOG.debug("sync: pruned retired members' dots from {} key(s)", p);
        }
        return n;
    }

    /**
     * Retires {@code nodeId} (see {@link AssSync#retire}) and disconnects it.
     *
     * @param r the current run, or null: nothing to disconnect
     * @return whether this call retired it
     */
    boolean retire(String nodeId, SyncRun r) {
        boolean did = membership.retire(nodeId);
        stability.forget(nodeId); // its clock entries leave the stability table
        for (SyncPeer p : peers.values()) {
            if (nodeId.equals(p.nodeId) && r != null) {
                r.messenger.disconnect(p.address);
            }
        }
        return did;
    }
}
