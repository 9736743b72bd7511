package io.dwcp.consensus;

import io.dwcp.consensus.check.LinearizabilityChecker;
import io.dwcp.consensus.check.Operation;
import io.dwcp.consensus.check.OwnershipCheck;
import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.spi.Consensus;
import io.dwcp.core.spi.Consensus.CasResult;
import io.dwcp.core.spi.Consensus.Versioned;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A Jepsen-style run: N replica processes, concurrent client processes doing read / write / compare-and-set on a
 * few registers plus VM hand-overs, and a nemesis that, in turn, SIGKILLs a replica and restarts it from its data
 * directory, cuts it (with a minority) off behind the fault proxy and heals, or pauses it with SIGSTOP and resumes it:
 * kill, partition and pause the leader, then the same for random replicas, and so on. The recorded history is then checked for linearizability and for at most one owner
 * per VM and epoch.
 *
 * <p>Outcome rules (Knossos): a completed command is OK; a read that failed had no effect (FAIL); a write or CAS
 * refused before it was sent (LIMIT_EXCEEDED, PROTOCOL_ERROR) is FAIL; any other failure of a write or CAS
 * (QUORUM_UNAVAILABLE, TIMEOUT, NOT_LEADER, IO_ERROR, CANCELLED) is indeterminate (INFO).
 */
final class LinearizabilityCampaign {
    static final String[] SITES = {"site-a", "site-b", "site-c"};

    /**
     * What a run produced.
     *
     * @param history every operation
     * @param verdict the checker's result
     * @param ownershipConflicts epochs with two owners
     * @param kills replicas killed and restarted
     * @param pauses replicas paused (SIGSTOP) and resumed
     * @param partitions network partitions (a minority holding the victim, cut off both ways) and heals
     */
    record Outcome(List<Operation> history, LinearizabilityChecker.Result verdict, List<String> ownershipConflicts, int kills,
                   int pauses, int partitions) {
        long count(Operation.Outcome o) {
            return history.stream().filter(op -> op.outcome() == o).count();
        }

        @Override
        public String toString() {
            return history.size() + " ops (ok " + count(Operation.Outcome.OK) + ", fail " + count(Operation.Outcome.FAIL)
                    + ", info " + count(Operation.Outcome.INFO) + "), kills " + kills + ", pauses " + pauses + ", partitions " + partitions + ", linearizable "
                    + verdict.linearizable() + (verdict.linearizable() ? "" : " (key " + verdict.failingKey() + ")")
                    + ", ownership conflicts " + ownershipConflicts.size() + ", states " + verdict.statesExplored();
        }
    }

    private LinearizabilityCampaign() {
    }

