package io.dwcp.bench.jmh;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import io.dwcp.compression.HdeCodecProvider;
import io.dwcp.core.DataSize;
import io.dwcp.core.Tier;
import io.dwcp.core.config.CompressionKeys;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.BaselineRef;
import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.spi.DecodeResult;
import io.dwcp.core.spi.EncodeOptions;
import io.dwcp.core.spi.EncodeResult;
import io.dwcp.core.spi.StateCodec;
import io.dwcp.core.spi.StateDecoder;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.StateRegions;
import io.dwcp.core.state.VmState;
import io.dwcp.core.state.WritableRegion;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Micro: HDE on a {@value #WINDOW_MIB} MiB window of real guest RAM, beside plain zstd-jni at the same level
 * (the in-class baseline: 1 MiB blocks, HDE's default batch size). Not an end-to-end result; the whole-snapshot
 * comparison against the zstd CLI is {@code dwcp-bench/scripts/bench-hde.sh}.
 *
 * <ul>
 *   <li>{@code hdeDelta}: a delta of the window of s30 against the window of s0 (baseline acknowledged in setup).</li>
 *   <li>{@code hdeKeyframe} / {@code zstdCompress}: the window of s0, full state.</li>
 *   <li>{@code hdeKeyframeDecode} / {@code zstdDecompress}: decoding those (HDE verifies CRCs and the digest).</li>
 * </ul>
 * Data sets: {@code corpus} reads {@code $hde.corpus/s0.ram} and {@code s30.ram} (default {@code /var/tmp/vmcorpus/1g},
 * made by {@code ../shared/vmcorpus/make-corpus.sh}) at {@code offsetMiB}; {@code random} is the incompressible
 * negative control (s30 = s0 with 10 % of pages rewritten). Bytes per second = window bytes ÷ time per op. Workers: 2.
 *
 * <pre>java -cp dwcp-bench/target/dwcp.jar org.openjdk.jmh.Main HdeCodecBenchmark -prof gc -rf json -rff hde.json</pre>
 */
@State(Scope.Benchmark)
public class HdeCodecBenchmark extends MicroBenchmark {
    static final int WINDOW_MIB = 64;
    private static final int WINDOW = WINDOW_MIB << 20;
    private static final int BLOCK = 1 << 20;

    @Param({"corpus", "random"})
    public String data;

    @Param({"3"})
    public int level;

    @Param({"256"})
    public int offsetMiB;

    private StateCodec sender;
    private StateCodec receiver;
    private VmState<StateRegion> s0;
    private VmState<StateRegion> s30;
    private VmState<WritableRegion> replica;
    private ByteBuffer s0Buffer;
    private EncodeOptions deltaOptions;
    private EncodeOptions keyframeOptions;
    private List<ByteBuffer> keyframeFrames;
    private ZstdCompressCtx zstd;
    private ZstdDecompressCtx unzstd;
    private ByteBuffer zstdOut;
    private ByteBuffer zstdBack;
    private int[] zstdBlockLengths;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        byte[] a = new byte[WINDOW];
        byte[] b = new byte[WINDOW];
        if (data.equals("corpus")) {
            Path dir = Path.of(System.getProperty("hde.corpus", "/var/tmp/vmcorpus/1g"));
            read(dir.resolve("s0.ram"), a, offsetMiB);
            read(dir.resolve("s30.ram"), b, offsetMiB);
        } else {
            Random r = new Random(1);
            r.nextBytes(a);
            System.arraycopy(a, 0, b, 0, WINDOW);
            byte[] page = new byte[4096];
            for (int p = 0; p < WINDOW / 4096; p += 10) {
                r.nextBytes(page);
                System.arraycopy(page, 0, b, p * 4096, 4096);
            }
        }
        s0Buffer = ByteBuffer.allocateDirect(WINDOW).put(a).flip();
        ByteBuffer s30Buffer = ByteBuffer.allocateDirect(WINDOW).put(b).flip();
        s0 = VmState.of("bench", StateRegions.ofBuffer("ram", s0Buffer.asReadOnlyBuffer()));
        s30 = VmState.of("bench", StateRegions.ofBuffer("ram", s30Buffer.asReadOnlyBuffer()));
        replica = VmState.<WritableRegion>builder("bench").region(StateRegions.allocateDirect("ram", WINDOW)).build();

        DwcpConfig config = DwcpConfig.builder().set(CompressionKeys.LEVEL_REGIONAL, "zstd:" + level)
                .set(CompressionKeys.BASELINE_MAX_MEMORY, DataSize.ofMebibytes(512)).build();
        sender = new HdeCodecProvider().create(ComponentContext.standalone(config, new SimpleMeterRegistry(), 2));
        receiver = new HdeCodecProvider().create(ComponentContext.standalone(config, new SimpleMeterRegistry(), 2));
        sender.start();
        receiver.start();
        keyframeOptions = EncodeOptions.builder().tier(Tier.REGIONAL).forceKeyframe(true).build();
        keyframeFrames = new ArrayList<>();
        EncodeResult k = sender.encode(s0, keyframeOptions, f -> keyframeFrames.add(copy(f))).join();
        DecodeResult d = decode(keyframeFrames);
        sender.acknowledge(d.baseline());
        BaselineRef ref = d.baseline();
        deltaOptions = EncodeOptions.builder().tier(Tier.REGIONAL).peerBaseline(ref).build();
        if (k.encodedBytes() <= 0) {
            throw new IllegalStateException("empty keyframe");
        }

        zstd = new ZstdCompressCtx().setLevel(level).setChecksum(false);
        unzstd = new ZstdDecompressCtx();
        zstdOut = ByteBuffer.allocateDirect((int) Zstd.compressBound(WINDOW) + (WINDOW / BLOCK) * 64);
        zstdBack = ByteBuffer.allocateDirect(WINDOW);
        zstdBlockLengths = new int[WINDOW / BLOCK];
        zstdCompress();
    }

    private static void read(Path file, byte[] into, int offsetMiB) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer dst = ByteBuffer.wrap(into);
            long pos = (long) offsetMiB << 20;
            while (dst.hasRemaining()) {
                if (ch.read(dst, pos + dst.position()) < 0) {
                    throw new IOException(file + " is shorter than the benchmark window");
                }
            }
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IOException("corpus file " + file + " missing: run ../shared/vmcorpus/make-corpus.sh or -p data=random", e);
        }
    }

    private static ByteBuffer copy(ByteBuffer f) {
        ByteBuffer c = ByteBuffer.allocate(f.remaining());
        c.put(f).flip();
        return c;
    }

    private DecodeResult decode(List<ByteBuffer> frames) {
        try (StateDecoder d = receiver.newDecoder(replica)) {
            for (ByteBuffer f : frames) {
                d.accept(f.duplicate());
            }
            return d.finish();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        sender.stop();
        receiver.stop();
        zstd.close();
        unzstd.close();
    }

    /** Delta of the s30 window against the acknowledged s0 window; the returned size keeps the work alive. */
    @Benchmark
    public long hdeDelta() {
        return sender.encode(s30, deltaOptions, f -> { }).join().encodedBytes();
    }

    @Benchmark
    public long hdeKeyframe() {
        return sender.encode(s0, keyframeOptions, f -> { }).join().encodedBytes();
    }

    /** Plain zstd-jni at the same level over 1 MiB blocks: the baseline for {@link #hdeKeyframe()}. */
    @Benchmark
    public long zstdCompress() {
        long total = 0;
        for (int i = 0; i < WINDOW / BLOCK; i++) {
            int n = zstd.compressDirectByteBuffer(zstdOut, (int) total, zstdOut.capacity() - (int) total, s0Buffer, i * BLOCK, BLOCK);
            zstdBlockLengths[i] = n;
            total += n;
        }
        return total;
    }

    @Benchmark
    public long hdeKeyframeDecode() {
        return decode(keyframeFrames).stateBytes();
    }

    /** Plain zstd-jni decompression of {@link #zstdCompress()}'s blocks: the baseline for {@link #hdeKeyframeDecode()}. */
    @Benchmark
    public long zstdDecompress() {
        int in = 0;
        long total = 0;
        for (int i = 0; i < zstdBlockLengths.length; i++) {
            total += unzstd.decompressDirectByteBuffer(zstdBack, i * BLOCK, BLOCK, zstdOut, in, zstdBlockLengths[i]);
            in += zstdBlockLengths[i];
        }
        return total;
    }

}
