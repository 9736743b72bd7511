package io.dwcp.bench;

import io.dwcp.core.DwcpException;
import io.dwcp.core.DwcpManager;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.config.CompressionKeys;
import io.dwcp.core.config.CoreKeys;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.migration.LiveFileSource;
import io.dwcp.core.migration.Migration;
import io.dwcp.core.migration.MigrationSender;
import io.dwcp.core.migration.RoundReport;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;

/*
 * One {@code dwcp qemu-migrate}: the QMP sequence on both QEMUs around the DWCP pre-copy rounds (capabilities,
 * migrate-incoming, the source's pre-switchover pause, migrate-continue, the destination's start), the timings of the
 * pause, and the rollback that resumes the source when anything fails before the destination runs. Created and run
 * once by QemuMigrateCommand.run; it owns the DWCP manager and both QMP connections for the length of execute() (all
 * closed by its try-with-resources). QemuMigrationReport prints what it measured.
 *
 * Threads and state: execute() runs on the command's thread. switchover() runs on the thread of the migration loop
 * (which pauses the source through LiveFileSource before the final round); the destination's onClosed callback runs on
 * its QMP reader thread. The fields they share are volatile, and each is written by one thread: switchAsked,
 * stoppedNanos, pausedSeenNanos and migrateStarted by switchover(); destinationLost by the onClosed callback;
 * destinationRunning by the command's thread, which reads them all (rollback, the phases). No lock.
 */
final class QemuMigrationRun {
    private static final Duration QMP_TIMEOUT = Duration.ofSeconds(30);
    /** How long the manager's start and the session to the receiver may take. */
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(60);
    /** How long QEMU may take to connect to the destination, or to move and load the device state. */
    private static final Duration MIGRATE_TIMEOUT = Duration.ofSeconds(120);
    private static final java.util.Set<String> END_STATES = java.util.Set.of("completed", "failed", "cancelled");

    private final CliArgs a;
    private final Path ram;
    private final String key;
    private final String to;
    private final String migrateUri;
    private final Duration downtime;
    private final Path verify;
    private final boolean json;
    /** When {@code migrate} was sent, the guest stopped (QEMU's STOP), and the pre-switchover pause was seen. */
    private volatile long switchAsked;
    private volatile long stoppedNanos;
    private volatile long pausedSeenNanos;
    private volatile boolean migrateStarted;
    private volatile boolean destinationRunning;
    private volatile boolean destinationLost;

    QemuMigrationRun(CliArgs a, Path ram, String key, String to, String migrateUri, Duration downtime, Path verify, boolean json) {
        this.a = a;
        this.ram = ram;
        this.key = key;
        this.to = to;
        this.migrateUri = migrateUri;
        this.downtime = downtime;
        this.verify = verify;
        this.json = json;
    }

    int execute() throws Exception {
        long start = System.nanoTime();
        // The DWCP side (manager, session to the receiver: round trips over the WAN and class loading) comes up
        // while QEMU is set up over QMP; neither waits for the other. The manager stays open until the
        // destination runs: closing it (event loops, pools) takes a while and would add to the downtime.
        try (DwcpStart dwcp = new DwcpStart(() -> NodeOptions.manager(config()), NodeOptions.address(to));
             Qmp src = Qmp.connect(a.require("qmp"), QMP_TIMEOUT);
             Qmp dst = Qmp.connect(a.require("dest-qmp"), QMP_TIMEOUT)) {
            String s = src.status();
            if (!s.equals("running")) {
                throw new DwcpException(ErrorCode.ILLEGAL_STATE, "the source guest is '" + s + "', not running;"
                        + " qemu-migrate moves a running guest");
            }
            String d = dst.status();
            if (!d.equals("inmigrate")) {
                throw new DwcpException(ErrorCode.ILLEGAL_STATE, "the destination QEMU is '" + d + "'; start it with"
                        + " -incoming defer and the same memory-backend-file options");
            }
            try {
                return migrate(dwcp, src, dst, start);
            } catch (Exception | Error e) {
                rollback(src, e);
                if (destinationLost) {
                    throw new DwcpException(ErrorCode.IO_ERROR, "the destination QEMU went away (its QMP connection"
                            + " closed) during the migration; the source guest runs on", e);
                }
                throw e;
            }
        }
    }

