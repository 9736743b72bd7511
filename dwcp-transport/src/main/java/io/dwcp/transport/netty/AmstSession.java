package io.dwcp.transport.netty;

/*
 * One AMST session: a control connection plus up to 256 data streams, at either end of the link. Both ends
 * run the same code; the connecting side (CLIENT) also opens, re-opens and retires connections.
 *
 * Sending: a producer per outbound transfer, on a sender thread, waits for room in the send window,
 * reads one chunk from the source straight into a pooled direct buffer laid out as a whole DATA frame, seals its CRC
 * and queues it. Each data stream pulls from the session's queues on its own event loop while its channel is
 * writable (work-stealing: a slow or full stream simply stops pulling), after taking tokens from the shared
 * pacing bucket. A stream that finds nothing parks; a producer wakes parked streams. A chunk stays in its
 * transfer's unacked deque until the cumulative ACK covers it; when a stream dies, its unacknowledged chunks go to the
 * front (resend queue) and the surviving streams carry them.
 *
 * Receiving: see Reassembly. The receive window advertised in HELLO is the reorder-buffer size; the peer's
 * send window is at most that, so reorder memory is bounded; a peer that ignores it is cut off (LIMIT_EXCEEDED).
 *
 * Resume: chunks stay in the send window across connection loss. When the control connection drops, the
 * client reconnects with the session id and the resume token; both ends then re-send OPEN/END of unfinished outbound
 * transfers and the cumulative ACK of inbound ones, so sending continues from the receiver's acknowledged position.
 *
 * Transfer ids: odd from the client, even from the server, so an ABORT says by its parity which direction it is for.
 *
 * Parts, one job each: SessionLifecycle (the state; compare-and-set transitions, CLOSED is final), SendQueue (stream
 * slots, chunk queues, send window: everything under the one send lock), InboundTransfers (open and finished inbound
 * transfers, reorder memory), TcpInfoSampler (kernel TCP_INFO). This class wires them to the connections: handshake
 * results, frames, producers, timers, reconnects.
 *
 * Threading (see @GuardedBy on each field): SendQueue.lock guards the queues, the window, the stream slots and every
 * Chunk/OutboundTransfer mutable field; it is held only for queue operations, never across I/O or user code. Fields
 * marked "loop" are read and written only on `loop` (timers, controller); volatile fields are written by one thread
 * and read by others; the rest is final or thread-safe itself. Lifecycle changes go through SessionLifecycle only, so
 * a connection, resume or timer that completes after the close cannot reopen the session.
 */

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.Tier;
import io.dwcp.core.transport.InboundTransfer;
import io.dwcp.core.transport.Session;
import io.dwcp.core.transport.Transfer;
import io.dwcp.core.transport.TransferHandler;
import io.dwcp.core.transport.TransferKind;
import io.dwcp.core.transport.TransferRequest;
import io.dwcp.core.transport.TransferResult;
import io.dwcp.transport.control.Backoff;
import io.dwcp.transport.control.ChunkSizer;
import io.dwcp.transport.control.StreamCountController;
import io.dwcp.transport.control.TokenBucket;
import io.dwcp.transport.wire.Frame;
import io.dwcp.transport.wire.FrameHeader;
import io.dwcp.transport.wire.Frames;
import io.dwcp.transport.wire.Hello;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.EpollSocketChannelConfig;
import io.netty.channel.socket.SocketChannelConfig;
import io.netty.channel.epoll.EpollTcpInfo;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/** A session at either end; see the block comment above. Thread-safe. */
final class AmstSession implements Session {
    private static final Logger LOG = LoggerFactory.getLogger(AmstSession.class);
    static final int MAX_SLOTS = Hello.MAX_STREAM_INDEX;

    enum Role { CLIENT, SERVER }

    final AmstTransport transport;
    final Role role;
    final byte[] sessionId;
    final String idHex;
    final EventLoop loop;
    private final TransferHandler handler;
    private volatile InetSocketAddress remote;
    private volatile byte[] resumeToken;
    private final Settings settings;

    /** Stream slots, chunk queues and the send window, under its own lock. */
    private final SendQueue queue;
    private final Map<Long, OutboundTransfer> outbound = new ConcurrentHashMap<>();
    /** Open and recently finished inbound transfers and their reorder memory. */
    private final InboundTransfers inbound;
    private final AtomicLong nextTransferId;

    final TokenBucket pacer;
    private final ChunkSizer chunkSizer;
    private volatile int chunkBytes;
    private volatile Tier tier = Tier.WAN;
    /** Created by configureForRtt() before the timers start; then used by tick(). */
    @GuardedBy("loop")
    private StreamCountController controller;
    private volatile int targetStreams;
    private volatile int maxStreams;
    private final Backoff backoff;

    private volatile Channel control;
    private final SessionLifecycle state = new SessionLifecycle();
    /** When a transfer last started or ended (System.nanoTime): a session without transfers since is idle. */
    private volatile long lastActiveNanos = System.nanoTime();
    private volatile long lostAtNanos;
    /** The server's wait for a resume; set on `loop`, cancelled from any thread. */
    private volatile ScheduledFuture<?> sessionTimer;
    private volatile ScheduledFuture<?> heartbeat;
    private volatile ScheduledFuture<?> ticker;
    private final CompletableFuture<Void> closeFuture = new CompletableFuture<>();
    private final Map<Long, CompletableFuture<Long>> pings = new ConcurrentHashMap<>();

    volatile long minRttNanos = Long.MAX_VALUE;
    volatile long srttNanos;
    private volatile long lastControlReadNanos = System.nanoTime();
    final AtomicLong payloadAcked = new AtomicLong();
    final AtomicLong payloadDelivered = new AtomicLong();
    @GuardedBy("loop")
    private long lastTickBytes;
    @GuardedBy("loop")
    private long lastTickNanos;
    private volatile double goodputBitsPerSecond;
    private volatile long lastAckProgressNanos = System.nanoTime();

