package io.dwcp.prediction;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/**
 * One path's recorded history in {@code dwcp.prediction.history-dir}: the goodput samples the predictor used and the
 * forecasts matched with their windows, appended as CSV, and read back to warm-start the path's forecasters when a
 * later process (the next migration's sender, say) first sees the path.
 *
 * <p>Files, per path ({@code STEM} is {@code peer-} and the URL-encoded peer name):
 * <ul>
 *   <li>{@code STEM.samples.csv}: {@code epoch_ms,goodput_bps,rtt_s,loss_ratio} (RTT and loss empty when not
 *       measured);</li>
 *   <li>{@code STEM.matched.csv}: {@code epoch_ms,horizon_s,mean_bps,p10_bps,p90_bps,actual_bps}, one line per
 *       forecast whose window closed at {@code epoch_ms}.</li>
 * </ul>
 * A file past {@link #rotateBytes} is renamed to {@code NAME.1} (replacing the previous one) and started afresh, so a
 * path keeps at most about twice that on disk. Reading takes at most the last {@code keep} valid sample lines of
 * {@code NAME.1} and {@code NAME}, and only the tail of a file larger than expected; a malformed, non-finite,
 * negative, out-of-order or future line is skipped and counted, never used.
 *
 * <p>Not thread-safe: its owner ({@code PbaPredictor}'s path state) calls it under the path's lock. An I/O error is
 * logged once and stops writing for this path; it never reaches the caller.
 */
final class PathHistory {
    private static final Logger LOG = LoggerFactory.getLogger(PathHistory.class);
    static final String SAMPLES = ".samples.csv";
    static final String MATCHED = ".matched.csv";
    /** Bytes a sample line takes at most, in practice (for sizing the rotation). */
    private static final int LINE_BYTES = 64;

    /** A recorded sample: time, goodput (bit/s), RTT (s, NaN when unknown), loss ratio (NaN when unknown). */
    record Recorded(long epochMillis, double goodput, double rttSeconds, double lossRatio) {
    }

    /** What {@link #read} found: the usable samples, oldest first, and how many lines it skipped. */
    record Read(List<Recorded> samples, long rejected) {
    }

    private final String peer;
    private final Path samplesFile;
    private final int keep;
    private final long rotateBytes;
    private final Appender samples;
    private final Appender matched;
    private boolean failed;
    private boolean closed;

    /**
     * @param dir the history directory (exists)
     * @param peer the path's peer name
     * @param keep samples a warm start uses at most (≥ 1)
     */
    PathHistory(Path dir, String peer, int keep) {
        if (keep < 1) {
            throw new IllegalArgumentException("keep must be at least 1, was " + keep);
        }
        this.peer = peer;
        String stem = stem(peer);
        this.samplesFile = dir.resolve(stem + SAMPLES);
        this.keep = keep;
        this.rotateBytes = Math.max(64 * 1024, (long) keep * LINE_BYTES);
        this.samples = new Appender(samplesFile);
        this.matched = new Appender(dir.resolve(stem + MATCHED));
    }

