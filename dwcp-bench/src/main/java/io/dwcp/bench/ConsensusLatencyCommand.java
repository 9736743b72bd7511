package io.dwcp.bench;

import io.dwcp.consensus.ConsensusAdmin;
import io.dwcp.consensus.ScopedConsensus;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.Consensus;

import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * {@code dwcp consensus-latency}: commit latency of one client against running consensus replicas. It writes
 * {@code --ops} values one after another (after {@code --warmup} unmeasured ones), each waiting for its commit, either
 * to one regional group ({@code --target region:NAME}) or to a global key by home-region ownership
 * ({@code --target global:KEY}, whose home is first moved to {@code --home}). Prints p50 / p90 / p99 in milliseconds;
 * with {@code --json} the last line is one object with every sample. The replicas run elsewhere (e.g.
 * {@code ConsensusNode} processes on both ends of an emulated WAN, see {@code scripts/bench-consensus.sh}).
 */
final class ConsensusLatencyCommand implements DwcpCli.Command {
    @Override
    public String summary() {
        return "commit latency of sequential writes against running consensus groups (regional or global key)";
    }

    @Override
    public int run(String[] args) throws Exception {
        CliArgs a = new CliArgs(args, Set.of("regions", "target", "home", "ops", "warmup", "leader", "election-min",
                "node-id", "proposal-timeout"), Set.of("json", "help"));
        if (a.flag("help") || a.get("regions") == null || a.get("target") == null) {
            System.err.println("usage: dwcp consensus-latency --regions 'a=a1@host:port,...;b=...' --target region:NAME|global:KEY"
                    + " [--home REGION] [--ops 200] [--warmup 20] [--leader PEER-ID] [--election-min 1s]"
                    + " [--proposal-timeout 30s] [--node-id latency-client] [--json]");
            return a.flag("help") ? 0 : 2;
        }
        int ops = positive(a, "ops", "200");
        int warmup = Integer.parseInt(a.get("warmup", "20"));
        String target = a.get("target");
        String nodeId = a.get("node-id", "latency-client-" + ProcessHandle.current().pid());
        DwcpConfig base = DwcpConfig.builder()
                .set("dwcp.node-id", nodeId)
                .set("dwcp.consensus.election.min", a.get("election-min", "1s"))
                .set("dwcp.consensus.proposal-timeout", a.get("proposal-timeout", "30s"))
                .build();
        ScopedConsensus.Builder b = ScopedConsensus.builder(base);
        for (String region : a.get("regions").split(";")) {
            int eq = region.indexOf('=');
            if (eq <= 0) {
                throw new CliArgs.UsageException("--regions: '" + region + "' is not NAME=PEERS");
            }
            b.region(region.substring(0, eq).trim(), region.substring(eq + 1).trim());
        }
        try (ScopedConsensus acp = b.build()) {
            acp.start();
            Consensus c;
            String key;
            if (target.startsWith("region:")) {
                c = acp.region(target.substring(7));
                key = "lat/" + nodeId;
            } else if (target.startsWith("global:")) {
                c = acp.global();
                key = target.substring(7);
                String home = a.get("home");
                if (home != null) {
                    acp.moveHome(key, home).get(2, TimeUnit.MINUTES);
                }
            } else {
                throw new CliArgs.UsageException("--target must be region:NAME or global:KEY, got '" + target + "'");
            }
            String leader = a.get("leader");
            if (leader != null && target.startsWith("region:") && c instanceof ConsensusAdmin admin) {
                c.write(key, "first").get(2, TimeUnit.MINUTES); // a leader exists
                admin.transferLeadership(leader, Duration.ofSeconds(30)).get(2, TimeUnit.MINUTES);
            }
            for (int i = 0; i < warmup; i++) {
                c.write(key, "w" + i).get(2, TimeUnit.MINUTES);
            }
            double[] ms = new double[ops];
            for (int i = 0; i < ops; i++) {
                long t0 = System.nanoTime();
                c.write(key, "v" + i).get(2, TimeUnit.MINUTES);
                ms[i] = (System.nanoTime() - t0) / 1e6;
            }
            double[] sorted = ms.clone();
            Arrays.sort(sorted);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("target", target);
            out.put("home", a.get("home"));
            out.put("ops", ops);
            out.put("p50Ms", pct(sorted, 0.50));
            out.put("p90Ms", pct(sorted, 0.90));
            out.put("p99Ms", pct(sorted, 0.99));
            out.put("minMs", sorted[0]);
            out.put("maxMs", sorted[ops - 1]);
            out.put("leader", c instanceof ConsensusAdmin admin ? admin.leaderHint().orElse(null) : null);
            out.put("samplesMs", Arrays.stream(ms).map(x -> Math.round(x * 1000) / 1000.0).boxed().toList());
            System.out.printf("%s: %d writes, p50 %.2f ms, p90 %.2f ms, p99 %.2f ms (min %.2f, max %.2f)%n", target, ops,
                    pct(sorted, 0.5), pct(sorted, 0.9), pct(sorted, 0.99), sorted[0], sorted[ops - 1]);
            if (a.flag("json")) {
                System.out.println(Json.write(out));
            }
        }
        return 0;
    }

    /** Nearest-rank percentile of sorted samples. */
    private static double pct(double[] sorted, double q) {
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    private static int positive(CliArgs a, String name, String def) {
        try {
            int v = Integer.parseInt(a.get(name, def));
            if (v < 1) {
                throw new CliArgs.UsageException("--" + name + " must be >= 1, got " + v);
            }
            return v;
        } catch (NumberFormatException e) {
            throw new CliArgs.UsageException("--" + name + " must be a whole number, got '" + a.get(name) + "'");
        }
    }
}