    AmstSession(AmstTransport transport, Role role, byte[] sessionId, byte[] resumeToken, TransferHandler handler,
                InetSocketAddress remote, EventLoop loop) {
        this.transport = transport;
        this.role = role;
        this.sessionId = sessionId;
        this.idHex = ByteBufUtil.hexDump(sessionId);
        this.resumeToken = resumeToken;
        this.handler = handler;
        this.remote = remote;
        this.loop = loop;
        this.settings = transport.settings();
        this.nextTransferId = new AtomicLong(role == Role.CLIENT ? 1 : 2);
        this.inbound = new InboundTransfers(settings.reorderBufferBytes, idHex);
        this.pacer = new TokenBucket(transport.rateCapBytesPerSecond());
        this.chunkSizer = new ChunkSizer(settings.minChunkBytes, settings.maxChunkBytes);
        this.chunkBytes = settings.chunkBytes(Tier.WAN);
        this.queue = new SendQueue(settings.sendWindowBytes(0));
        this.backoff = new Backoff(settings.reconnectInitialBackoff, settings.reconnectMaxBackoff,
                java.util.concurrent.ThreadLocalRandom.current()::nextDouble);
        this.maxStreams = settings.maxStreams(Tier.WAN);
        this.targetStreams = settings.initialStreams(Tier.WAN);
    }

    // ------------------------------------------------------------------ Session API

    @Override
    public String id() {
        return idHex;
    }

    @Override
    public InetSocketAddress remoteAddress() {
        return remote;
    }

    @Override
    public int activeStreams() {
        return queue.activeStreams();
    }

    @Override
    public boolean isOpen() {
        return state.isLive();
    }

    @Override
    public Transfer send(TransferRequest request) {
        if (state.isClosingOrClosed()) {
            try {
                request.source().close();
            } catch (IOException e) {
                LOG.debug("closing the source of a refused transfer failed", e);
            }
            throw new DwcpException(ErrorCode.ILLEGAL_STATE, "session " + idHex + " is " + state + ": cannot send '"
                    + request.key() + "'");
        }
        OutboundTransfer t = new OutboundTransfer(this, nextTransferId.getAndAdd(2), request, System.nanoTime());
        outbound.put(t.id, t);
        lastActiveNanos = System.nanoTime();
        try {
            transport.senderExecutor().execute(new Producer(this, queue, t));
        } catch (RejectedExecutionException e) {
            failOutbound(t, new DwcpException(ErrorCode.LIMIT_EXCEEDED, "too many concurrent transfers: " + e.getMessage()), true);
        }
        return t;
    }

    @Override
    public CompletableFuture<Void> closeFuture() {
        return closeFuture;
    }

    /** Inbound transfers open now. */
    int inboundCount() {
        return inbound.count();
    }

    /** Whether the session is open and has had no transfer, in either direction, for {@code idleNanos} at {@code now}. */
    boolean idleFor(long now, long idleNanos) {
        return state.get() == SessionLifecycle.State.OPEN && outbound.isEmpty() && inbound.isEmpty() && now - lastActiveNanos >= idleNanos;
    }

    /** Closes an idle session: GOAWAY with TIMEOUT to the peer, then ends it here. Any thread. */
    void closeIdle(Duration idle) {
        String why = "session " + idHex + " had no transfer for " + idle.toSeconds() + " s (dwcp.transport.idle-timeout)";
        Channel c = control;
        if (c != null && c.isActive()) {
            c.writeAndFlush(Frames.error(c.alloc(), FrameHeader.TYPE_GOAWAY, 0, ErrorCode.TIMEOUT, why));
        }
        LOG.info("{}: closed", why);
        terminate(new DwcpException(ErrorCode.TIMEOUT, why));
    }

