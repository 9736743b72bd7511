package io.dwcp.sync;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * The multi-process fault scenario and its model check, shared by the tests and {@code dwcp sync-bench}: replicas as
 * separate JVM processes ({@link SyncCluster}); random operations on all nine CRDT types ({@link AllTypes}) at a fixed
 * rate under the faults of
 * a {@link FaultSpec} — delays and connection resets (TCP proxies), lost, duplicated or reordered messages
 * ({@link MessageFaultTransport}), partitions between groups with writes on every side, kill -9 and restart with the
 * data directory ({@code dwcp.sync.data-dir}); heal; then the time to identical canonical state on every replica,
 * the keys that differ, every replica's value of every key against the model ({@link AllTypes.Model}: each update's
 * effect), and a bounded read on every replica at 2 × max-staleness
 * after the heal.
 */
public final class SyncScenario {
    private SyncScenario() {
    }

    /**
     * What one run gave.
     *
     * @param ops operations issued (every one acknowledged by the replica that took it)
     * @param convergenceMillis from the heal to identical state on every replica; -1 when not reached in time
     * @param divergentReplicas replicas whose state differed from the majority's at the end (0 on success)
     * @param modelViolations values that differ from the model (empty on success)
     * @param gossipBytes bytes of delta pushes and rumours sent by all replicas alive at the end
     * @param gossipMessages delta messages sent by them
     * @param antiEntropyBytes anti-entropy bytes sent by them
     * @param duplicatesReceived gossip messages they received more than once (dropped by the seen-cache)
     * @param convergenceRounds rumour rounds the first replica ran from the heal to convergence (its gossip timer's
     *     ticks: a clock that slows down with the replica when the machine is overloaded); -1 when not converged
     * @param divergentKeys keys whose canonical state is not the same on every replica at the end (0 on success)
     * @param stalenessViolations replicas that, 2 × max-staleness after the heal, refused a read bounded by
     *     max-staleness as STALE although every peer was reachable (0 on success)
     * @param opsByType operations issued per CRDT type, in {@link AllTypes#PREFIXES} order
     */
    public record Result(int ops, long convergenceMillis, int divergentReplicas, List<String> modelViolations,
                         long gossipBytes, long gossipMessages, long antiEntropyBytes, long duplicatesReceived,
                         long convergenceRounds, int divergentKeys, int stalenessViolations, int[] opsByType) {
    }

    /** Issues operations at a fixed rate: the workload's pace, not synchronisation. */
    private static final class Pacer {
        private final long start = System.nanoTime();
        private final double nanosPerOp;
        private long issued;

        Pacer(double opsPerSecond) {
            this.nanosPerOp = 1e9 / opsPerSecond;
        }

        void next() throws InterruptedException {
            long due = start + (long) (issued++ * nanosPerOp);
            long wait = due - System.nanoTime();
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
        }
    }

