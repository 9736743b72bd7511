package io.dwcp.bench;

import io.dwcp.sync.SyncScenario;
import io.dwcp.sync.WanLagScenario;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code dwcp sync-bench}: metadata replication between replica processes on loopback, each link behind a
 * fault-injecting TCP proxy (the harness of dwcp-sync's multi-process test).
 * <ul>
 *   <li>For each seed ({@code --seed S}, {@code --seeds N}), the fault scenario of {@code --nodes N} replicas: a random
 *       workload of {@code --rate} operations per second for {@code --duration} over all nine CRDT types, {@code --keys}
 *       keys of each, checked per update against a model,
 *       with the faults of {@code --faults SPEC} (grammar in {@code io.dwcp.sync.FaultSpec} and docs/benchmarks-sync.md:
 *       partitions between groups, kill -9 and restart, proxy delays and resets, lost, duplicated and reordered
 *       messages), heal, then convergence time after the heal, divergent keys, model violations and a bounded read at
 *       2 × max-staleness. With {@code --compare on} each seed runs again with {@code dwcp.sync.push-mode=full-state}.</li>
 *   <li>With {@code --bytes-keys K}: replicas holding the same K keys, {@code --bytes-fraction} of them updated, and the
 *       replication bytes until all are equal, in push modes delta, full-state (the whole store every gossip round:
 *       state-based replication, streamed in acknowledged chunks) and entry-state (each updated key's whole entry),
 *       {@code --bytes-reps} times; with {@code --bytes-ae off} anti-entropy rounds are an hour apart in every arm.</li>
 *   <li>With {@code --ae-keys K}: two replicas of K keys; per repetition ({@code --ae-reps}), {@code --ae-diff} random
 *       keys change on one and a hash-tree round repairs them, then other keys change and a flat round (every key's
 *       digest exchanged, the same code without the tree) repairs them; bytes sent in each round.</li>
 *   <li>With {@code --lag-updates N}: update-to-all-replicas lag between {@code --nodes} replicas at two sites, those
 *       of site A listening on {@code --wan-a}, the last {@code --wan-b-nodes} on {@code --wan-b} started through
 *       {@code --wan-b-prefix} (e.g. {@code "ip netns exec dwcp-b"}), with no proxy: the emulated WAN link between the
 *       sites carries the RTT. Replication settings are the WAN tier's defaults plus {@code --lag-args}
 *       ({@code key=value,...}). Run it through {@code dwcp-bench/scripts/bench-sync-wan.sh}, which makes the link.</li>
 * </ul>
 * The last line with {@code --json} is one JSON object. Replica processes use the test timing (anti-entropy every 1 s,
 * max-staleness 2 s, gossip every 200 ms; the bytes measurement uses the default 5 s gossip interval) and plaintext
 * AMST; loopback has no RTT, so times here are not WAN figures.
 */
final class SyncBenchCommand implements DwcpCli.Command {
    private static final Set<String> VALUES = Set.of("nodes", "rate", "duration", "keys", "seed", "seeds", "faults", "ae-keys", "ae-diff", "ae-reps",
            "compare", "bytes-keys", "bytes-fraction", "bytes-reps", "bytes-modes", "bytes-ae", "ae-heap", "out",
            "lag-updates", "lag-warmup", "lag-interval-ms", "lag-reps", "lag-args", "wan-a", "wan-b", "wan-b-nodes", "wan-b-prefix");
    private static final Set<String> FLAGS = Set.of("json", "help");

    @Override
    public String summary() {
        return "ASS replication with separate processes and faults: --nodes N --keys K --rate OPS_PER_S --duration D --faults SPEC --seed S [--json]";
    }

    @Override
    public int run(String[] args) throws Exception {
        CliArgs a = new CliArgs(args, VALUES, FLAGS);
        if (a.flag("help")) {
            System.err.println("usage: sync-bench --nodes N --keys K --rate OPS_PER_S --duration D --faults SPEC --seed S [--json]\n"
                    + "                  [--seeds 1] [--compare on|off] [--ae-keys 0] [--ae-diff 100] [--ae-reps 5] [--ae-heap MB]\n"
                    + "                  [--bytes-keys 100000 --bytes-fraction 0.01 --bytes-reps 5] [--out target/sync-bench]\n"
                    + "  defaults: --nodes 3 --keys 8 --rate 20 --duration 8s --faults default --seed 1\n"
                    + "  --faults SPEC   none | default | ITEM,ITEM,...  with ITEM one of\n"
                    + "                  partition=N+N/N+N  groups cut off from every other node (during the middle of the run)\n"
                    + "                  kill=N+N           kill -9 and restart with the data directory, during the partition\n"
                    + "                  delay=5ms reset=0.01  per proxied read: delay 0..N ms, connection reset probability\n"
                    + "                  drop=0.01 dup=0.05 reorder=0.1  per message: lost, sent twice, held back 1-50 ms\n"
                    + "                  default = partition=<last>,kill=0,delay=5ms,reset=0.01,drop=0.01,dup=0.05,reorder=0.10\n"
                    + "  --seeds N       runs seeds S .. S+N-1 one after the other (0: only the bytes and anti-entropy parts)\n"
                    + "  --compare on    each seed again with dwcp.sync.push-mode=full-state\n"
                    + "  --bytes-keys K  replication bytes per update when --bytes-fraction of K keys change, delta against\n"
                    + "                  full-state (whole store per gossip round) and entry-state (whole key per update); 0 skips\n"
                    + "  --bytes-modes   which of delta,full-state,entry-state to run (delta and full-state always)\n"
                    + "  --bytes-ae off  anti-entropy rounds an hour apart during the bytes runs (only the push mode replicates)\n"
                    + "  --ae-keys K     anti-entropy bytes, hash tree against flat digest, --ae-diff keys differing among K\n"
                    + "  --lag-updates N update-to-all lag over a WAN link (see bench-sync-wan.sh): --wan-a HOST --wan-b HOST\n"
                    + "                  [--wan-b-nodes 2] [--wan-b-prefix 'ip netns exec dwcp-b'] [--lag-warmup 20]\n"
                    + "                  [--lag-interval-ms 100] [--lag-reps 1] [--lag-args key=value,...]");
            return 0;
        }
        int nodes = positive(a, "nodes", "3");
        int keys = positive(a, "keys", "8");
        double rate = Double.parseDouble(a.get("rate", "20"));
        if (!(rate > 0)) {
            throw new CliArgs.UsageException("--rate must be > 0 operations per second, got " + a.get("rate", "20"));
        }
        java.time.Duration duration = duration(a.get("duration", "8s"));
        long seed = Long.parseLong(a.get("seed", "1"));
        int seeds = Integer.parseInt(a.get("seeds", "1")); // 0: only the bytes and anti-entropy measurements
        if (nodes < 2) {
            throw new CliArgs.UsageException("--nodes must be >= 2");
        }
        io.dwcp.sync.FaultSpec faults;
        try {
            faults = io.dwcp.sync.FaultSpec.parse(a.get("faults", "default"), nodes);
        } catch (IllegalArgumentException e) {
            throw new CliArgs.UsageException("--faults: " + e.getMessage());
        }
        int aeKeys = Integer.parseInt(a.get("ae-keys", "0"));
        int aeDiff = Integer.parseInt(a.get("ae-diff", "100"));
        int aeReps = positive(a, "ae-reps", "5");
        boolean compare = !"off".equals(a.get("compare", "on"));
        int bytesKeys = Integer.parseInt(a.get("bytes-keys", "0"));
        double bytesFraction = Double.parseDouble(a.get("bytes-fraction", "0.01"));
        int bytesReps = positive(a, "bytes-reps", "5");
        List<String> bytesModes = List.of(a.get("bytes-modes", "delta,full-state,entry-state").split(","));
        if (!bytesModes.contains("delta") || !bytesModes.contains("full-state")) {
            throw new CliArgs.UsageException("--bytes-modes must include delta and full-state");
        }
        Path out = Path.of(a.get("out", "target/sync-bench"));

        List<Long> convergence = new ArrayList<>();
        List<Long> convergenceRounds = new ArrayList<>();
        List<Double> deltaPerUpdate = new ArrayList<>();
        List<Double> allPerUpdate = new ArrayList<>();
        int divergentKeys = 0;
        int stalenessViolations = 0;
        List<Double> fullPerUpdate = new ArrayList<>();
        List<Long> fullConvergence = new ArrayList<>();
        int totalOps = 0;
        int divergent = 0;
        int violations = 0;
        int unconverged = 0;
        for (long s = seed; s < seed + seeds; s++) {
            SyncScenario.Result d = SyncScenario.run(nodes, s, keys, rate, duration, faults, List.of(), out.resolve("delta-" + s),
                    60_000);
            SyncScenario.Result f = !compare ? null : SyncScenario.run(nodes, s, keys, rate, duration, faults,
                    List.of("dwcp.sync.push-mode=full-state"), out.resolve("full-" + s), 60_000);
            for (SyncScenario.Result r : f == null ? List.of(d) : List.of(d, f)) {
                divergent += r.divergentReplicas();
                divergentKeys += r.divergentKeys();
                stalenessViolations += r.stalenessViolations();
                violations += r.modelViolations().size();
                if (r.convergenceMillis() < 0) {
                    unconverged++;
                }
                r.modelViolations().stream().limit(5).forEach(v -> System.err.println("model violation: " + v));
            }
            totalOps += d.ops();
            if (d.convergenceMillis() >= 0) {
                convergence.add(d.convergenceMillis());
                convergenceRounds.add(d.convergenceRounds());
            }
            deltaPerUpdate.add((double) d.gossipBytes() / d.ops());
            allPerUpdate.add((double) (d.gossipBytes() + d.antiEntropyBytes()) / d.ops());
            if (f != null) {
                fullPerUpdate.add((double) f.gossipBytes() / f.ops());
                if (f.convergenceMillis() >= 0) {
                    fullConvergence.add(f.convergenceMillis());
                }
            }
            System.out.printf("seed %d: %d ops, converged %d ms (%d gossip rounds) after the heal, gossip %.0f B/update%s,"
                            + " divergent keys %d, staleness violations %d, model violations %d%s%n", s, d.ops(),
                    d.convergenceMillis(), d.convergenceRounds(), deltaPerUpdate.get(deltaPerUpdate.size() - 1),
                    f == null ? "" : String.format(" (full-state run: %.0f B/update, converged %d ms)",
                            (double) f.gossipBytes() / f.ops(), f.convergenceMillis()),
                    d.divergentKeys() + (f == null ? 0 : f.divergentKeys()),
                    d.stalenessViolations() + (f == null ? 0 : f.stalenessViolations()),
                    d.modelViolations().size() + (f == null ? 0 : f.modelViolations().size()),
                    d.modelViolations().isEmpty() ? "" : " " + d.modelViolations().get(0));
            System.out.flush();
        }
        Map<String, List<Double>> perUpdate = new LinkedHashMap<>();
        List<Double> ratios = new ArrayList<>();
        for (int rep = 0; rep < (bytesKeys > 0 ? bytesReps : 0); rep++) {
            double deltaB = 0;
            for (String mode : bytesModes) {
                String heap = Math.max(256, bytesKeys / 250) + "m";
                SyncScenario.BytesCost b = SyncScenario.bytesPerUpdate(nodes, bytesKeys, bytesFraction, mode, seed + rep,
                        out.resolve("bytes-" + mode + "-" + rep), heap, !"off".equals(a.get("bytes-ae", "on")));
                if (b.millis() < 0) {
                    unconverged++;
                }
                perUpdate.computeIfAbsent(mode, k -> new ArrayList<>()).add(b.bytesPerUpdate());
                if (mode.equals("delta")) {
                    deltaB = b.bytesPerUpdate();
                } else if (mode.equals("full-state")) {
                    ratios.add(deltaB / b.bytesPerUpdate());
                }
                System.out.printf("bytes rep %d, %s: %d updates of %d keys, gossip %d B in %d messages, anti-entropy %d B"
                                + " (%.1f B/update in all), equal after %d ms%n", rep + 1, mode, b.updates(), bytesKeys,
                        b.gossipBytes(), b.gossipMessages(), b.antiEntropyBytes(), b.bytesPerUpdate(), b.millis());
                System.out.flush();
            }
        }
        List<Double> lags = new ArrayList<>();
        int lagMissing = 0;
        int lagUpdates = Integer.parseInt(a.get("lag-updates", "0"));
        int lagReps = positive(a, "lag-reps", "1");
        for (int rep = 0; rep < (lagUpdates > 0 ? lagReps : 0); rep++) {
            int bNodes = Integer.parseInt(a.get("wan-b-nodes", "2"));
            if (bNodes < 1 || bNodes >= nodes) {
                throw new CliArgs.UsageException("--wan-b-nodes must be 1.." + (nodes - 1) + ", got " + bNodes);
            }
            String prefix = a.get("wan-b-prefix", "").trim();
            List<String> lagArgs = new ArrayList<>(List.of("dwcp.sync.gossip.interval=5s", "dwcp.sync.gossip.seen-ttl=2m",
                    "dwcp.sync.anti-entropy.interval=30s", "dwcp.sync.full-reconciliation.interval=300s",
                    "dwcp.sync.max-staleness=30s", "dwcp.sync.request-timeout=5s", "dwcp.transport.connect-timeout=10s",
                    "dwcp.transport.session-timeout=30s"));
            for (String kv : a.get("lag-args", "").split(",")) {
                if (!kv.isBlank()) {
                    lagArgs.add(kv.trim());
                }
            }
            WanLagScenario.Lags l = WanLagScenario.run(nodes - bNodes, bNodes, a.get("wan-a", "127.0.0.1"),
                    a.get("wan-b", "127.0.0.1"), prefix.isEmpty() ? List.of() : List.of(prefix.split(" +")),
                    Integer.parseInt(a.get("lag-warmup", "20")), lagUpdates, Long.parseLong(a.get("lag-interval-ms", "100")),
                    seed + rep, out.resolve("lag-" + rep), lagArgs);
            lags.addAll(l.lagMillis());
            lagMissing += l.missing();
            System.out.printf("lag rep %d: %d updates, p50 %.1f ms, p99 %.1f ms, max %.1f ms, missing %d%n", rep + 1,
                    l.lagMillis().size(), quantile(l.lagMillis(), 0.5), quantile(l.lagMillis(), 0.99),
                    quantile(l.lagMillis(), 1.0), l.missing());
            System.out.flush();
        }
        List<SyncScenario.TreeVsFlat> ae = List.of();
        boolean aeRepaired = true;
        if (aeKeys > 0) {
            String heap = a.get("ae-heap", Integer.toString(Math.max(256, aeKeys / 250))) + "m";
            ae = SyncScenario.antiEntropyTreeVsFlat(aeKeys, aeDiff, aeReps, seed, out.resolve("anti-entropy"), heap);
            for (SyncScenario.TreeVsFlat r : ae) {
                aeRepaired &= r.repaired();
                System.out.printf("anti-entropy: %d of %d keys differ: tree round %d B, flat round %d B (responder %d B):"
                                + " %.3f %% (%.3f %% of the responder's), repaired %s%n", r.differing(), aeKeys, r.treeBytes(),
                        r.flatBytes(), r.flatResponderBytes(), 100.0 * r.treeBytes() / r.flatBytes(),
                        100.0 * r.treeBytes() / r.flatResponderBytes(), r.repaired());
            }
        }
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("nodes", nodes);
        j.put("seeds", seeds);
        j.put("keys", keys);
        j.put("rate", rate);
        j.put("durationMillis", duration.toMillis());
        j.put("faults", a.get("faults", "default"));
        j.put("ops", totalOps);
        j.put("bytesPerUpdateMedian", median(allPerUpdate));
        j.put("divergentKeys", divergentKeys);
        j.put("stalenessViolations", stalenessViolations);
        j.put("convergenceMillisMedian", median(convergence));
        j.put("convergenceMillisMax", convergence.isEmpty() ? null : Collections.max(convergence));
        j.put("unconvergedRuns", unconverged);
        j.put("divergentReplicas", divergent);
        j.put("modelViolations", violations);
        j.put("convergenceMillisP95", quantile(convergence, 0.95));
        j.put("convergenceMillis", convergence);
        j.put("convergenceRoundsMedian", median(convergenceRounds));
        j.put("convergenceRoundsP95", quantile(convergenceRounds, 0.95));
        j.put("convergenceRounds", convergenceRounds);
        j.put("scenarioDeltaBytesPerUpdateMedian", median(deltaPerUpdate));
        j.put("scenarioFullStateBytesPerUpdateMedian", median(fullPerUpdate));
        j.put("scenarioFullStateConvergenceMillisMedian", median(fullConvergence));
        if (!perUpdate.isEmpty()) {
            j.put("bytesKeys", bytesKeys);
            j.put("bytesFraction", bytesFraction);
            perUpdate.forEach((mode, v) -> j.put("bytesPerUpdateMedian." + mode, median(v)));
            if (bytesReps >= 2) {
                perUpdate.forEach((mode, v) -> j.put("bytesPerUpdateInterval." + mode, MedianInterval.of(v).toString()));
                j.put("deltaToFullStateRatioInterval", MedianInterval.of(ratios).toString());
            }
            j.put("deltaToFullStateRatioMedian", median(ratios));
            j.put("deltaToFullStateRatios", ratios);
            if (perUpdate.containsKey("entry-state")) {
                j.put("deltaToEntryStateRatioMedian", median(perUpdate.get("delta")) / median(perUpdate.get("entry-state")));
            }
        }
        if (!ae.isEmpty()) {
            List<Double> pct = new ArrayList<>();
            List<Double> pctResponder = new ArrayList<>();
            for (SyncScenario.TreeVsFlat r : ae) {
                pct.add(100.0 * r.treeBytes() / r.flatBytes());
                pctResponder.add(100.0 * r.treeBytes() / r.flatResponderBytes());
            }
            j.put("aeKeys", aeKeys);
            j.put("aeDiffering", aeDiff);
            j.put("aeReps", ae.size());
            j.put("aeTreeBytes", ae.stream().map(SyncScenario.TreeVsFlat::treeBytes).toList());
            j.put("aeFlatBytes", ae.stream().map(SyncScenario.TreeVsFlat::flatBytes).toList());
            j.put("aeFlatResponderBytes", ae.stream().map(SyncScenario.TreeVsFlat::flatResponderBytes).toList());
            j.put("aeTreeToFlatPercentMedian", median(pct));
            j.put("aeTreeToFlatPercentInterval", MedianInterval.of(pct).toString());
            j.put("aeTreeToFlatResponderPercentMedian", median(pctResponder));
            j.put("aeTreeToFlatResponderPercentInterval", MedianInterval.of(pctResponder).toString());
            j.put("aeRepaired", aeRepaired);
        }
        if (!lags.isEmpty() || lagMissing > 0) {
            j.put("lagUpdates", lags.size());
            j.put("lagMissing", lagMissing);
            j.put("lagMillisP50", quantile(lags, 0.5));
            j.put("lagMillisP99", quantile(lags, 0.99));
            j.put("lagMillisMax", quantile(lags, 1.0));
            j.put("lagMillis", lags);
        }
        if (a.flag("json")) {
            System.out.println(Json.write(j));
        }
        return divergent == 0 && divergentKeys == 0 && stalenessViolations == 0 && violations == 0 && unconverged == 0
                && aeRepaired && lagMissing == 0 ? 0 : 1;
    }

    /** {@code 500ms}, {@code 30s}, {@code 2m} or an ISO-8601 duration ({@code PT30S}). */
    static java.time.Duration duration(String v) {
        String s = v.trim().toLowerCase(java.util.Locale.ROOT);
        try {
            java.time.Duration d;
            if (s.startsWith("pt")) {
                d = java.time.Duration.parse(s.toUpperCase(java.util.Locale.ROOT));
            } else if (s.endsWith("ms")) {
                d = java.time.Duration.ofMillis(Long.parseLong(s.substring(0, s.length() - 2)));
            } else if (s.endsWith("s")) {
                d = java.time.Duration.ofMillis(Math.round(Double.parseDouble(s.substring(0, s.length() - 1)) * 1000));
            } else if (s.endsWith("m")) {
                d = java.time.Duration.ofMillis(Math.round(Double.parseDouble(s.substring(0, s.length() - 1)) * 60_000));
            } else {
                throw new NumberFormatException("no unit");
            }
            if (d.isNegative() || d.isZero()) {
                throw new NumberFormatException("not positive");
            }
            return d;
        } catch (RuntimeException e) {
            throw new CliArgs.UsageException("--duration '" + v + "': expected a positive duration such as 500ms, 8s or 2m");
        }
    }

    private static int positive(CliArgs a, String name, String def) {
        int v = Integer.parseInt(a.get(name, def));
        if (v < 1) {
            throw new CliArgs.UsageException("--" + name + " must be >= 1, got " + v);
        }
        return v;
    }

    /** The q-quantile by nearest rank; null when empty. */
    private static <T extends Comparable<T>> T quantile(List<T> values, double q) {
        if (values.isEmpty()) {
            return null;
        }
        List<T> s = new ArrayList<>(values);
        Collections.sort(s);
        return s.get(Math.min(s.size() - 1, (int) Math.ceil(q * s.size()) - 1));
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