    /** File name stem of a peer: {@code peer-} and its URL encoding, shortened with a digest when long. */
    static String stem(String peer) {
        String enc = java.net.URLEncoder.encode(peer, StandardCharsets.UTF_8);
        if (enc.length() <= 160) {
            return "peer-" + enc;
        }
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(peer.getBytes(StandardCharsets.UTF_8));
            return "peer-" + enc.substring(0, 120) + "-" + HexFormat.of().formatHex(d, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
    }

    Path samplesFile() {
        return samplesFile;
    }

    /** Bytes after which a file is rotated. */
    long rotateBytes() {
        return rotateBytes;
    }

    /**
     * Reads the recorded samples: the last {@code keep} valid ones of the previous and the current file, oldest
     * first, none later than {@code notAfter}. A missing file is an empty history; an unreadable one is logged and
     * read as far as it could be.
     */
    Read read(Instant notAfter) {
        ArrayDeque<Recorded> out = new ArrayDeque<>();
        long[] state = {Long.MIN_VALUE, 0}; // last accepted time, rejected lines
        long limit = notAfter.toEpochMilli();
        for (Path p : List.of(rotated(samplesFile), samplesFile)) {
            try {
                readFile(p, limit, out, state);
            } catch (NoSuchFileException e) {
                // no history yet
            } catch (IOException | UncheckedIOException e) {
                LOG.warn("prediction history {} could not be read to the end ({}); using what was read", p, e.toString());
            }
        }
        return new Read(new ArrayList<>(out), state[1]);
    }

    private void readFile(Path p, long limit, ArrayDeque<Recorded> out, long[] state) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            long size = ch.size();
            boolean partial = size > 2 * rotateBytes;
            if (partial) {
                ch.position(size - 2 * rotateBytes); // only the tail: a file this long was not written by us alone
            }
            BufferedReader r = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
            if (partial) {
                r.readLine(); // the first line read from mid-file is a fragment
            }
            String line;
            while ((line = r.readLine()) != null) {
                if (line.length() > 256) {
                    state[1]++;
                    continue;
                }
                Recorded rec = parse(line);
                if (rec == null || rec.epochMillis() < state[0] || rec.epochMillis() > limit) {
                    state[1]++;
                    continue;
                }
                state[0] = rec.epochMillis();
                out.addLast(rec);
                if (out.size() > keep) {
                    out.removeFirst();
                }
            }
        }
    }

    /** One sample line, or null when it is not a valid one. */
    static Recorded parse(String line) {
        String[] f = line.split(",", -1);
        if (f.length != 4) {
            return null;
        }
        try {
            long t = Long.parseLong(f[0].trim());
            double g = Double.parseDouble(f[1].trim());
            double rtt = f[2].isBlank() ? Double.NaN : Double.parseDouble(f[2].trim());
            double loss = f[3].isBlank() ? Double.NaN : Double.parseDouble(f[3].trim());
            boolean ok = t >= 0 && Double.isFinite(g) && g >= 0
                    && (f[2].isBlank() || Double.isFinite(rtt) && rtt >= 0)
                    && (f[3].isBlank() || loss >= 0 && loss <= 1);
            return ok ? new Recorded(t, g, rtt, loss) : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** Appends one used sample. */
    void appendSample(Instant time, double goodput, double rttSeconds, double lossRatio) {
        append(samples, time.toEpochMilli() + "," + num(goodput) + "," + (Double.isNaN(rttSeconds) ? "" : num(rttSeconds))
                + "," + (Double.isNaN(lossRatio) ? "" : num(lossRatio)) + "\n");
    }

    /** Appends one matched forecast: made {@code horizon} before {@code time}, its window's realised mean. */
    void appendMatch(Instant time, Duration horizon, double mean, double low, double high, double actual) {
        append(matched, time.toEpochMilli() + "," + num(horizon.toMillis() / 1e3) + "," + num(mean) + "," + num(low)
                + "," + num(high) + "," + num(actual) + "\n");
    }

    private void append(Appender to, String line) {
        if (failed || closed) {
            return;
        }
        try {
            to.append(line);
        } catch (IOException e) {
            fail(e);
        }
    }

    /** Writes what is buffered to the files. */
    void flush() {
        if (failed || closed) {
            return;
        }
        try {
            samples.flush();
            matched.flush();
        } catch (IOException e) {
            fail(e);
        }
    }

    /** Flushes and closes the files; later calls write nothing. Idempotent. */
    void close() {
        if (closed) {
            return;
        }
        flush();
        closed = true;
        samples.close();
        matched.close();
    }

    private void fail(IOException e) {
        failed = true;
        LOG.warn("prediction history of {} not written from now on: {}", peer, e.toString());
        samples.close();
        matched.close();
    }

    private static Path rotated(Path file) {
        return file.resolveSibling(file.getFileName() + ".1");
    }

    /** One appended file: opened on first use, renamed to {@code NAME.1} past {@link #rotateBytes}. */
    private final class Appender {
        private final Path file;
        private BufferedWriter out;
        private long bytes;

        Appender(Path file) {
            this.file = file;
        }

        void append(String line) throws IOException {
            if (out == null) {
                out = open();
                bytes = Files.size(file);
            }
            if (bytes > rotateBytes) {
                out.close();
                Files.move(file, rotated(file), StandardCopyOption.REPLACE_EXISTING);
                out = open();
                bytes = 0;
            }
            out.write(line);
            bytes += line.length();
        }

        private BufferedWriter open() throws IOException {
            return Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND, StandardOpenOption.WRITE);
        }

        void flush() throws IOException {
            if (out != null) {
                out.flush();
            }
        }

        /** Closes the file, quietly; the next append reopens it (callers stop appending first). */
        void close() {
            if (out != null) {
                try {
                    out.close();
                } catch (IOException e) {
                    LOG.debug("closing {} failed", file, e);
                }
                out = null;
            }
        }
    }

    /** Whether writing stopped after an I/O error. */
    boolean failed() {
        return failed;
    }

    private static String num(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : String.format(Locale.ROOT, "%.6g", v);
    }
}