    /**
     * Runs the scenario: {@code opsPerSecond × duration} random operations over the nine CRDT types at random replicas, in
     * three phases — 3/8 before the partition, 3/8 during it (writes on every side), then the kills and restarts of
     * {@code faults.kill()}, then the last quarter still partitioned — with the proxy and message faults of
     * {@code faults} throughout; then the heal (every fault ends), the time until every replica holds identical state,
     * and every replica's values against the model.
     *
     * @param nodes replicas (≥ 2)
     * @param seed workload and fault seed
     * @param keys distinct keys per CRDT type used by the workload
     * @param opsPerSecond workload rate over all replicas
     * @param duration workload duration (the heal follows it)
     * @param faults the faults ({@link FaultSpec#parse})
     * @param nodeArgs extra {@code key=value} configuration for every replica (e.g. {@code dwcp.sync.push-mode=full-state})
     * @param convergeWithinMillis how long to wait for equal state after the heal
     */
    public static Result run(int nodes, long seed, int keys, double opsPerSecond, java.time.Duration duration, FaultSpec faults,
                             List<String> nodeArgs, Path logs, long convergeWithinMillis) throws Exception {
        Random rnd = new Random(seed);
        AllTypes.Model m = new AllTypes.Model();
        Set<Integer> all = new TreeSet<>();
        for (int i = 0; i < nodes; i++) {
            all.add(i);
        }
        int total = (int) Math.max(8, Math.round(opsPerSecond * duration.toMillis() / 1000.0));
        List<String> args = new ArrayList<>(nodeArgs);
        if (faults.messageFaults()) {
            args.add("message-drops=" + faults.dropProbability());
            args.add("message-duplicates=" + faults.duplicateProbability());
            args.add("message-delays=" + faults.reorderProbability());
        }
        long maxStalenessMillis = millis(args.stream().filter(a -> a.startsWith("dwcp.sync.max-staleness="))
                .reduce((a, b) -> b).map(a -> a.substring(a.indexOf('=') + 1)).orElse("2s"));
        try (SyncCluster c = new SyncCluster(nodes, seed, logs, "192m", args, true)) {
            c.messageFaults(faults.delayMillis(), faults.resetProbability());
            Pacer pacer = new Pacer(opsPerSecond);
            int before = total * 3 / 8;
            int during = total * 3 / 8;
            randomOps(c, m, rnd, before, all, keys, pacer);
            for (Set<Integer> group : faults.partition()) {
                c.partition(group, true);
            }
            randomOps(c, m, rnd, during, all, keys, pacer);
            for (int k : faults.kill()) {
                // kill -9 right after the phase's writes, whatever its peers have received, and restart with its data
                // directory: every update it acknowledged must survive (journal) and reach everyone
                c.kill(k);
                c.restart(k);
            }
            randomOps(c, m, rnd, total - before - during, all, keys, pacer);
            // the heal: every fault ends
            for (Set<Integer> group : faults.partition()) {
                c.partition(group, false);
            }
            c.messageFaults(0, 0);
            if (faults.messageFaults()) {
                for (int i = 0; i < nodes; i++) {
                    c.node(i).call("msgfaults 0 0 0");
                }
            }
            long roundsAtHeal = rounds(c, 0);
            long healed = System.nanoTime();
            if (Boolean.getBoolean("dwcp.sync.trace")) {
                System.err.println("heal at " + java.time.LocalTime.now());
            }
            long converged = awaitEqual(c, all, convergeWithinMillis) ? (System.nanoTime() - healed) / 1_000_000 : -1;
            long convergenceRounds = converged < 0 ? -1 : rounds(c, 0) - roundsAtHeal;
            List<String> digests = c.digests();
            Map<String, Integer> votes = new HashMap<>();
            digests.forEach(d -> votes.merge(d, 1, Integer::sum));
            int divergent = nodes - votes.values().stream().max(Integer::compare).orElse(0);
            int divergentKeys = divergentKeys(c);
            List<String> violations = m.check(c);
            if (m.hiddenDeletes > 0) {
                System.err.println("seed " + seed + ": " + m.hiddenDeletes + " RGA delete(s) not issued: the element was"
                        + " not visible at its restarted inserter yet (its predecessor not recovered)");
            }
            // bounded staleness: 2 × max-staleness after the heal, with every peer reachable, a read bounded by
            // max-staleness must be served on every replica
            long due = healed + 2 * maxStalenessMillis * 1_000_000;
            if (due > System.nanoTime()) {
                TimeUnit.NANOSECONDS.sleep(due - System.nanoTime()); // waiting for the guarantee's deadline
            }
            int stale = 0;
            for (int i = 0; i < nodes; i++) {
                if (c.node(i).call("stale-read counter-0 " + maxStalenessMillis).equals("STALE")) {
                    stale++;
                }
            }
            long gossipBytes = 0;
            long gossipMessages = 0;
            long aeBytes = 0;
            long duplicates = 0;
            for (int i = 0; i < nodes; i++) {
                String[] st = c.node(i).call("stats").split(" ");
                gossipBytes += Long.parseLong(st[2]);
                aeBytes += Long.parseLong(st[3]);
                gossipMessages += Long.parseLong(st[4]);
                duplicates += Long.parseLong(st[6]);
            }
            return new Result(m.ops, converged, divergent, violations, gossipBytes, gossipMessages, aeBytes, duplicates,
                    convergenceRounds, divergentKeys, stale, m.opsByType());
        }
    }

