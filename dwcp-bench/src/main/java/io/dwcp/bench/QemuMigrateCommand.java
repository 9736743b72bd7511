package io.dwcp.bench;

import java.nio.file.Path;
import java.time.Duration;

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
 *
 * <p>This class reads the options; {@link QemuMigrationRun} runs the QMP sequence, the rounds and the rollback, and
 * {@link QemuMigrationReport} prints what it measured.
 */
final class QemuMigrateCommand implements DwcpCli.Command {
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
        QemuMigrationRun run = new QemuMigrationRun(a, ram, key, to, migrateUri, downtime, verify, json);
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
}
