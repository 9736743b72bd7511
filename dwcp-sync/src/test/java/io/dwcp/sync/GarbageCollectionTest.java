package io.dwcp.sync;

import io.dwcp.sync.crdt.OrMap;
import io.dwcp.sync.crdt.OrSet;
import io.dwcp.sync.crdt.PNCounter;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tombstone collection at causal stability, on stores in one JVM: anti-entropy rounds are played by {@link #round}
 * (pull every differing key, push every differing key, as {@code AntiEntropy} does over the network), and each store's
 * {@link StabilityTracker} is fed exactly as {@code AssSync.runRound} feeds it.
 */
@Tag("ASS-7")
class GarbageCollectionTest {
    /** A replica: its store, the deltas it emitted, its stability tracker. */
    record Replica(String name, ReplicatedStore store, List<String> keys, List<OrMap> deltas, StabilityTracker tracker) {
        static Replica of(String name) {
            ReplicatedStore s = new ReplicatedStore(name, 1 << 20, 64);
            Replica r = new Replica(name, s, new ArrayList<>(), new ArrayList<>(), new StabilityTracker());
            s.onLocalDelta((k, d) -> {
                r.keys.add(k);
                r.deltas.add(d);
            });
            return r;
        }

        OrMap lastDelta() {
            return deltas.get(deltas.size() - 1);
        }

        int collect(Replica... others) {
            List<String> ids = new ArrayList<>();
            for (Replica o : others) {
                ids.add(o.name);
            }
            return store.collect(tracker.stableAtAll(ids));
        }
    }

    /** One anti-entropy round that {@code r} runs with {@code m}: pulls, pushes, then records the acknowledgement. */
    static void round(Replica r, Replica m) {
        StabilityTracker.RoundStart start = r.tracker.roundStarting(m.name, r.store.changeSeq());
        for (String k : m.store.heldKeys()) {
            r.store.mergeState(k, m.store.state(k));
        }
        for (String k : r.store.heldKeys()) {
            m.store.mergeState(k, r.store.state(k));
        }
        r.tracker.roundSucceeded(m.name, start, true);
    }

    private static long count(ReplicatedStore s, String key) {
        return ((PNCounter) s.get(key).orElseThrow()).value();
    }

    @Test
    void aPartitionedMemberBlocksCollectionAndOnceItCatchesUpCollectionProceeds() {
        Replica a = Replica.of("a");
        Replica b = Replica.of("b");
        Replica c = Replica.of("c");
        a.store.update("vm-1", PNCounter.EMPTY, v -> v.addDelta("a", 5));
        round(a, b);
        round(a, c);
        a.store.remove("vm-1");
        // c is cut off from here on: a can run rounds with b only
        round(a, b);
        round(a, b);
        round(a, b);
        assertEquals(0, a.collect(b, c), "c has not acknowledged the removal: nothing may be collected");
        assertEquals(1, a.store.tombstoneCount());
        assertTrue(a.tracker.stableAtAll(List.of("b")) >= a.store.changeSeq() - 1, "only c holds it back");

        // the partition heals: the first round makes c hold the removal, the second proves nothing concurrent is missing
        round(a, c);
        assertEquals(0, a.collect(b, c));
        round(a, c);
        assertEquals(1, a.collect(b, c));
        assertEquals(0, a.store.tombstoneCount());
        assertEquals(1, a.store.collectedCount());
        assertTrue(a.store.get("vm-1").isEmpty());
        assertTrue(a.store.state("vm-1").valueKeys().isEmpty(), "the removed value was dropped");
        assertFalse(a.store.state("vm-1").context().isEmpty(), "the causal context is kept");
    }

    @Test
    void aRemovedThenCollectedKeyDoesNotResurrectWhenAnOldDeltaOrStateArrives() {
        Replica a = Replica.of("a");
        Replica b = Replica.of("b");
        a.store.update("vm-1", OrSet.EMPTY, s -> s.addDelta("a", "eu-west"));
        OrMap oldDelta = a.lastDelta();
        OrMap oldState = a.store.state("vm-1");
        round(a, b);
        a.store.remove("vm-1");
        round(a, b);
        round(a, b);
        assertEquals(1, a.collect(b));
        byte[] collected = a.store.canonicalSnapshot();

        // a delta delayed in the network (or replayed by a faulty proxy) arrives after the collection
        assertEquals(ReplicatedStore.Outcome.DUPLICATE, a.store.mergeDelta("vm-1", oldDelta));
        // and a replica that lost the removal (restarted from an old snapshot) offers its old whole state
        assertFalse(a.store.mergeState("vm-1", oldState));
        assertTrue(a.store.get("vm-1").isEmpty());
        assertEquals(Set.of(), a.store.keys());
        assertArrayEquals(collected, a.store.canonicalSnapshot(), "neither brought the key or its value back");
        assertEquals(0, a.store.tombstoneCount());
    }

    @Test
    void anUpdateConcurrentWithTheRemovalSurvivesAndKeepsTheWholeValue() {
        Replica a = Replica.of("a");
        Replica b = Replica.of("b");
        a.store.update("n", PNCounter.EMPTY, v -> v.addDelta("a", 2));
        round(a, b);
        a.store.remove("n");
        b.store.update("n", PNCounter.EMPTY, v -> v.addDelta("b", 1)); // b has not seen the removal
        OrMap concurrent = b.lastDelta();
        round(a, b); // a pulls b's state: the key is back, with a's 2 and b's 1
        round(a, b);
        assertEquals(0, a.collect(b), "the key is present: nothing to collect");
        assertEquals(3, count(a.store, "n"));
        assertEquals(ReplicatedStore.Outcome.DUPLICATE, a.store.mergeDelta("n", concurrent));
        assertEquals(3, count(a.store, "n"));
    }

    @Test
    void collectingBeforeStabilityWouldChangeTheValueADelayedConcurrentUpdateShows() {
        // why the second round is needed: a removal that every member holds can still be concurrent with an update
        // whose delta is in flight; had the value been dropped, the update would show 1 instead of 3
        Replica a = Replica.of("a");
        Replica b = Replica.of("b");
        a.store.update("n", PNCounter.EMPTY, v -> v.addDelta("a", 2));
        round(a, b);
        b.store.update("n", PNCounter.EMPTY, v -> v.addDelta("b", 1)); // its delta is delayed
        OrMap delayed = b.lastDelta();
        a.store.remove("n");
        // a round in which a pushed its removal but (racing with b's update) did not pull it: model it with a push only
        StabilityTracker.RoundStart start = a.tracker.roundStarting("b", a.store.changeSeq());
        b.store.mergeState("n", a.store.state("n"));
        a.tracker.roundSucceeded("b", start, true);
        assertEquals(0, a.collect(b), "b holds the removal, but what b did before is not known here yet");

        ReplicatedStore premature = new ReplicatedStore("a", 1 << 20, 64);
        premature.mergeState("n", a.store.state("n"));
        premature.collect(Long.MAX_VALUE);
        premature.mergeDelta("n", delayed);
        a.store.mergeDelta("n", delayed);
        assertEquals(3, count(a.store, "n"));
        assertEquals(1, count(premature, "n"), "a premature collection changes what the key shows");
    }

    @Test
    void aCollectedKeyWrittenAgainStartsFromTheWritersDelta() {
        Replica a = Replica.of("a");
        Replica b = Replica.of("b");
        a.store.update("n", PNCounter.EMPTY, v -> v.addDelta("a", 2));
        round(a, b);
        a.store.remove("n");
        round(a, b);
        round(a, b);
        assertEquals(1, a.collect(b));
        a.store.update("n", PNCounter.EMPTY, v -> v.addDelta("a", 1));
        assertEquals(1, count(a.store, "n"), "the collected value is gone; a fresh key is still the way to a fresh value");
        assertEquals(0, a.store.tombstoneCount());
    }

    @Test
    void reservedKeysAreRefusedToUsersAndLeftOutOfKeys() {
        ReplicatedStore s = new ReplicatedStore("a", 1 << 20, 4);
        assertThrows(IllegalArgumentException.class, () -> s.update("\0x", PNCounter.EMPTY, v -> v.addDelta("a", 1)));
        assertThrows(IllegalArgumentException.class, () -> s.remove("\0x"));
        new Membership(s, "a").join();
        assertEquals(Set.of(), s.keys());
        assertEquals(Set.of("a"), new Membership(s, "a").live());
        assertEquals(1, s.entryCount());
    }
}