    /** {@code 500ms}, {@code 2s} or {@code 1m} in milliseconds. */
    private static long millis(String d) {
        String s = d.trim();
        if (s.endsWith("ms")) {
            return Long.parseLong(s.substring(0, s.length() - 2));
        }
        long unit = s.endsWith("s") ? 1000 : s.endsWith("m") ? 60_000 : s.endsWith("h") ? 3_600_000 : 0;
        if (unit == 0) {
            throw new IllegalArgumentException("duration '" + d + "': expected e.g. 500ms, 2s or 1m");
        }
        return Math.round(Double.parseDouble(s.substring(0, s.length() - 1)) * unit);
    }

    /** Keys whose canonical state is not the same on every replica (missing somewhere counts). */
    private static int divergentKeys(SyncCluster c) throws IOException {
        Map<String, Set<String>> hashes = new HashMap<>();
        Map<String, Integer> holders = new HashMap<>();
        for (int i = 0; i < c.size(); i++) {
            for (String kv : c.node(i).call("keyhashes").substring(4).trim().split(" ")) {
                if (!kv.isEmpty()) {
                    int eq = kv.lastIndexOf('=');
                    hashes.computeIfAbsent(kv.substring(0, eq), k -> new HashSet<>()).add(kv.substring(eq + 1));
                    holders.merge(kv.substring(0, eq), 1, Integer::sum);
                }
            }
        }
        int out = 0;
        for (Map.Entry<String, Set<String>> e : hashes.entrySet()) {
            if (e.getValue().size() > 1 || holders.get(e.getKey()) != c.size()) {
                out++;
            }
        }
        return out;
    }

    private static long rounds(SyncCluster c, int node) throws IOException {
        return Long.parseLong(c.node(node).call("rounds").substring("ROUNDS ".length()));
    }

    private static void randomOps(SyncCluster c, AllTypes.Model m, Random rnd, int count, Set<Integer> nodes, int keys,
                                  Pacer pacer) throws IOException, InterruptedException {
        List<Integer> pool = new ArrayList<>(nodes);
        for (int i = 0; i < count; i++) {
            pacer.next();
            int node = pool.get(rnd.nextInt(pool.size()));
            m.randomOp(c.node(node), node, rnd, keys);
        }
    }

    /** Polls until the replicas in {@code group} hold identical state; false when the time runs out. */
    private static boolean awaitEqual(SyncCluster c, Set<Integer> group, long withinMillis) throws Exception {
        return awaitEqual(c, group, withinMillis, "digest");
    }