    /** Graceful close: waits for outbound transfers up to close-timeout, then aborts what is left. Not on an event loop. */
    @Override
    public void close() {
        if (!state.closing()) {
            closeFuture.join();
            return;
        }
        CompletableFuture<?>[] pending = outbound.values().stream().map(t -> t.completion).toArray(CompletableFuture[]::new);
        try {
            CompletableFuture.allOf(pending).get(settings.closeTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            // Timed out or a transfer failed: either way the rest is aborted below, and each future says why.
            LOG.debug("session {}: close did not drain every transfer: {}", idHex, e.toString());
        }
        Channel c = control;
        if (c != null && c.isActive()) {
            c.writeAndFlush(Frames.error(c.alloc(), FrameHeader.TYPE_GOAWAY, 0, ErrorCode.UNKNOWN, "normal close"));
        }
        terminate(new DwcpException(ErrorCode.CANCELLED, "session " + idHex + " closed locally"));
    }

    // ------------------------------------------------------------------ client side: connect, streams, resume

    /** Client: control connection, RTT probes, initial streams. */
    CompletableFuture<Session> start() {
        return transport.connectChannel(this, 0, 0).thenCompose(ch -> probeRtt(3)).thenCompose(v -> {
            configureForRtt();
            if (!state.opened()) {
                throw new DwcpException(ErrorCode.CANCELLED, "session " + idHex + " was closed while connecting to " + remote);
            }
            startTimers();
            List<CompletableFuture<Boolean>> opens = new ArrayList<>();
            for (int i = 1; i <= targetStreams; i++) {
                opens.add(openStream(i));
            }
            return CompletableFuture.allOf(opens.toArray(CompletableFuture[]::new)).thenApply(x -> {
                if (activeStreams() == 0) {
                    throw new DwcpException(ErrorCode.IO_ERROR, "session " + idHex + ": no data stream could be opened to " + remote);
                }
                LOG.info("AMST session {} to {}: {} streams, tier {}, rtt {} µs, chunk {} bytes, window {} bytes",
                        idHex, remote, activeStreams(), tier, minRttNanos / 1000, chunkBytes, queue.windowBytes());
                return (Session) this;
            });
        }).whenComplete((s, e) -> {
            if (e != null) {
                terminate(Reassembly.asDwcp(e, "session to " + remote));
            }
        });
    }

    private CompletableFuture<Void> probeRtt(int count) {
        CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
        for (int i = 0; i < count; i++) {
            chain = chain.thenCompose(v -> ping().thenApply(rtt -> null));
        }
        return chain.orTimeout(settings.connectTimeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private CompletableFuture<Long> ping() {
        Channel c = control;
        CompletableFuture<Long> f = new CompletableFuture<>();
        if (c == null) {
            f.completeExceptionally(new DwcpException(ErrorCode.IO_ERROR, "no control connection"));
            return f;
        }
        long stamp = System.nanoTime();
        pings.put(stamp, f);
        c.writeAndFlush(Frames.ping(c.alloc(), FrameHeader.TYPE_PING, stamp));
        return f;
    }

    /** Tier, streams, chunk size, window and socket settings from the handshake RTT. */
    private void configureForRtt() {
        tier = settings.tierFor(minRttNanos);
        maxStreams = settings.maxStreams(tier);
        targetStreams = settings.initialStreams(tier);
        chunkBytes = settings.chunkBytes(tier);
        controller = new StreamCountController(Math.min(settings.minStreams, targetStreams), targetStreams, maxStreams,
                settings.minGain, transport.lossBasedCongestionControl());
        queue.window(settings.sendWindowBytes(bdpBytes()), peerWindowBytes);
    }

    /** Bandwidth-delay product from the best rate known: the cap, else measured goodput, else the tier's typical. */
    long bdpBytes() {
        long rate = transport.rateCapBytesPerSecond();
        if (rate == 0) {
            rate = (long) Math.max(goodputBitsPerSecond / 8, tierTypicalBytesPerSecond());
        }
        long rtt = minRttNanos == Long.MAX_VALUE ? 1_000_000 : minRttNanos;
        return (long) (rate * (rtt / 1e9));
    }

    private long tierTypicalBytesPerSecond() {
        switch (tier) {
            case LOCAL: return 10_000_000_000L / 8;
            case REGIONAL: return 1_000_000_000L / 8;
            default: return 1_000_000_000L / 8;
        }
    }

    private volatile long peerWindowBytes = Long.MAX_VALUE;

    void peerWindow(long bytes) {
        peerWindowBytes = bytes;
        queue.capWindow(bytes);
    }

    void resumeToken(byte[] token) {
        this.resumeToken = token;
    }

    byte[] resumeToken() {
        return resumeToken;
    }

    long receiveWindowBytes() {
        return inbound.reorderLimitBytes();
    }

    /** Client: opens data stream slot {@code index}; completes with whether it connected. */
    CompletableFuture<Boolean> openStream(int index) {
        // A retiring stream in this slot is replaced by a fresh connection (growth after a shrink).
        Boolean busy = queue.beginConnect(index);
        if (busy != null) {
            return CompletableFuture.completedFuture(busy);
        }
        return transport.connectChannel(this, index, 0).handle((ch, e) -> {
            queue.endConnect(index);
            if (e != null) {
                streamConnectFailed(index, e);
                return false;
            }
            return true;
        });
    }

    private void streamConnectFailed(int index, Throwable e) {
        int failures = queue.connectFailed(index);
        DwcpException d = DwcpException.find(e);
        if (d != null && (d.code() == ErrorCode.SESSION_UNKNOWN || d.code() == ErrorCode.AUTH_FAILED)) {
            LOG.warn("session {}: stream {} refused by {}: {}", idHex, index, remote, d.getMessage());
            return;
        }
        if (failures >= Math.max(1, settings.reconnectMaxAttempts) || !isOpen()) {
            // After repeated failures the slot rests until the next adjustment re-opens it.
            LOG.warn("session {}: stream {} failed {} times in a row ({}); retired until the next adjustment",
                    idHex, index, failures, e.toString());
            return;
        }
        scheduleStreamReconnect(index, failures);
    }

    private void scheduleStreamReconnect(int index, int attempt) {
        long delay = backoff.delayNanos(attempt);
        loop.schedule(() -> {
            if (isOpen() && index <= targetStreams) {
                transport.metrics().reconnects.increment();
                openStream(index);
            }
        }, delay, TimeUnit.NANOSECONDS);
    }

    // ------------------------------------------------------------------ attach / detach connections

    /** Attaches the control connection (new or resumed). Any thread. */
    void attachControl(Channel ch) {
        Channel old = control;
        control = ch;
        lastControlReadNanos = System.nanoTime();
        if (old != null && old != ch) {
            old.close();
        }
        if (state.get() == SessionLifecycle.State.CLOSED) {
            // terminate() may have read `control` before it was set: whichever side sees the other closes it.
            ch.close();
            return;
        }
        if (role == Role.SERVER) {
            remote = (InetSocketAddress) ch.remoteAddress();
        }
        ScheduledFuture<?> timer = sessionTimer;
        if (timer != null) {
            timer.cancel(false);
            sessionTimer = null;
        }
    }

    /** Attaches a data stream in slot {@code index}, replacing an older connection of that slot. */
    DataStream attachStream(int index, Channel ch) {
        DataStream s = new DataStream(index, ch);
        sizeStreamBuffers(ch);
        // terminate() snapshots the slots under the queue's lock after setting CLOSED: a late stream closes here.
        DataStream old = queue.attach(s, role == Role.CLIENT && index > targetStreams,
                () -> state.get() == SessionLifecycle.State.CLOSED);
        if (old == s) {
            ch.close();
            return s;
        }
        if (old != null) {
            old.retiring = true;
            old.channel.close();
        }
        ch.eventLoop().execute(() -> pump(s));
        return s;
    }

    /**
     * Sizes a data stream's queues from its share of the BDP. Work-stealing only works if chunks
     * wait in the session's queue, not in one stream's buffers: a chunk queued behind a stream in loss recovery holds
     * back in-order delivery of everything after it. So the kernel keeps at most {@code max(128 KiB, BDP share ÷ 2)}
     * unsent bytes, and at least two chunks (TCP_NOTSENT_LOWAT; the send buffer still autotunes to the congestion
     * window) and Netty's own
     * buffer turns unwritable after about one chunk (water marks 32/64 KiB). Without epoll the send buffer itself is
     * set to twice the BDP share.
     */
    private void sizeStreamBuffers(Channel ch) {
        long share = bdpBytes() / Math.max(1, targetStreams);
        ch.config().setWriteBufferWaterMark(new WriteBufferWaterMark(32 * 1024, 64 * 1024));
        if (ch.config() instanceof EpollSocketChannelConfig) {
            long lowat = Math.max(Math.max(128L * 1024, 2L * chunkBytes), Math.min(share / 2, 16L << 20));
            ((EpollSocketChannelConfig) ch.config()).setTcpNotSentLowAt(lowat);
        } else if (settings.socketBufferBytes.isEmpty() && ch.config() instanceof SocketChannelConfig) {
            ((SocketChannelConfig) ch.config()).setSendBufferSize((int) Math.max(256L * 1024, Math.min(2 * share, 64L << 20)));
        }
    }

    /** A connection of this session closed. Event loop of that channel. */
    void connectionClosed(Channel ch, DataStream stream) {
        if (stream != null) {
            streamClosed(stream);
            return;
        }
        if (ch != control || state.isClosingOrClosed()) {
            return;
        }
        control = null;
        controlLost("control connection closed");
    }

    private void controlLost(String why) {
        for (CompletableFuture<Long> f : pings.values()) {
            f.completeExceptionally(new DwcpException(ErrorCode.IO_ERROR, why));
        }
        pings.clear();
        if (state.get() == SessionLifecycle.State.CONNECTING) {
            return;
        }
        lostAtNanos = System.nanoTime();
        if (role == Role.CLIENT) {
            if (!state.lost()) {
                // Closing (nothing to resume), or reconnecting: the resume under way sees the lost connection and
                // retries (see reconnectControl).
                return;
            }
            LOG.warn("session {}: {}; reconnecting to {} with the resume token", idHex, why, remote);
            reconnectControl(0);
        } else {
            LOG.info("session {}: {}; keeping it {} for a resume", idHex, why, settings.sessionTimeout);
            loop.execute(() -> {
                if (control == null && sessionTimer == null && isOpen()) {
                    sessionTimer = loop.schedule(() -> {
                        if (control == null) {
                            terminate(new DwcpException(ErrorCode.TIMEOUT, "session " + idHex + ": no control connection for "
                                    + settings.sessionTimeout + " (dwcp.transport.session-timeout)"));
                        }
                    }, settings.sessionTimeout.toNanos(), TimeUnit.NANOSECONDS);
                }
            });
        }
    }

    private void reconnectControl(int attempt) {
        if (!state.reconnecting()) {
            return;
        }
        if (System.nanoTime() - lostAtNanos > settings.sessionTimeout.toNanos()) {
            terminate(new DwcpException(ErrorCode.TIMEOUT, "session " + idHex + ": could not reconnect to " + remote
                    + " within " + settings.sessionTimeout + " (dwcp.transport.session-timeout)"));
            return;
        }
        loop.schedule(() -> transport.connectChannel(this, 0, FrameHeader.FLAG_RESUME).whenComplete((ch, e) -> {
            if (e != null) {
                DwcpException d = DwcpException.find(e);
                if (d != null && (d.code() == ErrorCode.SESSION_UNKNOWN || d.code() == ErrorCode.AUTH_FAILED)) {
                    terminate(new DwcpException(d.code(), "session " + idHex + " cannot resume: " + d.getMessage(), e));
                } else {
                    reconnectControl(attempt + 1);
                }
                return;
            }
            if (!state.resumed()) {
                // Closed while the resume was under way: the session stays closed and drops the new connection.
                ch.close();
                return;
            }
            if (control != ch) {
                // The resumed connection closed again before the session reopened (controlLost saw RECONNECTING and
                // left the retry to this completion): go on reconnecting, unless a close or another loss won the race.
                if (state.lost()) {
                    reconnectControl(0);
                }
                return;
            }
            transport.metrics().reconnects.increment();
            LOG.info("session {}: control connection resumed", idHex);
            afterResume();
            for (int i = 1; i <= targetStreams; i++) {
                openStream(i);
            }
        }), backoff.delayNanos(attempt), TimeUnit.NANOSECONDS);
    }

    /** Identity of the peer (certificate subject or address); data streams must match it. Server only. */
    volatile String peerIdentity;

    /** Server: the session was accepted; start its timers. */
    void openServerSide() {
        if (state.opened()) {
            loop.execute(this::startTimers);
        }
    }

    /** Server: a resumed control connection arrived. */
    void resumed(Channel ch) {
        attachControl(ch);
        LOG.info("session {}: resumed by {}", idHex, ch.remoteAddress());
        afterResume();
    }

    /** Re-sends what the peer may have missed while the control connection was down. */
    private void afterResume() {
        for (OutboundTransfer t : outbound.values()) {
            long end = queue.endOf(t);
            sendOpen(t);
            if (end >= 0) {
                sendControl(Frames.empty(transport.alloc(), FrameHeader.TYPE_END, t.id, end, 0));
            }
        }
        for (Reassembly r : inbound.all()) {
            r.resendAck();
        }
    }

    private void streamClosed(DataStream s) {
        boolean failure = !s.retiring && !state.isClosingOrClosed();
        // Unacknowledged chunks last written on this stream go first on the survivors.
        List<DataStream> wake = queue.detach(s, outbound.values());
        wakeAll(wake);
        if (failure) {
            transport.metrics().streamFailures.increment();
            LOG.debug("session {}: {} lost", idHex, s);
            if (role == Role.CLIENT && s.index <= targetStreams && state.get() == SessionLifecycle.State.OPEN) {
                scheduleStreamReconnect(s.index, 0);
            }
        }
    }

    // ------------------------------------------------------------------ sending

    void sendOpen(OutboundTransfer t) {
        TransferRequest r = t.request;
        sendControl(Frames.open(transport.alloc(), t.id, r.kind().wire(), r.key(), t.totalBytes));
    }

    /** Queues a produced chunk and wakes parked streams. Returns false (and releases it) if the transfer ended. */
    boolean enqueue(OutboundTransfer t, Chunk c) {
        // Progress is measured from when there is something to acknowledge (the stall check).
        List<DataStream> wake = queue.enqueue(t, c, () -> lastAckProgressNanos = System.nanoTime());
        if (wake == null) {
            return false;
        }
        wakeAll(wake);
        return true;
    }

    private void wakeAll(List<DataStream> wake) {
        for (DataStream s : wake) {
            s.channel.eventLoop().execute(() -> pump(s));
        }
    }

    /**
     * Writes queued chunks to {@code s} while its channel is writable and the pacer allows. Event
     * loop of {@code s} only.
     */
    void pump(DataStream s) {
        Channel ch = s.channel;
        boolean wrote = false;
        while (ch.isActive() && ch.isWritable() && !s.retiring) {
            SendQueue.Next next = queue.next(s, bytes -> transport.acquirePacing(pacer, bytes));
            if (next.outcome() == SendQueue.Take.EMPTY) {
                break;
            }
            if (next.outcome() == SendQueue.Take.PACED) {
                // Paced: the chunk stays next in line; this stream tries again when tokens are back.
                ch.eventLoop().schedule(() -> pump(s), next.waitNanos(), TimeUnit.NANOSECONDS);
                break;
            }
            Chunk c = next.chunk();
            ByteBuf dup = next.frame();
            int wire = dup.readableBytes();
            OutboundTransfer t = c.transfer;
            t.wireBytes.addAndGet(wire);
            s.wireBytesSent += wire;
            if (next.resent()) {
                t.resentChunks.incrementAndGet();
                transport.metrics().chunksResent.increment();
            } else {
                transport.metrics().bytesSentPayload.increment(c.payloadBytes);
            }
            transport.metrics().bytesSentWire.increment(wire);
            ch.write(dup, ch.voidPromise());
            wrote = true;
        }
        if (wrote) {
            ch.flush();
        }
    }

    void sendControl(ByteBuf frame) {
        Channel c = control;
        if (c == null || !c.isActive()) {
            // Lost with the connection; re-sent after a resume (afterResume) where it matters.
            frame.release();
            return;
        }
        c.writeAndFlush(frame, c.voidPromise());
    }

    void sendAck(long transferId, long deliveredBytes) {
        sendControl(Frames.empty(transport.alloc(), FrameHeader.TYPE_ACK, transferId, deliveredBytes, 0));
    }

    // ------------------------------------------------------------------ receiving frames

    /** A frame on the control connection (borrowed). Event loop. */
    void onControlFrame(Frame f) {
        lastControlReadNanos = System.nanoTime();
        switch (f.type()) {
            case FrameHeader.TYPE_PING:
                sendControl(Frames.ping(transport.alloc(), FrameHeader.TYPE_PONG, pingStamp(f)));
                break;
            case FrameHeader.TYPE_PONG:
                onPong(pingStamp(f));
                break;
            case FrameHeader.TYPE_OPEN:
                onOpen(f);
                break;
            case FrameHeader.TYPE_END:
                inboundFor(f.transferId()).ifPresent(r -> r.onEnd(f.offset()));
                break;
            case FrameHeader.TYPE_ACK:
                onAck(f.transferId(), f.offset());
                break;
            case FrameHeader.TYPE_DONE:
                onDone(f.transferId(), f.offset());
                break;
            case FrameHeader.TYPE_ABORT:
                onAbort(f);
                break;
            case FrameHeader.TYPE_GOAWAY:
                ErrorCode code = Frames.errorCode(f.payload());
                String msg = Frames.errorMessage(f.payload());
                // Code 0 is a normal close by the peer; anything else is its error.
                terminate(new DwcpException(code == ErrorCode.UNKNOWN ? ErrorCode.CANCELLED : code,
                        "session " + idHex + ": the peer closed the session: " + msg));
                break;
            default:
                throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "unexpected " + f + " on the control connection");
        }
    }

    private static long pingStamp(Frame f) {
        if (f.payloadLengthBytes() != 8) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "PING/PONG payload must be 8 bytes, got " + f.payloadLengthBytes());
        }
        return f.payload().getLong(f.payload().readerIndex());
    }

