package io.dwcp.sync;

import io.dwcp.sync.crdt.OrMap;
import io.dwcp.sync.crdt.PNCounter;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The full-state baseline streams the store one acknowledged chunk at a time. */
class WholeStoreShipperTest {
    private static Map<String, OrMap> store(int keys) {
        Map<String, OrMap> m = new HashMap<>();
        for (int i = 0; i < keys; i++) {
            String k = "k-" + i;
            long v = i + 1;
            m.put(k, OrMap.EMPTY.updateDelta("r@1", k, PNCounter.EMPTY, c -> c.addDelta("r@1", v)));
        }
        return m;
    }

    @Test
    void shipsEveryKeyInChunksAndBuildsTheNextOnlyWhenEveryTargetAcknowledgedThePrevious() {
        Map<String, OrMap> store = store(2_000);
        List<List<String>> chunks = new ArrayList<>();
        List<CompletableFuture<Void>> acks = new ArrayList<>();
        List<Function<byte[], CompletableFuture<?>>> targets = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            targets.add(bytes -> {
                CompletableFuture<Void> f = new CompletableFuture<>();
                acks.add(f);
                return f;
            });
        }
        WholeStoreShipper s = new WholeStoreShipper();
        int chunkBytes = 8 << 10;
        assertTrue(s.ship(new ArrayList<>(store.keySet()), store::get, chunkBytes, batch -> {
            chunks.add(batch.stream().map(SyncMessage.KeyState::key).toList());
            int bytes = batch.stream().mapToInt(e -> SyncWire.entryBytes(e.key(), e.state().encode())).sum();
            assertTrue(batch.size() == 1 || bytes <= chunkBytes, "chunk of " + bytes + " bytes");
            return new byte[0];
        }, targets, Runnable::run));
        assertEquals(1, chunks.size(), "one chunk in flight");
        assertFalse(s.ship(List.of("k-0"), store::get, chunkBytes, b -> new byte[0], targets, Runnable::run),
                "a round during the stream is skipped");
        assertEquals(1, s.skippedRounds());
        acks.get(0).complete(null);
        assertEquals(1, chunks.size(), "the next chunk waits for the second target");
        acks.get(1).completeExceptionally(new IllegalStateException("peer gone")); // the stream goes on without it
        assertEquals(2, chunks.size());
        int acked = 2;
        while (s.busy()) {
            assertEquals(acked + 1, acks.size(), "one target left: one send per chunk");
            acks.get(acked++).complete(null);
        }
        List<String> all = new ArrayList<>();
        chunks.forEach(all::addAll);
        assertEquals(store.size(), all.size());
        assertEquals(store.keySet(), new java.util.HashSet<>(all), "every key once");
        assertTrue(chunks.size() > 10, chunks.size() + " chunks");
        assertEquals(chunks.size(), s.chunksShipped());
    }
}
