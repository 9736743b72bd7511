package io.dwcp.bench;

import io.dwcp.compression.HdeCodecProvider;
import io.dwcp.core.DataSize;
import io.dwcp.core.DwcpException;
import io.dwcp.core.Tier;
import io.dwcp.core.config.CompressionKeys;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.spi.DecodeResult;
import io.dwcp.core.spi.EncodeOptions;
import io.dwcp.core.spi.EncodeResult;
import io.dwcp.core.spi.FrameSink;
import io.dwcp.core.spi.StateCodec;
import io.dwcp.core.spi.StateDecoder;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.StateRegions;
import io.dwcp.core.state.VmState;
import io.dwcp.core.state.WritableRegion;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletionException;

/**
 * {@code dwcp encode --target B [--baseline A] [--json]}: encodes a state file with HDE (a delta against A, or a full
 * state without A), decodes the frames back with a second, independent codec instance (the receiver), checks the
 * replica byte for byte against B and prints the page classes, ratio and speeds. With {@code --json} the last stdout
 * line is one JSON object ({@code ratio}, {@code encodeMBps}, {@code decodeMBps}, {@code verified}, …).
 *
 * <p>Timing: the encode of B is repeated {@code --repeat} times after {@code --warmup} untimed runs (JIT), and the
 * median is reported; so is the decode of B, the receiver's baseline dropped and (delta) seeded with A's keyframe
 * again before each run (its baseline advances with a decode). The first, cold encode and decode are reported too
 * ({@code encodeFirstSeconds}, {@code decodeFirstSeconds}). The keyframe of A that seeds the receiver is not timed.
 * MB = 10^6 bytes of state per second of wall time. Files are read with positional reads
 * ({@code -Ddwcp.encode.read=mmap} maps them instead); nothing is copied into the repository or the heap.
 */
final class EncodeCommand implements DwcpCli.Command {
    @Override
    public String summary() {
        return "encode a state (delta vs --baseline, or full) with HDE, decode it back, verify, report ratio and MB/s";
    }

