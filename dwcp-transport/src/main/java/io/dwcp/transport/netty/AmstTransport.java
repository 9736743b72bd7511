package io.dwcp.transport.netty;

import io.dwcp.core.DataRate;
import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.config.TransportKeys;
import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.Health;
import io.dwcp.core.transport.Session;
import io.dwcp.core.transport.TransferHandler;
import io.dwcp.core.transport.Transport;
import io.dwcp.core.transport.TransportListener;
import io.dwcp.core.spi.ForecastAdvisor;
import io.dwcp.transport.control.TokenBucket;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * AMST, the adaptive multi-stream TCP transport, on Netty 4.2 with native epoll when available.
 *
 * <pre>{@code
 * AmstTransport t = AmstTransport.create(context);   // or via AmstTransportProvider / DwcpManager
 * t.start();
 * TransportListener l = t.listen(new InetSocketAddress("0.0.0.0", 7400), handler).join();
 * Session s = t.connect(new InetSocketAddress("peer", 7400), handler).join();
 * TransferResult r = s.send(TransferRequest.of(TransferKind.MEMORY, "vm-1", PayloadSource.ofFile(p))).completion().join();
 * }</pre>
 *
 * <p>Besides the {@link Transport} contract it offers dynamic rate caps ({@link #rateCap(DataRate)},
 * {@link #globalRateCap(DataRate)}). Thread-safe. Threads: {@code dwcp-amst-io-*} event loops,
 * {@code dwcp-amst-send-*} (one per outbound transfer, reads the source), {@code dwcp-amst-deliver-*} (one per inbound
 * transfer, calls the sink), {@code dwcp-amst-callback-*} (futures and progress listeners).
 */
public final class AmstTransport implements Transport {
    private static final Logger LOG = LoggerFactory.getLogger(AmstTransport.class);

    private final ComponentContext context;
    /** The sessions, their admission and their receive windows. */
    private final SessionTable sessions = new SessionTable(this);
    /** The bootstraps of listeners and connections, and the listeners bound. */
    private final ChannelSetup channels = new ChannelSetup(this);
    final LongAdder duplicateChunks = new LongAdder();

    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    private volatile long rateCapBytesPerSecond;
    private final TokenBucket globalPacer = new TokenBucket(0);

    private volatile boolean running;
    // What start() builds: written only by start() (synchronized), before its volatile write of `running`, which
    // publishes them; listen, connect and connectChannel check `running` first, and the sessions and channels they
    // make read them after. stop() releases what they hold but leaves the references in place.
    private Settings settings;
    private TlsContexts tls;
    private NettyRuntime runtime;
    private EventLoopGroup group;
    private ThreadPoolExecutor senderExecutor;
    private ThreadPoolExecutor deliveryExecutor;
    private ExecutorService callbackExecutor;
    private AmstMetrics metrics;
    private BufferRecycler recycler;
    private ReceiveBudget receiveBudget;
    private PendingConnections pendingConnections;
    private IdleReaper reaper;
    private RecyclingReads reads;

    /** The path's bandwidth forecasts, as advice to the stream controllers (none without a predictor). */
    private final ForecastAdvisor advisor;

    private AmstTransport(ComponentContext context) {
        this.context = Objects.requireNonNull(context, "context");
        this.advisor = ForecastAdvisor.of(context);
    }

    /**
     * A new, not yet started transport reading its settings from {@code context.config()} at {@link #start()}.
     *
     * @param context configuration, meters, clock and path monitor of the node
     * @return the transport
     */
    public static AmstTransport create(ComponentContext context) {
        return new AmstTransport(context);
    }

    /**
     * Starts a warm-up of the connection code, at most once per process, on a daemon thread of its own, and returns at
     * once: one exchange over the loopback interface (a listener on an ephemeral port of the loopback address for the
     * milliseconds of the exchange, one connection, a PING and its PONG, all closed within seconds), so that the
     * process's first session does not load and initialise Netty's channel, pipeline and buffer code on its critical
     * path (about 0.1–0.2 s of CPU on a small host). Opt-in: a short-lived process that will open or accept a session
     * soon (a command-line sender or receiver) calls it first thing, before it builds its configuration and manager; a
     * long-lived embedding process gains little and need not. A failure (no loopback, no sockets allowed) is logged at
     * debug level and changes nothing.
     */
    public static void warmUpInBackground() {
        ConnectionWarmup.startOnce();
    }

    @Override
    public String name() {
        return "transport";
    }

    /**
     * Builds the TLS context, event loops and executors and registers the meters.
     *
     * @throws DwcpException INVALID_CONFIG (TLS files, frame limits), ILLEGAL_STATE when already running
     */
    @Override
    public synchronized void start() {
        if (running) {
            throw new DwcpException(ErrorCode.ILLEGAL_STATE, "AMST transport already running");
        }
        Settings s = new Settings(context.config());
        TlsContexts t = TlsContexts.create(s, context.tlsCredentials());
        this.settings = s;
        this.tls = t;
        this.runtime = new NettyRuntime(true);
        int ioThreads = Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(), 16));
        this.group = runtime.newGroup(ioThreads, "dwcp-amst-io");
        this.senderExecutor = new ThreadPoolExecutor(0, s.maxTransfers, 30, TimeUnit.SECONDS,
                new SynchronousQueue<>(), named("dwcp-amst-send"));
        this.deliveryExecutor = new ThreadPoolExecutor(0, s.maxTransfers, 30, TimeUnit.SECONDS,
                new SynchronousQueue<>(), named("dwcp-amst-deliver"));
        this.callbackExecutor = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                named("dwcp-amst-callback"));
        this.rateCapBytesPerSecond = s.rateCap.map(DataRate::bytesPerSecond).orElse(0L);
        globalPacer.rateBytesPerSecond(s.globalRateCap.map(DataRate::bytesPerSecond).orElse(0L));
        this.metrics = new AmstMetrics(context.meterRegistry(), this, congestionControl());
        this.recycler = new BufferRecycler(alloc, MAX_IDLE_BUFFER_BYTES);
        this.reads = new RecyclingReads(recycler);
        BufferRecycler r = recycler;
        group.scheduleAtFixedRate(() -> r.trimIdle(System.nanoTime(), IDLE_BUFFER_NANOS), IDLE_BUFFER_NANOS,
                IDLE_BUFFER_NANOS, TimeUnit.NANOSECONDS);
        this.receiveBudget = new ReceiveBudget(s.maxBufferedBytes, s.maxBufferedPerPeerBytes);
        this.pendingConnections = new PendingConnections(s.maxPendingConnections, s.maxPendingConnectionsPerPeer);
        IdleReaper idle = new IdleReaper(this, s);
        this.reaper = idle;
        long period = idle.periodNanos();
        group.scheduleWithFixedDelay(() -> idle.tick(System.nanoTime()), period, period, TimeUnit.NANOSECONDS);
        running = true;
        LOG.info("AMST transport started: {} I/O threads on {}, TLS {}, congestion control {}", ioThreads,
                runtime.name(), t == null ? "OFF (plaintext)" : t.provider, congestionControl());
    }

    private static ThreadFactory named(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread th = new Thread(r, prefix + "-" + n.incrementAndGet());
            th.setDaemon(true);
            return th;
        };
    }

    /** Whether the host's congestion control backs off on loss (everything but BBR). */
    boolean lossBasedCongestionControl() {
        return !congestionControl().startsWith("bbr");
    }

    /** The host's TCP congestion control, read once; "unknown" off Linux. */
    private static String congestionControl() {
        try {
            return Files.readString(Path.of("/proc/sys/net/ipv4/tcp_congestion_control")).trim();
        } catch (Exception e) {
            return "unknown";
        }
    }

    /** Closes every session (pending transfers fail with CANCELLED) and listener, stops threads, removes meters. */
    @Override
    public synchronized void stop() {
        if (!running) {
            return;
        }
        running = false;
        DwcpException stopped = new DwcpException(ErrorCode.CANCELLED, "AMST transport stopped");
        channels.closeListeners();
        sessions.terminateAll(stopped);
        long timeoutMillis = context.config().get(io.dwcp.core.config.CoreKeys.SHUTDOWN_TIMEOUT).toMillis();
        group.shutdownGracefully(0, timeoutMillis, TimeUnit.MILLISECONDS).awaitUninterruptibly(timeoutMillis);
        senderExecutor.shutdownNow();
        deliveryExecutor.shutdownNow();
        callbackExecutor.shutdown();
        try {
            callbackExecutor.awaitTermination(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        recycler.close();
        metrics.remove();
        sessions.clear();
        LOG.info("AMST transport stopped");
    }

    @Override
    public Health health() {
        if (!running) {
            return Health.unknown("not running");
        }
        return sessions.health();
    }

    // ------------------------------------------------------------------ listen / connect

    @Override
    public CompletableFuture<TransportListener> listen(InetSocketAddress bindAddress, TransferHandler handler) {
        Objects.requireNonNull(bindAddress, "bindAddress");
        Objects.requireNonNull(handler, "handler");
        CompletableFuture<TransportListener> f = new CompletableFuture<>();
        if (!running) {
            f.completeExceptionally(new DwcpException(ErrorCode.ILLEGAL_STATE, "AMST transport not started"));
            return f;
        }
        return channels.listen(bindAddress, handler, f);
    }

    /** Idle data buffers kept for reuse, at most (the default send window's worth). */
    private static final long MAX_IDLE_BUFFER_BYTES = 64L << 20;
    /** An idle data buffer nobody asked for during this long is freed. */
    private static final long IDLE_BUFFER_NANOS = TimeUnit.SECONDS.toNanos(5);

    /** Largest payload accepted before a connection's handshake is done (HELLO, HELLO_ACK, GOAWAY). */
    static final int HANDSHAKE_MAX_PAYLOAD = ChannelSetup.HANDSHAKE_MAX_PAYLOAD;

    @Override
    public CompletableFuture<Session> connect(InetSocketAddress remoteAddress, TransferHandler handler) {
        Objects.requireNonNull(remoteAddress, "remoteAddress");
        Objects.requireNonNull(handler, "handler");
        if (!running) {
            return CompletableFuture.failedFuture(new DwcpException(ErrorCode.ILLEGAL_STATE, "AMST transport not started"));
        }
        AmstSession s;
        try {
            s = sessions.openClient(handler, remoteAddress);
        } catch (DwcpException e) {
            return CompletableFuture.failedFuture(e);
        }
        return s.start();
    }

    /** Client: opens one connection of {@code session} and runs its handshake; attaches it on success. */
    CompletableFuture<Channel> connectChannel(AmstSession session, int streamIndex, int flags) {
        CompletableFuture<Channel> result = new CompletableFuture<>();
        if (!running) {
            result.completeExceptionally(new DwcpException(ErrorCode.ILLEGAL_STATE, "AMST transport stopped"));
            return result;
        }
        return channels.connect(session, streamIndex, flags, result);
    }

    /** Inbound transfers open over every session of this node. */
    int inboundTransfers() {
        return sessions.inboundTransfers();
    }

    /** Inbound transfers open now over every session of {@code peer} (its identity, or its address when it has none). */
    int inboundTransfersOf(String peer) {
        return sessions.inboundTransfersOf(peer);
    }

    /** Once per session, from its terminate(): forgets it and returns its receive window to the budget. */
    void sessionClosed(AmstSession s) {
        sessions.sessionClosed(s);
    }

    /** The receive windows promised to peers ({@code max-buffered}, {@code max-buffered-per-peer}); null before start. */
    ReceiveBudget receiveBudget() {
        return receiveBudget;
    }

    /** Accepted connections still in their handshake ({@code max-pending-connections}, per peer); null before start. */
    PendingConnections pendingConnections() {
        return pendingConnections;
    }

    /** What ends idle sessions and transfers; tests tick it with a clock of their own. Null before start. */
    IdleReaper reaper() {
        return reaper;
    }

    // ------------------------------------------------------------------ rate caps (dynamic)

    /**
     * Sets the per-session rate cap of every session, now and for new ones. Thread-safe.
     *
     * @param cap the cap, or {@code null} to remove it
     */
    public void rateCap(DataRate cap) {
        long bytes = cap == null ? 0 : cap.bytesPerSecond();
        rateCapBytesPerSecond = bytes;
        for (AmstSession s : sessions.sessions()) {
            s.controller.applyPace();
        }
    }

    /**
     * Sets the process-wide cap shared by all sessions. Thread-safe.
     *
     * @param cap the cap, or {@code null} to remove it
     */
    public void globalRateCap(DataRate cap) {
        globalPacer.rateBytesPerSecond(cap == null ? 0 : cap.bytesPerSecond());
    }

    /**
     * Applies a run-time change of {@code dwcp.transport.rate-cap} or {@code global-rate-cap} to every session; other
     * dynamic keys are read where they are used.
     */
    @Override
    public void configChanged(io.dwcp.core.config.DwcpConfig config, io.dwcp.core.config.ConfigKey<?> key) {
        if (key == TransportKeys.RATE_CAP) {
            rateCap(config.get(TransportKeys.RATE_CAP).orElse(null));
        } else if (key == TransportKeys.GLOBAL_RATE_CAP) {
            globalRateCap(config.get(TransportKeys.GLOBAL_RATE_CAP).orElse(null));
        }
    }

    /**
     * Records one controller period's measurement of the path to {@code remote} in the manager's path monitor (when
     * running under a manager): goodput, RTT when known, loss when TCP_INFO gave enough segments. Session loop; once
     * per period, never per frame.
     */
    void recordPathSample(InetSocketAddress remote, double goodputBitsPerSecond, long rttNanos, double loss) {
        if (remote == null) {
            return;
        }
        context.pathMonitor().ifPresent(m -> m.record(new io.dwcp.core.path.PathSample(context.clock().instant(),
                peerName(remote), io.dwcp.core.path.PathSample.Source.TRANSPORT, goodputBitsPerSecond,
                rttNanos > 0 && rttNanos != Long.MAX_VALUE ? java.time.Duration.ofNanos(rttNanos) : null,
                Double.isNaN(loss) ? Double.NaN : Math.min(1, loss), -1)));
    }

    /**
     * The name under which a session's path is recorded in the path monitor and queried from the predictor: the
     * remote address as {@code host:port}.
     *
     * @param remote the session's remote address
     * @return {@code host:port}
     */
    public static String peerName(InetSocketAddress remote) {
        return io.dwcp.core.path.PathSample.peerName(remote);
    }

    long rateCapBytesPerSecond() {
        return rateCapBytesPerSecond;
    }

    /** The forecasts the stream controllers may take as advice; unknown when no predictor runs or it is off. */
    ForecastAdvisor advisor() {
        return advisor;
    }

    /**
     * Takes pacing tokens for a chunk from the session bucket and the global one, from both or from neither (a chunk
     * held back by one cap is not charged to the other); 0, or nanoseconds to wait.
     */
    long acquirePacing(TokenBucket session, int bytes) {
        return session.tryAcquire(bytes, System.nanoTime(), globalPacer);
    }

    // ------------------------------------------------------------------ accessors for the package and the meters

    Settings settings() {
        return settings;
    }

    NettyRuntime runtime() {
        return runtime;
    }

    AmstMetrics metrics() {
        return metrics;
    }

    ByteBufAllocator alloc() {
        return alloc;
    }

    /** Large data buffers (whole DATA frames) for the send path; see {@link BufferRecycler}. */
    BufferRecycler recycler() {
        return recycler;
    }

    ThreadPoolExecutor senderExecutor() {
        return senderExecutor;
    }

    ThreadPoolExecutor deliveryExecutor() {
        return deliveryExecutor;
    }

    /** Runs user callbacks (futures, progress) off the event loops; a throwing callback is logged and isolated. */
    void callback(Runnable r) {
        try {
            callbackExecutor.execute(() -> {
                try {
                    r.run();
                } catch (Throwable t) {
                    LOG.warn("a transfer callback threw; ignored", t);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // Stopped: run inline so every future still completes.
            r.run();
        }
    }

    /** Sessions of this transport (for tests and the bench tool). */
    Set<AmstSession> sessions() {
        return sessions.sessions();
    }

    /** The sessions and their admission (the server handshake asks it about each HELLO). */
    SessionTable sessionTable() {
        return sessions;
    }

    EventLoopGroup group() {
        return group;
    }

    /** The TLS contexts; null when TLS is off. */
    TlsContexts tls() {
        return tls;
    }

    RecyclingReads reads() {
        return reads;
    }
}
