package io.dwcp.consensus;

import io.dwcp.consensus.check.LinearizabilityChecker;
import io.dwcp.consensus.check.Operation;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.Consensus;
import io.dwcp.core.spi.Consensus.Versioned;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The REGIONAL and GLOBAL scopes on two regions, each a 3-replica Raft group of separate JVM processes behind its own
 * fault-injecting proxy: regions commit independently; a global key is ordered by its home region's group, follows a
 * committed hand-off, and survives a hand-off interrupted after its fence; concurrent clients, a mover and faults
 * (a partition in one region, a kill and restart in the other) leave a linearizable history ({@code -Pslow}).
 */
@Tag("ACP-1")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RegionsProcessTest {
    private static final String ELECTION = "1s";
    private TwoClusters regions;
    private ReplicaCluster a;
    private ReplicaCluster b;

    /** Both regions are started once for the class (six JVMs take a while on a busy machine). */
    @BeforeAll
    void startRegions(@TempDir Path dir) throws Exception {
        regions = new TwoClusters(dir, ELECTION, "a", "a", "b", "b");
        a = regions.a;
        b = regions.b;
    }

    @AfterAll
    void stopRegions() throws InterruptedException {
        if (regions != null) {
            regions.close();
        }
    }

    private static ScopedConsensus scoped(String name, ReplicaCluster a, ReplicaCluster b) throws Exception {
        DwcpConfig base = DwcpConfig.builder()
                .set("dwcp.node-id", name)
                .set("dwcp.consensus.election.min", ELECTION)
                .set("dwcp.consensus.proposal-timeout", "30s")
                .build();
        ScopedConsensus s = ScopedConsensus.builder(base).region("a", a.peers()).region("b", b.peers()).localRegion("a").build();
        s.start();
        return s;
    }

    @Test
    void regionsCommitIndependentlyAndGlobalKeysFollowTheirHome() throws Exception {
        try (ScopedConsensus one = scoped("client-1", a, b); ScopedConsensus two = scoped("client-2", a, b)) {
            Versioned v1 = one.global().write("plan", "p1").get(60, TimeUnit.SECONDS);
            assertEquals("a", one.home("plan").get(60, TimeUnit.SECONDS), "initial home: the first region");
            assertEquals("H0+p1", one.region("a").read("g/plan").get(60, TimeUnit.SECONDS).value());
            assertEquals("p1", two.global().read("plan").get(60, TimeUnit.SECONDS).value()); // two caches home a

            // Region b down entirely: region a and a global key homed in a still commit.
            for (int i = 0; i < 3; i++) {
                b.signal(i, true);
            }
            one.local().write("r", "x").get(60, TimeUnit.SECONDS);
            Versioned v2 = one.global().write("plan", "p2").get(60, TimeUnit.SECONDS);
            assertTrue(v2.version() > v1.version());
            for (int i = 0; i < 3; i++) {
                b.signal(i, false);
            }

            // Committed hand-off a -> b: a keeps a fence carrying the value, b orders the key from epoch 1.
            one.moveHome("plan", "b").get(60, TimeUnit.SECONDS);
            assertEquals("b", one.home("plan").get(60, TimeUnit.SECONDS));
            assertEquals("M1@b|+p2", one.region("a").read("g/plan").get(60, TimeUnit.SECONDS).value());
            Versioned moved = one.global().read("plan").get(60, TimeUnit.SECONDS);
            assertEquals("p2", moved.value());
            assertTrue(moved.version() > v2.version(), "fencing tokens grow across a move: " + moved + " after " + v2);

            // A client whose cache still says "a" meets the fence and follows it.
            Versioned v3 = two.global().write("plan", "p3").get(60, TimeUnit.SECONDS);
            assertEquals("H1+p3", one.region("b").read("g/plan").get(60, TimeUnit.SECONDS).value());
            assertEquals("M1@b|+p2", one.region("a").read("g/plan").get(60, TimeUnit.SECONDS).value());

            // A mover that dies after the fence (b -> a at epoch 2) and before the install: the next client completes it.
            assertTrue(one.region("b").compareAndSet("g/plan", "H1+p3", "M2@a|+p3").get(60, TimeUnit.SECONDS).applied());
            Versioned after = two.global().read("plan").get(60, TimeUnit.SECONDS);
            assertEquals("p3", after.value());
            assertTrue(after.version() > v3.version());
            assertEquals("a", one.home("plan").get(60, TimeUnit.SECONDS));
            assertEquals("H2+p3", one.region("a").read("g/plan").get(60, TimeUnit.SECONDS).value());
            assertTrue(one.global().compareAndSet("plan", "p3", "p4").get(60, TimeUnit.SECONDS).applied());
            assertEquals("p4", two.global().read("plan").get(60, TimeUnit.SECONDS).value());
        }
    }

    /** Slow (about a minute on a quiet machine, several under load): {@code -Pslow}. */
    @Test
    void aGlobalKeyUsedOnlyFromAnotherRegionMovesThereByItself() throws Exception {
        // Evaluations every 5 s, one favourable one suffices: the key moves once b has written it 10 times in a window.
        DwcpConfig base = DwcpConfig.builder()
                .set("dwcp.node-id", "auto-b")
                .set("dwcp.consensus.election.min", ELECTION)
                .set("dwcp.consensus.proposal-timeout", "60s")
                .set("dwcp.consensus.evaluate-interval", "5s")
                .set("dwcp.consensus.switch.stable-evaluations", "1")
                .set("dwcp.consensus.switch.min-interval", "0s")
                .build();
        String key = "auto-" + System.nanoTime();
        long wait = 120; // seconds per operation: a machine busy with other work starves these processes
        try (ScopedConsensus fromB = ScopedConsensus.builder(base).region("a", a.peers()).region("b", b.peers())
                .localRegion("b").build(); ScopedConsensus fromA = scoped("auto-a", a, b)) {
            fromB.start();
            assertEquals("a", fromB.home(key).get(wait, TimeUnit.SECONDS), "a key's first home is the first region");
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            int n = 0;
            // Writes only from region b: after an evaluation with enough of them, the home moves to b by itself.
            while (!"b".equals(fromB.home(key).get(wait, TimeUnit.SECONDS))) {
                assertTrue(System.nanoTime() < deadline, "home still in a after " + n + " writes from b");
                for (int i = 0; i < 10; i++) {
                    fromB.global().write(key, "v" + n++).get(wait, TimeUnit.SECONDS);
                }
            }
            assertEquals("v" + (n - 1), fromA.global().read(key).get(wait, TimeUnit.SECONDS).value(),
                    "the hand-off carried the last value");
            assertEquals("b", fromA.home(key).get(wait, TimeUnit.SECONDS));
        }
    }

    @Test
    @Tag("slow")
    void concurrentGlobalClientsWithMovesAndFaultsStayLinearizable() throws Exception {
        List<ScopedConsensus> clients = new ArrayList<>();
        List<Operation> history = Collections.synchronizedList(new ArrayList<>());
        CheckClients.Progress progress = new CheckClients.Progress();
        AtomicBoolean stop = new AtomicBoolean();
        java.util.concurrent.atomic.AtomicInteger moves = new java.util.concurrent.atomic.AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        try {
            for (int c = 0; c < 4; c++) {
                clients.add(scoped("client-" + c, a, b));
            }
            Operation first = CheckClients.write(3, clients.get(0).global(), "k0", "v0"); // waits for the elections
            assertEquals(Operation.Outcome.OK, first.outcome());
            history.add(first);
            for (int p = 0; p < 3; p++) {
                Consensus g = clients.get(p).global();
                Random rnd = new Random(p);
                int process = p;
                threads.add(new Thread(() -> {
                    while (!stop.get()) {
                        String key = "k" + rnd.nextInt(2);
                        int pick = rnd.nextInt(3);
                        Operation op = pick == 0 ? CheckClients.read(process, g, key)
                                : pick == 1 ? CheckClients.write(process, g, key, "v" + rnd.nextInt(4))
                                : CheckClients.cas(process, g, key, "v" + rnd.nextInt(4), "v" + rnd.nextInt(4));
                        if (op == null) {
                            return;
                        }
                        history.add(op);
                        progress.done(op.outcome() == Operation.Outcome.OK);
                    }
                }, "global-client-" + p));
            }
            ScopedConsensus mover = clients.get(3);
            threads.add(new Thread(() -> {
                Random rnd = new Random(99);
                while (!stop.get()) {
                    try {
                        String key = "k" + rnd.nextInt(2);
                        String to = mover.home(key).get(60, TimeUnit.SECONDS).equals("a") ? "b" : "a";
                        mover.moveHome(key, to).get(60, TimeUnit.SECONDS);
                        moves.incrementAndGet();
                    } catch (Exception e) {
                        // a move that timed out under a fault may still complete; the next one decides again
                    } finally {
                        progress.done(false);
                    }
                }
            }, "mover"));
            threads.forEach(Thread::start);
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
            assertTrue(progress.await(0, 40, deadline), "no progress before faults");
            // Region a's replica 1 cut off from the others, then one of b's replicas killed and restarted.
            a.proxy().partition(Set.of(0));
            assertTrue(progress.await(0, 80, deadline), "no progress while a's n1 was partitioned");
            a.proxy().heal();
            b.kill(1);
            assertTrue(progress.await(0, 120, deadline), "no progress while b2 was down");
            b.restart(1);
            assertTrue(progress.await(0, 160, deadline), "no progress after b2 restarted");
        } finally {
            stop.set(true);
            for (Thread t : threads) {
                t.join(TimeUnit.MINUTES.toMillis(2));
            }
            clients.forEach(ScopedConsensus::close);
        }
        List<Operation> ops = List.copyOf(history);
        LinearizabilityChecker.Result verdict = new LinearizabilityChecker().check(ops);
        assertTrue(verdict.linearizable(), () -> "not linearizable: " + verdict + "\n"
                + new LinearizabilityChecker().minimize(verdict.failingHistory(), 5000));
        assertTrue(ops.stream().filter(o -> o.outcome() == Operation.Outcome.OK).count() >= 120, "" + ops.size());
        assertTrue(moves.get() >= 5, "only " + moves.get() + " hand-offs completed");
    }
}
