package io.dwcp.bench;

import io.dwcp.core.DwcpManager;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.migration.InPlaceReplica;
import io.dwcp.core.transport.TransportListener;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
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
 * was byte-exact with the paused source RAM. And the abort path: the destination killed mid-migration, the source
 * guest runs again. Needs qemu-system-x86_64 and the vmcorpus guest build cache (skipped, saying so, without them).
 */
@Tag("slow")
@Timeout(1500)
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
                "--tag", tag, "--timeout", "900"));
        if (incoming) {
            cmd.add("--incoming");
        }
        String line = run(cmd.toArray(String[]::new));
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) JsonReader.parse(line, "qemuvm boot");
        Guest g = new Guest(((Double) m.get("pid")).longValue(), (String) m.get("ram"), (String) m.get("qmp"),
                (String) m.get("console"));
        guests.add(g);
        return g;
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
                "--after", Long.toString(after), "--timeout", "600");
        return (Map<?, ?>) JsonReader.parse(line, "wait-check");
    }

    private InetSocketAddress receiver(Guest dst, CountDownLatch firstRound) {
        DwcpConfig c = DwcpConfig.builder().set("dwcp.transport.tls.enabled", "false").build();
        DwcpManager m = DwcpManager.builder().config(c).meterRegistry(new SimpleMeterRegistry()).build();
        toClose.add(m);
        m.start();
        InPlaceReplica replica = InPlaceReplica.of("vm", Path.of(dst.ram()), null);
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
        InetSocketAddress to = receiver(dst, new CountDownLatch(1));
        // --verify-replica: the command fails unless the replica is byte-exact with the paused source RAM.
        int rc = DwcpCli.run(migrateArgs(src, dst, to, "--verify-replica", dst.ram(), "--json"));
        assertEquals(0, rc, "qemu-migrate succeeded, replica byte-exact");
        assertEquals("running", dst.status());
        assertEquals("postmigrate", src.status());
        Map<?, ?> check = selfCheck(dst, 0);
        assertEquals(Boolean.TRUE, check.get("ok"), "the self-check on the destination passed: " + check);
    }

    @Test
    void theDestinationKilledMidMigrationLeavesTheSourceRunning(@TempDir Path dir) throws Exception {
        Guest src = boot(dir, "a-src", false);
        Guest dst = boot(dir, "a-dst", true);
        CountDownLatch firstRound = new CountDownLatch(1);
        InetSocketAddress to = receiver(dst, firstRound);
        CompletableFuture<Integer> rc = CompletableFuture.supplyAsync(() -> DwcpCli.run(migrateArgs0(src, dst, to)));
        assertTrue(firstRound.await(600, TimeUnit.SECONDS), "the first round reached the destination");
        // The destination dies: its QEMU and its receiver.
        dst.stop();
        guests.remove(dst);
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
        toClose.clear();
        assertNotEquals(0, rc.get(600, TimeUnit.SECONDS), "the migration failed");
        assertEquals("running", src.status(), "the source guest runs again");
        long mark = src.consoleBytes();
        Map<?, ?> check = selfCheck(src, mark);
        assertEquals(Boolean.TRUE, check.get("ok"), "the source's self-check passes after the abort: " + check);
    }

    private static String[] migrateArgs0(Guest src, Guest dst, InetSocketAddress to) {
        try {
            return migrateArgs(src, dst, to);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
