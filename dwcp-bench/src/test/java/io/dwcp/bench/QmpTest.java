package io.dwcp.bench;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The QMP client against a scripted QMP server on a unix socket: greeting and capabilities, replies with events in
 * between, QEMU's errors, a silent server, a server that goes away; and the qemu-migrate command's refusals before it
 * touches a guest.
 */
@Timeout(60)
class QmpTest {
    /** A one-connection QMP server: greets, then answers each command line with {@code answer.apply(line)}. */
    private static final class FakeQemu implements AutoCloseable {
        final ServerSocketChannel server;
        final List<String> commands = new CopyOnWriteArrayList<>();
        final Thread thread;

        FakeQemu(Path socket, Function<String, String> answer) throws Exception {
            server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(socket));
            thread = new Thread(() -> {
                try (SocketChannel c = server.accept()) {
                    OutputStream out = Channels.newOutputStream(c);
                    BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(c), StandardCharsets.UTF_8));
                    out.write("{\"QMP\": {\"version\": {}, \"capabilities\": []}}\n".getBytes(StandardCharsets.UTF_8));
                    String line;
                    while ((line = in.readLine()) != null) {
                        commands.add(line);
                        String reply = line.contains("qmp_capabilities") ? "{\"return\": {}}" : answer.apply(line);
                        if (reply == null) {
                            return;     // hang up
                        }
                        if (!reply.isEmpty()) {
                            out.write((reply + "\n").getBytes(StandardCharsets.UTF_8));
                        }
                    }
                } catch (Exception e) {
                    // the test closed the server
                }
            }, "fake-qemu");
            thread.setDaemon(true);
            thread.start();
        }

        @Override
        public void close() throws Exception {
            server.close();
            thread.join(10_000);
        }
    }

    @Test
    void commandsGetTheirRepliesAndEventsAreSetAside(@TempDir Path dir) throws Exception {
        Path sock = dir.resolve("q.sock");
        try (FakeQemu qemu = new FakeQemu(sock, line -> line.contains("query-status")
                ? "{\"event\": \"STOP\", \"data\": {}}\n{\"return\": {\"status\": \"paused\", \"running\": false}}"
                : "{\"return\": {}}");
             Qmp q = Qmp.connect(sock.toString(), Duration.ofSeconds(10))) {
            assertEquals("paused", q.status());
            assertEquals("STOP", q.events().get(0).get("event"));
            assertEquals(Map.of(), q.execute("stop", Map.of()));
            assertTrue(qemu.commands.get(2).contains("\"execute\":\"stop\""), qemu.commands.toString());
        }
    }

    @Test
    void awaitEventFindsAMatchingEventFromTheMarkOnAndTimesOutOtherwise(@TempDir Path dir) throws Exception {
        Path sock = dir.resolve("q.sock");
        long now = System.currentTimeMillis();
        String stop = "{\"event\": \"STOP\", \"data\": {}, \"timestamp\": {\"seconds\": " + (now / 1000 - 2)
                + ", \"microseconds\": " + (now % 1000) * 1000 + "}}";
        try (FakeQemu qemu = new FakeQemu(sock, line -> line.contains("\"migrate\"")
                ? stop + "\n{\"return\": {}}\n{\"event\": \"MIGRATION\", \"data\": {\"status\": \"pre-switchover\"}}"
                : "{\"return\": {}}");
             Qmp q = Qmp.connect(sock.toString(), Duration.ofSeconds(10))) {
            int mark = q.eventCount();
            long before = System.nanoTime();
            q.execute("migrate", Map.of("uri", "tcp:x:1"));
            Qmp.Event ev = q.awaitEvent(mark, e -> e.name().equals("MIGRATION"), Duration.ofSeconds(10), "pre-switchover");
            assertEquals("pre-switchover", ev.data().get("status"));
            Qmp.Event s = q.awaitEvent(mark, e -> e.name().equals("STOP"), Duration.ofSeconds(10), "STOP");
            // QEMU's wall-clock timestamp, two seconds ago, on this process's nanoTime scale
            long ago = before - s.emittedNanos();
            assertTrue(ago > 1_500_000_000L && ago < 3_500_000_000L, "emitted " + ago + " ns before the command");
            assertEquals(ErrorCode.TIMEOUT, assertThrows(DwcpException.class, () -> q.awaitEvent(q.eventCount(),
                    e -> true, Duration.ofMillis(200), "anything")).code());
        }
    }

    @Test
    void qemusErrorsAreNamed(@TempDir Path dir) throws Exception {
        Path sock = dir.resolve("q.sock");
        try (FakeQemu qemu = new FakeQemu(sock, line -> "{\"error\": {\"class\": \"GenericError\", \"desc\": \"no way\"}}");
             Qmp q = Qmp.connect(sock.toString(), Duration.ofSeconds(10))) {
            DwcpException e = assertThrows(DwcpException.class, () -> q.execute("cont", Map.of()));
            assertEquals(ErrorCode.ILLEGAL_STATE, e.code());
            assertTrue(e.getMessage().contains("GenericError: no way"), e.getMessage());
        }
    }

    @Test
    void aSilentQemuTimesOutAndAVanishedOneFailsEveryLaterCall(@TempDir Path dir) throws Exception {
        Path sock = dir.resolve("q.sock");
        try (FakeQemu qemu = new FakeQemu(sock, line -> line.contains("stop") ? "" : null);
             Qmp q = Qmp.connect(sock.toString(), Duration.ofSeconds(2))) {
            assertEquals(ErrorCode.TIMEOUT, assertThrows(DwcpException.class, () -> q.execute("stop", Map.of())).code());
            java.util.concurrent.CountDownLatch closed = new java.util.concurrent.CountDownLatch(1);
            q.onClosed(closed::countDown);
            assertThrows(DwcpException.class, () -> q.execute("cont", Map.of()));    // the server hangs up
            assertTrue(closed.await(10, java.util.concurrent.TimeUnit.SECONDS), "onClosed ran");
            assertEquals(ErrorCode.IO_ERROR, assertThrows(DwcpException.class, () -> q.execute("cont", Map.of())).code());
        }
    }

    @Test
    void noSocketIsAnIoErrorNamingTheAddress(@TempDir Path dir) {
        java.io.IOException e = assertThrows(java.io.IOException.class,
                () -> Qmp.connect(dir.resolve("none.sock").toString(), Duration.ofSeconds(1)));
        assertTrue(e.getMessage().contains("none.sock"), e.getMessage());
    }

    @Test
    void qemuMigrateRefusesBadOptionsBeforeTouchingAGuest(@TempDir Path dir) throws Exception {
        Path ram = dir.resolve("ram");
        java.nio.file.Files.write(ram, new byte[4096]);
        String[] base = {"qemu-migrate", "--qmp", dir.resolve("none.sock").toString(), "--dest-qmp",
                dir.resolve("none2.sock").toString(), "--ram", ram.toString(), "--to", "127.0.0.1:1", "--key", "vm", "--plaintext"};
        assertEquals(2, DwcpCli.run(concat(base, "--downtime", "5ms")), "a budget under 10 ms");
        assertEquals(2, DwcpCli.run(concat(base, "--downtime", "fast")), "not a duration");
        assertEquals(2, DwcpCli.run(concat(base, "--migrate-uri", "unix:/x")), "device state over tcp only");
        assertEquals(2, DwcpCli.run(new String[]{"qemu-migrate", "--qmp", "x", "--ram", dir.resolve("missing").toString(),
                "--to", "127.0.0.1:1", "--key", "vm"}), "no RAM file");
        assertEquals(1, DwcpCli.run(base), "no QMP socket: fails, nothing to roll back");
    }

    @Test
    void aSourceThatIsNotRunningIsNotMigrated(@TempDir Path dir) throws Exception {
        Path ram = dir.resolve("ram");
        java.nio.file.Files.write(ram, new byte[4096]);
        Path src = dir.resolve("src.sock");
        Path dst = dir.resolve("dst.sock");
        try (FakeQemu s = new FakeQemu(src, line -> "{\"return\": {\"status\": \"paused\", \"running\": false}}");
             FakeQemu d = new FakeQemu(dst, line -> "{\"return\": {\"status\": \"inmigrate\", \"running\": false}}")) {
            assertEquals(1, DwcpCli.run(new String[]{"qemu-migrate", "--qmp", src.toString(), "--dest-qmp", dst.toString(),
                    "--ram", ram.toString(), "--to", "127.0.0.1:1", "--key", "vm", "--plaintext"}));
            for (String c : s.commands) {
                assertTrue(c.contains("qmp_capabilities") || c.contains("query-status"), "only asked: " + s.commands);
            }
        }
    }

    @Test
    void aFinalRoundThatFailsInThePauseCancelsTheSwitchoverAndResumesTheSource(@TempDir Path dir) throws Exception {
        // The real receiver commits every round; the replica comparison that follows the final round (in QEMU's
        // pre-switchover pause) fails against a file that is not the replica. The device state must never be released
        // (no migrate-continue), the switchover is cancelled, and the source guest runs again.
        byte[] memory = new byte[1 << 20];
        new java.util.Random(5).nextBytes(memory);
        Path ram = java.nio.file.Files.write(dir.resolve("src.ram"), memory);
        Path replica = java.nio.file.Files.write(dir.resolve("dst.ram"), new byte[memory.length]);
        Path notTheReplica = java.nio.file.Files.write(dir.resolve("other.ram"), new byte[memory.length]);
        java.util.concurrent.atomic.AtomicReference<String> status = new java.util.concurrent.atomic.AtomicReference<>("running");
        try (LoopbackNodes nodes = new LoopbackNodes();
             FakeQemu src = new FakeQemu(dir.resolve("src.sock"), line -> {
                 if (line.contains("query-status")) {
                     return "{\"return\": {\"status\": \"" + status.get() + "\", \"running\": false}}";
                 }
                 if (line.contains("\"migrate\"")) {
                     status.set("finish-migrate");
                     return "{\"return\": {}}\n{\"event\": \"STOP\", \"data\": {}}\n"
                             + "{\"event\": \"MIGRATION\", \"data\": {\"status\": \"pre-switchover\"}}";
                 }
                 if (line.contains("migrate_cancel")) {
                     status.set("paused");      // (a real QEMU resumes the guest itself; the command checks)
                     return "{\"return\": {}}\n{\"event\": \"MIGRATION\", \"data\": {\"status\": \"cancelled\"}}";
                 }
                 if (line.contains("query-migrate")) {
                     return "{\"return\": {\"status\": \"" + (status.get().equals("finish-migrate") ? "pre-switchover" : "cancelled") + "\"}}";
                 }
                 if (line.contains("\"cont\"")) {
                     status.set("running");
                 }
                 return "{\"return\": {}}";
             });
             FakeQemu dst = new FakeQemu(dir.resolve("dst.sock"), line -> line.contains("query-status")
                     ? "{\"return\": {\"status\": \"inmigrate\", \"running\": false}}" : "{\"return\": {}}")) {
            io.dwcp.core.DwcpManager receiver = nodes.node();
            io.dwcp.core.transport.TransportListener l = nodes.own(receiver.transport().listen(
                    new java.net.InetSocketAddress("127.0.0.1", 0),
                    receiver.migrationReceiver(io.dwcp.core.migration.InPlaceReplica.of("vm", replica, null), r -> { })).join());
            int rc = DwcpCli.run(new String[]{"qemu-migrate", "--qmp", dir.resolve("src.sock").toString(), "--dest-qmp",
                    dir.resolve("dst.sock").toString(), "--ram", ram.toString(), "--key", "vm", "--plaintext",
                    "--to", "127.0.0.1:" + l.localAddress().getPort(), "--migrate-uri", "tcp:127.0.0.1:1",
                    "--max-rounds", "2", "--verify-replica", notTheReplica.toString()});
            assertEquals(1, rc, "the migration failed");
            assertArrayEquals(memory, java.nio.file.Files.readAllBytes(replica), "the final round itself committed");
            String sent = src.commands.toString();
            assertTrue(sent.contains("\"migrate\"") && sent.contains("migrate_cancel"), sent);
            assertFalse(sent.contains("migrate-continue"), "the device state was never released: " + sent);
            assertTrue(sent.indexOf("migrate_cancel") < sent.lastIndexOf("\"cont\""), "resumed after the cancel: " + sent);
            assertEquals("running", status.get());
        }
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