    private int migrate(DwcpStart dwcp, Qmp src, Qmp dst, long start) throws Exception {
        // The source pauses before the switchover: QEMU connects to the destination and stops the guest by itself
        // when it is asked to migrate (there is no RAM for it to send), then waits for migrate-continue. The final
        // round runs in that pause; the device state follows over the connection QEMU already opened.
        src.execute("migrate-set-capabilities", Map.of("capabilities", List.of(cap("x-ignore-shared"),
                cap("pause-before-switchover"), cap("events"))));
        dst.execute("migrate-set-capabilities", Map.of("capabilities", List.of(cap("x-ignore-shared"), cap("events"))));
        String port = migrateUri.substring(migrateUri.lastIndexOf(':') + 1);
        dst.execute("migrate-incoming", Map.of("uri", "tcp:0.0.0.0:" + port));
        // Each step's time is what was still to wait for after the previous one (the DWCP side started at once).
        QemuMigrationReport.Startup startup = new QemuMigrationReport.Startup(start);
        startup.mark("qmp");
        DwcpManager manager = dwcp.manager(CONNECT_TIMEOUT);
        startup.mark("manager");
        List<RoundReport> rounds = new ArrayList<>();
        List<Long> roundEnds = new ArrayList<>();
        Migration.Result result;
        MigrationSender sender = dwcp.sender(CONNECT_TIMEOUT);
        try (LiveFileSource live = LiveFileSource.open(key, ram, () -> switchover(src))) {
            // Round 0 asks the receiver for a seed (its copy of the guest's disk image, say) unless told not
            // to: a receiver without one says so at once, so asking costs one round trip.
            sender.seeding(SendCommand.seedMode(a.get("seed", "always")));
            startup.mark("connect");
            Migration.Builder b = manager.migration(sender, live).downtimeBudget(downtime).onRound(r -> {
                roundEnds.add(System.nanoTime());
                rounds.add(r);
                if (!json) {
                    System.out.println(SendCommand.describe(r, null));
                }
            });
            if (a.get("max-rounds") != null) {
                b.maxRounds(Integer.parseInt(a.get("max-rounds")));
            }
            Migration migration = b.build();
            // The destination QEMU gone (its QMP connection closed): no point in sending more rounds.
            dst.onClosed(() -> {
                if (!destinationRunning) {
                    destinationLost = true;
                    migration.cancel();
                }
            });
            startup.mark("prepare");
            try {
                result = migration.start().get();
            } catch (ExecutionException e) {
                throw e.getCause() instanceof Exception ex ? ex : e;
            }
            long committed = System.nanoTime();
            double verifySeconds = -1;
            if (verify != null) {
                compare(ram, verify);
                verifySeconds = (System.nanoTime() - committed) / 1e9;
            }
            long verifyNanos = verifySeconds < 0 ? 0 : (long) (verifySeconds * 1e9);
            // Device state only: the RAM is already at the destination, verified.
            int dstMark = dst.eventCount();
            int srcMark = src.eventCount();
            long resumeAsked = System.nanoTime();
            src.execute("migrate-continue", Map.of("state", "pre-switchover"));
            Qmp.Event done = src.awaitEvent(srcMark, e -> e.name().equals("MIGRATION")
                    && END_STATES.contains(String.valueOf(e.data().get("status"))), MIGRATE_TIMEOUT,
                    "the end of the device-state migration");
            if (!"completed".equals(done.data().get("status"))) {
                Map<String, Object> m = src.query("query-migrate");
                throw new DwcpException(ErrorCode.IO_ERROR, "QEMU's device-state migration " + done.data().get("status")
                        + ": " + m.getOrDefault("error-desc", "no reason given"));
            }
            long sourceDone = System.nanoTime();
            long running = destinationStart(dst, dstMark);
            destinationRunning = true;
            Map<String, Object> m = src.query("query-migrate");
            QemuMigrationReport.Phases p = new QemuMigrationReport.Phases(stoppedNanos - switchAsked,
                    pausedSeenNanos - stoppedNanos, result, resumeAsked - committed - verifyNanos, sourceDone - resumeAsked, running - sourceDone,
                    running - stoppedNanos - verifyNanos);
            double total = (running - start - verifyNanos) / 1e9;
            QemuMigrationReport.print(key, json, result, rounds, m, total, p, verifySeconds, startup, roundEnds);
        }
        return 0;
    }

