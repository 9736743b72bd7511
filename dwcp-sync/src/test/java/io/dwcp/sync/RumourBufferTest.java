package io.dwcp.sync;

import io.dwcp.sync.crdt.OrMap;
import io.dwcp.sync.crdt.PNCounter;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RumourBufferTest {
    private static SyncMessage.KeyState delta(String key, long n) {
        return new SyncMessage.KeyState(key, OrMap.EMPTY.updateDelta("r@1", key, PNCounter.EMPTY, c -> c.addDelta("r@1", n)));
    }

    @Test
    void aRoundSendsEachPeerOneGroupOfWhatItIsNotKnownToHold() {
        RumourBuffer b = new RumourBuffer(100);
        b.add(delta("x", 1), false, 0, Set.of("a", "b"));
        b.add(delta("y", 2), false, 2, Set.of("a", "c"));
        b.add(delta("z", 3), true, 1, Set.of("a"));
        List<RumourBuffer.Item> items = b.drain();
        assertEquals(0, b.size());

        List<RumourBuffer.Group> toB = RumourBuffer.groupsFor(items, "b", "a", List.of("b", "d"), 1 << 20);
        assertEquals(2, toB.size(), "deltas and whole states go in separate messages");
        assertEquals(List.of(delta("y", 2)), toB.get(0).entries(), "x is held by b");
        assertEquals(3, toB.get(0).hops());
        assertEquals(List.of("b", "c", "d", "a"), toB.get(0).path(), "holders of y, the round's targets, this node last");
        assertTrue(toB.get(1).whole());

        List<RumourBuffer.Group> toUnknown = RumourBuffer.groupsFor(items, null, "a", List.of(), 1 << 20);
        assertEquals(List.of(delta("x", 1), delta("y", 2)), toUnknown.get(0).entries(), "a peer of unknown id gets every delta");
        assertEquals(List.of("a"), toUnknown.get(0).path(), "only a holds both");
    }

    @Test
    void groupsAreSplitBelowTheMessageLimitAndTheBufferIsBounded() {
        RumourBuffer b = new RumourBuffer(3);
        for (int i = 0; i < 5; i++) {
            b.add(delta("k" + i, i + 1), false, 0, Set.of("a"));
        }
        assertEquals(3, b.size());
        assertEquals(2, b.dropped());
        List<RumourBuffer.Item> items = b.drain();
        assertEquals("k2", items.get(0).entry().key(), "the oldest were dropped");
        int one = SyncWire.entryBytes("k2", items.get(0).entry().state().encode());
        List<RumourBuffer.Group> g = RumourBuffer.groupsFor(items, null, "a", List.of(), 2 * one + 1);
        assertEquals(2, g.size());
        assertEquals(2, g.get(0).entries().size());
        assertEquals(1, g.get(1).entries().size());
    }

    @Test
    void anEntryQueuedAgainAfterFailedSendsIsOneItemHeldByTheNodesInBothSets() {
        RumourBuffer b = new RumourBuffer(10);
        SyncMessage.KeyState e = delta("x", 1);
        // its sends to c and d failed: each failure queues it again without that peer
        b.add(e, false, 2, Set.of("a", "b", "d"));
        b.add(e, false, 3, Set.of("a", "b", "c"));
        b.add(delta("x", 1), false, 0, Set.of("a")); // an equal delta from elsewhere is another item
        List<RumourBuffer.Item> items = b.drain();
        assertEquals(2, items.size());
        assertEquals(Set.of("a", "b"), items.get(0).holders());
        assertEquals(3, items.get(0).hops());
    }
}
