package io.dwcp.transport.netty;

import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.config.TransportKeys;
import io.dwcp.core.transport.InboundTransfer;
import io.dwcp.core.transport.Session;
import io.dwcp.core.transport.TransferHandler;
import io.dwcp.core.transport.TransferSink;
import io.dwcp.core.transport.TransportListener;
import io.dwcp.core.testing.TestContext;

import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/** Two started transports on loopback, a listener, and a recording handler. Close it to stop both. */
final class Peers implements AutoCloseable {
    final AmstTransport server;
    final AmstTransport client;
    final TestContext serverContext;
    final TestContext clientContext;
    final TransportListener listener;
    final Recorder serverRecorder = new Recorder();
    final Recorder clientRecorder = new Recorder();

    Peers(UnaryOperator<DwcpConfig.Builder> tweak) throws Exception {
        this(tweak, tweak);
    }

    Peers(UnaryOperator<DwcpConfig.Builder> serverTweak, UnaryOperator<DwcpConfig.Builder> clientTweak) throws Exception {
        serverContext = TestContext.of(serverTweak.apply(base()).build());
        clientContext = TestContext.of(clientTweak.apply(base()).build());
        server = AmstTransport.create(serverContext);
        client = AmstTransport.create(clientContext);
        server.start();
        client.start();
        listener = server.listen(new InetSocketAddress("127.0.0.1", 0), serverRecorder).get(10, TimeUnit.SECONDS);
    }

    static DwcpConfig.Builder base() {
        return DwcpConfig.builder()
                .set(TransportKeys.TLS_ENABLED, false)
                .set("dwcp.transport.chunk-size", "64KiB")
                .set("dwcp.transport.reconnect.initial-backoff", "10ms")
                .set("dwcp.transport.heartbeat-interval", "100ms");
    }

    Session connect() throws Exception {
        return client.connect(listener.localAddress(), clientRecorder).get(10, TimeUnit.SECONDS);
    }

    AmstSession serverSession() {
        return server.sessions().iterator().next();
    }

    @Override
    public void close() throws Exception {
        client.stop();
        server.stop();
    }

    /** Records inbound transfers in memory (tests keep them small) and completes a future per key. */
    static final class Recorder implements TransferHandler {
        final Map<String, CompletableFuture<byte[]>> received = new ConcurrentHashMap<>();
        volatile SinkGate gate;
        /** When set, a sink's fail() throws it after recording the cause (a broken sink). */
        volatile RuntimeException failThrows;

        CompletableFuture<byte[]> future(String key) {
            return received.computeIfAbsent(key, k -> new CompletableFuture<>());
        }

        @Override
        public TransferSink onTransfer(Session session, InboundTransfer transfer) {
            CompletableFuture<byte[]> f = future(transfer.key());
            SinkGate g = gate;
            return new TransferSink() {
                final ByteArrayOutputStream out = new ByteArrayOutputStream();

                @Override
                public void write(ByteBuffer data) throws Exception {
                    byte[] b = new byte[data.remaining()];
                    data.get(b);
                    out.write(b);
                    if (g != null) {
                        g.wrote(out.size());
                    }
                }

                @Override
                public void complete() {
                    f.complete(out.toByteArray());
                }

                @Override
                public void fail(Throwable cause) {
                    f.completeExceptionally(cause);
                    RuntimeException broken = failThrows;
                    if (broken != null) {
                        throw broken;
                    }
                }
            };
        }
    }

    /** Lets a test hold the sink after some bytes (to act mid-transfer) without sleeping. */
    interface SinkGate {
        void wrote(long totalBytes) throws Exception;
    }
}
