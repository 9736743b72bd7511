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
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * {@code dwcp qemu-migrate}: live migration of a running QEMU guest whose RAM is a shared file
 * ({@code -object memory-backend-file,mem-path=FILE,share=on}). DWCP moves the RAM in pre-copy rounds while the guest
 * runs, then QEMU moves only the device state ({@code x-ignore-shared}):
 *
 * <ol>
 *   <li>the destination QEMU (started with {@code -incoming defer} and a memory-backend-file of the same size, whose
 *       file {@code dwcp receive --into KEY=FILE} writes in place) gets {@code x-ignore-shared} and
 *       {@code migrate-incoming}; the source gets {@code x-ignore-shared} and {@code pause-before-switchover};</li>
 *   <li>pre-copy rounds of {@code --ram} while the guest runs, until the loop's stop rule;</li>
 *   <li>QMP {@code migrate} on the source: QEMU connects to the destination, sends what is not in the shared file (ROMs),
 *       stops the guest and waits in {@code pre-switchover}; the final round runs in that pause (byte-exact, verified
 *       by the receiver's digest);</li>
 *   <li>{@code migrate-continue}: QEMU sends the device state over the connection it already opened, and the
 *       destination starts the guest once it has loaded it ({@code cont} if it stays paused).</li>
 * </ol>
 *
 * <p>The destination can only load device state after the final round committed, so it never runs on an unverified
 * replica. Any failure before the destination runs resumes the source ({@code migrate_cancel}, after which QEMU
 * resumes the guest it stopped; then {@code cont} if it is still paused) and names the cause. Prints a line per round,
 * a summary and the downtime's phases; with {@code --json} the last stdout line is one JSON object (rounds, total time,
 * downtime and its phases, wire bytes).
 */
final class QemuMigrateCommand implements DwcpCli.Command {
    private static final Duration QMP_TIMEOUT = Duration.ofSeconds(30);
    /** How long the manager's start and the session to the receiver may take. */
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(60);
    /** How long QEMU may take to connect to the destination, or to move and load the device state. */
    private static final Duration MIGRATE_TIMEOUT = Duration.ofSeconds(120);
    private static final java.util.Set<String> END_STATES = java.util.Set.of("completed", "failed", "cancelled");

    @Override
    public String summary() {
        return "live-migrate a running QEMU guest: RAM by DWCP pre-copy rounds, device state by QEMU (x-ignore-shared)";
    }

    static final String USAGE = "usage: dwcp qemu-migrate --qmp SOCKET --ram FILE --to HOST:PORT --key NAME"
            + " --dest-qmp SOCKET|tcp:HOST:PORT [--migrate-uri tcp:HOST:PORT] [--downtime 300ms] [--max-rounds N]"
            + " [--verify-replica FILE] [--seed always|auto|never] " + NodeOptions.USAGE;

    @Override
    public int run(String[] args) throws Exception {
        CliArgs a = new CliArgs(args, NodeOptions.union(NodeOptions.WITH_VALUE, "qmp", "ram", "to", "key", "dest-qmp",
                "migrate-uri", "downtime", "max-rounds", "verify-replica", "seed"), NodeOptions.FLAGS);
        if (a.flag("help")) {
            System.err.println(USAGE);
            return 0;
        }
        Path ram = CliArgs.regularFile("--ram", a.require("ram"));
        String key = a.require("key");
        String to = a.require("to");
        NodeOptions.address(to);
        String migrateUri = a.get("migrate-uri", "tcp:" + to.substring(0, to.lastIndexOf(':')) + ":4444");
        if (!migrateUri.startsWith("tcp:")) {
            throw new CliArgs.UsageException("--migrate-uri must be tcp:HOST:PORT, got " + migrateUri);
        }
        Duration downtime = duration("--downtime", a.get("downtime", "300ms"));
        Path verify = a.get("verify-replica") == null ? null : CliArgs.regularFile("--verify-replica", a.get("verify-replica"));
        boolean json = a.flag("json");
        Run run = new Run(a, ram, key, to, migrateUri, downtime, verify, json);
        return run.execute();
    }

