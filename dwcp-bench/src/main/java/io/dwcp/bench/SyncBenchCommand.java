package io.dwcp.bench;

import io.dwcp.sync.SyncScenario;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code dwcp sync-bench}: metadata replication between replica processes on loopback, each link behind a
 * fault-injecting TCP proxy (the harness of dwcp-sync's multi-process test). For each seed it runs the fault scenario
 * (delays and connection resets, a partition with writes on both sides, kill -9 and restart of a replica, heal)
 * twice with the same workload: once pushing deltas (the default) and once pushing whole key states (the
 * {@code dwcp.sync.push-mode=full-state} baseline of the same code), and checks convergence and the model. Then one
 * anti-entropy round between two replicas that differ in {@code --ae-diff} of {@code --ae-keys} keys, against the
 * size of a flat per-key digest list. The last line with {@code --json} is one JSON object.
 *
 * <p>Replica processes use the test timing (anti-entropy every 1 s, max-staleness 2 s, gossip every 200 ms) and
 * plaintext AMST; loopback has no RTT, so times here are not WAN figures.
 */
final class SyncBenchCommand implements DwcpCli.Command {
    private static final Set<String> VALUES = Set.of("nodes", "ops", "keys", "seed", "seeds", "faults", "ae-keys", "ae-diff", "out");
    private static final Set<String> FLAGS = Set.of("json", "help");

    @Override
    public String summary() {
        return "ASS replication with separate processes and faults: --nodes 3 --ops 60 --seeds 5 [--ae-keys 100000 --ae-diff 100] [--json]";
    }

    @Override
    public int run(String[] args) throws Exception {
        CliArgs a = new CliArgs(args, VALUES, FLAGS);
        if (a.flag("help")) {
            System.err.println("usage: sync-bench [--nodes 3] [--ops 60] [--keys 4] [--seed 1] [--seeds 1] [--faults on|off]\n"
                    + "                  [--ae-keys 100000] [--ae-diff 100] [--out target/sync-bench] [--json]");
            return 0;
        }
        int nodes = positive(a, "nodes", "3");
        int ops = positive(a, "ops", "60");
        int keys = positive(a, "keys", "4");
        long seed = Long.parseLong(a.get("seed", "1"));
        int seeds = positive(a, "seeds", "1");
        boolean faults = !"off".equals(a.get("faults", "on"));
        int aeKeys = Integer.parseInt(a.get("ae-keys", "100000"));
        int aeDiff = Integer.parseInt(a.get("ae-diff", "100"));
        Path out = Path.of(a.get("out", "target/sync-bench"));
        if (nodes < 2) {
            throw new CliArgs.UsageException("--nodes must be >= 2");
        }

        List<Long> convergence = new ArrayList<>();
        List<Double> deltaPerUpdate = new ArrayList<>();
        List<Double> fullPerUpdate = new ArrayList<>();
        int totalOps = 0;
        int divergent = 0;
        int violations = 0;
        int unconverged = 0;
        for (long s = seed; s < seed + seeds; s++) {
            SyncScenario.Result d = SyncScenario.run(nodes, s, ops, keys, faults, List.of(), out.resolve("delta-" + s), 60_000);
            SyncScenario.Result f = SyncScenario.run(nodes, s, ops, keys, faults, List.of("dwcp.sync.push-mode=full-state"),
                    out.resolve("full-" + s), 60_000);
            for (SyncScenario.Result r : List.of(d, f)) {
                divergent += r.divergentReplicas();
                violations += r.modelViolations().size();
                if (r.convergenceMillis() < 0) {
                    unconverged++;
                }
                r.modelViolations().stream().limit(5).forEach(v -> System.err.println("model violation: " + v));
            }
            totalOps += d.ops();
            if (d.convergenceMillis() >= 0) {
                convergence.add(d.convergenceMillis());
            }
            deltaPerUpdate.add((double) d.gossipBytes() / d.ops());
            fullPerUpdate.add((double) f.gossipBytes() / f.ops());
            System.out.printf("seed %d: %d ops, converged %d ms after the heal, gossip %.0f B/update (full-state %.0f),"
                            + " divergent %d/%d, model violations %d/%d%n", s, d.ops(), d.convergenceMillis(),
                    deltaPerUpdate.get(deltaPerUpdate.size() - 1), fullPerUpdate.get(fullPerUpdate.size() - 1),
                    d.divergentReplicas(), f.divergentReplicas(), d.modelViolations().size(), f.modelViolations().size());
        }
        SyncScenario.AntiEntropyCost ae = null;
        if (aeKeys > 0) {
            String heap = Math.max(256, aeKeys / 250) + "m";
            ae = SyncScenario.antiEntropyCost(aeKeys, aeDiff, out.resolve("anti-entropy"), heap);
            System.out.printf("anti-entropy: %d of %d keys differ: round %d B, flat digest list %d B (%.3f %%), repaired %s%n",
                    ae.differing(), ae.keys(), ae.roundBytes(), ae.flatDigestBytes(),
                    100.0 * ae.roundBytes() / ae.flatDigestBytes(), ae.repaired());
        }
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("nodes", nodes);
        j.put("seeds", seeds);
        j.put("faults", faults);
        j.put("ops", totalOps);
        j.put("convergenceMillisMedian", median(convergence));
        j.put("convergenceMillisMax", convergence.isEmpty() ? null : Collections.max(convergence));
        j.put("unconvergedRuns", unconverged);
        j.put("divergentReplicas", divergent);
        j.put("modelViolations", violations);
        j.put("deltaBytesPerUpdateMedian", median(deltaPerUpdate));
        j.put("fullStateBytesPerUpdateMedian", median(fullPerUpdate));
        if (ae != null) {
            j.put("aeKeys", ae.keys());
            j.put("aeDiffering", ae.differing());
            j.put("aeRoundBytes", ae.roundBytes());
            j.put("aeFlatDigestBytes", ae.flatDigestBytes());
            j.put("aeRepaired", ae.repaired());
        }
        if (a.flag("json")) {
            System.out.println(Json.write(j));
        }
        return divergent == 0 && violations == 0 && unconverged == 0 && (ae == null || ae.repaired()) ? 0 : 1;
    }

    private static int positive(CliArgs a, String name, String def) {
        int v = Integer.parseInt(a.get(name, def));
        if (v < 1) {
            throw new CliArgs.UsageException("--" + name + " must be >= 1, got " + v);
        }
        return v;
    }

    private static <T extends Number & Comparable<T>> Double median(List<T> values) {
        if (values.isEmpty()) {
            return null;
        }
        List<T> s = new ArrayList<>(values);
        Collections.sort(s);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2).doubleValue() : (s.get(n / 2 - 1).doubleValue() + s.get(n / 2).doubleValue()) / 2;
    }
}
