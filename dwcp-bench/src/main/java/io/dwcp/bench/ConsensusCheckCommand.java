package io.dwcp.bench;

import io.dwcp.consensus.ConsensusCheck;
import io.dwcp.consensus.check.HistoryFile;
import io.dwcp.consensus.check.LinearizabilityChecker;
import io.dwcp.consensus.check.Operation;
import io.dwcp.core.config.ValueType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * {@code dwcp consensus-check --nodes N --clients C --duration D --faults SPEC --seed S [--seeds K] [--history FILE]
 * [--json]}: starts N consensus replicas as separate JVM processes behind a fault-injecting proxy, runs clients and
 * hand-over agents against them while a nemesis kills, pauses, partitions, cuts one way and delays replicas, and checks
 * the history ({@link ConsensusCheck}). With {@code --seeds K} it runs seeds S … S+K−1, each on a fresh group. Exit
 * status 0 when every seed was linearizable with no lost acknowledged write and at most one owner per VM at every
 * instant; 1 when not, or when the harness failed on a seed (reported apart: that seed checked nothing); 2 for bad
 * options.
 */
final class ConsensusCheckCommand implements DwcpCli.Command {
    private static final String USAGE = "usage: dwcp consensus-check [--nodes 5] [--clients 4] [--duration 10s] "
            + "[--faults kill,pause,partition,oneway,delay|all] [--seed 1] [--seeds 1] [--history FILE|DIR] [--work-dir DIR] "
            + "[--fault-hold 1s] [--election-min 300ms] [--start-timeout 10m] [--keep] [--json]";

    @Override
    public String summary() {
        return "run replicas as processes under faults and check the history for linearizability and one VM owner";
    }

