package io.dwcp.consensus;

import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.ComponentContext;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/*
 * N consensus replicas, each a separate JVM (ConsensusNode) on a loopback port with its own data directory, plus
 * in-process clients: the harness of `dwcp consensus-check` and of the process tests. Replicas can be killed with
 * SIGKILL and restarted on the same directory, paused with SIGSTOP and resumed. The replicas run on this JVM's class
 * path (the test class path under Surefire, the dwcp.jar otherwise). Closing the cluster kills every replica it
 * started and stops every client.
 */
final class ReplicaCluster implements AutoCloseable {
    private volatile long readyTimeoutSeconds = 180;
    private final Path dir;
    private final String[] ids;
    private final int[] ports;
    /** Where each replica really listens when a proxy stands in front of it; else null. */
    private final int[] privatePorts;
    private final FaultProxy proxy;
    private final Process[] processes;
    private final String electionMin;
    private final String group;
    private final List<RatisConsensus> clients = new ArrayList<>();
    /**
     * Further dwcp.* settings of every replica and client (e.g. dwcp.consensus.read); {@code dwcp.consensus.read} is
     * taken from this JVM's system properties when set there, so {@code java -Ddwcp.consensus.read=lease -jar dwcp.jar
     * consensus-check ...} checks that read path.
     */
    private final java.util.Map<String, String> settings = new java.util.LinkedHashMap<>();
    /** Holds every port of this cluster until close, so a concurrent harness cannot be given one of them. */
    private final PortReservation portReservation = new PortReservation();

    ReplicaCluster(Path dir, int n, String electionMin) throws IOException {
        this(dir, n, electionMin, false);
    }

    /** With {@code proxied}, every replica sits behind a {@link FaultProxy} that can partition them. */
    ReplicaCluster(Path dir, int n, String electionMin, boolean proxied) throws IOException {
        this(dir, n, electionMin, proxied, "dwcp-local", "n");
    }

    /** A cluster of group {@code group} whose replicas are named {@code idPrefix}1 … {@code idPrefix}n. */
    ReplicaCluster(Path dir, int n, String electionMin, boolean proxied, String group, String idPrefix) throws IOException {
        this.group = group;
        this.dir = java.nio.file.Files.createDirectories(dir);
        this.ids = new String[n];
        this.ports = new int[n];
        this.processes = new Process[n];
        this.electionMin = electionMin;
        this.privatePorts = proxied ? new int[n] : null;
        String read = System.getProperty("dwcp.consensus.read");
        if (read != null) {
            settings.put("dwcp.consensus.read", read);
        }
        try {
            for (int i = 0; i < n; i++) {
                ids[i] = idPrefix + (i + 1);
                ports[i] = portReservation.next();
                if (proxied) {
                    privatePorts[i] = portReservation.next();
                }
            }
            this.proxy = proxied ? new FaultProxy(ports, privatePorts, i -> isAlive(i) ? processes[i].pid() : null) : null;
        } catch (IOException | RuntimeException e) {
            portReservation.close();
            throw e;
        }
        // A harness stopped by a signal takes its replicas with it (they would otherwise run until their input closes).
        Runtime.getRuntime().addShutdownHook(reaper);
    }

    private final Thread reaper = new Thread(this::killAll, "replica-reaper");

    private void killAll() {
        for (Process p : processes) {
            if (p != null) {
                p.destroyForcibly();
            }
        }
    }

    /** Sets a dwcp.* key for replicas launched from now on and clients created from now on. */
    ReplicaCluster set(String key, String value) {
        settings.put(key, value);
        return this;
    }

    /** The proxy in front of the replicas; only for a proxied cluster. */
    FaultProxy proxy() {
        if (proxy == null) {
            throw new IllegalStateException("this cluster has no proxy");
        }
        return proxy;
    }

    String peers() {
        return peers(0, ids.length);
    }

    /** The peer list of replicas {@code from} (inclusive) to {@code to} (exclusive). */
    String peers(int from, int to) {
        StringJoiner j = new StringJoiner(",");
        for (int i = from; i < to; i++) {
            j.add(ids[i] + "@127.0.0.1:" + ports[i]);
        }
        return j.toString();
    }

    String id(int i) {
        return ids[i];
    }