    /**
     * The command's configuration; unless {@code dwcp.compression.staging-dir} is set, the sender's baseline of a
     * guest above {@code baseline.max-memory} is staged beside the guest's RAM file (a RAM file system): on a disk
     * its pages could be evicted and the final round, in the downtime, would read them back from the disk. Unless
     * {@code dwcp.compression.max-delta-chain} is set, it is at least the migration's round limit.
     */
    private DwcpConfig config() {
        DwcpConfig c = NodeOptions.config(a);
        DwcpConfig.Builder b = c.toBuilder();
        Path dir = ram.toAbsolutePath().getParent();
        if (c.source(CompressionKeys.STAGING_DIR).equals("default") && dir != null) {
            b.set(CompressionKeys.STAGING_DIR, Optional.of(dir.toString()));
        }
        // Every round of the migration a delta: a codec that starts a new chain after max-delta-chain deltas would
        // send the whole RAM again in the middle of the migration.
        int rounds = a.get("max-rounds") != null ? Integer.parseInt(a.get("max-rounds"))
                : c.get(CoreKeys.MIGRATION_MAX_ROUNDS);
        if (c.source(CompressionKeys.MAX_DELTA_CHAIN).equals("default")) {
            b.set(CompressionKeys.MAX_DELTA_CHAIN, Math.max(c.get(CompressionKeys.MAX_DELTA_CHAIN), rounds));
        }
        return b.build();
    }

    private static Map<String, Object> cap(String name) {
        return Map.of("capability", name, "state", true);
    }

    /**
     * The source's pause: {@code migrate} with pause-before-switchover; QEMU connects to the destination, stops the
     * guest ({@code STOP}) and waits in {@code pre-switchover}. Records when the guest stopped (QEMU's timestamp).
     */
    private void switchover(Qmp src) {
        int mark = src.eventCount();
        switchAsked = System.nanoTime();
        migrateStarted = true;
        src.execute("migrate", Map.of("uri", migrateUri));
        Qmp.Event ev = src.awaitEvent(mark, e -> e.name().equals("MIGRATION")
                && (END_STATES.contains(String.valueOf(e.data().get("status")))
                    || "pre-switchover".equals(e.data().get("status"))), MIGRATE_TIMEOUT, "the source's pre-switchover pause");
        if (!"pre-switchover".equals(ev.data().get("status"))) {
            Map<String, Object> m = src.query("query-migrate");
            throw new DwcpException(ErrorCode.IO_ERROR, "QEMU's migration to the destination " + ev.data().get("status")
                    + " before the switchover: " + m.getOrDefault("error-desc", "no reason given"));
        }
        pausedSeenNanos = ev.receivedNanos();
        Qmp.Event stop = src.awaitEvent(mark, e -> e.name().equals("STOP"), QMP_TIMEOUT, "the source's STOP event");
        stoppedNanos = Math.min(stop.emittedNanos(), pausedSeenNanos);
    }