    private void onPong(long stamp) {
        CompletableFuture<Long> f = pings.remove(stamp);
        long rtt = System.nanoTime() - stamp;
        if (rtt <= 0 || rtt > TimeUnit.MINUTES.toNanos(10)) {
            return;
        }
        if (f == null && stamp != heartbeatStamp) {
            return;
        }
        minRttNanos = Math.min(minRttNanos, rtt);
        long s = srttNanos;
        srttNanos = s == 0 ? rtt : s - (s >> 3) + (rtt >> 3);
        if (f != null) {
            f.complete(rtt);
        }
    }

    private void onOpen(Frame f) {
        ByteBuf p = f.payload();
        int i = p.readerIndex();
        if (p.readableBytes() < 10) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "OPEN payload too short: " + f);
        }
        int kindWire = p.getUnsignedByte(i);
        int keyLen = p.getUnsignedByte(i + 1);
        if (p.readableBytes() != 2 + keyLen + 8) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "OPEN payload of " + p.readableBytes()
                    + " bytes does not match its key length " + keyLen);
        }
        String key = p.toString(i + 2, keyLen, StandardCharsets.UTF_8);
        long total = p.getLong(i + 2 + keyLen);
        long id = f.transferId();
        if (!isPeerTransfer(id)) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "OPEN for transfer id " + id + " of the wrong parity");
        }
        InboundTransfers.Outcome known = inbound.finishedOutcome(id);
        if (known != null) {
            // A re-sent OPEN (after a resume) for a transfer that already ended: answer again.
            DwcpException outcome = known.failure();
            if (outcome == null) {
                sendControl(Frames.empty(transport.alloc(), FrameHeader.TYPE_DONE, id, total, 0));
            } else {
                sendControl(Frames.error(transport.alloc(), FrameHeader.TYPE_ABORT, id, outcome.code(), outcome.getMessage()));
            }
            return;
        }
        TransferKind kind = TransferKind.ofWire(kindWire);
        if (kind == null || total < -1) {
            sendControl(Frames.error(transport.alloc(), FrameHeader.TYPE_ABORT, id, ErrorCode.PROTOCOL_ERROR,
                    "unknown transfer kind " + kindWire + " or length " + total));
            return;
        }
        if (inbound.count() >= AmstTransport.MAX_TRANSFER_THREADS && !inbound.isOpen(id)) {
            sendControl(Frames.error(transport.alloc(), FrameHeader.TYPE_ABORT, id, ErrorCode.LIMIT_EXCEEDED,
                    "more than " + AmstTransport.MAX_TRANSFER_THREADS + " concurrent inbound transfers"));
            return;
        }
        if (!inbound.isOpen(id)) {
            String peer = peerIdentity != null ? peerIdentity : String.valueOf(remoteAddress());
            int open = transport.inboundTransfersOf(peer);
            if (open >= settings.maxTransfersPerPeer) {
                sendControl(Frames.error(transport.alloc(), FrameHeader.TYPE_ABORT, id, ErrorCode.LIMIT_EXCEEDED,
                        peer + " already has " + open + " inbound transfers open here (dwcp.transport.max-transfers-per-peer = "
                                + settings.maxTransfersPerPeer + ")"));
                return;
            }
        }
        Reassembly r = inbound.openOrCreate(id, x -> new Reassembly(this, x));
        lastActiveNanos = System.nanoTime();
        if (r.onOpen(kind, key, total)) {
            try {
                transport.deliveryExecutor().execute(r);
            } catch (RejectedExecutionException e) {
                DwcpException d = new DwcpException(ErrorCode.LIMIT_EXCEEDED, "no delivery thread for transfer " + id);
                r.fail(d);
                finishInbound(r, d);
            }
        }
    }

    private boolean isPeerTransfer(long id) {
        boolean odd = (id & 1) == 1;
        return role == Role.SERVER ? odd : !odd;
    }

    private java.util.Optional<Reassembly> inboundFor(long id) {
        if (!isPeerTransfer(id)) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "frame for transfer id " + id + " of the wrong parity");
        }
        return java.util.Optional.ofNullable(inbound.forFrame(id, AmstTransport.MAX_TRANSFER_THREADS,
                x -> new Reassembly(this, x)));
    }

    /** A DATA frame on a data stream (borrowed). Event loop of that stream. */
    void onDataFrame(DataStream s, Frame f) {
        if (f.type() == FrameHeader.TYPE_GOAWAY) {
            // The peer retires this stream: stop sending on it; its close is not a failure.
            s.retiring = true;
            return;
        }
        if (f.type() != FrameHeader.TYPE_DATA) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "unexpected " + f + " on data stream " + s.index);
        }
        int n = f.payloadLengthBytes();
        transport.metrics().bytesReceived.increment(n + FrameHeader.HEADER_LENGTH);
        inboundFor(f.transferId()).ifPresent(r -> r.onData(f.offset(), f.payload()));
    }

    void duplicateChunk() {
        transport.duplicateChunks.increment();
    }

    /** Accounts reorder memory; over the limit the peer ignored our window: LIMIT_EXCEEDED. */
    void reserveReorder(long bytes) {
        inbound.reserveReorder(bytes);
    }

    void releaseReorder(long bytes) {
        inbound.releaseReorder(bytes);
    }

    long reorderBytes() {
        return inbound.reorderBytes();
    }

    void delivered(int n) {
        payloadDelivered.addAndGet(n);
    }

    long ackEveryBytes() {
        long w = peerWindowOfReceiver();
        return Math.max(64 * 1024, Math.min(8L << 20, w / 8));
    }

    private long peerWindowOfReceiver() {
        return inbound.reorderLimitBytes();
    }

    TransferHandler handler() {
        return handler;
    }

    /** Inbound transfer ended: tell the sender (DONE or ABORT) and forget it. Delivery thread. */
    void finishInbound(Reassembly r, DwcpException failure) {
        inbound.finish(r.id, failure);
        lastActiveNanos = System.nanoTime();
        if (failure == null) {
            sendControl(Frames.empty(transport.alloc(), FrameHeader.TYPE_DONE, r.id, r.deliveredBytes(), 0));
        } else if (failure.code() != ErrorCode.CANCELLED || isOpen()) {
            sendControl(Frames.error(transport.alloc(), FrameHeader.TYPE_ABORT, r.id, failure.code(), failure.getMessage()));
        }
    }

    private void onAck(long id, long deliveredBytes) {
        OutboundTransfer t = outbound.get(id);
        if (t == null) {
            return;
        }
        long newly = queue.acknowledge(t, deliveredBytes);
        if (newly == 0) {
            return;
        }
        payloadAcked.addAndGet(newly);
        lastAckProgressNanos = System.nanoTime();
        long now = System.nanoTime();
        if (t.request.progress() != io.dwcp.core.ProgressListener.NONE && now - t.lastProgressNanos > 10_000_000L) {
            t.lastProgressNanos = now;
            transport.callback(() -> t.request.progress().onProgress(deliveredBytes, t.totalBytes));
        }
    }

    private void onDone(long id, long totalBytes) {
        OutboundTransfer t = outbound.get(id);
        if (t == null) {
            return;
        }
        if (!queue.done(t, totalBytes)) {
            return;
        }
        outbound.remove(id);
        long nanos = System.nanoTime() - t.startNanos;
        int streams = Math.max(t.maxStreams, activeStreams());
        TransferResult result = new TransferResult(totalBytes, t.wireBytes.get(), Duration.ofNanos(nanos), streams, t.resentChunks.get());
        transport.metrics().transfersSucceeded.increment();
        transport.metrics().transferDuration.record(nanos, TimeUnit.NANOSECONDS);
        transport.callback(() -> {
            if (t.request.progress() != io.dwcp.core.ProgressListener.NONE) {
                t.request.progress().onProgress(totalBytes, t.totalBytes);
            }
            t.completion.complete(result);
        });
    }

    private void onAbort(Frame f) {
        long id = f.transferId();
        DwcpException cause = new DwcpException(Frames.errorCode(f.payload()), "transfer " + id + " aborted by the peer: "
                + Frames.errorMessage(f.payload()));
        if (isPeerTransfer(id)) {
            Reassembly r = inbound.get(id);
            if (r != null) {
                r.fail(cause);
            }
        } else {
            OutboundTransfer t = outbound.get(id);
            if (t != null) {
                failOutbound(t, cause, false);
            }
        }
    }

    /** Fails an outbound transfer, releasing its chunks; tells the peer when {@code notifyPeer}. */
    boolean failOutbound(OutboundTransfer t, DwcpException cause, boolean notifyPeer) {
        if (!queue.fail(t)) {
            return false;
        }
        outbound.remove(t.id);
        if (notifyPeer) {
            sendControl(Frames.error(transport.alloc(), FrameHeader.TYPE_ABORT, t.id, cause.code(), cause.getMessage()));
        }
        if (cause.code() == ErrorCode.CANCELLED) {
            transport.metrics().transfersCancelled.increment();
        } else {
            transport.metrics().transfersFailed.increment();
        }
        transport.callback(() -> t.completion.completeExceptionally(cause));
        return true;
    }

    // ------------------------------------------------------------------ timers: heartbeat, controller

    private volatile long heartbeatStamp;

    void startTimers() {
        long hb = settings.heartbeatInterval.toNanos();
        heartbeat = loop.scheduleAtFixedRate(this::heartbeat, hb, hb, TimeUnit.NANOSECONDS);
        lastTickNanos = System.nanoTime();
        long adj = settings.adjustInterval.toNanos();
        ticker = loop.scheduleAtFixedRate(this::tick, adj, adj, TimeUnit.NANOSECONDS);
    }

    private void heartbeat() {
        Channel c = control;
        if (c == null) {
            return;
        }
        if (System.nanoTime() - lastControlReadNanos > settings.ioTimeout.toNanos()) {
            LOG.warn("session {}: nothing from the peer on the control connection for {} (dwcp.transport.io-timeout); "
                    + "closing it", idHex, settings.ioTimeout);
            c.close();
            return;
        }
        long stamp = System.nanoTime();
        heartbeatStamp = stamp;
        c.writeAndFlush(Frames.ping(c.alloc(), FrameHeader.TYPE_PING, stamp), c.voidPromise());
    }

    /** Controller period: goodput, stream count, chunk size, retiring streams. Session loop. */
    void tick() {
        long now = System.nanoTime();
        long bytes = payloadAcked.get() + payloadDelivered.get();
        double seconds = (now - lastTickNanos) / 1e9;
        boolean busy = !outbound.isEmpty() || !inbound.isEmpty();
        double goodput = seconds > 0 ? (bytes - lastTickBytes) * 8 / seconds : 0;
        // A sample counts when transfers were active over the whole period (or since the session started).
        boolean wasBusy = (busyAtLastTick || firstTick) && busy && bytes > lastTickBytes;
        firstTick = false;
        busyAtLastTick = busy;
        lastTickBytes = bytes;
        lastTickNanos = now;
        if (wasBusy) {
            goodputBitsPerSecond = goodput;
        }
        long rateCap = transport.rateCapBytesPerSecond();
        int streams = Math.max(1, activeStreams());
        long rtt = srttNanos > 0 ? srttNanos : minRttNanos;
        long perStreamBdp = wasBusy && rtt != Long.MAX_VALUE ? (long) (goodput / 8 * (rtt / 1e9) / streams) : 0;
        chunkBytes = chunkSizer.next(chunkBytes, perStreamBdp, rateCap);
        double loss = TcpInfoSampler.lossRate(snapshotStreams());
        if (wasBusy) {
            // What this period measured goes to the path monitor (tier, predictor); an idle period records nothing.
            transport.recordPathSample(remote, goodput, rtt, loss);
        }
        if (role == Role.CLIENT && controller != null && state.get() == SessionLifecycle.State.OPEN) {
            // A capped session is limited by its own pacer: more streams cannot help (no growth on such samples).
            boolean capped = rateCap > 0 && goodput >= 0.9 * rateCap * 8;
            long smoothed = tcpSmoothedRttNanos();
            // Forecasts are advice (none without a predictor, or with dwcp.prediction.enabled = false): the interval
            // just measured is judged against what was forecast for it, and a foreseen drop holds growth.
            double expected = expectedGoodput;
            double foreseenHigh = Double.NaN;
            expectedGoodput = Double.NaN;
            io.dwcp.core.spi.ForecastAdvisor advisor = transport.advisor();
            if (remote != null && advisor.active()) {
                String peer = AmstTransport.peerName(remote);
                io.dwcp.core.spi.Forecast next = advisor.shortAdvice(peer);
                expectedGoodput = next.isKnown() ? next.meanBitsPerSecond() : Double.NaN;
                io.dwcp.core.spi.Forecast horizon = advisor.advice(peer);
                foreseenHigh = horizon.isKnown() ? horizon.p90BitsPerSecond() : Double.NaN;
            }
            int target = controller.update(goodput, minRttNanos, smoothed > 0 ? smoothed : srttNanos, loss, wasBusy && !capped,
                    expected, foreseenHigh);
            if (target != targetStreams) {
                LOG.info("session {}: streams {} -> {} (goodput {} Mbit/s, rtt {} µs, loss {}, forecast {})", idHex,
                        targetStreams, target, Math.round(goodput / 1e6), rtt / 1000,
                        Double.isNaN(loss) ? "n/a" : String.format("%.5f", loss),
                        Double.isNaN(expected) && Double.isNaN(foreseenHigh) ? "none"
                                : String.format("expected %.0f Mbit/s, P90 %.0f Mbit/s", expected / 1e6, foreseenHigh / 1e6));
            }
            applyTarget(target);
        }
        for (OutboundTransfer t : outbound.values()) {
            t.maxStreams = Math.max(t.maxStreams, streams);
        }
        closeDrainedRetiring();
    }

    /** The short-horizon forecast made at the last tick for the interval now running; NaN without advice. */
    @GuardedBy("loop")
    private double expectedGoodput = Double.NaN;
    @GuardedBy("loop")
    private boolean busyAtLastTick;
    @GuardedBy("loop")
    private boolean firstTick = true;

    private void applyTarget(int target) {
        targetStreams = target;
        for (DataStream s : queue.retireAbove(target)) {
            // Tell the peer first, so it stops sending on the stream and does not count its close as a failure.
            s.channel.writeAndFlush(Frames.error(s.channel.alloc(), FrameHeader.TYPE_GOAWAY, 0, ErrorCode.UNKNOWN,
                    "stream retired"), s.channel.voidPromise());
        }
        for (int i = 1; i <= target; i++) {
            openStream(i);
        }
    }

    private void closeDrainedRetiring() {
        if (role != Role.CLIENT) {
            return;
        }
        for (DataStream s : queue.drainedRetiring(outbound.values())) {
            s.channel.close();
        }
    }

    /** Mean kernel smoothed RTT over the data streams (TCP_INFO), 0 when unknown. */
    long tcpSmoothedRttNanos() {
        return TcpInfoSampler.smoothedRttNanos(snapshotStreams());
    }

    long tcpCwndSegments() {
        return TcpInfoSampler.sum(snapshotStreams(), EpollTcpInfo::sndCwnd);
    }

    long tcpRetransmits() {
        return TcpInfoSampler.sum(snapshotStreams(), EpollTcpInfo::totalRetrans);
    }

    /** Unacknowledged chunks last written on {@code s}: a retiring stream closes at 0 (tests also pick a victim by it). */
    int unackedChunksOn(DataStream s) {
        return queue.unackedChunksOn(s, outbound.values());
    }

    List<DataStream> snapshotStreams() {
        return queue.streams();
    }

    Channel controlChannel() {
        return control;
    }

    int targetStreams() {
        return targetStreams;
    }

    int chunkBytes() {
        return chunkBytes;
    }

    double goodputBitsPerSecond() {
        return goodputBitsPerSecond;
    }

    long unackedBytes() {
        return queue.outstandingBytes();
    }

    SessionLifecycle.State state() {
        return state.get();
    }

    @Override
    public Tier tier() {
        return tier;
    }

    /** Health: live control + ≥ min streams HEALTHY; ≥ 1 stream DEGRADED; none UNHEALTHY. */
    io.dwcp.core.Health.Status healthStatus() {
        int n = activeStreams();
        boolean stalled = unackedBytes() > 0 && System.nanoTime() - lastAckProgressNanos > settings.stallTimeout.toNanos();
        if (n == 0) {
            return io.dwcp.core.Health.Status.UNHEALTHY;
        }
        return control != null && n >= settings.minStreams && !stalled ? io.dwcp.core.Health.Status.HEALTHY
                : io.dwcp.core.Health.Status.DEGRADED;
    }

    // ------------------------------------------------------------------ termination

    /** Ends the session: fails every transfer, closes every connection. Idempotent; any thread. */
    void terminate(DwcpException cause) {
        if (!state.close()) {
            return;
        }
        if (heartbeat != null) {
            heartbeat.cancel(false);
        }
        if (ticker != null) {
            ticker.cancel(false);
        }
        if (sessionTimer != null) {
            sessionTimer.cancel(false);
        }
        for (OutboundTransfer t : outbound.values()) {
            failOutbound(t, cause, false);
        }
        for (Reassembly r : inbound.all()) {
            r.fail(cause);
        }
        for (CompletableFuture<Long> f : pings.values()) {
            f.completeExceptionally(cause);
        }
        queue.clear();
        Channel c = control;
        if (c != null) {
            c.close();
        }
        for (DataStream s : snapshotStreams()) {
            s.retiring = true;
            s.channel.close();
        }
        transport.sessionClosed(this);
        if (cause.code() == ErrorCode.CANCELLED) {
            LOG.info("session {} closed", idHex);
        } else {
            LOG.warn("session {} ended: {}", idHex, cause.getMessage());
        }
        closeFuture.complete(null);
    }

    @Override
    public String toString() {
        return "AmstSession{" + idHex + ", " + role + ", " + remote + ", " + state + '}';
    }

    static InboundTransfer describe(long id, TransferKind kind, String key, long len) {
        return new InboundTransfer(id, kind, key, len);
    }
}
