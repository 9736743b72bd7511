package io.dwcp.bench.jmh;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import io.dwcp.compression.HdeCodecProvider;
import io.dwcp.core.Tier;
import io.dwcp.core.config.CompressionKeys;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.spi.EncodeOptions;
import io.dwcp.core.spi.EncodeResult;
import io.dwcp.core.spi.StateCodec;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.StateRegions;
import io.dwcp.core.state.VmState;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

/**
 * HDE on whole guest-RAM snapshots, the cases {@code docs/benchmarks.md} quotes: the whole state ({@code full}: the
 * keyframe of {@code s0.ram}) and a delta round ({@code delta}: {@code TARGET.ram} against the acknowledged
 * {@code s0.ram}), beside plain zstd-jni over the same whole state in 1 MiB blocks at the same level (the in-class
 * baseline; single thread, as one {@code zstd} process without {@code -T}). Each reports throughput (the primary
 * score, rounds per second, and {@code inputMB}: megabytes of state per second) and the compression ratio: the
 * secondary {@code encodedMB} is encoded megabytes per second, so ratio = {@code inputMB} ÷ {@code encodedMB}, and
 * each trial prints {@code ratio CASE: R} (state bytes ÷ encoded bytes of its last operation; the encoding is
 * deterministic, so every operation has the same ratio). JMH sums "event" counters over iterations, which is why the
 * ratio is not one of them.
 *
 * <p>Data: the corpus directory {@code -p corpus=DIR}, else the environment variable {@code DWCP_CORPUS}, else
 * {@code /var/tmp/vmcorpus/1g}, holding {@code s0.ram} and the targets ({@code s1.ram}, {@code s5.ram},
 * {@code s30.ram}: the guest 1, 5 and 30 s later), as {@code ../shared/vmcorpus/make-corpus.sh} writes them. When a
 * file is missing the trial fails at once with a message saying which, and JMH goes on with the next benchmark.
 * The states are memory-mapped snapshots, as {@code dwcp send} reads them: the heap holds only the codec's indexes.
 *
 * <p>Settings: the defaults of {@code DwcpConfig} but the level ceiling ({@code -p level=zstd:3}, the level of the
 * quoted figures) and the codec's 2 worker threads; regional tier, no link rate (so the ceiling is the level).
 *
 * <pre>java -jar dwcp-bench/target/benchmarks.jar SnapshotBenchmark -p target=s1,s5,s30</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 5, time = 5)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:MaxDirectMemorySize=4g", "-Dio.netty.leakDetection.level=disabled"})
public class SnapshotBenchmark {
    /** Where the snapshots are looked for when neither {@code -Ddwcp.corpus} nor {@code DWCP_CORPUS} is set. */
    static final String DEFAULT_CORPUS = "/var/tmp/vmcorpus/1g";
    private static final int BLOCK = 1 << 20;

    /** The delta's target snapshot, against {@code s0}: {@code s1}, {@code s5} or {@code s30}. */
    @Param({"s1"})
    public String target;

    /** The corpus directory; {@code default}: {@code DWCP_CORPUS}, else {@value #DEFAULT_CORPUS}. */
    @Param({"default"})
    public String corpus;

    /** The level ceiling of HDE and the level of the zstd baseline. */
    @Param({"zstd:3"})
    public String level;

    private StateCodec codec;
    private VmState<StateRegion> s0;
    private VmState<StateRegion> next;
    private EncodeOptions keyframe;
    private EncodeOptions delta;
    private FileChannel s0Channel;
    private ByteBuffer s0Mapped;
    private ZstdCompressCtx zstd;
    private ByteBuffer zstdOut;

    /** Secondary results, normalised by time: state and encoded megabytes per second. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Throughput {
        /** Megabytes (10^6 bytes) of state encoded. */
        public double inputMB;
        /** Megabytes of encoded output. */
        public double encodedMB;
        /** Bytes of the last operation, for the ratio printed at the end of the trial. */
        long lastInput;
        long lastEncoded;
        String label;

        @Setup(Level.Iteration)
        public void reset() {
            inputMB = 0;
            encodedMB = 0;
        }

        void add(String what, long input, long encoded) {
            label = what;
            inputMB += input / 1e6;
            encodedMB += encoded / 1e6;
            lastInput = input;
            lastEncoded = encoded;
        }

        @TearDown(Level.Trial)
        public void printRatio() {
            if (lastEncoded > 0) {
                System.out.printf("%nratio %s: %.3f (%,d state bytes, %,d encoded bytes)%n", label,
                        (double) lastInput / lastEncoded, lastInput, lastEncoded);
            }
        }
    }

    /**
     * The corpus directory, checked for {@code files}.
     *
     * @param param the {@code corpus} parameter
     * @param files the snapshot files needed
     * @return the directory
     * @throws IllegalStateException naming what is missing and how to make or point at it
     */
    static Path corpus(String param, String... files) {
        String dir = !param.equals("default") ? param : System.getenv().getOrDefault("DWCP_CORPUS", DEFAULT_CORPUS);
        Path d = Path.of(dir);
        for (String f : files) {
            if (!Files.isReadable(d.resolve(f))) {
                throw new IllegalStateException("SKIPPED: no guest-RAM snapshot " + d.resolve(f) + "; point -p corpus=DIR"
                        + " (or the environment variable DWCP_CORPUS) at a directory with s0.ram and the targets, made by"
                        + " ../shared/vmcorpus/make-corpus.sh, or pass -p target= one of the snapshots it has");
            }
        }
        return d;
    }

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        Path dir = corpus(corpus, "s0.ram", target + ".ram");
        s0 = VmState.of("bench", StateRegions.mappedSnapshot(dir.resolve("s0.ram")));
        next = VmState.of("bench", StateRegions.mappedSnapshot(dir.resolve(target + ".ram")));
        DwcpConfig config = DwcpConfig.builder().set(CompressionKeys.LEVEL_REGIONAL, level).build();
        codec = new HdeCodecProvider().create(ComponentContext.standalone(config, new SimpleMeterRegistry(), 2));
        codec.start();
        keyframe = EncodeOptions.builder().tier(Tier.REGIONAL).forceKeyframe(true).build();
        EncodeResult k = codec.encode(s0, keyframe, f -> { }).join();
        codec.acknowledge(k.produced());
        delta = EncodeOptions.builder().tier(Tier.REGIONAL).peerBaseline(k.produced()).build();
        s0Channel = FileChannel.open(dir.resolve("s0.ram"), StandardOpenOption.READ);
        s0Mapped = s0Channel.map(FileChannel.MapMode.READ_ONLY, 0, s0Channel.size());
        zstd = new ZstdCompressCtx().setLevel(Integer.parseInt(level.substring(level.indexOf(':') + 1))).setChecksum(false);
        zstdOut = ByteBuffer.allocateDirect((int) Zstd.compressBound(BLOCK));
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        codec.stop();
        zstd.close();
        s0Channel.close();
    }

    private static long record(String what, EncodeResult r, Throughput t) {
        t.add(what, r.inputBytes(), r.encodedBytes());
        return r.encodedBytes();
    }

    /**
     * The whole state of {@code s0}, as a first round sends it.
     *
     * @param t throughput counters
     * @return the encoded size (keeps the work alive)
     */
    @Benchmark
    public long full(Throughput t) {
        return record("HDE full s0 " + level, codec.encode(s0, keyframe, f -> { }).join(), t);
    }

    /**
     * {@code TARGET} against the acknowledged {@code s0}, as a later round sends it (the codec compares every page:
     * no dirty log).
     *
     * @param t throughput counters
     * @return the encoded size
     */
    @Benchmark
    public long delta(Throughput t) {
        return record("HDE delta s0->" + target + " " + level, codec.encode(next, delta, f -> { }).join(), t);
    }

    /**
     * Baseline of {@link #full}: zstd-jni over {@code s0} in 1 MiB blocks, one thread.
     *
     * @param t throughput counters
     * @return the compressed size
     */
    @Benchmark
    public long zstdFull(Throughput t) {
        long in = s0Mapped.capacity();
        long out = 0;
        for (long off = 0; off < in; off += BLOCK) {
            int n = (int) Math.min(BLOCK, in - off);
            out += zstd.compressDirectByteBuffer(zstdOut, 0, zstdOut.capacity(), s0Mapped, (int) off, n);
        }
        t.add("zstd-jni full s0 " + level + " (1 MiB blocks, 1 thread)", in, out);
        return out;
    }
}