    /**
     * Waits until the destination runs: it starts by itself once it has loaded the device state (the source was
     * running when QEMU stopped it); a destination that stays paused (started with {@code -S}) gets {@code cont}.
     * Returns when it was seen running.
     */
    private long destinationStart(Qmp dst, int mark) {
        Qmp.Event ev = dst.awaitEvent(mark, e -> e.name().equals("RESUME") || e.name().equals("MIGRATION")
                && END_STATES.contains(String.valueOf(e.data().get("status"))), MIGRATE_TIMEOUT,
                "the destination to load the device state");
        if (ev.name().equals("RESUME")) {
            return ev.receivedNanos();
        }
        if (!"completed".equals(ev.data().get("status"))) {
            throw new DwcpException(ErrorCode.IO_ERROR, "the destination's incoming migration " + ev.data().get("status"));
        }
        String st = dst.status();
        if (st.equals("paused")) {
            dst.execute("cont", Map.of());
            st = dst.status();
        }
        if (!st.equals("running")) {
            throw new DwcpException(ErrorCode.ILLEGAL_STATE, "the destination is '" + st + "' after loading the device"
                    + " state, expected 'running'");
        }
        return System.nanoTime();
    }

    /** Before the destination runs, every failure leaves the source running. */
    private void rollback(Qmp src, Throwable cause) {
        if (destinationRunning) {
            return;
        }
        System.err.println("dwcp qemu-migrate: migration failed before the destination ran: "
                + (destinationLost ? "the destination QEMU's QMP connection closed (destination gone); " : "")
                + DwcpException.local("migration", cause).getMessage());
        try {
            if (migrateStarted) {
                int mark = src.eventCount();
                try {
                    src.execute("migrate_cancel", Map.of());
                    // QEMU resumes the guest itself when the migration it stopped the guest for ends.
                    if (!END_STATES.contains(String.valueOf(src.query("query-migrate").get("status")))) {
                        src.awaitEvent(mark, e -> e.name().equals("MIGRATION")
                                && END_STATES.contains(String.valueOf(e.data().get("status"))), QMP_TIMEOUT,
                                "the cancelled migration to end");
                    }
                } catch (DwcpException e) {
                    System.err.println("dwcp qemu-migrate: migrate_cancel: " + e.getMessage());
                }
            }
            String s = src.status();
            if (!s.equals("running")) {
                src.execute("cont", Map.of());
            }
            System.err.println("dwcp qemu-migrate: the source guest is running again (" + src.status() + ")");
        } catch (RuntimeException e) {
            System.err.println("dwcp qemu-migrate: COULD NOT RESUME THE SOURCE GUEST: " + e.getMessage()
                    + "; resume it by hand (QMP 'cont')");
        }
    }

    /**
     * Compares the paused source RAM with the destination's replica byte for byte (both files must be reachable
     * here); {@code CHECKSUM_MISMATCH} naming the first differing offset when they differ.
     */
    private static void readFully(FileChannel ch, ByteBuffer dst, long position, Path file) throws IOException {
        while (dst.hasRemaining()) {
            if (ch.read(dst, position + dst.position()) < 0) {
                throw new IOException(file + " ended at byte " + (position + dst.position()) + " while it was compared");
            }
        }
    }

    static void compare(Path source, Path replica) throws IOException {
        try (FileChannel s = FileChannel.open(source, StandardOpenOption.READ);
             FileChannel r = FileChannel.open(replica, StandardOpenOption.READ)) {
            if (s.size() != r.size()) {
                throw new DwcpException(ErrorCode.CHECKSUM_MISMATCH, "replica " + replica + " is " + r.size()
                        + " bytes, source RAM " + s.size());
            }
            // Read calls, not mappings: both RAM files are mostly holes (memory the guest never touched), which a
            // read call copies as zeros while a read through a shared mapping allocates and zeroes a page for each.
            int window = 1 << 24;
            ByteBuffer x = ByteBuffer.allocateDirect(window);
            ByteBuffer y = ByteBuffer.allocateDirect(window);
            for (long off = 0; off < s.size(); off += window) {
                int len = (int) Math.min(window, s.size() - off);
                readFully(s, x.clear().limit(len), off, source);
                readFully(r, y.clear().limit(len), off, replica);
                int m = x.flip().mismatch(y.flip());
                if (m >= 0) {
                    throw new DwcpException(ErrorCode.CHECKSUM_MISMATCH, "replica " + replica + " differs from the"
                            + " paused source RAM at byte " + (off + m) + " (page " + (off + m) / 4096 + ")");
                }
            }
        }
    }
}
