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
 * Receiving: see Reassembly. The receive window advertised in HELLO is the reorder-buffer size, or less when the
 * node's or the peer's ReceiveBudget is nearly taken; the peer's send window is at most that, so reorder memory is
 * bounded; a peer that ignores it is cut off (LIMIT_EXCEEDED).
 *
 * Resume: chunks stay in the send window across connection loss. When the control connection drops, the
 * client reconnects with the session id and the resume token; both ends then re-send OPEN/END of unfinished outbound
 * transfers and the cumulative ACK of inbound ones, so sending continues from the receiver's acknowledged position.
 *
 * Transfer ids: odd from the client, even from the server, so an ABORT says by its parity which direction it is for.
 *
 * Parts, one job each, all package-private and each with its own locking note:
 *   SessionLifecycle  the state; compare-and-set transitions, CLOSED is final;
 *   ControlFrames     the control connection, what is sent and received on it, PING/RTT, heartbeat;
 *   Resumption        re-opening failed data streams, resuming a lost control connection, re-sending after it;
 *   StreamController  tier, chunk size, send window and stream count from RTT and goodput (the adjust timer);
 *   DataPath          attaching data streams, pumping chunks into them, DATA frames to inbound transfers;
 *   SendQueue         stream slots, chunk queues, send window: everything under the one send lock;
 *   InboundTransfers  open and finished inbound transfers, reorder memory;
 *   OutboundTransfers open outbound transfers, their ids, and how each ends (exactly once);
 *   Producer          one outbound transfer's source, on a sender thread.
 * This class owns them, implements Session (send, close) and ends the session (terminate).
 *
 * Threading (see @GuardedBy or the comment on each field): SendQueue.lock guards the queues, the window, the stream
 * slots and every Chunk/OutboundTransfer mutable field; it is held only for queue operations, never across I/O or user
 * code. Fields marked "loop" are read and written only on `loop` (timers, controller); volatile fields are written by
 * one thread at a time and read by others (their comments say which); the rest is final or thread-safe itself
 * (atomics, concurrent maps). Lifecycle changes go through SessionLifecycle only, so a connection, resume or timer
 * that completes after the close cannot reopen the session.
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
import io.dwcp.transport.control.TokenBucket;
import io.dwcp.transport.wire.Frame;
import io.dwcp.transport.wire.Hello;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
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
    /** The peer's address; the server's follows a resumed control connection. Written by attachControl, any thread. */
    private volatile InetSocketAddress remote;
    /** Written by the client's handshake (a new session's HELLO_ACK), read by every later HELLO. */
    private volatile byte[] resumeToken;
    private final Settings settings;

    /** Stream slots, chunk queues and the send window, under its own lock. */
    final SendQueue queue;
    /** Outbound transfers not yet ended, and how each ends. */
    final OutboundTransfers outbound;
    /** Open and recently finished inbound transfers and their reorder memory. */
    final InboundTransfers inbound;

    final TokenBucket pacer;
    /** The control connection and its frames. */
    final ControlFrames control;
    /** Reconnects and resumes. */
    final Resumption resumption;
    /** Tier, chunk size and stream count. */
    final StreamController controller;
    /** The data streams: attaching, pumping, receiving. */
    private final DataPath data;

    private final SessionLifecycle state = new SessionLifecycle();
    /** When a transfer last started or ended (System.nanoTime): a session without transfers since is idle. */
    private volatile long lastActiveNanos = System.nanoTime();
    /** Written by the session loop's timer start, read by terminate() on any thread. */
    private volatile ScheduledFuture<?> heartbeat;
    /** As {@link #heartbeat}. */
    private volatile ScheduledFuture<?> ticker;
    private final CompletableFuture<Void> closeFuture = new CompletableFuture<>();

    final AtomicLong payloadAcked = new AtomicLong();
    final AtomicLong payloadDelivered = new AtomicLong();
    /** When an ACK last acknowledged new bytes, or the first unacknowledged chunk was queued (the stall check). */
    private volatile long lastAckProgressNanos = System.nanoTime();
    /** The peer's receive window from its HELLO_ACK; written by the client's handshake before the session opens. */
    private volatile long peerWindowBytes = Long.MAX_VALUE;
    /** Identity of the peer (certificate subject or address); data streams must match it. Server only; set on accept. */
    volatile String peerIdentity;

    AmstSession(AmstTransport transport, Role role, byte[] sessionId, byte[] resumeToken, TransferHandler handler,
                InetSocketAddress remote, EventLoop loop, long receiveWindowBytes) {
        this.transport = transport;
        this.role = role;
        this.sessionId = sessionId;
        this.idHex = ByteBufUtil.hexDump(sessionId);
        this.resumeToken = resumeToken;
        this.handler = handler;
        this.remote = remote;
        this.loop = loop;
        this.settings = transport.settings();
        this.inbound = new InboundTransfers(receiveWindowBytes, idHex);
        this.pacer = new TokenBucket(transport.rateCapBytesPerSecond());
        this.queue = new SendQueue(settings.sendWindowBytes(0));
        this.outbound = new OutboundTransfers(this, transport, queue, role == Role.CLIENT);
        this.control = new ControlFrames(this, transport, settings);
        this.controller = new StreamController(this, transport, settings);
        this.resumption = new Resumption(this, transport, settings, state, loop);
        this.data = new DataPath(this, transport, settings, queue);
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

    boolean isClosingOrClosed() {
        return state.isClosingOrClosed();
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
        OutboundTransfer t = outbound.register(request);
        touch();
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

    @Override
    public Tier tier() {
        return controller.tier();
    }

    /** Inbound transfers open now. */
    int inboundCount() {
        return inbound.count();
    }

    /** Whether a transfer is under way in either direction. */
    boolean hasTransfers() {
        return !outbound.isEmpty() || !inbound.isEmpty();
    }

    /** A transfer started or ended now. */
    void touch() {
        lastActiveNanos = System.nanoTime();
    }

    /** Whether the session is open and has had no transfer, in either direction, for {@code idleNanos} at {@code now}. */
    boolean idleFor(long now, long idleNanos) {
        return state.get() == SessionLifecycle.State.OPEN && !hasTransfers() && now - lastActiveNanos >= idleNanos;
    }

    /** Closes an idle session: GOAWAY with TIMEOUT to the peer, then ends it here. Any thread. */
    void closeIdle(Duration idle) {
        String why = "session " + idHex + " had no transfer for " + idle.toSeconds() + " s (dwcp.transport.idle-timeout)";
        control.sendGoaway(ErrorCode.TIMEOUT, why);
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
        control.sendGoaway(ErrorCode.UNKNOWN, "normal close");
        terminate(new DwcpException(ErrorCode.CANCELLED, "session " + idHex + " closed locally"));
    }

    // ------------------------------------------------------------------ opening

    /** Client: control connection, RTT probes, initial streams. */
    CompletableFuture<Session> start() {
        return resumption.connector.connect(0, 0).thenCompose(ch -> control.probeRtt(3)).thenCompose(v -> {
            controller.configureForRtt(peerWindowBytes);
            if (!state.opened()) {
                throw new DwcpException(ErrorCode.CANCELLED, "session " + idHex + " was closed while connecting to " + remote);
            }
            startTimers();
            List<CompletableFuture<Boolean>> opens = new ArrayList<>();
            for (int i = 1; i <= controller.targetStreams(); i++) {
                opens.add(resumption.openStream(i));
            }
            return CompletableFuture.allOf(opens.toArray(CompletableFuture[]::new)).thenApply(x -> {
                if (activeStreams() == 0) {
                    throw new DwcpException(ErrorCode.IO_ERROR, "session " + idHex + ": no data stream could be opened to " + remote);
                }
                LOG.info("AMST session {} to {}: {} streams, tier {}, rtt {} µs, chunk {} bytes, window {} bytes",
                        idHex, remote, activeStreams(), controller.tier(), control.minRttNanos() / 1000,
                        controller.chunkBytes(), queue.windowBytes());
                return (Session) this;
            });
        }).whenComplete((s, e) -> {
            if (e != null) {
                terminate(Reassembly.asDwcp(e, "session to " + remote));
            }
        });
    }

    /** Server: the session was accepted; start its timers. */
    void openServerSide() {
        if (state.opened()) {
            loop.execute(this::startTimers);
        }
    }

    /** Heartbeat and controller timers. Session loop (or before the session is shared). */
    private void startTimers() {
        long hb = settings.heartbeatInterval.toNanos();
        heartbeat = loop.scheduleAtFixedRate(control::heartbeat, hb, hb, TimeUnit.NANOSECONDS);
        controller.started();
        long adj = settings.adjustInterval.toNanos();
        ticker = loop.scheduleAtFixedRate(controller::tick, adj, adj, TimeUnit.NANOSECONDS);
    }

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

    // ------------------------------------------------------------------ attach / detach connections

    /** Attaches the control connection (new or resumed). Any thread. */
    void attachControl(Channel ch) {
        Channel old = control.attach(ch);
        if (old != null && old != ch) {
            old.close();
        }
        if (state.get() == SessionLifecycle.State.CLOSED) {
            // terminate() may have read the control connection before it was set: whichever side sees the other
            // closes it.
            ch.close();
            return;
        }
        if (role == Role.SERVER) {
            remote = (InetSocketAddress) ch.remoteAddress();
        }
        resumption.controlAttached();
    }

    /** Server: a resumed control connection arrived. */
    void resumed(Channel ch) {
        resumption.resumed(ch);
    }

    /** Attaches a data stream in slot {@code index}, replacing an older connection of that slot. */
    DataStream attachStream(int index, Channel ch) {
        return data.attach(index, ch);
    }

    /** A connection of this session closed. Event loop of that channel. */
    void connectionClosed(Channel ch, DataStream stream) {
        if (stream != null) {
            data.closed(stream);
            return;
        }
        if (state.isClosingOrClosed() || !control.detach(ch)) {
            return;
        }
        resumption.controlLost("control connection closed");
    }

    // ------------------------------------------------------------------ sending

    /** Queues a produced chunk and wakes parked streams. Returns false (and releases it) if the transfer ended. */
    boolean enqueue(OutboundTransfer t, Chunk c) {
        return data.enqueue(t, c);
    }

    /** Writes queued chunks to {@code s} while it can take them. Event loop of {@code s} only. */
    void pump(DataStream s) {
        data.pump(s);
    }

    /** An ACK acknowledged {@code newly} more bytes. Control connection's event loop. */
    void acknowledged(long newly) {
        payloadAcked.addAndGet(newly);
        ackProgress();
    }

    /** The stall clock restarts now: new bytes were acknowledged, or there is newly something to acknowledge. */
    void ackProgress() {
        lastAckProgressNanos = System.nanoTime();
    }

    /** Fails an outbound transfer, releasing its chunks; tells the peer when {@code notifyPeer} (see OutboundTransfers). */
    boolean failOutbound(OutboundTransfer t, DwcpException cause, boolean notifyPeer) {
        return outbound.fail(t, cause, notifyPeer);
    }

    // ------------------------------------------------------------------ receiving

    /** Whether transfer {@code id} is one the peer sends (odd ids come from the client, even ones from the server). */
    boolean isPeerTransfer(long id) {
        boolean odd = (id & 1) == 1;
        return role == Role.SERVER ? odd : !odd;
    }

    /** The inbound transfer a frame is for, created if the frame arrived before its OPEN (within the node's limit). */
    Optional<Reassembly> inboundFor(long id) {
        if (!isPeerTransfer(id)) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "frame for transfer id " + id + " of the wrong parity");
        }
        return Optional.ofNullable(inbound.forFrame(id, settings.maxTransfers,
                x -> new Reassembly(this, x)));
    }

    /** A frame on a data stream (borrowed). Event loop of that stream. */
    void onDataFrame(DataStream s, Frame f) {
        data.onFrame(s, f);
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
        long w = inbound.reorderLimitBytes();
        return Math.max(64 * 1024, Math.min(8L << 20, w / 8));
    }

    TransferHandler handler() {
        return handler;
    }

    /** Inbound transfer ended: tell the sender (DONE or ABORT) and forget it. Delivery thread. */
    void finishInbound(Reassembly r, DwcpException failure) {
        inbound.finish(r.id, failure);
        touch();
        if (failure == null) {
            control.sendDone(r.id, r.deliveredBytes());
        } else if (failure.code() != ErrorCode.CANCELLED || isOpen()) {
            control.sendAbort(r.id, failure.code(), failure.getMessage());
        }
    }

    // ------------------------------------------------------------------ state for the transport and tests

    /** Unacknowledged chunks last written on {@code s}: a retiring stream closes at 0 (tests also pick a victim by it). */
    int unackedChunksOn(DataStream s) {
        return queue.unackedChunksOn(s, outbound.values());
    }

    List<DataStream> snapshotStreams() {
        return queue.streams();
    }

    Channel controlChannel() {
        return control.channel();
    }

    int targetStreams() {
        return controller.targetStreams();
    }

    int chunkBytes() {
        return controller.chunkBytes();
    }

    long unackedBytes() {
        return queue.outstandingBytes();
    }

    SessionLifecycle.State state() {
        return state.get();
    }

    /** Health: live control + ≥ min streams HEALTHY; ≥ 1 stream DEGRADED; none UNHEALTHY. */
    io.dwcp.core.Health.Status healthStatus() {
        int n = activeStreams();
        boolean stalled = unackedBytes() > 0 && System.nanoTime() - lastAckProgressNanos > settings.stallTimeout.toNanos();
        if (n == 0) {
            return io.dwcp.core.Health.Status.UNHEALTHY;
        }
        return control.channel() != null && n >= settings.minStreams && !stalled ? io.dwcp.core.Health.Status.HEALTHY
                : io.dwcp.core.Health.Status.DEGRADED;
    }

    // ------------------------------------------------------------------ termination

    /** Ends the session: fails every transfer, closes every connection. Idempotent; any thread. */
    void terminate(DwcpException cause) {
        if (!state.close()) {
            return;
        }
        ScheduledFuture<?> hb = heartbeat;
        if (hb != null) {
            hb.cancel(false);
        }
        ScheduledFuture<?> tk = ticker;
        if (tk != null) {
            tk.cancel(false);
        }
        resumption.cancelTimer();
        for (OutboundTransfer t : outbound.values()) {
            failOutbound(t, cause, false);
        }
        for (Reassembly r : inbound.all()) {
            r.fail(cause);
        }
        control.failPings(cause);
        queue.clear();
        Channel c = control.channel();
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
