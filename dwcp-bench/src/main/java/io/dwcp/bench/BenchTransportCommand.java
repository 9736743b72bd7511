package io.dwcp.bench;

import io.dwcp.core.DataSize;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.transport.InboundTransfer;
import io.dwcp.core.transport.PayloadSource;
import io.dwcp.core.transport.Session;
import io.dwcp.core.transport.TransferKind;
import io.dwcp.core.transport.TransferRequest;
import io.dwcp.core.transport.TransferResult;
import io.dwcp.core.transport.TransferSink;
import io.dwcp.core.transport.TransportListener;
import io.dwcp.transport.netty.AmstTransport;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code dwcp bench-transport}: one AMST transfer of synthetic bytes between two processes, for the benchmark script
 *. Server: {@code --listen HOST:PORT} (runs until killed, discards what it receives). Client:
 * {@code --to HOST:PORT --bytes 2g --streams auto|N [--json]}; the last stdout line is a JSON object with
 * {@code goodputMbps}, {@code streams}, {@code resentFrames} and more. The payload is generated on the fly from a
 * 4 MiB random block (never held whole in memory); AMST does not compress, so the content does not matter.
 */
final class BenchTransportCommand implements DwcpCli.Command {
    private static final Set<String> VALUES = NodeOptions.union(NodeOptions.TLS_VALUES, "listen", "to", "bytes", "streams",
            "max-streams", "rate-cap", "chunk", "adjust-interval");
    private static final Set<String> FLAGS = NodeOptions.union(NodeOptions.TLS_FLAGS, "json", "help");

    @Override
    public String summary() {
        return "AMST throughput: --listen HOST:PORT | --to HOST:PORT --bytes 2g --streams auto|N [--json]";
    }

    @Override
    public int run(String[] args) throws Exception {
        CliArgs a = new CliArgs(args, VALUES, FLAGS);
        if (a.flag("help")) {
            System.err.println("usage: bench-transport --listen HOST:PORT (" + NodeOptions.TLS_USAGE + ")\n"
                    + "       bench-transport --to HOST:PORT [--bytes 2g] [--streams auto|N] [--max-streams N]\n"
                    + "                       [--rate-cap 400Mbit/s] [--chunk 256KiB] [--adjust-interval 2s] [--json]\n"
                    + "                       (" + NodeOptions.TLS_USAGE + ")");
            return 0;
        }
        if ((a.get("listen") == null) == (a.get("to") == null)) {
            throw new CliArgs.UsageException("give exactly one of --listen HOST:PORT (server) or --to HOST:PORT (client)");
        }
        DwcpConfig config = config(a);
        AmstTransport transport = AmstTransport.create(ComponentContext.standalone(config, new SimpleMeterRegistry(),
                Math.max(1, Runtime.getRuntime().availableProcessors() / 2)));
        transport.start();
        try {
            return a.get("listen") != null ? serve(transport, NodeOptions.address(a.get("listen"))) : send(transport, a);
        } finally {
            transport.stop();
        }
    }

    private static DwcpConfig config(CliArgs a) {
        DwcpConfig.Builder b = NodeOptions.tls(a, DwcpConfig.builder());
        String streams = a.get("streams", "auto");
        if (!streams.equals("auto")) {
            int n = Integer.parseInt(streams);
            b.set("dwcp.transport.min-streams", Integer.toString(n));
            b.set("dwcp.transport.initial-streams", Integer.toString(n));
            b.set("dwcp.transport.max-streams", Integer.toString(n));
        } else if (a.get("max-streams") != null) {
            b.set("dwcp.transport.max-streams", a.get("max-streams"));
        }
        if (a.get("rate-cap") != null) {
            b.set("dwcp.transport.rate-cap", a.get("rate-cap"));
        }
        if (a.get("chunk") != null) {
            b.set("dwcp.transport.chunk-size", a.get("chunk"));
        }
        if (a.get("adjust-interval") != null) {
            b.set("dwcp.transport.adjust-interval", a.get("adjust-interval"));
        }
        return b.build();
    }

    private static int serve(AmstTransport transport, InetSocketAddress bind) throws Exception {
        AtomicLong total = new AtomicLong();
        TransportListener l = transport.listen(bind, (session, transfer) -> new CountingSink(transfer, total)).join();
        System.err.println("bench-transport: listening on " + l.localAddress() + " (Ctrl-C to stop)");
        new CountDownLatch(1).await();
        return 0;
    }

