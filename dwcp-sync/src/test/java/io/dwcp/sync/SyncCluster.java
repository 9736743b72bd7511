package io.dwcp.sync;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * N sync replicas as separate JVM processes ({@link SyncNodeMain}) on loopback; every ordered pair (j → i) goes
 * through its own {@link FaultProxy}, so partitions between any groups, delays, connection resets and kill -9 of a
 * process can be injected. Not thread-safe (one test drives it). {@link #close()} kills every process and proxy.
 */
public final class SyncCluster implements AutoCloseable {
    private final int n;
    private final Path logDir;
    private final Proc[] procs;
    private final FaultProxy[][] proxies; // [from][to]
    private final long seed;
    private final String heap;
    private final List<String> nodeArgs;
    private final boolean dataDirs;

    /** One child process and its line protocol. */
    public static final class Proc {
        final String nodeId;
        final Process process;
        final BufferedReader out;
        final Writer in;
        public int port;

        Proc(String nodeId, Process process) {
            this.nodeId = nodeId;
            this.process = process;
            this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        }

        public String call(String command) throws IOException {
            in.write(command + "\n");
            in.flush();
            String line = out.readLine();
            if (line == null) {
                throw new IOException(nodeId + " exited while running '" + command + "'");
            }
            if (line.startsWith("ERR")) {
                throw new IOException(nodeId + " failed '" + command + "': " + line);
            }
            return line;
        }
    }

    /**
     * Starts {@code n} replica processes with {@code heap} (e.g. {@code 160m}) and extra {@code key=value} config
     * arguments, and the proxies between them.
     */
    public SyncCluster(int n, long seed, Path logDir, String heap, List<String> nodeArgs) throws IOException {
        this(n, seed, logDir, heap, nodeArgs, false);
    }

    /**
     * As {@link #SyncCluster(int, long, Path, String, List)}; with {@code dataDirs} each replica keeps its store in
     * {@code logDir/data-<node>} ({@code dwcp.sync.data-dir}), emptied here and reused by {@link #restart}.
     */
    public SyncCluster(int n, long seed, Path logDir, String heap, List<String> nodeArgs, boolean dataDirs) throws IOException {
        this.n = n;
        this.dataDirs = dataDirs;
        this.heap = heap;
        this.nodeArgs = List.copyOf(nodeArgs);
        this.seed = seed;
        this.logDir = logDir;
        this.procs = new Proc[n];
        this.proxies = new FaultProxy[n][n];
        Files.createDirectories(logDir);
        for (int i = 0; i < n; i++) {
            // a cluster starts empty: data left by an earlier run in the same directory would be recovered
            deleteTree(logDir.resolve("data-n" + i));
            procs[i] = launch(i, "n" + i);
        }
        for (int i = 0; i < n; i++) {
            procs[i].port = Integer.parseInt(procs[i].call("listen").substring(5));
        }
        for (int from = 0; from < n; from++) {
            for (int to = 0; to < n; to++) {
                if (from != to) {
                    proxies[from][to] = new FaultProxy(procs[to].port, seed * 31 + from * 7 + to);
                }
            }
        }
        for (int from = 0; from < n; from++) {
            connectPeers(from);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (java.util.stream.Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    private void connectPeers(int from) throws IOException {
        for (int to = 0; to < n; to++) {
            if (from != to) {
                procs[from].call("peer " + proxies[from][to].port());
            }
        }
    }

    /**
     * Prefix of the harness's system properties forwarded to every replica JVM without it: {@code
     * -Ddwcp.replica.org.slf4j.simpleLogger.log.io.dwcp.sync=debug} on the harness sets that SLF4J logger level in the
     * replicas only (their logs go to {@code logDir/<node>-<index>.log}).
     */
    public static final String REPLICA_PROPERTY_PREFIX = "dwcp.replica.";

    /** {@code -Dname=value} for every harness system property under {@link #REPLICA_PROPERTY_PREFIX}, prefix removed. */
    static List<String> forwardedProperties(java.util.Properties props) {
        List<String> out = new ArrayList<>();
        for (String name : new java.util.TreeSet<>(props.stringPropertyNames())) {
            if (name.startsWith(REPLICA_PROPERTY_PREFIX) && name.length() > REPLICA_PROPERTY_PREFIX.length()) {
                out.add("-D" + name.substring(REPLICA_PROPERTY_PREFIX.length()) + "=" + props.getProperty(name));
            }
        }
        return out;
    }

    private Proc launch(int index, String nodeId) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx" + heap, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
        cmd.addAll(forwardedProperties(System.getProperties()));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), SyncNodeMain.class.getName(), nodeId));
        cmd.addAll(nodeArgs);
        if (dataDirs) {
            cmd.add("dwcp.sync.data-dir=" + logDir.resolve("data-" + nodeId).toAbsolutePath());
        }
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.redirectError(ProcessBuilder.Redirect.appendTo(logDir.resolve(nodeId + "-" + index + ".log").toFile()));
        return new Proc(nodeId, pb.start());
    }

    /** The port of the proxy carrying {@code from}'s connections to {@code to}. */
    public int proxyPort(int from, int to) {
        return proxies[from][to].port();
    }

    public int size() {
        return n;
    }

    public Proc node(int i) {
        return procs[i];
    }

    /** Cuts every link between {@code group} and the other nodes (both directions). */
    public void partition(Set<Integer> group, boolean cut) {
        for (int from = 0; from < n; from++) {
            for (int to = 0; to < n; to++) {
                if (from != to && group.contains(from) != group.contains(to)) {
                    proxies[from][to].blocked(cut);
                }
            }
        }
    }

    /** Delay (0..ms per read) and reset probability on every link. */
    public void messageFaults(int delayMillis, double resetProbability) {
        for (FaultProxy[] row : proxies) {
            for (FaultProxy p : row) {
                if (p != null) {
                    p.delayMillis(delayMillis);
                    p.resetProbability(resetProbability);
                }
            }
        }
    }

    /** kill -9 of node {@code i}. */
    public void kill(int i) throws InterruptedException {
        procs[i].process.destroyForcibly();
        procs[i].process.waitFor(10, TimeUnit.SECONDS);
    }

    /**
     * Starts node {@code i} again (new incarnation; with its data directory when the cluster has them, else empty),
     * retargets the proxies to it and re-adds its peers.
     */
    public void restart(int i) throws IOException {
        procs[i] = launch(i, procs[i].nodeId);
        procs[i].port = Integer.parseInt(procs[i].call("listen").substring(5));
        for (int from = 0; from < n; from++) {
            if (from != i) {
                proxies[from][i].target(procs[i].port);
            }
        }
        connectPeers(i);
    }

    /** Each live node's digest of its canonical store ("hash entryCount"). */
    public List<String> digests() throws IOException {
        List<String> out = new ArrayList<>();
        for (Proc p : procs) {
            out.add(p.call("digest"));
        }
        return out;
    }

    /** Whether every node's canonical store is identical. */
    public boolean converged() throws IOException {
        return new HashSet<>(digests()).size() == 1;
    }

    @Override
    public void close() throws Exception {
        // every replica is asked to quit first, then awaited: their orderly stops (snapshot, sessions) run in parallel
        for (Proc p : procs) {
            if (p != null && p.process.isAlive()) {
                try {
                    p.in.write("quit\n");
                    p.in.flush();
                } catch (IOException e) {
                    // the process is already gone or stuck; it is killed below
                }
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        for (Proc p : procs) {
            if (p != null) {
                p.process.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                p.process.destroyForcibly();
            }
        }
        for (FaultProxy[] row : proxies) {
            for (FaultProxy p : row) {
                if (p != null) {
                    p.close();
                }
            }
        }
    }
}
