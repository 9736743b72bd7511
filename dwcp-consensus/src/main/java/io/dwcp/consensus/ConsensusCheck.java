package io.dwcp.consensus;

import io.dwcp.consensus.check.HistoryFile;
import io.dwcp.consensus.check.LinearizabilityChecker;
import io.dwcp.consensus.check.Operation;
import io.dwcp.consensus.check.OwnershipCheck;
import io.dwcp.core.spi.Consensus;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A Jepsen-style check of the consensus module: N replicas as separate JVM processes on loopback, each behind a
 * fault-injecting TCP proxy; concurrent clients doing read / write / compare-and-set on a few registers; one hand-over
 * agent per site moving VMs between sites; a nemesis that kills (SIGKILL, restart from the data directory), pauses
 * (SIGSTOP / SIGCONT), partitions, cuts one direction of links, or delays a replica, in turn. The recorded history is
 * then checked for linearizability, for lost acknowledged writes (against final reads after every fault healed), and
 * for at most one owner per VM at every instant.
 *
 * <p>This is the engine of {@code dwcp consensus-check}. It needs Linux ({@code /proc}, {@code kill}) and starts
 * processes on this JVM's class path.
 *
 * <p>Outcome rules (Knossos): a completed command is OK; a read that failed had no effect (FAIL); a write or CAS
 * refused before it was sent ({@code LIMIT_EXCEEDED}, {@code PROTOCOL_ERROR}) is FAIL; any other failure of a write or
 * CAS is indeterminate (INFO).
 *
 * <p>The run is paced by events, not by the clock alone: each fault is held at least {@code faultHold} and until a
 * client operation has completed while it was in force, and after healing the nemesis waits until the clients have
 * completed more operations successfully before the next fault. A group that does not recover within two minutes is
 * reported as a stall (a liveness failure, not a safety one).
 */
public final class ConsensusCheck {
    /*
     * Split by job: this class is the run's lifecycle (the replica cluster opened and closed, the client threads started,
     * stopped and joined, every fault healed in a finally block) and the verdicts; Nemesis is the fault schedule;
     * CheckClients the client bodies and how one operation is recorded.
     */
    /** The sites between which the hand-over agents move VMs. */
    static final String[] SITES = {"site-a", "site-b", "site-c"};
    /** How long a group may take to recover from a fault (or to commit first) before it counts as a stall. */
    static final Duration RECOVERY_CAP = Duration.ofMinutes(2);

    /** The faults the nemesis injects. */
    public enum Fault {
        /** SIGKILL a replica, then restart it from its data directory. */
        KILL,
        /** SIGSTOP a replica, then SIGCONT it: it wakes up believing what it believed (a stale leader). */
        PAUSE,
        /** Cut the victim and, in groups of five or more, one more replica off from the rest, both ways. */
        PARTITION,
        /** Hold everything the victim sends to the other replicas, while it still hears them (one-way loss). */
        ONEWAY,
        /** Add latency (three times the election timeout's lower bound) to every link of the victim. */
        DELAY;

        /**
         * Parses a comma-separated list ({@code kill,pause,partition,oneway,delay} or {@code all}).
         *
         * @param spec the list
         * @return the faults, in declaration order
         * @throws IllegalArgumentException for an unknown name or an empty list
         */
        public static Set<Fault> parse(String spec) {
            Set<Fault> out = java.util.EnumSet.noneOf(Fault.class);
            for (String s : spec.split(",")) {
                String t = s.trim().toUpperCase(Locale.ROOT);
                if (t.equals("ALL")) {
                    out.addAll(List.of(values()));
                } else if (!t.isEmpty()) {
                    try {
                        out.add(valueOf(t));
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException("unknown fault '" + s.trim()
                                + "'; use kill, pause, partition, oneway, delay or all");
                    }
                }
            }
            if (out.isEmpty()) {
                throw new IllegalArgumentException("no fault given; use kill, pause, partition, oneway, delay or all");
            }
            return out;
        }
    }