    @Override
    public int run(String[] args) throws Exception {
        CliArgs a = new CliArgs(args, Set.of("nodes", "clients", "duration", "faults", "seed", "seeds", "history", "work-dir",
                "fault-hold", "election-min", "start-timeout"), Set.of("json", "keep", "help"));
        if (a.flag("help") || !a.positional().isEmpty()) {
            System.err.println(USAGE);
            return a.flag("help") ? 0 : 2;
        }
        // The faults make the Ratis client log every retry it makes as an error; the verdicts are what matter here.
        if (System.getProperty("org.slf4j.simpleLogger.log.org.apache.ratis") == null) {
            System.setProperty("org.slf4j.simpleLogger.log.org.apache.ratis", "off");
        }
        int nodes = integer(a, "nodes", "5");
        int clients = integer(a, "clients", "4");
        long seed = Long.parseLong(a.get("seed", "1"));
        int seeds = integer(a, "seeds", "1");
        if (seeds < 1 || seeds > 100_000) {
            throw new CliArgs.UsageException("--seeds must be 1–100000, got " + seeds);
        }
        Duration duration = ValueType.DURATION.parse(a.get("duration", "10s"));
        Duration hold = ValueType.DURATION.parse(a.get("fault-hold", "1s"));
        Duration electionMin = ValueType.DURATION.parse(a.get("election-min", "300ms"));
        // A slow machine (five JVMs starting at once in the idle CPU class) can take minutes to start and elect; a
        // group that does not commit within this bound is a harness failure (nothing checked), not a violation.
        Duration startTimeout = ValueType.DURATION.parse(a.get("start-timeout", "10m"));
        Set<ConsensusCheck.Fault> faults = ConsensusCheck.Fault.parse(a.get("faults", "all"));
        Path history = a.get("history") == null ? null : Path.of(a.get("history"));
        // Validated before anything is created or started.
        new ConsensusCheck.Options(nodes, clients, duration, 0, faults, hold, electionMin, seed, Path.of("."), startTimeout);
        boolean ownTemp = a.get("work-dir") == null;
        Path work = ownTemp ? Files.createTempDirectory("dwcp-consensus-check") : Files.createDirectories(Path.of(a.get("work-dir")));

        Map<String, Long> totals = new LinkedHashMap<>();
        for (String k : List.of("ops", "ok", "fail", "info", "lostWrites", "epochConflicts", "ownerOverlaps", "stalls")) {
            totals.put(k, 0L);
        }
        Map<ConsensusCheck.Fault, Integer> injected = new EnumMap<>(ConsensusCheck.Fault.class);
        List<Long> failingSeeds = new ArrayList<>();
        List<Long> harnessFailures = new ArrayList<>();
        List<String> failingHistory = new ArrayList<>();
        String failingKey = null;
        int linearizable = 0;
        long started = System.nanoTime();
        boolean completed = false;
        try {
            for (long s = seed; s < seed + seeds; s++) {
                Path dir = work.resolve("seed-" + s);
                ConsensusCheck.Options o = new ConsensusCheck.Options(nodes, clients, duration, 0, faults, hold, electionMin, s, dir,
                        startTimeout);
                long t0 = System.nanoTime();
                ConsensusCheck.Result r;
                try {
                    r = ConsensusCheck.run(o);
                } catch (Exception e) {
                    // The harness failed (a replica did not start, the group never elected): this seed checked nothing.
                    System.out.printf(Locale.ROOT, "seed %d: harness failed after %.1f s, nothing checked: %s%n", s,
                            (System.nanoTime() - t0) / 1e9, e);
                    harnessFailures.add(s);
                    continue;
                }
                if (history != null) {
                    ConsensusCheck.writeHistory(seeds == 1 ? history : history.resolve("seed-" + s + ".jsonl"), r);
                }
                System.out.printf(Locale.ROOT, "seed %d: %s (%.1f s)%n", s, r, (System.nanoTime() - t0) / 1e9);
                r.lostWrites().forEach(l -> System.out.println("  lost write: " + l));
                r.epochConflicts().forEach(l -> System.out.println("  two owners in one epoch: " + l));
                r.ownerOverlaps().forEach(l -> System.out.println("  two owners at once: " + l));
                r.stalls().forEach(l -> System.out.println("  stall: " + l));
                add(totals, "ops", r.history().size());
                add(totals, "ok", r.count(Operation.Outcome.OK));
                add(totals, "fail", r.count(Operation.Outcome.FAIL));
                add(totals, "info", r.count(Operation.Outcome.INFO));
                add(totals, "lostWrites", r.lostWrites().size());
                add(totals, "epochConflicts", r.epochConflicts().size());
                add(totals, "ownerOverlaps", r.ownerOverlaps().size());
                add(totals, "stalls", r.stalls().size());
                r.injected().forEach((k, v) -> injected.merge(k, v, Integer::sum));
                if (r.verdict().linearizable()) {
                    linearizable++;
                } else if (failingKey == null) {
                    failingKey = r.verdict().failingKey();
                    for (Operation op : new LinearizabilityChecker().minimize(r.verdict().failingHistory(), 5000)) {
                        failingHistory.add(HistoryFile.line(op));
                    }
                    failingHistory.forEach(l -> System.out.println("  " + l));
                }
                if (!r.safe()) {
                    failingSeeds.add(s);
                } else if (!a.flag("keep")) {
                    delete(dir);
                }
            }
            completed = true;
        } finally {
            if (!completed) {
                System.err.println("the run stopped early; the replicas' data and logs are under " + work);
            } else if (ownTemp && !a.flag("keep") && failingSeeds.isEmpty() && harnessFailures.isEmpty()) {
                delete(work);
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("seeds", seeds - harnessFailures.size());
        out.put("harnessFailures", harnessFailures);
        out.put("nodes", nodes);
        out.putAll(totals);
        out.put("linearizable", linearizable == seeds - harnessFailures.size());
        out.put("violations", seeds - harnessFailures.size() - linearizable);
        Map<String, Object> f = new LinkedHashMap<>();
        injected.forEach((k, v) -> f.put(k.name().toLowerCase(Locale.ROOT), v));
        out.put("faults", f);
        out.put("failingSeeds", failingSeeds);
        out.put("failingKey", failingKey);
        out.put("failingHistory", failingHistory);
        out.put("seconds", Math.round((System.nanoTime() - started) / 1e8) / 10.0);
        if (!failingSeeds.isEmpty() || !harnessFailures.isEmpty()) {
            System.out.println("failing seeds " + failingSeeds + ", harness failures " + harnessFailures
                    + "; their replicas' data and logs are under " + work);
        }
        if (a.flag("json")) {
            System.out.println(Json.write(out));
        } else {
            System.out.println(out);
        }
        return failingSeeds.isEmpty() && harnessFailures.isEmpty() ? 0 : 1;
    }

    private static void add(Map<String, Long> totals, String key, long n) {
        totals.merge(key, n, Long::sum);
    }

    private static int integer(CliArgs a, String name, String dflt) {
        try {
            return Integer.parseInt(a.get(name, dflt));
        } catch (NumberFormatException e) {
            throw new CliArgs.UsageException("--" + name + " must be a whole number, got '" + a.get(name) + "'");
        }
    }

    private static void delete(Path dir) throws java.io.IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
