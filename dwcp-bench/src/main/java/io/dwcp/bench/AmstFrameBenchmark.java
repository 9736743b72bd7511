package io.dwcp.bench;

import io.dwcp.transport.wire.Frame;
import io.dwcp.transport.wire.FrameDecoder;
import io.dwcp.transport.wire.FrameHeader;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
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

import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Micro: cost per chunk of the AMST data path's CPU work, not an end-to-end result. {@code sealDataFrame}
 * writes a DATA header and CRC32C over a chunk already in a pooled direct buffer (what the sender does per chunk);
 * {@code decodeDataFrame} runs the {@link FrameDecoder} over one whole frame, CRC check included (what the receiver's
 * event loop does per chunk). Bytes per second = chunk size ÷ time per op.
 *
 * <pre>java -cp dwcp-bench/target/dwcp.jar org.openjdk.jmh.Main AmstFrameBenchmark -prof gc -rf json</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-Dio.netty.leakDetection.level=disabled"})
public class AmstFrameBenchmark {
    @Param({"65536", "262144", "1048576"})
    public int chunkBytes;

    private ByteBuf chunk;
    private ByteBuf wire;
    private EmbeddedChannel channel;

    @Setup(Level.Trial)
    public void setUp() {
        byte[] payload = new byte[chunkBytes];
        new Random(1).nextBytes(payload);
        chunk = PooledByteBufAllocator.DEFAULT.directBuffer(FrameHeader.HEADER_LENGTH + chunkBytes);
        chunk.writerIndex(FrameHeader.HEADER_LENGTH);
        chunk.writeBytes(payload);
        wire = PooledByteBufAllocator.DEFAULT.directBuffer(FrameHeader.HEADER_LENGTH + chunkBytes);
        FrameHeader.writeHeader(wire, FrameHeader.TYPE_DATA, 0, 1, 0, 0, chunkBytes);
        wire.writeBytes(payload);
        FrameHeader.sealCrc(wire, 0);
        channel = new EmbeddedChannel(new FrameDecoder(4 << 20));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        chunk.release();
        wire.release();
        channel.finishAndReleaseAll();
    }

    @Benchmark
    public int sealDataFrame() {
        chunk.writerIndex(0);
        FrameHeader.writeHeader(chunk, FrameHeader.TYPE_DATA, 0, 1, 0, 0, chunkBytes);
        chunk.writerIndex(FrameHeader.HEADER_LENGTH + chunkBytes);
        FrameHeader.sealCrc(chunk, 0);
        return chunk.getInt(FrameHeader.CRC_OFFSET);
    }

    @Benchmark
    public long decodeDataFrame() {
        channel.writeInbound(wire.retainedDuplicate());
        Frame f = channel.readInbound();
        long offset = f.offset() + f.payloadLengthBytes();
        f.release();
        return offset;
    }
}
