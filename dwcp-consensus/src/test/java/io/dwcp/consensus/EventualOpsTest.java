package io.dwcp.consensus;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.MetadataStore;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** EVENTUAL operations go to the sync store when there is one, else through consensus (never weaker). */
@Tag("ACP-1")
class EventualOpsTest {
    @Test
    void withAStoreEverythingGoesToItAndNothingToConsensus() throws Exception {
        RecordingStore store = new RecordingStore();
        EventualOps ops = EventualOps.over(store);
        assertTrue(ops.viaSync());
        ops.addToCounter("migrations", 2).get();
        ops.addToCounter("migrations", 3).get();
        ops.putRegister("node/n1/status", "up").get();
        assertEquals(5L, ops.counter("migrations").get());
        assertEquals(Optional.of("up"), ops.register("node/n1/status").get());
        assertEquals(List.of("add migrations 2", "add migrations 3", "put node/n1/status up"), store.calls);
    }

    @Test
    void withoutAStoreConcurrentIncrementsAreAllCountedThroughConsensus() throws Exception {
        InMemoryRegisters registers = new InMemoryRegisters();
        EventualOps ops = EventualOps.over(registers);
        assertFalse(ops.viaSync());
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<CompletableFuture<Void>> adds = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                adds.add(CompletableFuture.supplyAsync(() -> ops.addToCounter("c", 1), pool).thenCompose(f -> f));
            }
            CompletableFuture.allOf(adds.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
        assertEquals(200L, ops.counter("c").get());
        assertEquals("200", registers.read(EventualOps.COUNTER_PREFIX + "c").get().value(), "ordered by consensus");
        ops.putRegister("r", "x").get();
        assertEquals(Optional.of("x"), ops.register("r").get());
        assertEquals(Optional.empty(), ops.register("never").get());

        registers.write(EventualOps.COUNTER_PREFIX + "bad", "not-a-number").get();
        ExecutionException e = assertThrows(ExecutionException.class, () -> ops.addToCounter("bad", 1).get());
        assertEquals(ErrorCode.PROTOCOL_ERROR, DwcpException.find(e).code());
        assertEquals("not-a-number", registers.read(EventualOps.COUNTER_PREFIX + "bad").get().value(), "nothing changed");
        assertThrows(IllegalArgumentException.class, () -> ops.addToCounter("", 1));
    }

    @Test
    void scopedConsensusRoutesToItsStoreOrNeedsALocalRegion() {
        DwcpConfig config = DwcpConfig.builder().set("dwcp.node-id", "c1").build();
        ScopedConsensus withStore = ScopedConsensus.builder(config).region("eu", "e1@127.0.0.1:1")
                .eventualStore(new RecordingStore()).build();
        assertTrue(withStore.eventual().viaSync());
        ScopedConsensus local = ScopedConsensus.builder(config).region("eu", "e1@127.0.0.1:1").localRegion("eu").build();
        assertFalse(local.eventual().viaSync());
        ScopedConsensus neither = ScopedConsensus.builder(config).region("eu", "e1@127.0.0.1:1").build();
        assertThrows(IllegalStateException.class, neither::eventual);
    }

    /** A store that records what it was asked to do. */
    private static final class RecordingStore implements MetadataStore {
        final List<String> calls = new ArrayList<>();
        private final Map<String, Long> counters = new HashMap<>();
        private final Map<String, String> registers = new HashMap<>();

        @Override
        public synchronized void addToCounter(String key, long delta) {
            calls.add("add " + key + " " + delta);
            counters.merge(key, delta, Long::sum);
        }

        @Override
        public synchronized long counter(String key) {
            return counters.getOrDefault(key, 0L);
        }

        @Override
        public synchronized void putRegister(String key, String value) {
            calls.add("put " + key + " " + value);
            registers.put(key, value);
        }

        @Override
        public synchronized Optional<String> register(String key) {
            return Optional.ofNullable(registers.get(key));
        }

        @Override
        public void addToSet(String key, String element) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void removeFromSet(String key, String element) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Set<String> set(String key) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void remove(String key) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Set<String> keys() {
            throw new UnsupportedOperationException();
        }

        @Override
        public Duration staleness() {
            return Duration.ZERO;
        }
    }
}
