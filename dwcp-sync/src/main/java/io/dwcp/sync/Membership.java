package io.dwcp.sync;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.sync.crdt.Crdt;
import io.dwcp.sync.crdt.TwoPSet;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.NavigableSet;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/*
 * Maintainer notes. Membership is a 2P-Set of node ids kept in the replicated store itself, under a reserved key
 * (ReplicatedStore.RESERVED_PREFIX), so joins and retirements travel by the same gossip and anti-entropy as any
 * update, are journaled with the store, and are part of the canonical state replicas compare. A node adds itself when
 * it starts (join); retirement removes a node id, and 2P-Set removal is final: a retired id can never join again
 * (restart the node under a new dwcp.node-id). Live members = added − retired. Only live members take part in the
 * causal-stability minimum (StabilityTracker), so a retired site no longer holds back garbage collection; messages
 * whose sender is a retired node are refused and counted (AssSync.handle).
 */

/** The replicated membership of a sync cluster: who joined, who was retired. Thread-safe (the store is). */
final class Membership {
    /** The store key of the membership set. */
    static final String KEY = ReplicatedStore.RESERVED_PREFIX + "dwcp.sync.members";

    private final ReplicatedStore store;
    private final String self;

    Membership(ReplicatedStore store, String self) {
        this.store = Objects.requireNonNull(store, "store");
        this.self = Objects.requireNonNull(self, "self");
    }

    /**
     * Adds this node to the membership (idempotent).
     *
     * @throws DwcpException {@code ILLEGAL_STATE} when this node id was retired
     */
    void join() {
        if (isRetired(self)) {
            throw new DwcpException(ErrorCode.ILLEGAL_STATE, "node '" + self + "' was retired from the sync membership;"
                    + " retirement is final: start this replica under a new dwcp.node-id (and without its old data-dir)");
        }
        if (!live().contains(self)) {
            store.updateAny(KEY, TwoPSet.EMPTY, s -> s.addDelta(self));
        }
    }

    /**
     * Retires {@code node}: a replicated, final removal from the membership.
     *
     * @param node the node id
     * @return whether this call retired it (false when it was already retired)
     * @throws IllegalArgumentException when {@code node} is not a member known here
     */
    boolean retire(String node) {
        Objects.requireNonNull(node, "node");
        if (isRetired(node)) {
            return false;
        }
        if (!live().contains(node)) {
            throw new IllegalArgumentException("'" + node + "' is not a member known here; members: " + live());
        }
        store.updateAny(KEY, TwoPSet.EMPTY, s -> s.removeDelta(node));
        return true;
    }

    /** The live members (joined, not retired), this node included once it joined; sorted. */
    NavigableSet<String> live() {
        TwoPSet s = set();
        return s == null ? Collections.emptyNavigableSet() : s.value();
    }

    /** The live members other than this node. */
    Set<String> others() {
        TreeSet<String> out = new TreeSet<>(live());
        out.remove(self);
        return out;
    }

    /** The retired node ids, sorted. */
    NavigableSet<String> retired() {
        TwoPSet s = set();
        return s == null ? Collections.emptyNavigableSet() : s.tombstones();
    }

    boolean isRetired(String node) {
        TwoPSet s = set();
        return s != null && s.tombstones().contains(node);
    }

    /**
     * The members to retire for silence: live members other than this node not heard from since {@code cutoffMillis},
     * provided the members heard from since then (this node included) are a strict majority of the live members — so
     * a replica that is itself cut off, or on the minority side of a partition, retires nobody.
     *
     * @param tracker when each member was last heard from
     * @param nowMillis the current time
     * @param cutoffMillis members silent since before this are candidates
     * @return the node ids to retire (empty when none, or when this replica hears from no majority)
     */
    List<String> silent(StabilityTracker tracker, long nowMillis, long cutoffMillis) {
        NavigableSet<String> live = live();
        List<String> quiet = new ArrayList<>();
        int heard = live.contains(self) ? 1 : 0;
        for (String m : live) {
            if (m.equals(self)) {
                continue;
            }
            if (tracker.lastHeardMillis(m, nowMillis) < cutoffMillis) {
                quiet.add(m);
            } else {
                heard++;
            }
        }
        return 2 * heard > live.size() ? quiet : List.of();
    }

    private TwoPSet set() {
        Crdt<?> v = store.get(KEY).orElse(null);
        return v instanceof TwoPSet t ? t : null;
    }
}
