package io.dwcp.sync;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.spi.MetadataStore;
import io.dwcp.sync.crdt.PNCounter;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Two sync nodes over real AMST sessions on loopback (one JVM; the multi-process test is {@code MultiProcessSyncTest}). */
class LoopbackReplicationTest {
    static void awaitTrue(BooleanSupplier condition, Duration atMost, String what) throws InterruptedException {
        long deadline = System.nanoTime() + atMost.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("not reached within " + atMost + ": " + what);
            }
            TimeUnit.MILLISECONDS.sleep(20); // polling with a deadline, not a synchronisation sleep
        }
    }

    @Test
    void deltasAndAntiEntropyConvergeTwoNodesOverAmst() throws Exception {
        InetAddress lo = InetAddress.getLoopbackAddress();
        try (Nodes.Node a = Nodes.start(Nodes.config("a")); Nodes.Node b = Nodes.start(Nodes.config("b"))) {
            InetSocketAddress aAddr = a.sync().listen(new InetSocketAddress(lo, 0)).get(5, TimeUnit.SECONDS);
            InetSocketAddress bAddr = b.sync().listen(new InetSocketAddress(lo, 0)).get(5, TimeUnit.SECONDS);
            // b holds state that no gossip carries (merged in directly, as if from an earlier peer): only
            // anti-entropy can bring it over
            MetadataStore mb = b.sync().metadata();
            ReplicatedStore elsewhere = new ReplicatedStore("x@1", 1 << 20, 10);
            for (int i = 0; i < 200; i++) {
                long n = i + 1;
                elsewhere.update("pre-" + i, PNCounter.EMPTY, c -> c.addDelta("x@1", n));
                b.sync().store().mergeState("pre-" + i, elsewhere.state("pre-" + i));
            }
            a.sync().addPeer(bAddr);
            b.sync().addPeer(aAddr);
            MetadataStore ma = a.sync().metadata();
            ma.putRegister("vm-1/site", "eu-west");
            ma.addToSet("nodes", "n1");
            mb.addToSet("nodes", "n2");
            awaitTrue(() -> ma.counter("pre-7") == 8, Duration.ofSeconds(20), "anti-entropy brought b's keys to a");
            ma.remove("pre-7");
            awaitTrue(() -> Arrays.equals(a.sync().store().canonicalSnapshot(), b.sync().store().canonicalSnapshot()),
                    Duration.ofSeconds(20), "a and b equal");
            assertEquals("eu-west", mb.register("vm-1/site").orElseThrow());
            assertEquals(Set.of("n1", "n2"), mb.set("nodes"));
            assertEquals(200 + 2 - 1, mb.keys().size());
            assertEquals(0, mb.counter("pre-7"));
            assertEquals(200, ma.counter("pre-199"));
            // the round's counters move when it returns, which may be just after the states became equal
            awaitTrue(() -> a.sync().stats().antiEntropyRoundsOk() + b.sync().stats().antiEntropyRoundsOk() > 0
                    && a.sync().stats().keysExchanged() + b.sync().stats().keysExchanged() >= 200,
                    Duration.ofSeconds(10), "anti-entropy rounds counted");
            assertTrue(a.sync().stats().deltaMessagesSent() > 0);

            // bounded read: fresh enough now, STALE once the bound is below the staleness
            a.sync().antiEntropy(bAddr).get(5, TimeUnit.SECONDS);
            assertTrue(a.sync().read("vm-1/site", Duration.ofMinutes(1)).value().isPresent());
            DwcpException e = assertThrows(DwcpException.class, () -> {
                for (int i = 0; i < 1000; i++) {
                    a.sync().read("vm-1/site", Duration.ZERO);
                    TimeUnit.MILLISECONDS.sleep(2);
                }
            });
            assertEquals(ErrorCode.STALE, e.code());

            // a type mismatch from a peer is refused and counted, the local value is kept
            a.sync().store().update("typed", PNCounter.EMPTY, c -> c.addDelta(a.sync().store().replicaId(), 1));
            awaitTrue(() -> b.sync().store().get("typed").isPresent(), Duration.ofSeconds(10), "typed reached b");
            assertThrows(DwcpException.class, () -> mb.addToSet("typed", "x"));
            assertArrayEquals(a.sync().store().canonicalSnapshot(), b.sync().store().canonicalSnapshot());
        }
    }
}