    /** {@code 300ms}, {@code 1.5s}: a duration of 10 ms to 60 s. */
    static Duration duration(String option, String text) {
        try {
            double ms;
            if (text.endsWith("ms")) {
                ms = Double.parseDouble(text.substring(0, text.length() - 2));
            } else if (text.endsWith("s")) {
                ms = Double.parseDouble(text.substring(0, text.length() - 1)) * 1000;
            } else {
                throw new NumberFormatException();
            }
            if (!(ms >= 10 && ms <= 60_000)) {
                throw new CliArgs.UsageException(option + " must be 10ms to 60s, got " + text);
            }
            return Duration.ofNanos((long) (ms * 1e6));
        } catch (NumberFormatException e) {
            throw new CliArgs.UsageException(option + " takes a duration such as 300ms or 1.5s, got '" + text + "'");
        }
    }

    /** One migration: the steps, the timings, and the rollback. */
    private static final class Run {
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

        Run(CliArgs a, Path ram, String key, String to, String migrateUri, Duration downtime, Path verify, boolean json) {
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
            Startup startup = new Startup(start);
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
                Phases p = new Phases(stoppedNanos - switchAsked, pausedSeenNanos - stoppedNanos, result,
                        resumeAsked - committed - verifyNanos, sourceDone - resumeAsked, running - sourceDone,
                        running - stoppedNanos - verifyNanos);
                double total = (running - start - verifyNanos) / 1e9;
                report(result, rounds, m, total, p, verifySeconds, startup, roundEnds);
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

        private void report(Migration.Result result, List<RoundReport> rounds, Map<String, Object> qemu, double total,
                            Phases p, double verifySeconds, Startup startup, List<Long> roundEnds) {
            // Between rounds: the link idles from one round's end (its commit seen here) to the next round's start.
            List<Double> gaps = new ArrayList<>();
            long previous = startup.last();
            for (int i = 0; i < rounds.size() && i < roundEnds.size(); i++) {
                long began = roundEnds.get(i) - rounds.get(i).duration().toNanos();
                gaps.add((began - previous) / 1e6);
                previous = roundEnds.get(i);
            }
            long wire = 0;
            for (RoundReport r : rounds) {
                wire += r.wireBytes();
            }
            double down = p.downtimeNanos() / 1e9;
            Object qemuBytes = qemu.get("ram") instanceof Map<?, ?> r ? r.get("transferred") : null;
            if (json) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("key", key);
                m.put("stopReason", result.stopReason());
                m.put("predictedFinalRoundSeconds", result.predictedFinalRound().toNanos() / 1e9);
                m.put("totalSeconds", total);
                m.put("downtimeSeconds", down);
                m.put("finalRoundSeconds", result.downtime().toNanos() / 1e9);
                m.put("downtimePhasesMs", p.downtimeMillis());
                m.put("switchoverToStopMs", p.switchToStop() / 1e6);
                m.put("startupMs", startup.millis());
                m.put("gapBeforeRoundMs", gaps);
                m.put("dwcpWireBytes", wire);
                m.put("qemuTransferredBytes", qemuBytes);
                m.put("qemuDowntimeMs", qemu.get("downtime"));
                m.put("verifySeconds", verifySeconds < 0 ? null : verifySeconds);
                m.put("replicaVerified", verifySeconds >= 0);
                List<Object> rs = new ArrayList<>();
                for (RoundReport r : rounds) {
                    Map<String, Object> j = SendCommand.toJson(r, null);
                    j.put("encodeSeconds", r.encodeDuration().toNanos() / 1e9);
                    rs.add(j);
                }
                m.put("rounds", rs);
                System.out.println(Json.write(m));
            } else {
                System.out.printf("migrated %s: %d round(s) (stop: %s, final round predicted %.3f s), %,d DWCP wire bytes,"
                        + " total %.2f s, downtime %.3f s (source stop to destination running; final round %.3f s)%s%n",
                        key, rounds.size(), result.stopReason(), result.predictedFinalRound().toNanos() / 1e9, wire,
                        total, down, result.downtime().toNanos() / 1e9, verifySeconds < 0 ? ""
                                : String.format(", replica byte-exact (compared in %.2f s, not counted)", verifySeconds));
                StringBuilder b = new StringBuilder("downtime breakdown (ms):");
                p.downtimeMillis().forEach((k, v) -> b.append(String.format(" %s %.1f,", k, v)));
                b.setLength(b.length() - 1);
                System.out.println(b + String.format("; before it, migrate to STOP %.1f ms (the guest ran)", p.switchToStop() / 1e6));
                StringBuilder s = new StringBuilder("before round 0 (ms):");
                startup.millis().forEach((k, v) -> s.append(String.format(" %s %.1f,", k, v)));
                s.setLength(s.length() - 1);
                System.out.println(s + "; link idle before each round (ms): " + gaps.stream()
                        .map(g -> String.format("%.1f", g)).collect(java.util.stream.Collectors.joining(", ")));
            }
        }
    }