    int indexOf(String id) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i].equals(id)) {
                return i;
            }
        }
        throw new IllegalArgumentException("no replica " + id);
    }

    int size() {
        return ids.length;
    }

    /** Starts every replica and waits until each printed READY. */
    void startAll() throws Exception {
        launchAll();
        awaitAllReady();
    }

    /** Launches every replica at once, without waiting (the JVMs start in parallel). */
    void launchAll() throws IOException {
        for (int i = 0; i < ids.length; i++) {
            launch(i);
        }
    }

    /** Waits until every launched replica printed READY. */
    void awaitAllReady() throws Exception {
        for (int i = 0; i < ids.length; i++) {
            awaitReady(i);
        }
    }

    /**
     * Extra JVM options of every replica, from the system property {@value #JVM_OPTIONS_PROPERTY} (split at white
     * space), e.g. {@code -XX:SharedArchiveFile=replica.jsa}: a class-data archive of the replica's classes, which
     * {@code consensus-campaign.sh} makes once per jar so that a replica starts (and restarts after a kill) in about a
     * third of the time.
     */
    static final String JVM_OPTIONS_PROPERTY = "dwcp.acp.replica.jvm-options";

    static List<String> extraJvmOptions() {
        String opts = System.getProperty(JVM_OPTIONS_PROPERTY, "").trim();
        return opts.isEmpty() ? List.of() : List.of(opts.split("\\s+"));
    }

    private final CompletableFuture<?>[] ready = new CompletableFuture<?>[16];

    void launch(int i) throws IOException {
        launch(i, peers());
    }

    /** Launches replica {@code i} with its own view of the voters (a replica that is about to be added). */
    void launch(int i, String peerList) throws IOException {
        if (processes[i] != null && processes[i].isAlive()) {
            throw new IllegalStateException(ids[i] + " is running");
        }
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx96m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto"));
        cmd.addAll(extraJvmOptions());
        cmd.addAll(List.of("-cp", cp,
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-Ddwcp.node-id=" + ids[i],
                "-Ddwcp.consensus.peers=" + peerList,
                "-Ddwcp.consensus.group=" + group,
                "-Ddwcp.consensus.storage-dir=" + dir.resolve(ids[i]),
                "-Ddwcp.consensus.election.min=" + electionMin,
                "-Ddwcp.consensus.snapshot.entries=100"));
        settings.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
        if (privatePorts != null) {
            cmd.add("-Ddwcp.consensus.listen=127.0.0.1:" + privatePorts[i]);
        }
        cmd.add(ConsensusNode.class.getName());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.appendTo(
                new File(dir.toFile(), ids[i] + ".log")));
        Process p = pb.start();
        processes[i] = p;
        CompletableFuture<Void> f = new CompletableFuture<>();
        ready[i] = f;
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.startsWith("READY")) {
                        f.complete(null);
                    }
                }
                f.completeExceptionally(new IllegalStateException(ids[i] + " exited before READY; see " + ids[i] + ".log"));
            } catch (IOException e) {
                f.completeExceptionally(e);
            }
        }, "replica-stdout-" + ids[i]);
        reader.setDaemon(true);
        reader.start();
    }

    void awaitReady(int i) throws Exception {
        ready[i].get(readyTimeoutSeconds, TimeUnit.SECONDS); // generous: 5 JVMs start at once on a busy machine
    }

    /** How long a replica may take to print READY (default 180 s). */
    void readyTimeout(java.time.Duration timeout) {
        readyTimeoutSeconds = Math.max(1, timeout.toSeconds());
    }

    /** SIGKILL: no shutdown hook, no flush; the replica restarts from what its log had persisted. */
    void kill(int i) throws InterruptedException {
        Process p = processes[i];
        if (p != null) {
            p.destroyForcibly();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException(ids[i] + " survived SIGKILL for 30 s");
            }
        }
    }

    /** SIGSTOP ({@code pause=true}) or SIGCONT: a paused replica keeps its sockets but neither reads nor sends. */
    void signal(int i, boolean pause) throws IOException, InterruptedException {
        Process p = processes[i];
        if (p == null || !p.isAlive()) {
            return;
        }
        Process k = new ProcessBuilder("kill", pause ? "-STOP" : "-CONT", String.valueOf(p.pid())).inheritIO().start();
        if (!k.waitFor(30, TimeUnit.SECONDS) || k.exitValue() != 0) {
            throw new IllegalStateException("kill " + (pause ? "-STOP " : "-CONT ") + p.pid() + " failed");
        }
    }

    void restart(int i) throws Exception {
        launch(i);
        awaitReady(i);
    }

    boolean isAlive(int i) {
        return processes[i] != null && processes[i].isAlive();
    }

    /** A started client of the group (not a voter), with the given proposal timeout. */
    RatisConsensus client(String name, String proposalTimeout) throws IOException {
        return client(name, proposalTimeout, peers());
    }

    /** A started client that knows the voters {@code peerList}. */
    RatisConsensus client(String name, String proposalTimeout, String peerList) throws IOException {
        return client(name, proposalTimeout, peerList, java.util.Map.of());
    }

    /** A started client that knows the voters {@code peerList}, with further dwcp.* settings over the cluster's. */
    RatisConsensus client(String name, String proposalTimeout, String peerList, java.util.Map<String, String> extra) throws IOException {
        DwcpConfig.Builder b = DwcpConfig.builder();
        settings.forEach(b::set);
        extra.forEach(b::set);
        DwcpConfig config = b
                .set("dwcp.node-id", name)
                .set("dwcp.consensus.peers", peerList)
                .set("dwcp.consensus.group", group)
                .set("dwcp.consensus.election.min", electionMin)
                .set("dwcp.consensus.proposal-timeout", proposalTimeout)
                .build();
        RatisConsensus c = new RatisConsensus(ComponentContext.standalone(config, new SimpleMeterRegistry(), 2));
        c.start();
        synchronized (clients) {
            clients.add(c);
        }
        return c;
    }

    @Override
    public void close() throws InterruptedException {
        synchronized (clients) {
            for (RatisConsensus c : clients) {
                try {
                    c.stop();
                } catch (RuntimeException e) {
                    // closing the test fixture: a client that fails to stop must not keep replicas alive
                    System.err.println("client stop failed: " + e);
                }
            }
            clients.clear();
        }
        for (int i = 0; i < processes.length; i++) {
            kill(i);
        }
        if (proxy != null) {
            proxy.close();
        }
        portReservation.close();
        try {
            Runtime.getRuntime().removeShutdownHook(reaper);
        } catch (IllegalStateException e) {
            // the JVM is shutting down: the hook runs (and finds the replicas already killed)
        }
    }
}
