package io.dwcp.sync;

import io.dwcp.core.Health;
import io.dwcp.core.transport.PayloadSource;
import io.dwcp.core.transport.Session;
import io.dwcp.core.transport.Transfer;
import io.dwcp.core.transport.TransferHandler;
import io.dwcp.core.transport.TransferRequest;
import io.dwcp.core.transport.TransferResult;
import io.dwcp.core.transport.Transport;
import io.dwcp.core.transport.TransportListener;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Test harness: wraps a real transport and injects faults at message boundaries on every send — a message sent twice
 * (duplicate), held back 1–50 ms so that later messages overtake it (reordering), or lost after the sender handed it
 * over (drop: the send reports success, as a message lost in the network would). The bytes still travel over the
 * wrapped transport's sockets. The probabilities can be changed while running ({@link #faults}). Thread-safe.
 */
final class MessageFaultTransport implements Transport {
    private final Transport delegate;
    private volatile double duplicateProbability;
    private volatile double delayProbability;
    private volatile double dropProbability;
    private volatile boolean refusing;
    private final Random random;
    private ScheduledExecutorService timer;

    MessageFaultTransport(Transport delegate, double duplicateProbability, double delayProbability, long seed) {
        this.delegate = delegate;
        this.duplicateProbability = duplicateProbability;
        this.delayProbability = delayProbability;
        this.random = new Random(seed);
    }

    /** Sets the fault probabilities (each 0–1, their sum at most 1); 0, 0, 0 turns message faults off. */
    void faults(double drop, double duplicate, double delay) {
        this.dropProbability = drop;
        this.duplicateProbability = duplicate;
        this.delayProbability = delay;
    }

    /**
     * While on, every send fails as a transfer the receiver refused does ({@code LIMIT_EXCEEDED}, as when the peer
     * already has max-transfers-per-peer inbound transfers open): nothing is delivered and the sender sees the failure.
     */
    void refusing(boolean on) {
        this.refusing = on;
    }

    @Override
    public String name() {
        return delegate.name();
    }

    @Override
    public void start() throws Exception {
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "message-fault-timer");
            t.setDaemon(true);
            return t;
        });
        delegate.start();
    }

    @Override
    public void stop() throws Exception {
        timer.shutdownNow();
        delegate.stop();
    }

    @Override
    public Health health() {
        return delegate.health();
    }

    @Override
    public CompletableFuture<TransportListener> listen(InetSocketAddress bindAddress, TransferHandler handler) {
        return delegate.listen(bindAddress, wrap(handler));
    }

    @Override
    public CompletableFuture<Session> connect(InetSocketAddress remoteAddress, TransferHandler handler) {
        return delegate.connect(remoteAddress, wrap(handler)).thenApply(this::wrap);
    }

    private TransferHandler wrap(TransferHandler h) {
        return (session, transfer) -> h.onTransfer(wrap(session), transfer);
    }

    private synchronized double roll() {
        return random.nextDouble();
    }

    private synchronized int delayMillis() {
        return 1 + random.nextInt(50);
    }

    private Session wrap(Session s) {
        return new Session() {
            @Override
            public String id() {
                return s.id();
            }

            @Override
            public InetSocketAddress remoteAddress() {
                return s.remoteAddress();
            }

            @Override
            public int activeStreams() {
                return s.activeStreams();
            }

            @Override
            public io.dwcp.core.Tier tier() {
                return s.tier();
            }

            @Override
            public boolean isOpen() {
                return s.isOpen();
            }

            @Override
            public Transfer send(TransferRequest request) {
                byte[] bytes = drain(request.source());
                if (refusing) {
                    return completed(CompletableFuture.failedFuture(new io.dwcp.core.DwcpException(
                            io.dwcp.core.ErrorCode.LIMIT_EXCEEDED, "transfer refused by the peer (test: refusing)")));
                }
                double r = roll();
                double drop = dropProbability;
                if (r < drop) {
                    // lost on the way: the sender sees a completed transfer, the receiver nothing
                    CompletableFuture<TransferResult> done = CompletableFuture.completedFuture(
                            new TransferResult(bytes.length, 0, java.time.Duration.ZERO, 0, 0));
                    return completed(done);
                }
                r -= drop;
                if (r < duplicateProbability) {
                    s.send(copy(request, bytes));
                    return s.send(copy(request, bytes));
                }
                if (r < duplicateProbability + delayProbability) {
                    CompletableFuture<TransferResult> done = new CompletableFuture<>();
                    timer.schedule(() -> {
                        try {
                            s.send(copy(request, bytes)).completion().whenComplete((v, e) -> {
                                if (e != null) {
                                    done.completeExceptionally(e);
                                } else {
                                    done.complete(v);
                                }
                            });
                        } catch (RuntimeException e) {
                            done.completeExceptionally(e);
                        }
                    }, delayMillis(), TimeUnit.MILLISECONDS);
                    return completed(done);
                }
                return s.send(copy(request, bytes));
            }

            @Override
            public CompletableFuture<Void> closeFuture() {
                return s.closeFuture();
            }

            @Override
            public void close() {
                s.close();
            }
        };
    }

    /** A transfer handle whose completion is {@code done}. */
    private static Transfer completed(CompletableFuture<TransferResult> done) {
        return new Transfer() {
            @Override
            public long id() {
                return -1;
            }

            @Override
            public CompletableFuture<TransferResult> completion() {
                return done;
            }

            @Override
            public long acknowledgedBytes() {
                return 0;
            }

            @Override
            public boolean cancel() {
                return false;
            }
        };
    }

    private static TransferRequest copy(TransferRequest r, byte[] bytes) {
        return new TransferRequest(r.kind(), r.key(), PayloadSource.of(ByteBuffer.wrap(bytes)), r.progress());
    }

    private static byte[] drain(PayloadSource source) {
        try (source) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteBuffer buf = ByteBuffer.allocate(8192);
            while (source.read(buf) >= 0) {
                out.write(buf.array(), 0, buf.position());
                buf.clear();
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