    /**
     * What to run.
     *
     * @param nodes replicas (3–9), each a JVM process
     * @param clients register clients (1–64); one hand-over agent per site runs besides them
     * @param duration how long the nemesis keeps injecting faults (at least one of each kind is injected regardless)
     * @param minOps the nemesis also keeps going until the clients completed this many operations successfully
     * @param faults the kinds of fault, injected in turn
     * @param faultHold the shortest time a fault stays in force
     * @param electionMin the replicas' {@code dwcp.consensus.election.min}
     * @param seed seeds the clients' choices, the victims and the order of faults
     * @param workDir where the replicas keep their data directories and logs (created; left in place)
     * @param startTimeout how long the replicas may take to start and the group to commit its first command, and the
     *                     healed group its final reads, before the run is given up as a harness failure (nothing
     *                     checked); generous on a slow machine, where five JVMs starting at once wait for CPU
     */
    public record Options(int nodes, int clients, Duration duration, long minOps, Set<Fault> faults, Duration faultHold, Duration electionMin,
                          long seed, Path workDir, Duration startTimeout) {
        /**
         * Checks the ranges.
         *
         * @param nodes replicas (3–9)
         * @param clients register clients (1–64)
         * @param duration how long faults are injected
         * @param minOps successful operations the run needs at least
         * @param faults the kinds of fault (not empty)
         * @param faultHold the shortest time a fault stays in force
         * @param electionMin the replicas' shortest election timeout (at least 10 ms)
         * @param seed the seed
         * @param workDir the replicas' directory
         * @param startTimeout the bound on start-up, first commit and final reads (at least 10 s)
         * @throws IllegalArgumentException naming the option to change
         */
        public Options {
            if (nodes < 3 || nodes > 9) {
                throw new IllegalArgumentException("nodes must be 3–9, got " + nodes);
            }
            if (clients < 1 || clients > 64) {
                throw new IllegalArgumentException("clients must be 1–64, got " + clients);
            }
            if (duration.isNegative() || minOps < 0 || faultHold.isNegative() || electionMin.toMillis() < 10) {
                throw new IllegalArgumentException("duration, minimum operations and fault hold must be >= 0 and election.min >= 10ms");
            }
            faults = Set.copyOf(faults);
            if (faults.isEmpty()) {
                throw new IllegalArgumentException("give at least one fault");
            }
            if (startTimeout.compareTo(Duration.ofSeconds(10)) < 0) {
                throw new IllegalArgumentException("the start timeout must be at least 10s, got " + startTimeout);
            }
        }

        /**
         * Options with the default start timeout ({@link #DEFAULT_START_TIMEOUT}).
         *
         * @param nodes replicas (3–9)
         * @param clients register clients (1–64)
         * @param duration how long faults are injected
         * @param minOps successful operations the run needs at least
         * @param faults the kinds of fault (not empty)
         * @param faultHold the shortest time a fault stays in force
         * @param electionMin the replicas' shortest election timeout (at least 10 ms)
         * @param seed the seed
         * @param workDir the replicas' directory
         */
        public Options(int nodes, int clients, Duration duration, long minOps, Set<Fault> faults, Duration faultHold,
                       Duration electionMin, long seed, Path workDir) {
            this(nodes, clients, duration, minOps, faults, faultHold, electionMin, seed, workDir, DEFAULT_START_TIMEOUT);
        }
    }

    /** How long start-up, the first commit and the final reads may take by default before the harness gives up. */
    public static final Duration DEFAULT_START_TIMEOUT = Duration.ofMinutes(10);

    /**
     * What a run produced.
     *
     * @param history every operation, final reads included
     * @param verdict the linearizability checker's result
     * @param epochConflicts one line per VM epoch seen with two different owners
     * @param ownerOverlaps one line per pair of sites that both ran a VM at one instant
     * @param lostWrites one line per acknowledged write missing from the final state
     * @param injected faults injected, by kind
     * @param stalls one line per recovery that took longer than two minutes (liveness, not safety)
     */
    public record Result(List<Operation> history, LinearizabilityChecker.Result verdict, List<String> epochConflicts,
                         List<String> ownerOverlaps, List<String> lostWrites, Map<Fault, Integer> injected, List<String> stalls) {
        /**
         * Operations with this outcome.
         *
         * @param o the outcome
         * @return how many
         */
        public long count(Operation.Outcome o) {
            return history.stream().filter(op -> op.outcome() == o).count();
        }

        /**
         * Whether every safety property held.
         *
         * @return linearizable, no lost write, no two owners
         */
        public boolean safe() {
            return verdict.linearizable() && epochConflicts.isEmpty() && ownerOverlaps.isEmpty() && lostWrites.isEmpty();
        }

        @Override
        public String toString() {
            return history.size() + " ops (ok " + count(Operation.Outcome.OK) + ", fail " + count(Operation.Outcome.FAIL)
                    + ", info " + count(Operation.Outcome.INFO) + "), faults " + injected + ", linearizable "
                    + verdict.linearizable() + (verdict.linearizable() ? "" : " (key " + verdict.failingKey() + ")")
                    + ", lost writes " + lostWrites.size() + ", epoch conflicts " + epochConflicts.size()
                    + ", owner overlaps " + ownerOverlaps.size() + ", stalls " + stalls.size() + ", states "
                    + verdict.statesExplored();
        }
    }

    private ConsensusCheck() {
    }