    @Override
    public int run(String[] args) throws Exception {
        CliArgs a = new CliArgs(args,
                Set.of("baseline", "target", "level", "threads", "batch-size", "page-size", "warmup", "repeat", "key",
                        "splice"),
                Set.of("json", "help"));
        if (a.flag("help")) {
            System.err.println("usage: dwcp encode --target FILE [--baseline FILE] [--level zstd:3] [--threads N]"
                    + " [--batch-size 1MiB] [--splice auto|on|off] [--page-size 4KiB] [--warmup 1] [--repeat 3] [--json]");
            return 0;
        }
        Path target = CliArgs.regularFile("--target", a.require("target"));
        Path baseline = a.get("baseline") == null ? null : CliArgs.regularFile("--baseline", a.get("baseline"));
        String level = a.get("level", "zstd:3");
        int threads = Integer.parseInt(a.get("threads", String.valueOf(Runtime.getRuntime().availableProcessors())));
        int warmup = Integer.parseInt(a.get("warmup", "1"));
        int repeat = Math.max(1, Integer.parseInt(a.get("repeat", "3")));
        int pageSize = (int) DataSize.parse(a.get("page-size", "4KiB")).bytes();
        String key = a.get("key", "vm");
        boolean json = a.flag("json");
        if (!CompressionKeys.isLevel(level)) {
            throw new CliArgs.UsageException("--level " + level + ": expected none or zstd:-7 … zstd:19");
        }
        long size = Files.size(target);
        if (baseline != null && Files.size(baseline) != size) {
            throw new CliArgs.UsageException("--baseline is " + Files.size(baseline) + " bytes, --target " + size
                    + ": both must have the same size");
        }
        // The default baseline memory cap: a state above it keeps a file-backed baseline, as in a migration.
        DwcpConfig.Builder cb = DwcpConfig.builder()
                .set(CompressionKeys.LEVEL_LOCAL, level)
                .set(CompressionKeys.LEVEL_REGIONAL, level)
                .set(CompressionKeys.LEVEL_WAN, level)
                // B is measured against A however long A's keyframe took (a large state, a busy machine): the baseline
                // refresh that a migration applies after 5 minutes would turn the delta into a full state.
                .set(CompressionKeys.REFRESH_INTERVAL, Duration.ofHours(24))
                .set(CompressionKeys.MAX_AGE, Duration.ofDays(7));
        if (a.get("batch-size") != null) {
            cb.set(CompressionKeys.BATCH_SIZE, DataSize.parse(a.get("batch-size")));
        }
        if (a.get("splice") != null) {
            cb.set(CompressionKeys.SPLICE, a.get("splice"));
        }
        DwcpConfig config = cb.build();
        EncodeOptions.Builder ob = EncodeOptions.builder().tier(Tier.REGIONAL);

        HdeCodecProvider provider = new HdeCodecProvider();
        StateCodec sender = provider.create(ComponentContext.standalone(config, new SimpleMeterRegistry(), threads));
        StateCodec receiver = provider.create(ComponentContext.standalone(config, new SimpleMeterRegistry(), threads));
        sender.start();
        receiver.start();
        Path replicaFile = null;
        try (VmState<StateRegion> b = state(key, target, pageSize);
             VmState<StateRegion> base = baseline == null ? null : state(key, baseline, pageSize)) {
            VmState<WritableRegion> replica;
            if (size <= Integer.MAX_VALUE - 8) {
                replica = VmState.<WritableRegion>builder(key).pageSizeBytes(pageSize).lastPagePartial(true)
                        .region(StateRegions.allocateDirect("ram", (int) size)).build();
            } else {
                replicaFile = Files.createTempFile("dwcp-encode-replica", ".ram");
                replica = VmState.<WritableRegion>builder(key).pageSizeBytes(pageSize).lastPagePartial(true)
                        .region(StateRegions.fileReplica("ram", replicaFile, size)).build();
            }
            List<byte[]> seedFrames = new ArrayList<>();
            if (base != null) {
                // Seed both ends with A: keyframe, decoded and acknowledged (not timed). Its frames are kept to seed
                // the receiver again before each decode run.
                try (StateDecoder d = receiver.newDecoder(replica)) {
                    EncodeResult seed = join(sender.encode(base, EncodeOptions.keyframe(), f -> {
                        seedFrames.add(copy(f));
                        d.accept(f);
                    }));
                    DecodeResult dr = d.finish();
                    sender.acknowledge(dr.baseline());
                    if (!json) {
                        System.out.printf("baseline %s: keyframe %d -> %d bytes (ratio %.2f), acknowledged%n", baseline,
                                seed.inputBytes(), seed.encodedBytes(), seed.ratio());
                    }
                }
                ob.peerBaseline(receiver.baseline(key).orElseThrow());
                // Untimed, as in a migration where it overlaps the keyframe's transfer: the sender's indexes of A.
                sender.awaitBackgroundWork(key);
            } else {
                ob.forceKeyframe(true);
            }
            EncodeOptions options = ob.build();
            double encodeFirstSeconds = Double.NaN;
            for (int i = 0; i < warmup; i++) {
                long t0 = System.nanoTime();
                join(sender.encode(b, options, f -> { }));
                if (i == 0) {
                    encodeFirstSeconds = (System.nanoTime() - t0) / 1e9;
                }
            }
            double[] encodeSeconds = new double[repeat];
            List<byte[]> frames = new ArrayList<>();
            EncodeResult result = null;
            for (int i = 0; i < repeat; i++) {
                List<byte[]> collected = new ArrayList<>();
                long t0 = System.nanoTime();
                result = join(sender.encode(b, options, keeping(collected)));
                encodeSeconds[i] = (System.nanoTime() - t0) / 1e9;
                frames = collected;
            }
            // Decode runs: before each but the first the receiver drops its baseline of the key and, for a delta, is
            // seeded with A's keyframe again (untimed), so every run decodes B against A (or B's keyframe into a
            // receiver without a baseline), as a long-running receiver decodes one round after another. The first
            // runs warm the JIT.
            // The sender is done: its baselines of the key go, so no background work of its own (indexing a new
            // keyframe for the next delta) runs during the timed decodes.
            sender.drop(key);
            double[] decodeSeconds = new double[warmup + repeat];
            DecodeResult decoded = null;
            boolean verified = true;
            for (int i = 0; i < decodeSeconds.length; i++) {
                if (i > 0) {
                    receiver.drop(key);
                    if (base != null) {
                        decodeAll(receiver, replica, seedFrames);
                    }
                }
                long d0 = System.nanoTime();
                decoded = decodeAll(receiver, replica, frames);
                decodeSeconds[i] = (System.nanoTime() - d0) / 1e9;
                verified &= sameContent(b, replica);
            }
            double[] timedDecodes = Arrays.copyOfRange(decodeSeconds, warmup, decodeSeconds.length);
            double decodeMedian = median(timedDecodes);

            double encodeMedian = median(encodeSeconds);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("command", "encode");
            out.put("baseline", baseline == null ? null : baseline.toString());
            out.put("target", target.toString());
            out.put("mode", result.keyframe() ? "full" : "delta");
            out.put("level", level);
            out.put("threads", threads);
            out.put("inputBytes", result.inputBytes());
            out.put("encodedBytes", result.encodedBytes());
            out.put("ratio", result.ratio());
            out.put("encodeSeconds", encodeMedian);
            out.put("encodeRuns", toList(encodeSeconds));
            out.put("encodeMBps", result.inputBytes() / encodeMedian / 1e6);
            out.put("encodeFirstSeconds", Math.round((warmup > 0 ? encodeFirstSeconds : encodeSeconds[0]) * 1e4) / 1e4);
            out.put("decodeSeconds", decodeMedian);
            out.put("decodeRuns", toList(timedDecodes));
            out.put("decodeFirstSeconds", Math.round(decodeSeconds[0] * 1e4) / 1e4);
            out.put("decodeMBps", decoded.stateBytes() / decodeMedian / 1e6);
            out.put("verified", verified);
            out.put("pages", new TreeMap<>(result.pagesByClass()));
            if (!json) {
                System.out.printf("target %s: %s, %d -> %d bytes, ratio %.2f%n", target, out.get("mode"),
                        result.inputBytes(), result.encodedBytes(), result.ratio());
            }
            System.out.println("pages: " + new TreeMap<>(result.pagesByClass()));
            System.out.printf("encode %.3f s median of %s (%.1f MB/s), decode %.3f s median of %s (%.1f MB/s; first,"
                    + " cold: %.3f s), verified %s%n", encodeMedian, Arrays.toString(encodeSeconds), out.get("encodeMBps"),
                    decodeMedian, Arrays.toString(timedDecodes), out.get("decodeMBps"), decodeSeconds[0], verified);
            System.out.println(Json.write(out));
            return verified ? 0 : 1;
        } finally {
            sender.stop();
            receiver.stop();
            if (replicaFile != null) {
                Files.deleteIfExists(replicaFile);
            }
        }
    }

