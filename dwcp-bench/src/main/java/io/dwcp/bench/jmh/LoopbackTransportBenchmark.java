package io.dwcp.bench.jmh;

import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.transport.PayloadSource;
import io.dwcp.core.transport.Session;
import io.dwcp.core.transport.TransferKind;
import io.dwcp.core.transport.TransferRequest;
import io.dwcp.core.transport.TransferSink;
import io.dwcp.core.transport.TransportListener;
import io.dwcp.transport.netty.AmstTransport;
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

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * AMST on loopback: one plaintext session between two transports in this JVM, one transfer of {@code sizeMiB} of
 * incompressible bytes per operation (AMST does not compress), with default settings but the tier pinned (loopback
 * measures as LOCAL anyway). Beside it, the baseline: the same bytes through one plain loopback TCP connection
 * (blocking {@code SocketChannel}s, a reader thread that discards). Reports operations per second and
 * {@code payloadMB}: payload megabytes per second. Loopback has no RTT and no loss: this measures the transport's CPU
 * cost per byte, not WAN behaviour (for that, {@code dwcp-bench/scripts/bench-transport.sh}).
 *
 * <pre>java -jar dwcp-bench/target/benchmarks.jar LoopbackTransportBenchmark</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:MaxDirectMemorySize=2g", "-Dio.netty.leakDetection.level=disabled"})
public class LoopbackTransportBenchmark {
    /** Payload of one transfer. */
    @Param({"256"})
    public int sizeMiB;

    /** Streams of the session: {@code auto} (the controller's choice) or a fixed count. */
    @Param({"auto"})
    public String streams;

    private AmstTransport server;
    private AmstTransport client;
    private TransportListener listener;
    private Session session;
    private ByteBuffer payload;
    private ServerSocketChannel rawServer;
    private SocketChannel rawClient;
    private Thread rawReader;

    /** Secondary result: payload megabytes per second. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Throughput {
        /** Megabytes (10^6 bytes) of payload delivered. */
        public double payloadMB;

        @Setup(Level.Iteration)
        public void reset() {
            payloadMB = 0;
        }
    }

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        byte[] bytes = new byte[sizeMiB << 20];
        new Random(1).nextBytes(bytes);
        payload = ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
        DwcpConfig.Builder b = DwcpConfig.builder().set("dwcp.transport.tls.enabled", "false").set("dwcp.tier.pin", "local");
        if (!streams.equals("auto")) {
            b.set("dwcp.transport.min-streams", streams).set("dwcp.transport.initial-streams", streams)
                    .set("dwcp.transport.max-streams", streams);
        }
        DwcpConfig config = b.build();
        server = AmstTransport.create(ComponentContext.standalone(config, new SimpleMeterRegistry(), 1));
        client = AmstTransport.create(ComponentContext.standalone(config, new SimpleMeterRegistry(), 1));
        server.start();
        client.start();
        listener = server.listen(new InetSocketAddress("127.0.0.1", 0), (s, t) -> new Discard()).get(10, TimeUnit.SECONDS);
        session = client.connect(listener.localAddress(), (s, t) -> new Discard()).get(10, TimeUnit.SECONDS);

        rawServer = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        rawClient = SocketChannel.open(rawServer.getLocalAddress());
        SocketChannel accepted = rawServer.accept();
        rawReader = new Thread(() -> {
            ByteBuffer sink = ByteBuffer.allocateDirect(1 << 20);
            try (accepted) {
                while (accepted.read(sink.clear()) >= 0) {
                    // discard, as the AMST sink does
                }
            } catch (IOException e) {
                // the client closed at tear-down
            }
        }, "raw-loopback-reader");
        rawReader.setDaemon(true);
        rawReader.start();
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        session.close();
        listener.close();
        client.stop();
        server.stop();
        rawClient.close();
        rawServer.close();
        rawReader.join(10_000);
    }

    /**
     * One AMST transfer, complete when the receiver has acknowledged every byte.
     *
     * @param t throughput counter
     * @return the bytes delivered
     */
    @Benchmark
    public long amst(Throughput t) {
        long n = session.send(TransferRequest.of(TransferKind.OPAQUE, "bench", PayloadSource.of(payload.duplicate())))
                .completion().join().payloadBytes();
        t.payloadMB += n / 1e6;
        return n;
    }

    /**
     * Baseline: the same bytes written to one plain loopback TCP connection.
     *
     * @param t throughput counter
     * @return the bytes written
     * @throws IOException when the connection fails
     */
    @Benchmark
    public long rawTcp(Throughput t) throws IOException {
        ByteBuffer b = payload.duplicate();
        long n = b.remaining();
        while (b.hasRemaining()) {
            rawClient.write(b);
        }
        t.payloadMB += n / 1e6;
        return n;
    }

    /** Counts nothing, keeps nothing: a receiver that only acknowledges. */
    private static final class Discard implements TransferSink {
        @Override
        public void write(ByteBuffer data) {
            data.position(data.limit());
        }

        @Override
        public void complete() {
        }

        @Override
        public void fail(Throwable cause) {
        }
    }
}
