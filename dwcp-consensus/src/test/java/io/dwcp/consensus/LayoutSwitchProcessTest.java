package io.dwcp.consensus;

import io.dwcp.consensus.check.LinearizabilityChecker;
import io.dwcp.consensus.check.Operation;
import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.Consensus;
import io.dwcp.core.spi.Consensus.CasResult;
import io.dwcp.core.spi.Consensus.Versioned;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Layout switches between two Raft groups of three replica processes each, behind fault-injecting proxies: the fence
 * carries values and de-duplication table, an interrupted switch is completed by the next client, switches under
 * concurrent clients (and a replica killed and restarted) lose and repeat nothing (linearizability checker, lost-write
 * check, re-sent operations answered with their original result), and writes from one region switch the layout there
 * by themselves.
 */
@Tag("ACP-5")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LayoutSwitchProcessTest {
    private static final String ELECTION = "1s";
    /** Safety bound per operation: a starved machine slows these processes down, it must not fail the test. */
    private static final long WAIT_S = 120;
    private TwoClusters groups;
    private ReplicaCluster a;
    private ReplicaCluster b;

    @BeforeAll
    void startGroups(@TempDir Path dir) throws Exception {
        groups = new TwoClusters(dir, ELECTION, "la", "a", "lb", "b");
        a = groups.a;
        b = groups.b;
    }

    @AfterAll
    void stopGroups() throws InterruptedException {
        if (groups != null) {
            groups.close();
        }
    }

    private SwitchingConsensus.Builder builder(String node, String region, Map<String, String> extra) {
        DwcpConfig.Builder c = DwcpConfig.builder()
                .set("dwcp.node-id", node)
                .set("dwcp.consensus.election.min", ELECTION)
                .set("dwcp.consensus.proposal-timeout", "60s")
                .set("dwcp.consensus.switch.auto", "false")
                .set("dwcp.consensus.switch.drain-timeout", "5m");
        extra.forEach(c::set);
        return SwitchingConsensus.builder(c.build()).layout("la", a.peers(), "ra").layout("lb", b.peers(), "rb")
                .initialLayout("la").localRegion(region);
    }

    private SwitchingConsensus client(String node) throws Exception {
        SwitchingConsensus s = builder(node, "ra", Map.of()).build();
        s.start();
        return s;
    }

    private static <T> T get(CompletableFuture<T> f) throws Exception {
        return f.get(WAIT_S, TimeUnit.SECONDS);
    }

    @Test
    void aSwitchCarriesValuesAndDeduplicationAndAnInterruptedOneIsCompleted() throws Exception {
        String k = "carry-" + System.nanoTime();
        try (SwitchingConsensus one = client("carry-1"); SwitchingConsensus two = client("carry-2")) {
            SwitchingConsensus.Status before = get(one.status());
            CasResult first = get(one.compareAndSet(k, null, "x"));
            assertTrue(first.applied());
            long seq = one.lastSequence();
            Versioned y = get(two.write(k, "y"));

            // Switch to the other layout; the fenced group refuses plain commands on the scope's keys from now on.
            String from = before.layout();
            String to = from.equals("la") ? "lb" : "la";
            get(one.switchTo(to));
            SwitchingConsensus.Status after = get(one.status());
            assertEquals(to, after.layout());
            assertEquals(before.epoch() + 1, after.epoch());
            RatisConsensus plainOld = (from.equals("la") ? a : b).client("plain-" + k, "30s");
            ExecutionException refused = assertThrows(ExecutionException.class, () -> get(plainOld.write(k, "plain")));
            assertEquals(ErrorCode.ILLEGAL_STATE, DwcpException.find(refused).code());

            // The CAS committed before the fence, sent again (its reply "lost"): the original result, not applied again.
            CasResult again = get(one.compareAndSet(k, null, "x", seq));
            assertEquals(first, again);
            Versioned now = get(one.read(k));
            assertEquals("y", now.value());
            assertTrue(now.version() >= y.version());

            // A client whose cache names the old layout meets the fence and follows it.
            long retried = two.fencedRetries();
            Versioned z = get(two.write(k, "z"));
            assertTrue(two.fencedRetries() > retried, "client two went to the fenced layout first");
            assertTrue(z.version() > y.version(), "versions grow across a switch: " + z + " after " + y);

            // A switcher that dies after committing the fence (back to the first layout) and before the seed: the next
            // operation completes the switch and finds the value.
            RatisConsensus plainNew = (to.equals("la") ? a : b).client("fencer-" + k, "30s");
            Command fence = new Command(Command.Type.FENCE, 7, 7, 0, from, Long.toString(after.epoch()),
                    System.currentTimeMillis() + "/0/" + (1 << 20));
            assertEquals(Reply.Status.OK, get(plainNew.send(fence)).status());
            assertEquals("z", get(two.read(k)).value());
            SwitchingConsensus.Status completed = get(one.status());
            assertEquals(from, completed.layout());
            assertEquals(after.epoch() + 1, completed.epoch());
            Versioned w = get(one.write(k, "w"));
            assertTrue(w.version() > z.version());

            // A second switch requested while one is in flight on this node is refused.
            CompletableFuture<Void> running = one.switchTo(to);
            CompletableFuture<Void> second = one.switchTo(from);
            if (!running.isDone()) {
                ExecutionException busy = assertThrows(ExecutionException.class, () -> get(second));
                assertEquals(ErrorCode.ILLEGAL_STATE, DwcpException.find(busy).code());
            }
            get(running);
            assertEquals("w", get(two.read(k)).value());
        }
    }

    @Test
    void switchesUnderConcurrentClientsAndAKillLoseAndRepeatNothing() throws Exception {
        List<SwitchingConsensus> clients = new ArrayList<>();
        List<Operation> history = Collections.synchronizedList(new ArrayList<>());
        List<String> resendMismatches = Collections.synchronizedList(new ArrayList<>());
        CheckClients.Progress progress = new CheckClients.Progress();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger switches = new AtomicInteger();
        AtomicInteger resent = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        java.util.concurrent.atomic.AtomicReference<Thread> switcherThread = new java.util.concurrent.atomic.AtomicReference<>();
        String prefix = "load-" + System.nanoTime() + "-";
        int finalProcess = 9;
        try {
            for (int c = 0; c < 4; c++) {
                clients.add(client("load-" + c));
            }
            for (int p = 0; p < 3; p++) {
                SwitchingConsensus g = clients.get(p);
                Random rnd = new Random(p);
                int process = p;
                threads.add(new Thread(() -> {
                    while (!stop.get()) {
                        String key = prefix + rnd.nextInt(2);
                        int pick = rnd.nextInt(3);
                        Operation op = pick == 0 ? CheckClients.read(process, g, key)
                                : pick == 1 ? CheckClients.write(process, g, key, "v" + rnd.nextInt(5))
                                : CheckClients.cas(process, g, key, "v" + rnd.nextInt(5), "v" + rnd.nextInt(5));
                        if (op == null) {
                            return;
                        }
                        history.add(op);
                        progress.done(op.outcome() == Operation.Outcome.OK);
                        // Now and then send a completed write or CAS again under its sequence, as a client whose reply
                        // was lost would: it must get the same answer, whatever switches happened in between.
                        if (op.outcome() == Operation.Outcome.OK && op.kind() != Operation.Kind.READ && rnd.nextInt(4) == 0) {
                            long seq = g.lastSequence();
                            try {
                                Object original = op.kind() == Operation.Kind.WRITE ? new Versioned(op.value(), op.version())
                                        : new CasResult(op.applied(), new Versioned(op.observed(), op.version()));
                                Object again = op.kind() == Operation.Kind.WRITE
                                        ? g.write(key, op.value(), seq).get(WAIT_S, TimeUnit.SECONDS)
                                        : g.compareAndSet(key, op.expected(), op.value(), seq).get(WAIT_S, TimeUnit.SECONDS);
                                resent.incrementAndGet();
                                if (!original.equals(again)) {
                                    resendMismatches.add(op + " sent again answered " + again);
                                }
                            } catch (InterruptedException e) {
                                return;
                            } catch (Exception e) {
                                // indeterminate (no quorum in time under the kill): nothing to compare
                            }
                        }
                    }
                }, "switch-client-" + p));
            }
            SwitchingConsensus switcher = clients.get(3);
            switcherThread.set(new Thread(() -> {
                while (!stop.get()) {
                    try {
                        String to = switcher.status().get(WAIT_S, TimeUnit.SECONDS).layout().equals("la") ? "lb" : "la";
                        switcher.switchTo(to).get(WAIT_S, TimeUnit.SECONDS);
                        switches.incrementAndGet();
                    } catch (InterruptedException e) {
                        return;
                    } catch (Exception e) {
                        // a switch that found no quorum in time is completed by the next one or by a client
                    }
                    progress.done(false);
                    try {
                        // Let the clients complete a few operations in each layout before switching again.
                        long target = progress.ok() + 15;
                        progress.await(0, target, System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S));
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "switcher"));
            threads.add(switcherThread.get());
            threads.forEach(Thread::start);
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(6);
            assertTrue(progress.await(0, 60, deadline), "no progress before the fault");
            // One replica of each group killed; later restarted from its data directory.
            b.kill(2);
            a.kill(2);
            assertTrue(progress.await(0, 120, deadline), "no progress while a3 and b3 were down");
            a.restart(2);
            b.restart(2);
            assertTrue(progress.await(0, 180, deadline), "no progress after the restarts");
            while (switches.get() < 6) {
                assertTrue(progress.await(progress.completed() + 1, 0, deadline), "only " + switches.get() + " switches");
            }
        } finally {
            stop.set(true);
            // The switcher may be waiting for the clients' next operations, which stop now: wake it (the clients end
            // by themselves after their current operation).
            Thread sw = switcherThread.get();
            if (sw != null) {
                sw.interrupt();
            }
            for (Thread t : threads) {
                t.join(TimeUnit.MINUTES.toMillis(5));
            }
        }
        try {
            // Final reads through a fresh client (it starts at the initial layout and follows the fences).
            SwitchingConsensus reader = client("load-final");
            clients.add(reader);
            for (int i = 0; i < 2; i++) {
                Operation op = CheckClients.read(finalProcess, reader, prefix + i);
                assertEquals(Operation.Outcome.OK, op.outcome(), "final read");
                history.add(op);
            }
        } finally {
            clients.forEach(SwitchingConsensus::close);
        }
        List<Operation> ops = List.copyOf(history);
        LinearizabilityChecker.Result verdict = new LinearizabilityChecker().check(ops);
        assertTrue(verdict.linearizable(), () -> "not linearizable: " + verdict + "\n"
                + new LinearizabilityChecker().minimize(verdict.failingHistory(), 5000));
        assertEquals(List.of(), ConsensusCheck.lostWrites(ops, finalProcess), "acknowledged writes lost");
        assertEquals(List.of(), resendMismatches, "operations sent again were applied again");
        assertTrue(switches.get() >= 6, "switches " + switches.get());
        assertTrue(resent.get() > 0, "nothing was sent again");
        long crossed = clients.stream().limit(3).mapToLong(SwitchingConsensus::fencedRetries).sum();
        assertTrue(crossed > 0, "no operation met a fence: the switches did not overlap the clients");
    }

    @Test
    void writesFromOneRegionSwitchTheLayoutThereByThemselves() throws Exception {
        // Evaluations every 5 s, one favourable one suffices; the probe places the group of region ra 40 ms away.
        Map<String, String> fast = Map.of("dwcp.consensus.switch.auto", "true", "dwcp.consensus.evaluate-interval", "5s",
                "dwcp.consensus.switch.stable-evaluations", "1", "dwcp.consensus.switch.min-interval", "0s");
        String aPorts = a.peers();
        SwitchingConsensus fromB = builder("auto-b", "rb", fast).rttProbe((address, deadline) -> Optional.of(
                aPorts.contains(address) ? Duration.ofMillis(40) : Duration.ofMillis(1))).build();
        String k = "auto-" + System.nanoTime();
        try (fromB) {
            fromB.start();
            String start = get(fromB.status()).layout();
            if (start.equals("lb")) {
                try (SwitchingConsensus mover = client("auto-mover")) {
                    get(mover.switchTo("la")); // an earlier test left the scope in lb: start from la
                }
            }
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            int n = 0;
            while (!get(fromB.status()).layout().equals("lb")) {
                assertTrue(System.nanoTime() < deadline, "layout still la after " + n + " writes from rb");
                for (int i = 0; i < 20; i++) {
                    get(fromB.write(k, "v" + n++));
                }
            }
            try (SwitchingConsensus fromA = client("auto-a")) {
                assertEquals("v" + (n - 1), get(fromA.read(k)).value(), "the switch carried the last value");
            }
        }
    }
}