    static Outcome run(Path dir, int nodes, int processes, Duration duration, Duration killEvery, long seed) throws Exception {
        List<Operation> history = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger kills = new AtomicInteger();
        AtomicInteger pauses = new AtomicInteger();
        AtomicInteger partitions = new AtomicInteger();
        try (ReplicaCluster cluster = new ReplicaCluster(dir, nodes, "300ms", true)) {
            cluster.startAll();
            List<RatisConsensus> clients = new ArrayList<>();
            for (int c = 0; c < 2; c++) {
                clients.add(cluster.client("client-" + c, "10s"));
            }
            // Warm up: the first command waits for the first election.
            clients.get(0).read("k0").get(60, TimeUnit.SECONDS);
            long end = System.nanoTime() + duration.toNanos();
            ScheduledExecutorService nemesis = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "nemesis");
                t.setDaemon(true);
                return t;
            });
            Random faults = new Random(seed ^ 0x5DEECE66DL);
            nemesis.scheduleWithFixedDelay(() -> {
                try {
                    if (System.nanoTime() > end - killEvery.toNanos() / 2) {
                        return;
                    }
                    int round = kills.get() + pauses.get() + partitions.get();
                    int victim = round % 6 < 3
                            ? clients.get(0).leaderHint().map(cluster::indexOf).orElse(faults.nextInt(nodes))
                            : faults.nextInt(nodes);
                    if (round % 3 == 0) {
                        cluster.kill(victim);
                        kills.incrementAndGet();
                        cluster.restart(victim);
                    } else if (round % 3 == 1) {
                        // The victim and, in groups of 5, one more replica end up in the minority.
                        java.util.Set<Integer> minority = new java.util.HashSet<>(java.util.Set.of(victim));
                        while (minority.size() < (nodes - 1) / 2) {
                            minority.add(faults.nextInt(nodes));
                        }
                        cluster.proxy().partition(minority);
                        partitions.incrementAndGet();
                        nemesis.schedule(() -> cluster.proxy().heal(), killEvery.toMillis() * 2 / 3, TimeUnit.MILLISECONDS);
                    } else {
                        // A paused leader wakes up still believing it leads: the stale-leader case reads must survive.
                        cluster.signal(victim, true);
                        pauses.incrementAndGet();
                        nemesis.schedule(() -> {
                            try {
                                cluster.signal(victim, false);
                            } catch (Exception e) {
                                throw new IllegalStateException("resume failed", e);
                            }
                        }, killEvery.toMillis() * 2 / 3, TimeUnit.MILLISECONDS);
                    }
                } catch (Exception e) {
                    throw new IllegalStateException("nemesis failed", e);
                }
            }, killEvery.toMillis(), killEvery.toMillis(), TimeUnit.MILLISECONDS);
            List<CompletableFuture<Void>> workers = new ArrayList<>();
            for (int p = 0; p < processes; p++) {
                int process = p;
                Consensus client = clients.get(p % clients.size());
                Random rnd = new Random(seed * 31 + p);
                workers.add(CompletableFuture.runAsync(() -> work(process, client, rnd, end, history),
                        Executors.newSingleThreadExecutor(r -> new Thread(r, "process-" + process))));
            }
            try {
                CompletableFuture.allOf(workers.toArray(new CompletableFuture<?>[0]))
                        .get(duration.toSeconds() + 120, TimeUnit.SECONDS);
            } finally {
                nemesis.shutdownNow();
                nemesis.awaitTermination(60, TimeUnit.SECONDS);
            }
        }
        List<Operation> ops = List.copyOf(history);
        // Kept after the run (the replicas' temporary directory is not): `dwcp check-history FILE` re-checks it.
        Path saved = java.nio.file.Files.createDirectories(Path.of("target", "acp-histories"))
                .resolve("n" + nodes + "-seed-" + seed + ".jsonl");
        io.dwcp.consensus.check.HistoryFile.write(saved, ops);
        return new Outcome(ops, new LinearizabilityChecker().check(ops), OwnershipCheck.conflicts(ops, "vm/"), kills.get(), pauses.get(),
                partitions.get());
    }

    private static void work(int process, Consensus client, Random rnd, long end, List<Operation> history) {
        while (System.nanoTime() < end) {
            int pick = rnd.nextInt(10);
            if (pick < 3) {
                handOver(process, client, rnd, history);
                continue;
            }
            String key = "k" + rnd.nextInt(2);
            String value = "v" + rnd.nextInt(5);
            long call = System.nanoTime();
            if (pick < 6) {
                try {
                    Versioned v = client.read(key).get(60, TimeUnit.SECONDS);
                    history.add(new Operation(process, Operation.Kind.READ, key, null, null, v.value(), false, v.version(),
                            Operation.Outcome.OK, call, System.nanoTime()));
                } catch (ExecutionException | TimeoutException e) {
                    history.add(new Operation(process, Operation.Kind.READ, key, null, null, null, false, 0, Operation.Outcome.FAIL,
                            call, System.nanoTime()));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            } else if (pick < 8) {
                try {
                    Versioned v = client.write(key, value).get(60, TimeUnit.SECONDS);
                    history.add(new Operation(process, Operation.Kind.WRITE, key, null, value, v.value(), false, v.version(),
                            Operation.Outcome.OK, call, System.nanoTime()));
                } catch (ExecutionException | TimeoutException e) {
                    history.add(failed(process, Operation.Kind.WRITE, key, null, value, call, e));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            } else {
                String expected = rnd.nextInt(4) == 0 ? null : "v" + rnd.nextInt(5);
                cas(process, client, key, expected, value, history);
            }
        }
    }

    /** Read the owner, then try to move the VM from it to another site (the migration's final step). */
    private static void handOver(int process, Consensus client, Random rnd, List<Operation> history) {
        String key = Consensus.ownerKey("vm-" + rnd.nextInt(2));
        long call = System.nanoTime();
        Versioned owner;
        try {
            owner = client.read(key).get(60, TimeUnit.SECONDS);
            history.add(new Operation(process, Operation.Kind.READ, key, null, null, owner.value(), false, owner.version(),
                    Operation.Outcome.OK, call, System.nanoTime()));
        } catch (ExecutionException | TimeoutException e) {
            history.add(new Operation(process, Operation.Kind.READ, key, null, null, null, false, 0, Operation.Outcome.FAIL, call,
                    System.nanoTime()));
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        String to = SITES[rnd.nextInt(SITES.length)];
        cas(process, client, key, owner.value(), to, history);
    }

    private static void cas(int process, Consensus client, String key, String expected, String value, List<Operation> history) {
        long call = System.nanoTime();
        try {
            CasResult r = client.compareAndSet(key, expected, value).get(60, TimeUnit.SECONDS);
            history.add(new Operation(process, Operation.Kind.CAS, key, expected, value, r.current().value(), r.applied(),
                    r.current().version(), Operation.Outcome.OK, call, System.nanoTime()));
        } catch (ExecutionException | TimeoutException e) {
            history.add(failed(process, Operation.Kind.CAS, key, expected, value, call, e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static Operation failed(int process, Operation.Kind kind, String key, String expected, String value, long call, Exception e) {
        DwcpException d = DwcpException.find(e);
        boolean notSent = d != null && (d.code() == ErrorCode.LIMIT_EXCEEDED || d.code() == ErrorCode.PROTOCOL_ERROR);
        return new Operation(process, kind, key, expected, value, null, false, 0,
                notSent ? Operation.Outcome.FAIL : Operation.Outcome.INFO, call, System.nanoTime());
    }
}
