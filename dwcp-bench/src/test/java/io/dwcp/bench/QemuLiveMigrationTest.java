package io.dwcp.bench;

import io.dwcp.core.DwcpManager;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.migration.InPlaceReplica;
import io.dwcp.core.migration.ReplicaFactory;
import io.dwcp.core.state.VmState;
import io.dwcp.core.state.WritableRegion;
import io.dwcp.core.transport.TransportListener;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Live migration of a real running QEMU guest (1 GiB, TCG, 1 vCPU) on loopback with {@code dwcp qemu-migrate}: the
 * destination guest runs on, its self-check (MD5s of data it holds in RAM) passes after the migration, and the replica
 * was byte-exact with the paused source RAM. And the abort path: the destination killed in the switchover pause, the
 * source guest runs again and the command says why. A source guest is resumed from {@code bench-qemu.sh}'s saved guest
 * when there is a fresh one, else booted. Needs qemu-system-x86_64 and the vmcorpus guest build cache (skipped, saying
 * so, without them).
 */
@Tag("slow")
@Timeout(3600)
class QemuLiveMigrationTest {
    private static final Path SCRIPTS = locateScripts();
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final List<Guest> guests = new ArrayList<>();

    private static Path locateScripts() {
        Path p = Path.of("scripts", "qemu");
        return Files.isDirectory(p) ? p.toAbsolutePath() : Path.of("dwcp-bench", "scripts", "qemu").toAbsolutePath();
    }

    @BeforeAll
    static void needsQemu() {
        assumeTrue(onPath("qemu-system-x86_64"), "SKIPPED: qemu-system-x86_64 is not installed"
                + " (apt-get install -y qemu-system-x86)");
        assumeTrue(Files.isRegularFile(Path.of(System.getenv().getOrDefault("CORPUS", "/var/tmp/vmcorpus"), "build",
                "content.ext4")), "SKIPPED: no guest build cache; run ../shared/vmcorpus/make-corpus.sh first");
    }