    private static int send(AmstTransport transport, CliArgs a) throws Exception {
        long bytes = DataSize.parse(a.get("bytes", "2g")).bytes();
        boolean json = a.flag("json");
        long cpu0 = cpuNanos();
        Session s = transport.connect(NodeOptions.address(a.get("to")), (session, t) -> new CountingSink(t, new AtomicLong())).join();
        long start = System.nanoTime();
        TransferResult r = s.send(new TransferRequest(TransferKind.OPAQUE, "bench", new SyntheticSource(bytes),
                (done, tot) -> progress(start, done, tot))).completion().join();
        long cpu = cpuNanos() - cpu0;
        int streamsAtEnd = s.activeStreams();
        s.close();
        double seconds = r.duration().toNanos() / 1e9;
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("command", "bench-transport");
        out.put("to", a.get("to"));
        out.put("bytes", bytes);
        out.put("seconds", round(seconds));
        out.put("goodputMbps", round(r.goodputBitsPerSecond() / 1e6));
        out.put("streams", r.streams());
        out.put("streamsAtEnd", streamsAtEnd);
        out.put("streamsMode", a.get("streams", "auto"));
        out.put("resentFrames", r.resentChunks());
        out.put("wireBytes", r.wireBytes());
        out.put("tls", !a.flag("plaintext"));
        out.put("rateCap", a.get("rate-cap", "none"));
        out.put("congestionControl", readSys("/proc/sys/net/ipv4/tcp_congestion_control"));
        out.put("clientCpuSeconds", round(cpu / 1e9));
        out.put("cores", Runtime.getRuntime().availableProcessors());
        out.put("jdk", System.getProperty("java.version"));
        System.err.println();
        if (!json) {
            System.out.printf("%d bytes in %.2f s: %.1f Mbit/s goodput, %d streams, %d chunks re-sent%n", bytes, seconds,
                    r.goodputBitsPerSecond() / 1e6, r.streams(), r.resentChunks());
        }
        System.out.println(Json.write(out));
        return 0;
    }

    private static volatile long lastPrint;

    private static void progress(long start, long done, long total) {
        long now = System.nanoTime();
        if (now - lastPrint < 1_000_000_000L && done < total) {
            return;
        }
        lastPrint = now;
        double s = (now - start) / 1e9;
        System.err.printf("\r%6.1f s  %,d / %,d bytes  %.0f Mbit/s   ", s, done, total, s > 0 ? done * 8 / s / 1e6 : 0);
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }

    private static long cpuNanos() {
        java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean) {
            return ((com.sun.management.OperatingSystemMXBean) os).getProcessCpuTime();
        }
        return -1;
    }

    private static String readSys(String path) {
        try {
            return Files.readString(Path.of(path)).trim();
        } catch (Exception e) {
            return "unknown";
        }
    }

    /** {@code bytes} of pseudo-random data cycled from a 4 MiB block: generated, never held whole. */
    static final class SyntheticSource implements PayloadSource {
        private final ByteBuffer block;
        private long remaining;
        private final long length;

        SyntheticSource(long bytes) {
            byte[] b = new byte[4 << 20];
            new Random(42).nextBytes(b);
            this.block = ByteBuffer.wrap(b);
            this.remaining = bytes;
            this.length = bytes;
        }

        @Override
        public long lengthBytes() {
            return length;
        }

        @Override
        public int read(ByteBuffer dst) {
            if (remaining == 0) {
                return -1;
            }
            int n = 0;
            while (dst.hasRemaining() && remaining > 0) {
                if (!block.hasRemaining()) {
                    block.rewind();
                }
                int k = (int) Math.min(Math.min(dst.remaining(), block.remaining()), remaining);
                ByteBuffer part = block.slice();
                part.limit(k);
                dst.put(part);
                block.position(block.position() + k);
                remaining -= k;
                n += k;
            }
            return n;
        }
    }

    /** Counts and discards what a peer sends; reports each transfer on stderr. */
    static final class CountingSink implements TransferSink {
        private final InboundTransfer transfer;
        private final AtomicLong total;
        private final long start = System.nanoTime();
        private long bytes;

        CountingSink(InboundTransfer transfer, AtomicLong total) {
            this.transfer = transfer;
            this.total = total;
        }

        @Override
        public void write(ByteBuffer data) {
            int n = data.remaining();
            data.position(data.limit());
            bytes += n;
        }

        @Override
        public void complete() {
            total.addAndGet(bytes);
            double s = (System.nanoTime() - start) / 1e9;
            System.err.printf("bench-transport: received transfer %d '%s': %,d bytes in %.2f s (%.1f Mbit/s at the sink)%n",
                    transfer.id(), transfer.key(), bytes, s, bytes * 8 / s / 1e6);
        }

        @Override
        public void fail(Throwable cause) {
            System.err.println("bench-transport: transfer " + transfer.id() + " failed: " + cause);
        }
    }
}
