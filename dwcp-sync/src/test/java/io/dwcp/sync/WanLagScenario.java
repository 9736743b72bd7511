package io.dwcp.sync;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Update-to-all-replicas lag between replica processes at two sites joined by a real (emulated) WAN link: the replicas
 * of site A listen on {@code hostA} in this network namespace, those of site B on {@code hostB}, started through a
 * command prefix (e.g. {@code ip netns exec dwcp-b}). No proxies: the link itself carries the RTT. Each update is a
 * counter increment of a fresh key made at a random replica; its lag is the time from just before the update on its
 * writer to the moment the last other replica's state first changed for that key. All processes read the same
 * machine-wide monotonic clock ({@link System#nanoTime()} is {@code CLOCK_MONOTONIC} on Linux, unaffected by
 * network namespaces), so no clock offset enters the figure.
 */
public final class WanLagScenario {
    private WanLagScenario() {
    }

    /**
     * One run's lags.
     *
     * @param lagMillis per update, writer to last replica, in issue order
     * @param missing updates that had not reached every replica by the deadline (their lag is left out)
     */
    public record Lags(List<Double> lagMillis, int missing) {
    }

    /**
     * Runs {@code warmup + updates} updates, one every {@code intervalMillis} (paced: the pause is the workload's
     * rate, not synchronisation), at replicas chosen with {@code seed}; the first {@code warmup} are not measured.
     *
     * @param nodesA replicas at site A
     * @param nodesB replicas at site B
     * @param prefixB command words put before {@code java} for site B's replicas (empty for none)
     * @param nodeArgs {@code key=value} configuration for every replica (on top of the harness's test timing)
     */
    public static Lags run(int nodesA, int nodesB, String hostA, String hostB, List<String> prefixB, int warmup, int updates,
                           long intervalMillis, long seed, Path logs, List<String> nodeArgs) throws Exception {
        int n = nodesA + nodesB;
        Files.createDirectories(logs);
        List<SyncCluster.Proc> procs = new ArrayList<>();
        try {
            String[] addr = new String[n];
            for (int i = 0; i < n; i++) {
                boolean b = i >= nodesA;
                SyncCluster.Proc p = launch("w" + i, b ? prefixB : List.of(), nodeArgs, logs);
                procs.add(p);
                String host = b ? hostB : hostA;
                addr[i] = host + ":" + p.call("listen " + host).substring(5);
            }
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    if (i != j) {
                        procs.get(i).call("peer " + addr[j]);
                    }
                }
            }
            // one anti-entropy round per pair: sessions open and node ids known, as in a running deployment
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    if (i != j) {
                        warmUp(procs.get(i), addr[j]);
                    }
                }
            }
            Random rnd = new Random(seed);
            Map<String, long[]> written = new HashMap<>(); // key -> {writer, nanos}
            List<String> order = new ArrayList<>();
            for (int u = 0; u < warmup + updates; u++) {
                int w = rnd.nextInt(n);
                String key = "lag-" + seed + "-" + u;
                long t = Long.parseLong(procs.get(w).call("lagw " + key).substring(2));
                if (u >= warmup) {
                    written.put(key, new long[]{w, t});
                    order.add(key);
                }
                TimeUnit.MILLISECONDS.sleep(intervalMillis);
            }
            // every replica except the writer must see each key; wait (bounded) until they all have
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            int expected = warmup + updates;
            while (System.nanoTime() < deadline) {
                boolean all = true;
                for (int i = 0; i < n && all; i++) {
                    // a replica does not receive its own updates: it must have seen everyone else's
                    all = Integer.parseInt(procs.get(i).call("lagcount").substring(6)) >= expected - countWrittenBy(i, seed, n, expected);
                }
                if (all) {
                    break;
                }
                TimeUnit.MILLISECONDS.sleep(200); // polling with a deadline
            }
            List<Map<String, Long>> seen = new ArrayList<>();
            for (SyncCluster.Proc p : procs) {
                Map<String, Long> m = new HashMap<>();
                String line = p.call("lagdump");
                for (String kv : line.substring(3).trim().split(" ")) {
                    if (!kv.isEmpty()) {
                        int eq = kv.indexOf('=');
                        m.put(kv.substring(0, eq), Long.parseLong(kv.substring(eq + 1)));
                    }
                }
                seen.add(m);
            }
            List<Double> lags = new ArrayList<>();
            int missing = 0;
            for (String key : order) {
                long[] wt = written.get(key);
                long last = Long.MIN_VALUE;
                boolean complete = true;
                for (int i = 0; i < n; i++) {
                    if (i == wt[0]) {
                        continue;
                    }
                    Long t = seen.get(i).get(key);
                    if (t == null) {
                        complete = false;
                        break;
                    }
                    last = Math.max(last, t);
                }
                if (complete) {
                    lags.add((last - wt[1]) / 1e6);
                } else {
                    missing++;
                }
            }
            return new Lags(lags, missing);
        } finally {
            for (SyncCluster.Proc p : procs) {
                if (p.process.isAlive()) {
                    try {
                        p.call("quit");
                        p.process.waitFor(5, TimeUnit.SECONDS);
                    } catch (IOException e) {
                        // gone or stuck: killed below
                    }
                    p.process.destroyForcibly();
                }
            }
        }
    }

    /** One anti-entropy round towards {@code peer}, tried up to three times (a loaded machine may time one out). */
    private static void warmUp(SyncCluster.Proc p, String peer) {
        for (int attempt = 1; attempt <= 3; attempt++) {
            try {
                p.call("ae " + peer);
                return;
            } catch (IOException e) {
                System.err.println("warm-up round " + p.nodeId + " -> " + peer + " failed (attempt " + attempt + "): "
                        + e.getMessage());
            }
        }
    }

    /** How many of the first {@code total} updates the seeded writer choice gives to replica {@code i}. */
    private static int countWrittenBy(int i, long seed, int n, int total) {
        Random rnd = new Random(seed);
        int c = 0;
        for (int u = 0; u < total; u++) {
            if (rnd.nextInt(n) == i) {
                c++;
            }
        }
        return c;
    }

    private static SyncCluster.Proc launch(String nodeId, List<String> prefix, List<String> nodeArgs, Path logs) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(List.of(java, "-Xmx192m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                SyncNodeMain.class.getName(), nodeId));
        cmd.addAll(nodeArgs);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.redirectError(ProcessBuilder.Redirect.appendTo(logs.resolve(nodeId + ".log").toFile()));
        return new SyncCluster.Proc(nodeId, pb.start());
    }
}
