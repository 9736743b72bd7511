package io.dwcp.bench;

import io.dwcp.core.DwcpManager;
import io.dwcp.core.migration.MigrationSender;
import io.dwcp.core.migration.RoundReport;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.StateRegions;
import io.dwcp.core.state.VmState;
import io.dwcp.transport.netty.AmstTransport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code dwcp send --to HOST:PORT --key NAME FILE...}: migrates a state whose successive versions are the FILEs —
 * the first round sends it whole, the later rounds only what changed (against the baseline the receiver confirmed;
 * if it has none, that round is a full one by itself). Prints a line per round; with {@code --json} the last stdout
 * line is a JSON object with {@code wallSeconds}, {@code wireBytes}, {@code inputBytes} and a {@code rounds} array.
 *
 * <p>The FILEs are snapshots ({@link StateRegions#mappedSnapshot}): the codec keeps views of the last file sent as its
 * baseline instead of a copy in memory, so a file must not change while this runs. After each round the command
 * checks that neither that round's file nor the one before it (its baseline) changed size or modification time, and
 * stops with an error if one did.
 *
 * <p>{@code --hand-over FROM:TO} ends the migration with its hand-over: once the last round is verified, the VM named
 * by {@code --key} moves from site FROM to site TO by a fenced compare-and-set committed through consensus
 * ({@code dwcp.consensus.peers} must name the group, e.g. as a {@code -D} system property). Exit status 1 when FROM no
 * longer owned the VM (the JSON's {@code handOver} names the real owner).
 */
final class SendCommand implements DwcpCli.Command {
    @Override
    public String summary() {
        return "migrate FILE... (successive versions of one state) to a receiver, in pre-copy rounds";
    }

    @Override
    public int run(String[] args) throws Exception {
        CliArgs a = new CliArgs(args, NodeOptions.union(NodeOptions.WITH_VALUE, "to", "key", "seed", "hand-over"), NodeOptions.FLAGS);
        if (a.flag("help") || a.positional().isEmpty()) {
            System.err.println("usage: dwcp send --to HOST:PORT --key NAME [--seed auto|always|never] [--hand-over FROM:TO] FILE... "
                    + NodeOptions.USAGE);
            return a.flag("help") ? 0 : 2;
        }
        String key = a.require("key");
        List<Path> files = new ArrayList<>();
        for (String f : a.positional()) {
            files.add(CliArgs.regularFile("FILE", f));
        }
        boolean json = a.flag("json");
        String[] handOver = handOverSites(a.get("hand-over"));
        Map<String, Object> handOverResult = null;
        List<RoundReport> reports = new ArrayList<>();
        long start = System.nanoTime();
        // The connection code warms up while the configuration and the manager are built.
        AmstTransport.warmUpInBackground();
        try (DwcpManager manager = NodeOptions.manager(NodeOptions.config(a))) {
            manager.start();
            try (MigrationSender sender = manager.openMigration(NodeOptions.address(a.require("to"))).join()) {
                ProgressBar bar = ProgressBar.forTerminal();
                sender.progress(bar);
                sender.seeding(seedMode(a.get("seed", "auto")));
                FileStamp previous = null;
                for (Path file : files) {
                    FileStamp stamp = FileStamp.of(file);
                    try (StateRegion region = StateRegions.mappedSnapshot(file)) {
                        VmState<StateRegion> state = VmState.<StateRegion>builder(key).region(region).lastPagePartial(true).build();
                        bar.label(file.getFileName().toString());
                        RoundReport r = sender.sendRound(state, null);
                        bar.done();
                        reports.add(r);
                        System.out.println(describe(r, file));
                    }
                    if (previous != null) {
                        previous.checkUnchanged();
                    }
                    stamp.checkUnchanged();
                    previous = stamp;
                }
            }
            if (handOver != null) {
                handOverResult = HandOver.commit(manager.consensus(), key, handOver[0], handOver[1]);
            }
        }
        double wall = (System.nanoTime() - start) / 1e9;
        long wire = 0;
        long input = 0;
        for (RoundReport r : reports) {
            wire += r.wireBytes();
            input += r.inputBytes();
        }
        System.out.printf("%d round(s), %,d bytes of state in %,d wire bytes (ratio %.1f) in %.2f s%n",
                reports.size(), input, wire, wire == 0 ? 0 : (double) input / wire, wall);
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("key", key);
            m.put("wallSeconds", wall);
            m.put("inputBytes", input);
            m.put("wireBytes", wire);
            m.put("ratio", wire == 0 ? 0 : (double) input / wire);
            List<Object> rounds = new ArrayList<>();
            for (int i = 0; i < reports.size(); i++) {
                rounds.add(toJson(reports.get(i), files.get(i)));
            }
            m.put("rounds", rounds);
            if (handOverResult != null) {
                m.put("handOver", handOverResult);
            }
            System.out.println(Json.write(m));
        }
        return handOverResult == null || Boolean.TRUE.equals(handOverResult.get("applied")) ? 0 : 1;
    }

    /** {@code --hand-over FROM:TO}: the sites of the ownership hand-over committed after the last round; null if absent. */
    private static String[] handOverSites(String value) {
        if (value == null) {
            return null;
        }
        String[] p = value.split(":", -1);
        if (p.length != 2 || p[0].isEmpty() || p[1].isEmpty() || p[0].equals(p[1])) {
            throw new CliArgs.UsageException("--hand-over takes FROM:TO, two different site names, not '" + value + "'");
        }
        return p;
    }

    /** What tells a snapshot file changed: its identity, size and modification time ({@code IO_ERROR} when it did). */
    record FileStamp(Path path, Object fileKey, long sizeBytes, java.nio.file.attribute.FileTime modified) {
        static FileStamp of(Path path) throws IOException {
            BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
            return new FileStamp(path, a.fileKey(), a.size(), a.lastModifiedTime());
        }

        void checkUnchanged() throws IOException {
            if (!equals(of(path))) {
                throw new io.dwcp.core.DwcpException(io.dwcp.core.ErrorCode.IO_ERROR, path + " changed while dwcp send "
                        + "used it as a snapshot; the receiver's replica may not match any version of it. Send again "
                        + "from files that stay unchanged.");
            }
        }
    }

    /** The {@code --seed} value: when a round without a confirmed baseline asks for the receiver's replica. */
    static io.dwcp.core.migration.SeedMode seedMode(String value) {
        try {
            return io.dwcp.core.migration.SeedMode.valueOf(value.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new CliArgs.UsageException("--seed takes auto, always or never, not '" + value + "'");
        }
    }

    static String describe(RoundReport r, Path file) {
        return String.format("round %d (%s%s%s)%s: %,d bytes -> %,d wire bytes (ratio %.1f) in %.2f s, %.0f Mbit/s on %d stream(s)",
                r.round(), r.mode().name().toLowerCase(java.util.Locale.ROOT), r.fallback() ? ", fallback" : "",
                r.seedBytes() > 0 ? String.format(", seed exchange %,d bytes", r.seedBytes()) : "", file == null ? "" : " " + file.getFileName(),
                r.inputBytes(), r.wireBytes(), r.ratio(), r.duration().toNanos() / 1e9, r.goodputBitsPerSecond() / 1e6, r.streams());
    }

    static Map<String, Object> toJson(RoundReport r, Path file) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("round", r.round());
        if (file != null) {
            m.put("file", file.toString());
        }
        m.put("keyframe", r.keyframe());
        m.put("fallback", r.fallback());
        m.put("mode", r.mode().name().toLowerCase(java.util.Locale.ROOT));
        m.put("seedBytes", r.seedBytes());
        m.put("inputBytes", r.inputBytes());
        m.put("encodedBytes", r.encodedBytes());
        m.put("wireBytes", r.wireBytes());
        m.put("ratio", r.ratio());
        m.put("seconds", r.duration().toNanos() / 1e9);
        m.put("goodputMbps", r.goodputBitsPerSecond() / 1e6);
        m.put("streams", r.streams());
        m.put("pages", new LinkedHashMap<>(r.pagesByClass()));
        return m;
    }
}
