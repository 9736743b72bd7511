package io.dwcp.sync;

import io.dwcp.sync.crdt.PNCounter;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ReplicatedStore#pruneRetired} prunes only entries unchanged since the causally stable frontier. An entry
 * changed after it — here, a removal of a key a retired member wrote, which another live member has not yet seen —
 * keeps the retired member's dots in its context: pruned, the removal would no longer cover the retired member's
 * presence dot that the other member still holds, so that member would keep the key and ignore the removal, while the
 * pruned replica drops that stale dot whenever it comes back: the replicas would disagree for good.
 */
class PruneRetiredTest {
    private static ReplicatedStore store(String replicaId) {
        return new ReplicatedStore(replicaId, 1 << 20, 4);
    }

    @Test
    void anEntryChangedAfterTheStableFrontierKeepsTheRetiredMembersDotsUntilItIsStable() {
        ReplicatedStore r = store("r@1"); // the member that then retires
        ReplicatedStore a = store("a@1");
        ReplicatedStore b = store("b@1");
        r.update("k", PNCounter.EMPTY, c -> c.addDelta("r@1", 1));
        a.mergeState("k", r.state("k"));
        b.mergeState("k", r.state("k"));
        long stable = a.changeSeq(); // every live member (a, b) holds a's state up to here, r's write included
        a.remove("k"); // after the frontier: b has not seen the removal

        int pruned = a.pruneRetired(Set.of("r"), stable);

        // anti-entropy both ways: the removal reaches b, and b's copy of r's write does not bring the key back
        b.mergeState("k", a.state("k"));
        a.mergeState("k", b.state("k"));
        assertFalse(b.get("k").isPresent(), "b applied the removal");
        assertFalse(a.get("k").isPresent());
        assertArrayEquals(a.canonicalSnapshot(), b.canonicalSnapshot());
        assertEquals(0, pruned, "the removal was newer than the stable frontier");
        assertTrue(a.state("k").context().replicas().contains("r@1"), "the removal still covers r's dot");

        // once the removal is stable too, the entry is pruned, and the replicas still agree after a further exchange
        assertEquals(1, a.pruneRetired(Set.of("r"), a.changeSeq()));
        assertFalse(a.state("k").context().replicas().contains("r@1"), "r's dots pruned");
        b.mergeState("k", r.state("k")); // r's old write, delivered late to b: already covered by b's removal
        a.mergeState("k", b.state("k"));
        b.mergeState("k", a.state("k"));
        assertFalse(a.get("k").isPresent());
        assertFalse(b.get("k").isPresent());
    }
}
