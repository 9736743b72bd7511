package io.dwcp.sync;

import io.dwcp.sync.GarbageCollectionTest.Replica;
import io.dwcp.sync.crdt.Crdt;
import io.dwcp.sync.crdt.Dot;
import io.dwcp.sync.crdt.GCounter;
import io.dwcp.sync.crdt.OrMap;
import io.dwcp.sync.crdt.OrSet;
import io.dwcp.sync.crdt.PNCounter;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Tag;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.statistics.Statistics;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Pruning a retired replica's dots never changes what a replica shows, and the pruning replicas converge. Two systems
 * of four replicas run the same random history — updates (the last replica, {@code r3}, takes part until it is
 * retired), removals, deltas delivered late, out of order, more than once and replayed after the retirement, anti-entropy
 * rounds, garbage collection — and {@code r3} is retired at a random step, known to every replica at once: from then
 * on it sends nothing, its undelivered messages are refused, and so is any delta adding one of its dots (a replay, or
 * one waiting in a causal buffer). One system also prunes {@code r3}'s dots at random moments, at the causally stable
 * frontier and only once the retirement itself is causally stable ({@link ReplicatedStore#pruneRetired}). After every
 * step each live replica shows the same keys and values in both systems; at the end the pruning replicas are identical
 * and no key that {@code r3} no longer tags mentions it. Without the stability check (pruning as soon as {@code r3} is
 * retired) replicas diverge: a live replica keeps a dot of {@code r3} another one has pruned and then refuses.
 */
@Tag("ASS-7")
class RetiredDotPruningPropertyTest {
    private static final String[] KEYS = {"counter", "set", "total"};
    private static final int N = 4;
    private static final int RETIRED = 3;
    private static final String RETIRED_ID = "r3";
    /** A component-reserved key (not in the view) that records the retirement at each replica. */
    private static final String RETIREMENTS = ReplicatedStore.RESERVED_PREFIX + "retirements";

    private record Message(int from, String key, OrMap delta) {
    }

    private static final class World {
        final Replica[] replicas = new Replica[N];
        final List<List<Message>> inbox = new ArrayList<>();
        /** Every message delivered to a live replica so far (replayed later, as a faulty network or a relay may). */
        final List<Message> delivered = new ArrayList<>();
        /** Per live replica: its change sequence when it learnt of the retirement, or -1 before. */
        final long[] retiredSeenAt = new long[N];

        World() {
            for (int i = 0; i < N; i++) {
                replicas[i] = Replica.of("r" + i);
                inbox.add(new ArrayList<>());
                retiredSeenAt[i] = -1;
            }
        }

        void broadcast(int r, int before) {
            Replica from = replicas[r];
            for (int d = before; d < from.deltas().size(); d++) {
                for (int i = 0; i < N; i++) {
                    if (i != r) {
                        inbox.get(i).add(new Message(r, from.keys().get(d), from.deltas().get(d)));
                    }
                }
            }
        }

        List<String> liveOthers(int r, boolean retired) {
            List<String> out = new ArrayList<>();
            for (int i = 0; i < N; i++) {
                if (i != r && !(retired && i == RETIRED)) {
                    out.add("r" + i);
                }
            }
            return out;
        }

        /**
         * A live replica's pass: collect at the causally stable frontier over every live member, and (only when
         * {@code prune}) prune r3 once its retirement and the entries are causally stable. Both systems collect the
         * same way, so that pruning is the only difference between them.
         */
        int collectAndPrune(int r, boolean retired, boolean prune) {
            Replica rep = replicas[r];
            long stable = rep.tracker().stableAtAll(liveOthers(r, retired));
            rep.store().collect(stable);
            if (!prune || !retired || retiredSeenAt[r] > stable) {
                return 0;
            }
            return rep.store().pruneRetired(Set.of(RETIRED_ID), stable);
        }
    }

    private static void write(Replica r, String key, int amount, String element) {
        String id = r.store().replicaId();
        switch (key) {
            case "counter" -> r.store().update(key, PNCounter.EMPTY, c -> c.addDelta(id, amount));
            case "set" -> r.store().update(key, OrSet.EMPTY, s -> s.addDelta(id, element));
            default -> r.store().update(key, GCounter.EMPTY, c -> c.incrementDelta(id, Math.abs(amount) + 1));
        }
    }

    private static Object observable(Crdt<?> v) {
        if (v instanceof PNCounter c) {
            return c.value();
        }
        if (v instanceof GCounter c) {
            return c.value();
        }
        return ((OrSet) v).value();
    }

    private static void assertSameView(World pruning, World twin, boolean retired, String when) {
        for (int i = 0; i < N; i++) {
            if (retired && i == RETIRED) {
                continue;
            }
            ReplicatedStore a = pruning.replicas[i].store();
            ReplicatedStore b = twin.replicas[i].store();
            assertEquals(b.keys(), a.keys(), "keys of r" + i + " " + when);
            for (String k : b.keys()) {
                assertEquals(observable(b.get(k).orElseThrow()), observable(a.get(k).orElseThrow()),
                        "value of " + k + " at r" + i + " " + when);
            }
        }
    }

    @Property(tries = 200)
    void pruningARetiredReplicasDotsNeverChangesTheViewAndConverges(@ForAll long seed,
                                                                     @ForAll @IntRange(min = 1, max = 120) int steps) {
        Random rnd = new Random(seed);
        World pruning = new World();
        World twin = new World();
        int retireAt = rnd.nextInt(steps * 2 / 3 + 1); // early enough for rounds and prunes after it
        boolean retired = false;
        long pruned = 0;
        for (int step = 0; step < steps; step++) {
            if (step == retireAt) {
                retired = true;
                for (World w : List.of(pruning, twin)) {
                    for (int i = 0; i < N; i++) {
                        w.inbox.get(i).removeIf(m -> m.from() == RETIRED); // its messages are refused from now on
                        w.replicas[i].store().retiredNodes(() -> Set.of(RETIRED_ID)); // and its dots in any delta
                        w.replicas[i].tracker().forget(RETIRED_ID);
                        // learning of it is a change of the store, as the membership key's is in the component
                        ReplicatedStore st = w.replicas[i].store();
                        st.updateAny(RETIREMENTS, GCounter.EMPTY, c -> c.incrementDelta(st.replicaId(), 1));
                        w.retiredSeenAt[i] = st.changeSeq();
                    }
                    w.inbox.get(RETIRED).clear();
                }
            }
            int live = retired ? N - 1 : N;
            int op = rnd.nextInt(100);
            int r = rnd.nextInt(live);
            String what;
            if (op < 30) {
                String key = KEYS[rnd.nextInt(KEYS.length)];
                int amount = rnd.nextInt(7) - 3;
                String element = "e" + rnd.nextInt(3);
                OrMap seen = twin.replicas[r].store().state(key);
                if (seen != null && seen.keys().isEmpty()) {
                    continue; // re-writing a key seen removed is out of scope, as in GarbageCollectionPropertyTest
                }
                for (World w : List.of(pruning, twin)) {
                    int before = w.replicas[r].deltas().size();
                    write(w.replicas[r], key, amount, element);
                    w.broadcast(r, before);
                }
                what = "after r" + r + " wrote " + key;
            } else if (op < 38) {
                String key = KEYS[rnd.nextInt(KEYS.length)];
                for (World w : List.of(pruning, twin)) {
                    int before = w.replicas[r].deltas().size();
                    w.replicas[r].store().remove(key);
                    w.broadcast(r, before);
                }
                what = "after r" + r + " removed " + key;
            } else if (op < 62) {
                if (twin.inbox.get(r).isEmpty()) {
                    continue;
                }
                int idx = rnd.nextInt(twin.inbox.get(r).size());
                for (World w : List.of(pruning, twin)) {
                    Message m = w.inbox.get(r).remove(idx);
                    w.replicas[r].store().mergeDelta(m.key(), m.delta());
                    w.delivered.add(m);
                }
                what = "after a delivery to r" + r;
            } else if (op < 70) {
                if (twin.delivered.isEmpty()) {
                    continue;
                }
                int idx = rnd.nextInt(twin.delivered.size());
                for (World w : List.of(pruning, twin)) {
                    Message m = w.delivered.get(idx); // an old delta again, possibly one of r3's
                    w.replicas[r].store().mergeDelta(m.key(), m.delta());
                }
                what = "after a replay to r" + r;
            } else if (op < 88) {
                int m = (r + 1 + rnd.nextInt(live - 1)) % live;
                GarbageCollectionTest.round(pruning.replicas[r], pruning.replicas[m]);
                GarbageCollectionTest.round(twin.replicas[r], twin.replicas[m]);
                what = "after a round r" + r + "→r" + m;
            } else {
                pruned += pruning.collectAndPrune(r, retired, true);
                twin.collectAndPrune(r, retired, false);
                what = "after r" + r + " collected and pruned";
            }
            assertSameView(pruning, twin, retired, what);
        }
        if (!retired) {
            return; // retired at the last step or later: nothing to prune
        }

        // quiescence: every delta delivered, three passes of rounds between the live replicas, then everyone prunes
        for (World w : List.of(pruning, twin)) {
            for (int i = 0; i < N - 1; i++) {
                for (Message m : w.inbox.get(i)) {
                    w.replicas[i].store().mergeDelta(m.key(), m.delta());
                }
                w.inbox.get(i).clear();
            }
            for (int pass = 0; pass < 3; pass++) {
                for (int i = 0; i < N - 1; i++) {
                    for (int j = 0; j < N - 1; j++) {
                        if (i != j) {
                            GarbageCollectionTest.round(w.replicas[i], w.replicas[j]);
                        }
                    }
                }
            }
        }
        for (int i = 0; i < N - 1; i++) {
            pruned += pruning.collectAndPrune(i, true, true);
            twin.collectAndPrune(i, true, false);
        }
        assertSameView(pruning, twin, true, "at the end");
        for (int i = 0; i < N - 1; i++) {
            ReplicatedStore s = pruning.replicas[i].store();
            assertArrayEquals(pruning.replicas[0].store().canonicalSnapshot(), s.canonicalSnapshot(),
                    "the pruning replicas converge (r" + i + ")");
            for (String k : s.heldKeys()) {
                OrMap st = s.state(k);
                boolean tagged = st.dots(k).stream().map(Dot::replica).anyMatch(RETIRED_ID::equals);
                assertFalse(!tagged && st.context().replicas().contains(RETIRED_ID),
                        "r" + i + " still mentions r3 in " + k + ": " + st.context());
            }
        }
        Statistics.label("pruned entries").collect(pruned == 0 ? "none" : pruned < 5 ? "1-4" : "5+");
    }
}
