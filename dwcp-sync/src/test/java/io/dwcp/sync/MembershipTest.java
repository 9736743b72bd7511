package io.dwcp.sync;

import io.dwcp.core.config.DwcpConfig;
import io.dwcp.sync.crdt.PNCounter;
import io.micrometer.core.instrument.Timer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static io.dwcp.sync.LoopbackReplicationTest.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Membership, retirement, collection and the convergence-lag meter on sync nodes over real AMST sessions on loopback
 * (one JVM). Garbage collection is run by the test ({@code collectGarbage()}); the component's own pass is an hour away.
 */
@Tag("ASS-7")
class MembershipTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    private static DwcpConfig config(String id) {
        // request-timeout 5s: explicit rounds must not time out on a loaded machine
        return Nodes.config(id).toBuilder().set("dwcp.sync.gc-interval", "1h").set("dwcp.sync.request-timeout", "5s").build();
    }

    /** One successful anti-entropy round of {@code from} with {@code peer} (a failed attempt, e.g. a timeout, is retried). */
    private static void round(Nodes.Node from, InetSocketAddress peer) throws Exception {
        for (int attempt = 1; ; attempt++) {
            try {
                from.sync().antiEntropy(peer).get(30, TimeUnit.SECONDS);
                return;
            } catch (ExecutionException e) {
                if (attempt == 5) {
                    throw e;
                }
            }
        }
    }

    private static InetSocketAddress listen(Nodes.Node n) throws Exception {
        return n.sync().listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).get(5, TimeUnit.SECONDS);
    }

    /** Two started nodes that listen and know each other; returns their addresses. */
    private static InetSocketAddress[] pair(Nodes.Node a, Nodes.Node b) throws Exception {
        InetSocketAddress aAddr = listen(a);
        InetSocketAddress bAddr = listen(b);
        a.sync().addPeer(bAddr);
        b.sync().addPeer(aAddr);
        return new InetSocketAddress[] {aAddr, bAddr};
    }

    private static double rejected(Nodes.Node n, String reason) {
        return n.meters().get("dwcp.ass.rejected").tag("reason", reason).functionCounter().count();
    }

    @Test
    void aDeadMemberBlocksCollectionUntilItIsRetiredAndThenItsLateMessagesAreRefused() throws Exception {
        try (Nodes.Node a = Nodes.start(config("a")); Nodes.Node b = Nodes.start(config("b"))) {
            InetSocketAddress[] ab = pair(a, b);
            InetSocketAddress aAddr = ab[0];
            InetSocketAddress bAddr = ab[1];
            InetSocketAddress cAddr;
            try (Nodes.Node c = Nodes.start(config("c"))) {
                cAddr = listen(c);
                for (Nodes.Node n : List.of(a, b)) {
                    n.sync().addPeer(cAddr);
                    c.sync().addPeer(n == a ? aAddr : bAddr);
                }
                awaitTrue(() -> a.sync().members().equals(Set.of("a", "b", "c")) && c.sync().members().size() == 3,
                        WAIT, "every node joined and the joins replicated");
                a.sync().store().update("vm-1", PNCounter.EMPTY, v -> v.addDelta(a.sync().store().replicaId(), 4));
                awaitTrue(() -> c.sync().store().get("vm-1").isPresent(), WAIT, "c got vm-1");
                c.sync().store().update("vm-2", PNCounter.EMPTY, v -> v.addDelta(c.sync().store().replicaId(), 1));
                awaitTrue(() -> a.sync().store().get("vm-2").isPresent(), WAIT, "a got c's vm-2");
            } // c is gone (a dead site)

            a.sync().store().remove("vm-1");
            round(a, bAddr);
            round(a, bAddr);
            assertEquals(0, a.sync().collectGarbage(), "c never acknowledged the removal");
            assertEquals(1, a.sync().store().tombstoneCount());

            assertTrue(a.sync().retire("c"));
            assertFalse(a.sync().retire("c"), "already retired");
            assertEquals(Set.of("a", "b"), a.sync().members());
            assertEquals(Set.of("c"), a.sync().retiredMembers());
            assertThrows(IllegalArgumentException.class, () -> a.sync().retire("nobody"));
            assertEquals(1, a.sync().collectGarbage(), "with c retired, b's acknowledgements make the removal stable");
            assertEquals(0, a.sync().store().tombstoneCount());
            assertTrue(a.sync().store().get("vm-1").isEmpty());
            awaitTrue(() -> b.sync().retiredMembers().contains("c"), WAIT, "the retirement replicated to b");

            // c's dots: once a has rewritten vm-2 and the retirement is causally stable, vm-2's context forgets c
            a.sync().store().update("vm-2", PNCounter.EMPTY, v -> v.addDelta(a.sync().store().replicaId(), 1));
            java.util.function.BooleanSupplier mentionsC = () -> a.sync().store().state("vm-2").context().replicas()
                    .stream().anyMatch(r -> r.startsWith("c@"));
            assertTrue(mentionsC.getAsBoolean());
            a.sync().collectGarbage(); // notes when the retirement was seen here
            assertTrue(mentionsC.getAsBoolean(), "not before b has held the retirement and been pulled since");
            round(a, bAddr);
            round(a, bAddr);
            a.sync().collectGarbage();
            assertFalse(mentionsC.getAsBoolean(), "c pruned from vm-2's context");
            assertTrue(a.sync().store().prunedCount() >= 1);
            assertEquals(2, ((PNCounter) a.sync().store().get("vm-2").orElseThrow()).value(), "the value is unchanged");

            // c comes back under its old id: what it sends is refused and counted, it gets nothing
            try (Nodes.Node c2 = Nodes.start(config("c"))) {
                c2.sync().addPeer(aAddr);
                assertThrows(ExecutionException.class, () -> c2.sync().antiEntropy(aAddr).get(20, TimeUnit.SECONDS));
                assertTrue(rejected(a, "retired") >= 1, "a counted the retired member's messages");
                assertTrue(c2.sync().store().get("vm-1").isEmpty());
            }
        }
    }

    @Test
    void aMemberThatJoinsLaterIsSeenEverywhereAndHoldsBackCollectionUntilItHasSynced() throws Exception {
        try (Nodes.Node a = Nodes.start(config("a")); Nodes.Node b = Nodes.start(config("b"))) {
            InetSocketAddress[] ab = pair(a, b);
            InetSocketAddress aAddr = ab[0];
            InetSocketAddress bAddr = ab[1];
            awaitTrue(() -> a.sync().members().equals(Set.of("a", "b")), WAIT, "a and b joined");
            a.sync().store().update("k", PNCounter.EMPTY, v -> v.addDelta(a.sync().store().replicaId(), 1));
            a.sync().store().remove("k");
            try (Nodes.Node d = Nodes.start(config("d"))) {
                InetSocketAddress dAddr = listen(d);
                d.sync().addPeer(aAddr);
                // only d knows a: a learns of d through d's pushes and rounds, and from then on waits for d too
                awaitTrue(() -> a.sync().members().contains("d") && b.sync().members().contains("d"), WAIT,
                        "d's join reached a and b");
                round(a, bAddr);
                round(a, bAddr);
                assertEquals(0, a.sync().collectGarbage(), "d is a member and has not acknowledged anything to a");
                a.sync().addPeer(dAddr);
                round(a, dAddr);
                round(a, dAddr);
                assertEquals(1, a.sync().collectGarbage());
            }
        }
    }

    @Test
    void convergenceLagIsMeasuredFromTheUpdateUntilEveryMemberHoldsIt() throws Exception {
        // no timer-driven rounds during the test: the acknowledgements come from the rounds it runs
        DwcpConfig quiet = config("a").toBuilder().set("dwcp.sync.anti-entropy.interval", "1h")
                .set("dwcp.sync.full-reconciliation.interval", "1d").set("dwcp.sync.max-staleness", "1h").build();
        try (Nodes.Node a = Nodes.start(quiet); Nodes.Node b = Nodes.start(config("b"))) {
            InetSocketAddress[] ab = pair(a, b);
            InetSocketAddress aAddr = ab[0];
            InetSocketAddress bAddr = ab[1];
            awaitTrue(() -> a.sync().members().equals(Set.of("a", "b")), WAIT, "b's join reached a");
            round(a, bAddr);
            ConvergenceLag lag = a.sync().convergenceLag();
            long before = lag.samples();
            a.sync().store().update("k", PNCounter.EMPTY, v -> v.addDelta(a.sync().store().replicaId(), 1));
            a.sync().store().update("k", PNCounter.EMPTY, v -> v.addDelta(a.sync().store().replicaId(), 1));
            assertEquals(2, lag.waiting(), "two updates wait for b's acknowledgement");
            assertEquals(before, lag.samples());
            round(a, bAddr);
            assertEquals(0, lag.waiting());
            assertEquals(before + 2, lag.samples());
            Timer t = a.meters().get("dwcp.ass.convergence.lag").timer();
            assertEquals(before + 2, t.count());
            assertTrue(t.totalTime(TimeUnit.NANOSECONDS) > 0);
            assertEquals(lag.maxNanos(), (long) t.max(TimeUnit.NANOSECONDS), 1_000.0);
        }
    }
}