    /**
     * Runs one seed and checks its history.
     *
     * @param o what to run
     * @return the history and the verdicts
     * @throws Exception when the harness itself fails (a replica does not start, a signal cannot be sent)
     */
    public static Result run(Options o) throws Exception {
        List<Operation> history = Collections.synchronizedList(new ArrayList<>());
        Map<Fault, Integer> injected = Collections.synchronizedMap(new EnumMap<>(Fault.class));
        List<String> stalls = Collections.synchronizedList(new ArrayList<>());
        CheckClients.Progress progress = new CheckClients.Progress();
        long t0 = System.nanoTime();
        String electionMin = o.electionMin().toMillis() + "ms";
        try (ReplicaCluster cluster = new ReplicaCluster(o.workDir(), o.nodes(), electionMin, true)) {
            cluster.readyTimeout(o.startTimeout());
            // The replica JVMs start in parallel, and the in-process clients start meanwhile (their RTT probe is
            // answered by the replicas' hosts whether or not a replica listens yet).
            cluster.launchAll();
            List<RatisConsensus> clients = new ArrayList<>();
            for (int c = 0; c < 2; c++) {
                clients.add(cluster.client("client-" + c, "10s"));
            }
            cluster.awaitAllReady();
            phase(o, t0, "replicas ready");
            // Warm up: the first command waits for the first election, which a busy machine can delay past the
            // clients' proposal timeout; retried until it succeeds (bounded).
            CheckClients.awaitFirstCommit(clients.get(0), o.startTimeout());
            phase(o, t0, "first commit");
            AtomicBoolean stop = new AtomicBoolean();
            List<Thread> workers = new ArrayList<>();
            int processes = o.clients() + SITES.length;
            for (int p = 0; p < processes; p++) {
                int process = p;
                Consensus client = clients.get(p % clients.size());
                Random rnd = new Random(o.seed() * 31 + p);
                Runnable body = p < o.clients()
                        ? () -> CheckClients.registers(process, client, rnd, stop, history, progress)
                        : () -> CheckClients.agent(process, SITES[process - o.clients()], client, rnd, stop, history, progress);
                Thread t = new Thread(body, "process-" + p);
                t.setDaemon(true);
                workers.add(t);
                t.start();
            }
            try {
                Nemesis.run(o, cluster, clients.get(0), progress, injected, stalls, processes);
            } finally {
                cluster.proxy().heal();
                for (int i = 0; i < o.nodes(); i++) {
                    cluster.signal(i, false);
                }
                stop.set(true);
                for (Thread t : workers) {
                    t.join(TimeUnit.SECONDS.toMillis(2 * CheckClients.OP_TIMEOUT_S));
                    if (t.isAlive()) {
                        throw new IllegalStateException(t.getName() + " did not finish its operation in time");
                    }
                }
            }
            phase(o, t0, "faults done, clients stopped");
            CheckClients.finalReads(clients.get(1), history, o.startTimeout());
            phase(o, t0, "final reads");
        }
        phase(o, t0, "replicas stopped");
        List<Operation> ops = List.copyOf(history);
        return new Result(ops, new LinearizabilityChecker().check(ops), OwnershipCheck.conflicts(ops, "vm/"),
                OwnershipCheck.overlaps(ops, "vm/"), lostWrites(ops, CheckClients.FINAL_PROCESS), Map.copyOf(injected),
                List.copyOf(stalls));
    }

    /**
     * Writes a run's history as JSON lines (the format {@code dwcp check-history} reads).
     *
     * @param file the file (parent directories are created)
     * @param result the run
     * @throws java.io.IOException when the file cannot be written
     */
    public static void writeHistory(Path file, Result result) throws java.io.IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        HistoryFile.write(file, result.history());
    }

    /** Progress on standard error (the verdict goes to standard output). */
    private static void phase(Options o, long t0, String what) {
        System.err.printf(Locale.ROOT, "seed %d: %s at %.1f s%n", o.seed(), what, (System.nanoTime() - t0) / 1e9);
    }

    /**
     * Acknowledged writes missing from the final state: a write or applied CAS that completed OK with a version (log
     * index) above the version the final read of its key returned was overwritten by nothing the log holds — it was
     * lost. Versions only grow, so an acknowledged write at or below the final version was ordered before it.
     */
    static List<String> lostWrites(List<Operation> history, int finalProcess) {
        Map<String, Long> finalVersion = new LinkedHashMap<>();
        for (Operation op : history) {
            if (op.process() == finalProcess && op.outcome() == Operation.Outcome.OK) {
                finalVersion.put(op.key(), op.version());
            }
        }
        List<String> lost = new ArrayList<>();
        for (Operation op : history) {
            boolean wrote = op.kind() == Operation.Kind.WRITE || op.kind() == Operation.Kind.CAS && op.applied();
            Long last = finalVersion.get(op.key());
            if (wrote && op.outcome() == Operation.Outcome.OK && last != null && op.version() > last) {
                lost.add(op.key() + ": " + op.kind().name().toLowerCase(Locale.ROOT) + " of '" + op.value() + "' by p" + op.process()
                        + " acknowledged at version " + op.version() + ", final version " + last);
            }
        }
        return lost;
    }
}
