package io.dwcp.sync;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

/*
 * Maintainer notes. What every member has acknowledged of this replica's store, in units of the store's change
 * sequence (ReplicatedStore.changeSeq(): it grows by one with every change of any entry).
 *
 * Acknowledgement. An anti-entropy round that this replica runs with member M compares the two stores key by key
 * (Merkle tree, then leaf digests) and pushes every key that differs; M merges each push before it answers. Both
 * stores only grow, so when the round succeeds M holds every entry this replica held when the round began: `held[M]`
 * is raised to the change sequence read at the round's start. Nothing else counts (a gossip push is not merged
 * synchronously, and a round M runs is not reported back), so acknowledgement is never overstated.
 *
 * Causal stability. A removal held by every member may still be concurrent with an update some member made before
 * the removal reached it; that update must be here before the removed key's value may be dropped, or a delta of it
 * arriving later would show a different value than the dropped one would have. A round that starts after M
 * acknowledged sequence s, and that pulls every key where M differs, brings here every update M made before it held s:
 * `stable[M]` is raised to s then. A change with sequence <= min over the live members of stable[M] is causally
 * stable: every member holds it and everything concurrent with it is here. It takes two rounds with each member, so
 * garbage collection lags the removal by about two anti-entropy periods (max-staleness at most, per peer).
 *
 * A member that is partitioned runs no successful round, so its entries stand still and hold back every removal made
 * since: nothing is collected early. A member never heard of (no round yet) counts as 0. Retired members are left out
 * of the minimum by the caller (Membership). Thread-safe: every method is synchronized (rounds end a few times per
 * second at most).
 */

/** Per-member acknowledgement of this replica's changes, and the causally stable frontier. Thread-safe. */
final class StabilityTracker {
    /**
     * The member a round started with (null while its node id was unknown), the sequence read then, and what that
     * member had acknowledged by then.
     */
    record RoundStart(String member, long seq, long heldBefore) {
    }

    private static final class Acks {
        long held;
        long stable;
        long heardMillis;
    }

    private final Map<String, Acks> acks = new HashMap<>();

    /**
     * Notes the start of a round with {@code member} (null while its node id is unknown).
     *
     * @param member the member's node id, or null
     * @param seq the store's change sequence now
     * @return the token to pass to {@link #roundSucceeded}
     */
    synchronized RoundStart roundStarting(String member, long seq) {
        Acks a = member == null ? null : acks.get(member);
        return new RoundStart(member, seq, a == null ? 0 : a.held);
    }

    /**
     * Records a successful round with {@code member}.
     *
     * @param member the member's node id (learnt during the round)
     * @param start the token of the round's start
     * @param pulledAll whether every key that differed on the member's side was pulled and merged here
     */
    synchronized void roundSucceeded(String member, RoundStart start, boolean pulledAll) {
        Acks a = acks.computeIfAbsent(member, m -> new Acks());
        a.held = Math.max(a.held, start.seq());
        // another node may answer at the peer's address than the one the round started with: what that one had
        // acknowledged says nothing about this one
        if (pulledAll && member.equals(start.member())) {
            a.stable = Math.max(a.stable, start.heldBefore());
        }
    }

    /**
     * The highest change sequence every one of {@code members} is known to hold.
     *
     * @param members the live members other than this replica
     * @return the minimum acknowledged sequence; {@link Long#MAX_VALUE} when there are none
     */
    synchronized long heldByAll(Collection<String> members) {
        return min(members, a -> a.held);
    }

    /**
     * The causally stable frontier: changes up to it are held by every member, with everything concurrent with them.
     *
     * @param members the live members other than this replica
     * @return the minimum stable sequence; {@link Long#MAX_VALUE} when there are none
     */
    synchronized long stableAtAll(Collection<String> members) {
        return min(members, a -> a.stable);
    }

    /** The minimum of {@code field} over {@code members}; 0 for a member without an entry. Caller holds the monitor. */
    private long min(Collection<String> members, java.util.function.ToLongFunction<Acks> field) {
        long min = Long.MAX_VALUE;
        for (String m : members) {
            Acks a = acks.get(m);
            min = Math.min(min, a == null ? 0 : field.applyAsLong(a));
        }
        return min;
    }

    /** Notes that a message from {@code member} arrived at {@code nowMillis}. */
    synchronized void heard(String member, long nowMillis) {
        Acks a = acks.computeIfAbsent(member, m -> new Acks());
        a.heardMillis = Math.max(a.heardMillis, nowMillis);
    }

    /**
     * When {@code member} was last heard from; a member seen here for the first time counts as heard at
     * {@code nowMillis}, so that silence is only ever measured from this replica's own observation.
     */
    synchronized long lastHeardMillis(String member, long nowMillis) {
        Acks a = acks.computeIfAbsent(member, m -> new Acks());
        if (a.heardMillis == 0) {
            a.heardMillis = nowMillis;
        }
        return a.heardMillis;
    }

    /** Drops what is known of a retired member (its clock entries in the stability table). */
    synchronized void forget(String member) {
        acks.remove(member);
    }

    /** Members with an entry here (for tests). */
    synchronized int tracked() {
        return acks.size();
    }
}
