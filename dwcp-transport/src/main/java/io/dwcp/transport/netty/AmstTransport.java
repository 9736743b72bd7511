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
import io.dwcp.transport.wire.FrameDecoder;
import io.dwcp.transport.wire.Hello;
import io.dwcp.transport.wire.HelloAck;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLPeerUnverifiedException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
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
    private final SecureRandom random = new SecureRandom();
    private final Set<AmstSession> sessions = ConcurrentHashMap.newKeySet();
    private final ConcurrentHashMap<String, AmstSession> serverSessions = new ConcurrentHashMap<>();
    private final Set<Listener> listeners = ConcurrentHashMap.newKeySet();
    final LongAdder duplicateChunks = new LongAdder();

    private volatile boolean running;
    private Settings settings;
    private TlsContexts tls;
    private NettyRuntime runtime;
    private EventLoopGroup group;
    private ThreadPoolExecutor senderExecutor;
    private ThreadPoolExecutor deliveryExecutor;
    private ExecutorService callbackExecutor;
    private AmstMetrics metrics;
    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    private BufferRecycler recycler;
    private ReceiveBudget receiveBudget;
    private PendingConnections pendingConnections;
    private IdleReaper reaper;
    private RecyclingReads reads;
    private volatile long rateCapBytesPerSecond;
    private final TokenBucket globalPacer = new TokenBucket(0);

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
        for (Listener l : listeners) {
            l.close();
        }
        for (AmstSession s : sessions) {
            s.terminate(stopped);
        }
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
        serverSessions.clear();
        LOG.info("AMST transport stopped");
    }

    @Override
    public Health health() {
        if (!running) {
            return Health.unknown("not running");
        }
        if (sessions.isEmpty()) {
            return Health.healthy("no session");
        }
        Health.Status worst = Health.Status.HEALTHY;
        int streams = 0;
        for (AmstSession s : sessions) {
            worst = Health.worst(worst, s.healthStatus());
            streams += s.activeStreams();
        }
        return new Health(worst, sessions.size() + " sessions, " + streams + " streams");
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
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(runtime.serverChannel)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.ALLOCATOR, alloc)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, reads)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        applySocketBuffers(ch);
                        ChannelPipeline p = ch.pipeline();
                        if (tls != null) {
                            p.addLast("tls", tls.serverHandler(ch.alloc()));
                        }
                        p.addLast("frames", new FrameDecoder(HANDSHAKE_MAX_PAYLOAD));
                        p.addLast("handshake", new ServerHandshakeHandler(AmstTransport.this, handler));
                    }
                });
        b.bind(bindAddress).addListener((ChannelFuture cf) -> {
            if (cf.isSuccess()) {
                Listener l = new Listener(cf.channel());
                listeners.add(l);
                LOG.info("AMST listening on {}", l.localAddress());
                f.complete(l);
            } else {
                f.completeExceptionally(new DwcpException(ErrorCode.IO_ERROR, "cannot listen on " + bindAddress + ": "
                        + cf.cause().getMessage(), cf.cause()));
            }
        });
        return f;
    }

    /** Idle data buffers kept for reuse, at most (the default send window's worth). */
    private static final long MAX_IDLE_BUFFER_BYTES = 64L << 20;
    /** An idle data buffer nobody asked for during this long is freed. */
    private static final long IDLE_BUFFER_NANOS = TimeUnit.SECONDS.toNanos(5);

    /** Largest payload accepted before a connection's handshake is done (HELLO, HELLO_ACK, GOAWAY). */
    static final int HANDSHAKE_MAX_PAYLOAD = 2048;

    @Override
    public CompletableFuture<Session> connect(InetSocketAddress remoteAddress, TransferHandler handler) {
        Objects.requireNonNull(remoteAddress, "remoteAddress");
        Objects.requireNonNull(handler, "handler");
        if (!running) {
            return CompletableFuture.failedFuture(new DwcpException(ErrorCode.ILLEGAL_STATE, "AMST transport not started"));
        }
        byte[] id = new byte[16];
        random.nextBytes(id);
        long window;
        try {
            window = receiveBudget.reserve(null, settings.reorderBufferBytes, settings.minReceiveWindowBytes());
        } catch (DwcpException e) {
            return CompletableFuture.failedFuture(e);
        }
        AmstSession s = new AmstSession(this, AmstSession.Role.CLIENT, id, new byte[16], handler, remoteAddress,
                group.next(), window);
        sessions.add(s);
        return s.start();
    }

    /** Client: opens one connection of {@code session} and runs its handshake; attaches it on success. */
    CompletableFuture<Channel> connectChannel(AmstSession session, int streamIndex, int flags) {
        CompletableFuture<Channel> result = new CompletableFuture<>();
        if (!running) {
            result.completeExceptionally(new DwcpException(ErrorCode.ILLEGAL_STATE, "AMST transport stopped"));
            return result;
        }
        InetSocketAddress remote = session.remoteAddress();
        Bootstrap b = new Bootstrap()
                .group(group)
                .channel(runtime.socketChannel)
                .option(ChannelOption.ALLOCATOR, alloc)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.RCVBUF_ALLOCATOR, reads)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, settings.connectTimeout.toMillis()))
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        applySocketBuffers(ch);
                        ChannelPipeline p = ch.pipeline();
                        if (tls != null) {
                            p.addLast("tls", tls.clientHandler(ch.alloc(), remote.getHostString(), remote.getPort()));
                        }
                        p.addLast("frames", new FrameDecoder(HANDSHAKE_MAX_PAYLOAD));
                        p.addLast("handshake", new ClientHandshakeHandler(session, streamIndex, flags, tls != null,
                                settings.maxFramePayloadBytes, result));
                    }
                });
        ChannelFuture cf = b.connect(remote);
        cf.addListener((ChannelFuture x) -> {
            if (!x.isSuccess()) {
                result.completeExceptionally(new DwcpException(ErrorCode.IO_ERROR, "cannot connect to " + remote + ": "
                        + x.cause().getMessage(), x.cause()));
            }
        });
        long timeout = settings.connectTimeout.toMillis();
        return result.orTimeout(timeout, TimeUnit.MILLISECONDS).whenComplete((ch, e) -> {
            if (e != null) {
                cf.channel().close();
            }
        });
    }

    private void applySocketBuffers(SocketChannel ch) {
        // "auto": leave the kernel's autotuning on (it grows to tcp_rmem/tcp_wmem max, which an explicit SO_RCVBUF
        // would cap at rmem_max); the write-buffer water marks are sized from the BDP per session.
        Optional<Long> size = settings.socketBufferBytes;
        if (size.isPresent()) {
            int want = (int) Math.min(Integer.MAX_VALUE, size.get());
            ch.config().setSendBufferSize(want);
            ch.config().setReceiveBufferSize(want);
            int got = ch.config().getReceiveBufferSize();
            if (got < want && !clampWarned) {
                clampWarned = true;
                LOG.warn("the OS clamped the socket receive buffer to {} bytes (asked {}, dwcp.transport.socket-buffer): "
                        + "raise net.core.rmem_max / net.core.wmem_max", got, want);
            }
        }
    }

    private volatile boolean clampWarned;

    /** What the server does with a HELLO: the answer, the attached session/stream, and what to run after the ack. */
    record Accepted(HelloAck ack, AmstSession session, DataStream stream, Runnable afterAck) {
        static Accepted refuse(ErrorCode code, String message) {
            return new Accepted(HelloAck.refuse(code, message), null, null, () -> { });
        }
    }

    /** Server: decides on a HELLO. Event loop of {@code ch}. */
    Accepted acceptHello(Channel ch, Hello h, int flags, TransferHandler handler) {
        String id = io.netty.buffer.ByteBufUtil.hexDump(h.sessionId());
        String peer = peerIdentity(ch);
        boolean resume = ServerHandshakeHandler.isResume(flags);
        if (h.streamIndex() == 0 && !resume) {
            if (serverSessions.size() >= settings.maxSessions) {
                return Accepted.refuse(ErrorCode.LIMIT_EXCEEDED, "this listener already holds " + settings.maxSessions
                        + " sessions (dwcp.transport.max-sessions)");
            }
            long fromPeer = serverSessions.values().stream().filter(x -> peer.equals(x.peerIdentity)).count();
            if (fromPeer >= settings.maxSessionsPerPeer) {
                return Accepted.refuse(ErrorCode.LIMIT_EXCEEDED, "this listener already holds " + fromPeer + " sessions of "
                        + peer + " (dwcp.transport.max-sessions-per-peer = " + settings.maxSessionsPerPeer + ")");
            }
            long window;
            try {
                window = receiveBudget.reserve(peer, settings.reorderBufferBytes, settings.minReceiveWindowBytes());
            } catch (DwcpException e) {
                return Accepted.refuse(e.code(), e.getMessage());
            }
            byte[] token = new byte[16];
            random.nextBytes(token);
            AmstSession s = new AmstSession(this, AmstSession.Role.SERVER, h.sessionId(), token, handler,
                    (InetSocketAddress) ch.remoteAddress(), group.next(), window);
            s.peerIdentity = peer;
            if (serverSessions.putIfAbsent(id, s) != null) {
                receiveBudget.release(peer, window);
                return Accepted.refuse(ErrorCode.PROTOCOL_ERROR, "session id " + id + " is already in use");
            }
            sessions.add(s);
            s.peerWindow(h.receiveWindowBytes());
            s.attachControl(ch);
            s.openServerSide();
            LOG.debug("AMST session {} accepted from {}", id, ch.remoteAddress());
            return new Accepted(HelloAck.accept(h.capabilities() & Hello.CAPABILITIES, s.receiveWindowBytes(), token), s,
                    null, () -> { });
        }
        AmstSession s = serverSessions.get(id);
        if (s == null || !s.isOpen()) {
            return Accepted.refuse(ErrorCode.SESSION_UNKNOWN, "no session " + id + " here (expired, closed, or never opened)");
        }
        if (!MessageDigest.isEqual(s.resumeToken(), h.resumeToken())) {
            return Accepted.refuse(ErrorCode.AUTH_FAILED, "wrong resume token for session " + id);
        }
        if (!peer.equals(s.peerIdentity)) {
            return Accepted.refuse(ErrorCode.AUTH_FAILED, "session " + id + " belongs to another peer identity");
        }
        if (h.streamIndex() == 0) {
            return new Accepted(HelloAck.accept(h.capabilities() & Hello.CAPABILITIES, s.receiveWindowBytes(),
                    s.resumeToken()), s, null, () -> s.resumed(ch));
        }
        DataStream stream = s.attachStream(h.streamIndex(), ch);
        return new Accepted(HelloAck.accept(h.capabilities() & Hello.CAPABILITIES, s.receiveWindowBytes(),
                s.resumeToken()), s, stream, () -> { });
    }

    /** The peer's identity: its TLS certificate subject when mutual TLS is on, else its IP address. */
    private String peerIdentity(Channel ch) {
        SslHandler ssl = ch.pipeline().get(SslHandler.class);
        if (ssl != null) {
            try {
                return ssl.engine().getSession().getPeerPrincipal().getName();
            } catch (SSLPeerUnverifiedException e) {
                // No client certificate (tls.mutual = false): fall back to the address.
            }
        }
        return ((InetSocketAddress) ch.remoteAddress()).getAddress().getHostAddress();
    }

    /** Inbound transfers open now over every session of {@code peer} (its identity, or its address when it has none). */
    /** Inbound transfers open over every session of this node. */
    int inboundTransfers() {
        int n = 0;
        for (AmstSession s : sessions) {
            n += s.inboundCount();
        }
        return n;
    }

    int inboundTransfersOf(String peer) {
        int n = 0;
        for (AmstSession s : sessions) {
            String id = s.peerIdentity != null ? s.peerIdentity : String.valueOf(s.remoteAddress());
            if (peer.equals(id)) {
                n += s.inboundCount();
            }
        }
        return n;
    }

    /** Once per session, from its terminate(): forgets it and returns its receive window to the budget. */
    void sessionClosed(AmstSession s) {
        sessions.remove(s);
        serverSessions.remove(s.idHex, s);
        receiveBudget.release(s.role == AmstSession.Role.SERVER ? s.peerIdentity : null, s.receiveWindowBytes());
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
        for (AmstSession s : sessions) {
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
        return sessions;
    }

    /** A bound listening socket. */
    private final class Listener implements TransportListener {
        private final Channel channel;

        Listener(Channel channel) {
            this.channel = channel;
        }

        @Override
        public InetSocketAddress localAddress() {
            return (InetSocketAddress) channel.localAddress();
        }

        @Override
        public void close() {
            listeners.remove(this);
            channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }

}
