package io.dwcp.sync;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.sync.crdt.OrMap;
import io.dwcp.sync.crdt.OrSet;
import io.dwcp.sync.crdt.PNCounter;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReplicatedStoreTest {
    private static final class Recorder {
        final List<String> keys = new ArrayList<>();
        final List<OrMap> deltas = new ArrayList<>();
    }

    private static ReplicatedStore store(String id, Recorder rec) {
        ReplicatedStore s = new ReplicatedStore(id, 1 << 20, 4);
        if (rec != null) {
            s.onLocalDelta((k, d) -> {
                rec.keys.add(k);
                rec.deltas.add(d);
            });
        }
        return s;
    }

    @Test
    void updatesAreReadBackAndEmitDeltasThatRecreateUnknownKeysElsewhere() {
        Recorder rec = new Recorder();
        ReplicatedStore a = store("a", rec);
        a.update("vms/running", PNCounter.EMPTY, c -> c.addDelta("a", 3));
        a.update("sites", OrSet.EMPTY, s -> s.addDelta("a", "eu-west"));
        assertEquals(3, ((PNCounter) a.get("vms/running").orElseThrow()).value());
        assertEquals(Set.of("sites", "vms/running"), a.keys());

        ReplicatedStore b = store("b", null);
        for (int i = 0; i < rec.keys.size(); i++) {
            assertEquals(ReplicatedStore.Outcome.APPLIED, b.mergeDelta(rec.keys.get(i), rec.deltas.get(i)));
        }
        assertArrayEquals(a.canonicalSnapshot(), b.canonicalSnapshot());
        assertEquals(a.index().root(), b.index().root());
        assertEquals(a.stateBytes(), b.stateBytes());
        assertTrue(a.stateBytes() > 0);
        assertEquals(ReplicatedStore.Outcome.DUPLICATE, b.mergeDelta(rec.keys.get(0), rec.deltas.get(0)));
    }

    @Test
    void removalPropagatesAsAnOperationAndAConcurrentUpdateSurvivesIt() {
        Recorder ra = new Recorder();
        ReplicatedStore a = store("a", ra);
        ReplicatedStore b = store("b", null);
        a.update("k", PNCounter.EMPTY, c -> c.addDelta("a", 1));
        b.mergeState("k", a.state("k"));
        a.remove("k");
        assertTrue(a.get("k").isEmpty());
        assertEquals(1, a.tombstoneCount());
        b.update("k", PNCounter.EMPTY, c -> c.addDelta("b", 1)); // concurrent with the removal
        b.mergeState("k", a.state("k"));
        a.mergeState("k", b.state("k"));
        assertEquals(Set.of("k"), a.keys());
        assertEquals(2, ((PNCounter) a.get("k").orElseThrow()).value());
        assertArrayEquals(a.canonicalSnapshot(), b.canonicalSnapshot());
        // a removal that observed everything removes it everywhere
        a.remove("k");
        b.mergeDelta("k", ra.deltas.get(ra.deltas.size() - 1));
        assertTrue(b.get("k").isEmpty());
    }

    @Test
    void anotherTypeOnAKeyIsATypeMismatchAndChangesNothing() {
        Recorder ra = new Recorder();
        ReplicatedStore a = store("a", ra);
        ReplicatedStore b = store("b", null);
        a.update("k", PNCounter.EMPTY, c -> c.addDelta("a", 1));
        b.update("k", OrSet.EMPTY, s -> s.addDelta("b", "x"));
        byte[] before = b.canonicalSnapshot();
        DwcpException e = assertThrows(DwcpException.class, () -> b.mergeDelta("k", ra.deltas.get(0)));
        assertEquals(ErrorCode.TYPE_MISMATCH, e.code());
        assertArrayEquals(before, b.canonicalSnapshot());
        assertEquals(ErrorCode.TYPE_MISMATCH, assertThrows(DwcpException.class,
                () -> a.update("k", OrSet.EMPTY, s -> s.addDelta("a", "y"))).code());
    }

    @Test
    void deltaAheadOfItsPredecessorWaitsInTheCausalBufferThenBothApply() {
        Recorder ra = new Recorder();
        ReplicatedStore a = store("a", ra);
        a.update("k", OrSet.EMPTY, s -> s.addDelta("a", "1"));
        a.update("k", OrSet.EMPTY, s -> s.addDelta("a", "2"));
        ReplicatedStore b = store("b", null);
        assertEquals(ReplicatedStore.Outcome.BUFFERED, b.mergeDelta("k", ra.deltas.get(1)));
        assertTrue(b.get("k").isEmpty());
        assertEquals(1, b.bufferedDeltas());
        assertEquals(ReplicatedStore.Outcome.APPLIED, b.mergeDelta("k", ra.deltas.get(0)));
        assertEquals(0, b.bufferedDeltas());
        assertArrayEquals(a.canonicalSnapshot(), b.canonicalSnapshot());
    }

    @Test
    void causalBufferOverflowDropsTheKeysDeltasAndAFullStateRepairsIt() {
        Recorder ra = new Recorder();
        ReplicatedStore a = store("a", ra);
        for (int i = 0; i < 7; i++) {
            a.update("k", PNCounter.EMPTY, c -> c.addDelta("a", 1));
        }
        ReplicatedStore b = store("b", null); // buffer bound 4
        List<ReplicatedStore.Outcome> outcomes = new ArrayList<>();
        for (int i = 1; i < 7; i++) {
            outcomes.add(b.mergeDelta("k", ra.deltas.get(i)));
        }
        assertEquals(ReplicatedStore.Outcome.OVERFLOW, outcomes.get(4));
        assertEquals(ReplicatedStore.Outcome.BUFFERED, outcomes.get(5), "the buffer was emptied of the key's deltas");
        assertEquals(1, b.bufferedDeltas());
        assertTrue(b.mergeState("k", a.state("k")));
        assertEquals(0, b.bufferedDeltas(), "the full state unblocked the pending delta");
        assertEquals(7, ((PNCounter) b.get("k").orElseThrow()).value());
        assertArrayEquals(a.canonicalSnapshot(), b.canonicalSnapshot());
    }

    @Test
    void stateAboveMaxMessageIsRefusedWithLimitExceeded() {
        ReplicatedStore s = new ReplicatedStore("a", 64, 4);
        DwcpException e = assertThrows(DwcpException.class,
                () -> s.update("k", OrSet.EMPTY, v -> v.addDelta("a", "x".repeat(100))));
        assertEquals(ErrorCode.LIMIT_EXCEEDED, e.code());
        assertFalse(s.keys().contains("k"));
    }

    @Test
    void merkleTreeLocatesTheDifferingLeaf() {
        ReplicatedStore a = store("a", null);
        ReplicatedStore b = store("b", null);
        for (int i = 0; i < 50; i++) {
            String k = "key-" + i;
            a.update(k, PNCounter.EMPTY, c -> c.addDelta("a", 1));
            b.mergeState(k, a.state(k));
        }
        assertEquals(a.index().root(), b.index().root());
        a.update("key-7", PNCounter.EMPTY, c -> c.addDelta("a", 1));
        assertNotEquals(a.index().root(), b.index().root());
        int leaf = MerkleIndex.leafOf("key-7");
        assertNotEquals(a.index().hash(MerkleIndex.DEPTH, leaf), b.index().hash(MerkleIndex.DEPTH, leaf));
        int other = (leaf + 1) % MerkleIndex.LEAVES;
        assertEquals(a.index().hash(MerkleIndex.DEPTH, other), b.index().hash(MerkleIndex.DEPTH, other));
        assertNotEquals(a.index().leaf(leaf).get("key-7"), b.index().leaf(leaf).get("key-7"));
    }
}