    /** What the command did before round 0 began, in order: each step's time since the previous one. */
    static final class Startup {
        private final Map<String, Long> marks = new LinkedHashMap<>();
        private long last;

        Startup(long start) {
            this.last = start;
        }

        void mark(String step) {
            long now = System.nanoTime();
            marks.put(step, now - last);
            last = now;
        }

        long last() {
            return last;
        }

        Map<String, Double> millis() {
            Map<String, Double> m = new LinkedHashMap<>();
            marks.forEach((k, v) -> m.put(k, v / 1e6));
            return m;
        }
    }

    /**
     * Where the time of a migration's pause went (nanoseconds). The downtime runs from the source's STOP to the
     * destination seen running, less the replica comparison of {@code --verify-replica}.
     *
     * @param switchToStop {@code migrate} sent to the guest stopped (QEMU connecting to the destination; the guest runs)
     * @param stopToPaused STOP to the pre-switchover pause seen here
     * @param result the loop's result (its final round and the time from the pause to its commit)
     * @param commitToContinue the final round's commit to {@code migrate-continue} sent (less the comparison)
     * @param continueToSourceDone {@code migrate-continue} to the source's migration completed (device state sent)
     * @param sourceDoneToRunning that to the destination seen running (device state loaded, guest started)
     * @param downtimeNanos the whole pause
     */
    record Phases(long switchToStop, long stopToPaused, Migration.Result result, long commitToContinue,
                  long continueToSourceDone, long sourceDoneToRunning, long downtimeNanos) {
        /** {@return the phases of the pause in order, in milliseconds; {@code other} is what none of them covers} */
        Map<String, Double> downtimeMillis() {
            RoundReport f = result.finalRound();
            long encode = f.encodeDuration().toNanos();
            long transfer = f.duration().toNanos() - encode;
            long roundStart = result.downtime().toNanos() - f.duration().toNanos();
            Map<String, Double> m = new LinkedHashMap<>();
            m.put("stop", stopToPaused / 1e6);
            m.put("finalRoundStart", roundStart / 1e6);
            m.put("finalScanEncode", encode / 1e6);
            m.put("finalTransferCommit", transfer / 1e6);
            m.put("toContinue", commitToContinue / 1e6);
            m.put("deviceState", continueToSourceDone / 1e6);
            m.put("destinationStart", sourceDoneToRunning / 1e6);
            long named = stopToPaused + roundStart + encode + transfer + commitToContinue + continueToSourceDone
                    + sourceDoneToRunning;
            m.put("other", (downtimeNanos - named) / 1e6);
            return m;
        }
    }

    /**
     * Compares the paused source RAM with the destination's replica byte for byte (both files must be reachable
     * here); {@code CHECKSUM_MISMATCH} naming the first differing offset when they differ.
     */
    static void compare(Path source, Path replica) throws IOException {
        try (FileChannel s = FileChannel.open(source, StandardOpenOption.READ);
             FileChannel r = FileChannel.open(replica, StandardOpenOption.READ)) {
            if (s.size() != r.size()) {
                throw new DwcpException(ErrorCode.CHECKSUM_MISMATCH, "replica " + replica + " is " + r.size()
                        + " bytes, source RAM " + s.size());
            }
            long window = 1L << 28;
            for (long off = 0; off < s.size(); off += window) {
                long len = Math.min(window, s.size() - off);
                MappedByteBuffer x = s.map(FileChannel.MapMode.READ_ONLY, off, len);
                MappedByteBuffer y = r.map(FileChannel.MapMode.READ_ONLY, off, len);
                int m = x.mismatch(y);
                if (m >= 0) {
                    throw new DwcpException(ErrorCode.CHECKSUM_MISMATCH, "replica " + replica + " differs from the"
                            + " paused source RAM at byte " + (off + m) + " (page " + (off + m) / 4096 + ")");
                }
            }
        }
    }
}