    private static boolean onPath(String cmd) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(d, cmd))) {
                return true;
            }
        }
        return false;
    }

    @AfterEach
    void cleanUp() throws Exception {
        for (Guest g : guests) {
            g.stop();
        }
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    /** A guest started by qemuvm.py; killed (and its RAM file deleted) after the test. */
    private record Guest(long pid, String ram, String qmp, String console) {
        void stop() throws Exception {
            run(SCRIPTS.resolve("qemuvm.py").toString(), "stop", "--pid", Long.toString(pid), "--ram", ram, "--qmp", qmp);
        }

        long consoleBytes() throws IOException {
            Path c = Path.of(console);
            return Files.exists(c) ? Files.size(c) : 0;
        }

        String status() throws IOException {
            try (Qmp q = Qmp.connect(qmp, Duration.ofSeconds(30))) {
                return q.status();
            }
        }
    }

    private Guest boot(Path dir, String tag, boolean incoming) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(SCRIPTS.resolve("qemuvm.py").toString(), "boot", "--dir", dir.toString(),
                "--tag", tag, "--timeout", "1800"));
        if (incoming) {
            cmd.add("--incoming");
        } else {
            Path saved = savedGuest();
            if (saved != null) {
                cmd.addAll(List.of("--from-snapshot", saved.toString()));
            }
        }
        String line = run(cmd.toArray(String[]::new));
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) JsonReader.parse(line, "qemuvm boot");
        Guest g = new Guest(((Double) m.get("pid")).longValue(), (String) m.get("ram"), (String) m.get("qmp"),
                (String) m.get("console"));
        guests.add(g);
        return g;
    }

    /**
     * The booted, warmed-up 1 GiB guest that {@code bench-qemu.sh} saves ({@code qemuvm.py snapshot}; directory
     * {@code $DWCP_QEMU_SNAPSHOT}, default {@code /var/tmp/dwcp-qemu/snap-1G}), when it exists and is newer than the guest
     * image: a source guest resumed from it runs its workload within seconds, where a boot takes minutes of TCG (over
     * ten at idle priority on a loaded host). Null when there is none: the source guest boots.
     */
    private static Path savedGuest() throws Exception {
        Path s = Path.of(System.getenv().getOrDefault("DWCP_QEMU_SNAPSHOT", "/var/tmp/dwcp-qemu/snap-1G"));
        Path image = Path.of(run(SCRIPTS.resolve("guest-image.sh").toString()));
        Path state = s.resolve("device.state");
        boolean fresh = Files.isRegularFile(state) && Files.isRegularFile(s.resolve("ram"))
                && Files.size(s.resolve("ram")) == 1L << 30
                && Files.getLastModifiedTime(state).compareTo(Files.getLastModifiedTime(image)) > 0;
        return fresh ? s : null;
    }

    /** Runs a helper; its last stdout line, or an assertion failure with its output. */
    private static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(false).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(20, TimeUnit.MINUTES));
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + " failed: " + out);
        String[] lines = out.split("\n");
        return lines[lines.length - 1];
    }

    /** The guest's self-check that starts after console offset {@code after}: passed, with a workload heartbeat. */
    private static Map<?, ?> selfCheck(Guest g, long after) throws Exception {
        String line = run(SCRIPTS.resolve("qemuvm.py").toString(), "wait-check", "--console", g.console(),
                "--after", Long.toString(after), "--timeout", "1800");
        return (Map<?, ?>) JsonReader.parse(line, "wait-check");
    }

    private InetSocketAddress receiver(ReplicaFactory replica, CountDownLatch firstRound) {
        DwcpConfig c = DwcpConfig.builder().set("dwcp.transport.tls.enabled", "false").build();
        DwcpManager m = DwcpManager.builder().config(c).meterRegistry(new SimpleMeterRegistry()).build();
        toClose.add(m);
        m.start();
        TransportListener l = m.transport().listen(new InetSocketAddress("127.0.0.1", 0),
                m.migrationReceiver(replica, r -> firstRound.countDown())).join();
        toClose.add(l);
        return l.localAddress();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static String[] migrateArgs(Guest src, Guest dst, InetSocketAddress to, String... more) throws IOException {
        List<String> a = new ArrayList<>(List.of("qemu-migrate", "--qmp", src.qmp(), "--dest-qmp", dst.qmp(),
                "--ram", src.ram(), "--to", "127.0.0.1:" + to.getPort(), "--key", "vm",
                "--migrate-uri", "tcp:127.0.0.1:" + freePort(), "--plaintext"));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    @Test
    void aRunningGuestMigratesAndKeepsRunningWithItsSelfCheckPassing(@TempDir Path dir) throws Exception {
        Guest src = boot(dir, "t-src", false);
        Guest dst = boot(dir, "t-dst", true);
        InetSocketAddress to = receiver(InPlaceReplica.of("vm", Path.of(dst.ram()), null), new CountDownLatch(1));
        // --verify-replica: the command fails unless the replica is byte-exact with the paused source RAM.
        int rc = DwcpCli.run(migrateArgs(src, dst, to, "--verify-replica", dst.ram(), "--json"));
        assertEquals(0, rc, "qemu-migrate succeeded, replica byte-exact");
        assertEquals("running", dst.status());
        assertEquals("postmigrate", src.status());
        Map<?, ?> check = selfCheck(dst, 0);
        assertEquals(Boolean.TRUE, check.get("ok"), "the self-check on the destination passed: " + check);
    }

    /**
     * The destination dies in the switchover pause, the hardest moment: the source guest is paused (QEMU waits in
     * {@code pre-switchover}) and the final round has reached the destination. {@code --max-rounds 2} makes round 1 the
     * final round; the destination's replica factory holds that round at its start until the test has killed the
     * destination QEMU, then fails it as a dead host would. The command must fail, say why, and leave the source guest
     * running (cancel, {@code cont}) with its self-check passing.
     */
    @Test
    void theDestinationKilledInTheSwitchoverPauseLeavesTheSourceRunning(@TempDir Path dir) throws Exception {
        Guest src = boot(dir, "a-src", false);
        Guest dst = boot(dir, "a-dst", true);
        CountDownLatch finalRoundStarted = new CountDownLatch(1);
        CountDownLatch destinationKilled = new CountDownLatch(1);
        InPlaceReplica inPlace = InPlaceReplica.of("vm", Path.of(dst.ram()), null);
        ReplicaFactory dying = new ReplicaFactory() {
            @Override
            public StagedReplica openStaged(String key, int pageSize, List<RegionLayout> regions) throws IOException {
                return inPlace.openStaged(key, pageSize, regions); // round 0, the keyframe: received as usual
            }

            @Override
            public VmState<WritableRegion> open(String key, int pageSize, List<RegionLayout> regions) throws IOException {
                // a delta round: with --max-rounds 2 the final one, sent while the source guest is paused
                finalRoundStarted.countDown();
                try {
                    if (!destinationKilled.await(600, TimeUnit.SECONDS)) {
                        throw new IOException("the test did not kill the destination");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                throw new IOException("destination host killed by the test");
            }
        };
        InetSocketAddress to = receiver(dying, new CountDownLatch(1));
        ByteArrayOutputStream errors = new ByteArrayOutputStream();
        PrintStream originalErr = System.err;
        int rc;
        try (PrintStream tee = new PrintStream(new TeeStream(originalErr, errors), true, StandardCharsets.UTF_8)) {
            System.setErr(tee);
            CompletableFuture<Integer> run = CompletableFuture.supplyAsync(() -> DwcpCli.run(migrateArgs0(src, dst, to)));
            assertTrue(finalRoundStarted.await(900, TimeUnit.SECONDS), "the final round reached the destination");
            dst.stop(); // its QEMU dies with the round in flight: its QMP connection closes
            guests.remove(dst);
            destinationKilled.countDown();
            rc = run.get(600, TimeUnit.SECONDS);
        } finally {
            destinationKilled.countDown(); // never leave the receiver's thread held when the test fails early
            System.setErr(originalErr);
        }
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
        toClose.clear();
        String said = errors.toString(StandardCharsets.UTF_8);
        assertNotEquals(0, rc, "the migration failed");
        assertTrue(said.contains("migration failed before the destination ran: ")
                && (said.contains("destination gone") || said.contains("destination host killed by the test")),
                "the error names the cause: " + said);
        assertTrue(said.contains("the source guest is running again (running)"), "the rollback resumed the source: " + said);
        assertEquals("running", src.status(), "the source guest runs again");
        long mark = src.consoleBytes();
        Map<?, ?> check = selfCheck(src, mark);
        assertEquals(Boolean.TRUE, check.get("ok"), "the source's self-check passes after the abort: " + check);
    }

    /** Writes to two streams (the console keeps the output, the test reads it). */
    private static final class TeeStream extends OutputStream {
        private final OutputStream a;
        private final OutputStream b;

        TeeStream(OutputStream a, OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public synchronized void write(int c) throws IOException {
            a.write(c);
            b.write(c);
        }

        @Override
        public synchronized void write(byte[] buf, int off, int len) throws IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }

        @Override
        public void flush() throws IOException {
            a.flush();
            b.flush();
        }

        @Override
        public void close() throws IOException {
            flush(); // neither stream is ours to close
        }
    }

    private static String[] migrateArgs0(Guest src, Guest dst, InetSocketAddress to) {
        try {
            return migrateArgs(src, dst, to, "--max-rounds", "2");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