    /** Polls until {@code command} ({@code digest} or {@code root}) answers the same on every replica of {@code group}. */
    private static boolean awaitEqual(SyncCluster c, Set<Integer> group, long withinMillis, String command) throws Exception {
        long deadline = System.nanoTime() + withinMillis * 1_000_000;
        while (true) {
            Set<String> d = new HashSet<>();
            for (int i : group) {
                d.add(c.node(i).call(command));
            }
            if (d.size() == 1) {
                return true;
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            TimeUnit.MILLISECONDS.sleep(50); // polling with a deadline
        }
    }

    /**
     * One repetition of the tree-against-flat comparison.
     *
     * @param differing keys changed on replica 0 before each round
     * @param treeBytes bytes both replicas sent in the hash-tree round
     * @param flatBytes bytes both replicas sent in the flat round (every key's digest)
     * @param flatResponderBytes bytes the answering replica alone sent in the flat round (its digest list and the
     *     pulled states: the smallest a flat exchange can cost)
     * @param repaired whether the replicas were identical after each round
     */
    public record TreeVsFlat(int differing, long treeBytes, long flatBytes, long flatResponderBytes, boolean repaired) {
    }

    /**
     * Two replicas holding the same {@code keys} keys; per repetition, {@code differing} random keys (seeded) change on
     * replica 0 and one hash-tree round repairs them, then {@code differing} other keys change and one flat round (every
     * key's digest, the same code without the tree) repairs them. Bytes are what the two processes sent.
     */
    public static List<TreeVsFlat> antiEntropyTreeVsFlat(int keys, int differing, int reps, long seed, Path logs, String heap)
            throws Exception {
        List<String> quiet = List.of("dwcp.sync.anti-entropy.interval=1h", "dwcp.sync.full-reconciliation.interval=1d",
                "dwcp.sync.max-staleness=1h", "dwcp.sync.gossip.interval=1m", "dwcp.sync.gossip.seen-ttl=1h",
                "dwcp.sync.request-timeout=5m", "dwcp.transport.connect-timeout=1m", "dwcp.transport.session-timeout=5m");
        List<TreeVsFlat> out = new ArrayList<>();
        try (SyncCluster c = new SyncCluster(2, seed, logs, heap, quiet)) {
            c.node(0).call("load " + keys + " 0");
            c.node(1).call("load " + keys + " 0");
            String ae = "ae " + c.proxyPort(0, 1);
            c.node(0).call(ae); // warm-up: opens the session; the replicas are equal, so only the root is compared
            for (int rep = 0; rep < reps; rep++) {
                long s = seed * 1000 + 2L * rep + 1;
                c.node(0).call("bump " + keys + " " + differing + " " + s);
                long a0 = sent(c, 0);
                long a1 = sent(c, 1);
                c.node(0).call(ae);
                long tree = sent(c, 0) - a0 + sent(c, 1) - a1;
                boolean ok = equalRoots(c);
                c.node(0).call("bump " + keys + " " + differing + " " + (s + 1));
                a0 = sent(c, 0);
                a1 = sent(c, 1);
                c.node(0).call(ae + " flat");
                long flatResponder = sent(c, 1) - a1;
                long flat = sent(c, 0) - a0 + flatResponder;
                ok &= equalRoots(c);
                out.add(new TreeVsFlat(differing, tree, flat, flatResponder, ok));
            }
            if (!c.converged()) {
                out.add(new TreeVsFlat(differing, -1, -1, -1, false)); // canonical states differ: reported as not repaired
            }
        }
        return out;
    }

    private static boolean equalRoots(SyncCluster c) throws IOException {
        return c.node(0).call("root").equals(c.node(1).call("root"));
    }

    /**
     * What replicating one batch of updates cost in one push mode.
     *
     * @param mode the {@code dwcp.sync.push-mode}
     * @param updates updates issued (counter increments)
     * @param gossipBytes gossip bytes (pushes, rumours, state rounds) all replicas delivered until every replica was equal
     * @param gossipMessages gossip messages they delivered
     * @param antiEntropyBytes anti-entropy bytes they sent in the same time (rounds repair deltas whose transfer stalled)
     * @param millis from the first update to identical state on every replica; -1 when not reached in time
     */
    public record BytesCost(String mode, int updates, long gossipBytes, long gossipMessages, long antiEntropyBytes, long millis) {
        /** Replication bytes (gossip and anti-entropy) per update. */
        public double bytesPerUpdate() {
            return (double) (gossipBytes + antiEntropyBytes) / updates;
        }
    }

    /**
     * {@code nodes} replicas holding the same {@code keys} counters; {@code fraction} of the keys are then incremented,
     * spread evenly over the replicas, and the replication bytes (gossip and anti-entropy) until every replica is equal
     * are counted. One anti-entropy round per pair runs before the updates (so that replicas know each other's node ids,
     * as after any first round). Timing: the WAN tier's defaults; in full-state mode one
     * peer per round, every 15 s (a conservative baseline, see below).
     */
    public static BytesCost bytesPerUpdate(int nodes, int keys, double fraction, String mode, long seed, Path logs, String heap)
            throws Exception {
        return bytesPerUpdate(nodes, keys, fraction, mode, seed, logs, heap, true);
    }

    /**
     * As {@link #bytesPerUpdate(int, int, double, String, long, Path, String)}; with {@code antiEntropy} false, periodic
     * and staleness-forced anti-entropy rounds are an hour apart in both modes (after the warm-up rounds), so that
     * only the replication mode itself carries the updates: otherwise a run whose setup is slow (a loaded machine)
     * crosses half of max-staleness during the measurement and both modes are repaired mostly by the same rounds.
     */
    public static BytesCost bytesPerUpdate(int nodes, int keys, double fraction, String mode, long seed, Path logs, String heap,
                                           boolean antiEntropy) throws Exception {
        // the WAN tier's defaults (gossip every 5 s, anti-entropy every 30 s, max-staleness 30 s), not the tests' fast
        // timing; the transport's default timeouts, so that a loaded machine does not end sessions
        // full-state rounds ship the whole store every gossip.interval to fanout peers: at 100,000 keys a replica on
        // a loaded machine could not merge three whole stores per 5 s and fell further behind every round. That arm
        // ships to one peer per round, every 15 s. Fewer whole stores per round can only lower its bytes before
        // convergence (anti-entropy, which ships only differing keys, then repairs more of the difference), so the
        // delta / full-state ratio is conservative: it can only look worse for deltas.
        boolean fullState = mode.equals("full-state");
        List<String> args = List.of("dwcp.sync.push-mode=" + mode, "dwcp.tier.pin=wan",
                "dwcp.sync.gossip.interval=" + (fullState ? "15s" : "5s"), "dwcp.sync.gossip.fanout=" + (fullState ? 1 : 3),
                "dwcp.sync.gossip.seen-ttl=" + (fullState ? "3m" : "2m"),
                "dwcp.sync.anti-entropy.interval=" + (antiEntropy ? "30s" : "1h"),
                "dwcp.sync.full-reconciliation.interval=" + (antiEntropy ? "300s" : "1d"),
                "dwcp.sync.max-staleness=" + (antiEntropy ? "30s" : "1h"), "dwcp.sync.request-timeout=5s",
                "dwcp.transport.connect-timeout=30s", "dwcp.transport.session-timeout=5m", "dwcp.transport.io-timeout=5m");
        try (SyncCluster c = new SyncCluster(nodes, seed, logs, heap, args)) {
            for (int i = 0; i < nodes; i++) {
                c.node(i).call("load " + keys + " 0");
            }
            for (int i = 0; i < nodes; i++) {
                for (int j = 0; j < nodes; j++) {
                    if (i != j) {
                        try {
                            c.node(i).call("ae " + c.proxyPort(i, j));
                        } catch (IOException e) {
                            // a loaded machine may time a round out; the next periodic round teaches the id instead
                            System.err.println("warm-up round n" + i + " -> n" + j + " failed: " + e.getMessage());
                        }
                    }
                }
            }
            long[] before = gossip(c);
            int updates = (int) Math.round(keys * fraction);
            long start = System.nanoTime();
            for (int i = 0; i < nodes; i++) {
                int share = updates / nodes + (i < updates % nodes ? 1 : 0);
                // each replica increments its own random choice of keys (two replicas may pick the same key)
                c.node(i).call("churn " + keys + " " + share + " " + (seed * 1000 + i));
            }
            // polls the hash-tree roots (kept up to date per key); a full canonical digest of 100,000 keys per poll
            // would take longer than replication on a loaded machine
            long millis = awaitEqual(c, new TreeSet<>(java.util.stream.IntStream.range(0, nodes).boxed().toList()), 300_000, "root")
                    ? (System.nanoTime() - start) / 1_000_000 : -1;
            long[] after = gossip(c);
            if (millis < 0) {
                for (int i = 0; i < nodes; i++) {
                    System.err.println("n" + i + " " + c.node(i).call("diag"));
                }
            }
            if (millis >= 0 && !c.converged()) {
                millis = -1; // equal roots but different canonical states: report as not converged
            }
            return new BytesCost(mode, updates, after[0] - before[0], after[1] - before[1], after[2] - before[2], millis);
        }
    }

    private static long[] gossip(SyncCluster c) throws IOException {
        long bytes = 0;
        long messages = 0;
        long ae = 0;
        for (int i = 0; i < c.size(); i++) {
            String[] st = c.node(i).call("stats").split(" ");
            bytes += Long.parseLong(st[2]);
            ae += Long.parseLong(st[3]);
            messages += Long.parseLong(st[4]);
        }
        return new long[]{bytes, messages, ae};
    }

    private static long sent(SyncCluster c, int i) throws IOException {
        return Long.parseLong(c.node(i).call("stats").split(" ")[1]);
    }
}