    /**
     * A sink that keeps every frame: a frame handed over in a whole array of its own is kept as it is. Batch frames
     * are lent from the codec's pooled direct buffers, so they are copied, as a transport copies them into its own
     * buffers (the default {@link FrameSink#acceptLent}).
     */
    private static FrameSink keeping(List<byte[]> frames) {
        return new FrameSink() {
            @Override
            public void accept(ByteBuffer frame) {
                frames.add(copy(frame));
            }

            @Override
            public void acceptOwned(ByteBuffer frame) {
                if (frame.hasArray() && frame.arrayOffset() == 0 && frame.position() == 0
                        && frame.remaining() == frame.array().length) {
                    frames.add(frame.array());
                } else {
                    accept(frame);
                }
            }
        };
    }

    private static byte[] copy(ByteBuffer frame) {
        byte[] copy = new byte[frame.remaining()];
        frame.duplicate().get(copy);
        return copy;
    }

    private static DecodeResult decodeAll(StateCodec codec, VmState<WritableRegion> replica, List<byte[]> frames) {
        try (StateDecoder d = codec.newDecoder(replica)) {
            for (byte[] f : frames) {
                d.accept(ByteBuffer.wrap(f));
            }
            return d.finish();
        }
    }

    private static VmState<StateRegion> state(String key, Path file, int pageSize) throws IOException {
        // Positional reads (pread) copy from the page cache without a page fault per 4 KiB, unlike a mapping.
        boolean mapped = "mmap".equals(System.getProperty("dwcp.encode.read"));
        return VmState.<StateRegion>builder(key).pageSizeBytes(pageSize).lastPagePartial(true)
                .region(mapped ? StateRegions.mapped(file) : StateRegions.ofFile(file)).build();
    }

    private static <T> T join(java.util.concurrent.CompletableFuture<T> f) {
        try {
            return f.join();
        } catch (CompletionException e) {
            DwcpException d = DwcpException.find(e);
            throw d != null ? d : e;
        }
    }

    private static boolean sameContent(VmState<StateRegion> expected, VmState<WritableRegion> actual) throws IOException {
        int chunk = 16 << 20;
        ByteBuffer x = ByteBuffer.allocateDirect(chunk);
        ByteBuffer y = ByteBuffer.allocateDirect(chunk);
        StateRegion e = expected.region(0);
        WritableRegion r = actual.region(0);
        if (e.sizeBytes() != r.sizeBytes()) {
            return false;
        }
        for (long off = 0; off < e.sizeBytes(); off += chunk) {
            int n = (int) Math.min(chunk, e.sizeBytes() - off);
            x.clear().limit(n);
            y.clear().limit(n);
            e.read(off, x);
            r.read(off, y);
            x.flip();
            y.flip();
            if (x.mismatch(y) >= 0) {
                return false;
            }
        }
        return true;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static List<Double> toList(double[] v) {
        List<Double> l = new ArrayList<>();
        for (double d : v) {
            l.add(Math.round(d * 1e4) / 1e4);
        }
        return l;
    }

}
