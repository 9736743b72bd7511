package io.dwcp.transport.netty;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.ProgressListener;
import io.dwcp.core.transport.TransferKind;
import io.dwcp.core.transport.TransferRequest;
import io.dwcp.transport.wire.Frame;
import io.dwcp.transport.wire.FrameHeader;
import io.dwcp.transport.wire.Frames;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The control connection of one session and the frames on it: which channel is the control connection now, what is
 * sent on it (OPEN, END, ACK, DONE, ABORT, PING), what arrives on it (each frame's effect on the session's transfers),
 * and the round-trip times the PINGs measure, with the heartbeat that sends them.
 *
 * <p>Threading: {@link #onFrame} runs on the control channel's event loop; the send methods on any thread (Netty
 * queues the write to the channel's loop); {@link #heartbeat} on the session loop. The fields below say who writes
 * them; no field is guarded by a lock. Transfer state is not kept here: it is the session's {@link SendQueue},
 * outbound map and {@link InboundTransfers}, each thread-safe by itself.
 */
final class ControlFrames {
    private static final Logger LOG = LoggerFactory.getLogger(ControlFrames.class);

    private final AmstSession session;
    private final AmstTransport transport;
    private final Settings settings;

    /** The control connection, null while there is none. Written by attach/detach on any thread; read anywhere. */
    private volatile Channel control;
    /** When the control connection last delivered a frame (System.nanoTime). Written on its event loop. */
    private volatile long lastReadNanos = System.nanoTime();
    /** Outstanding RTT probes by their stamp; completed by the PONG or failed when the connection is lost. */
    private final Map<Long, CompletableFuture<Long>> pings = new ConcurrentHashMap<>();
    /** The stamp of the last heartbeat PING (its PONG also counts as an RTT sample). Written on the session loop. */
    private volatile long heartbeatStamp;
    /** Lowest RTT seen (Long.MAX_VALUE until the first PONG). Written on the control channel's event loop only. */
    private volatile long minRttNanos = Long.MAX_VALUE;
    /** Smoothed RTT (1/8 gain), 0 until the first PONG. Written on the control channel's event loop only. */
    private volatile long srttNanos;

    ControlFrames(AmstSession session, AmstTransport transport, Settings settings) {
        this.session = session;
        this.transport = transport;
        this.settings = settings;
    }

    // ------------------------------------------------------------------ the connection

    Channel channel() {
        return control;
    }

    /** Makes {@code ch} the control connection; returns the previous one (which the caller closes). Any thread. */
    Channel attach(Channel ch) {
        Channel old = control;
        control = ch;
        lastReadNanos = System.nanoTime();
        return old;
    }

    /** Forgets {@code ch} if it is the control connection; whether it was. Event loop of {@code ch}. */
    boolean detach(Channel ch) {
        if (ch != control) {
            return false;
        }
        control = null;
        return true;
    }

    /** Fails the outstanding RTT probes with {@code cause}. */
    void failPings(Throwable cause) {
        for (CompletableFuture<Long> f : pings.values()) {
            f.completeExceptionally(cause);
        }
        pings.clear();
    }

    long minRttNanos() {
        return minRttNanos;
    }

    long srttNanos() {
        return srttNanos;
    }

    // ------------------------------------------------------------------ sending

    void send(ByteBuf frame) {
        Channel c = control;
        if (c == null || !c.isActive()) {
            // Lost with the connection; re-sent after a resume (Resumption.afterResume) where it matters.
            frame.release();
            return;
        }
        c.writeAndFlush(frame, c.voidPromise());
    }

    void sendOpen(OutboundTransfer t) {
        TransferRequest r = t.request;
        send(Frames.open(transport.alloc(), t.id, r.kind().wire(), r.key(), t.totalBytes));
    }

    void sendEnd(long transferId, long endOffset) {
        send(Frames.empty(transport.alloc(), FrameHeader.TYPE_END, transferId, endOffset, 0));
    }

    void sendAck(long transferId, long deliveredBytes) {
        send(Frames.empty(transport.alloc(), FrameHeader.TYPE_ACK, transferId, deliveredBytes, 0));
    }

    void sendDone(long transferId, long totalBytes) {
        send(Frames.empty(transport.alloc(), FrameHeader.TYPE_DONE, transferId, totalBytes, 0));
    }

    void sendAbort(long transferId, ErrorCode code, String message) {
        send(Frames.error(transport.alloc(), FrameHeader.TYPE_ABORT, transferId, code, message));
    }

    /** GOAWAY with {@code code} on the control connection, if there is a live one. */
    void sendGoaway(ErrorCode code, String message) {
        Channel c = control;
        if (c != null && c.isActive()) {
            c.writeAndFlush(Frames.error(c.alloc(), FrameHeader.TYPE_GOAWAY, 0, code, message));
        }
    }

    /**
     * {@code count} PINGs sent together, within the connect timeout: each PONG is a real round trip of its own (the
     * peer answers each as it arrives), and the probing costs one round trip instead of {@code count}.
     */
    CompletableFuture<Void> probeRtt(int count) {
        CompletableFuture<?>[] probes = new CompletableFuture<?>[count];
        for (int i = 0; i < count; i++) {
            probes[i] = ping();
        }
        return CompletableFuture.allOf(probes).orTimeout(settings.connectTimeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private CompletableFuture<Long> ping() {
        Channel c = control;
        CompletableFuture<Long> f = new CompletableFuture<>();
        if (c == null) {
            f.completeExceptionally(new DwcpException(ErrorCode.IO_ERROR, "no control connection"));
            return f;
        }
        long stamp = System.nanoTime();
        // Probes sent together may read the same clock: each needs a stamp of its own (1 ns later changes no RTT).
        while (stamp == heartbeatStamp || pings.putIfAbsent(stamp, f) != null) {
            stamp++;
        }
        c.writeAndFlush(Frames.ping(c.alloc(), FrameHeader.TYPE_PING, stamp));
        return f;
    }

    /** Heartbeat period: closes a control connection silent for io-timeout (a resume follows), else PINGs. Session loop. */
    void heartbeat() {
        Channel c = control;
        if (c == null) {
            return;
        }
        if (System.nanoTime() - lastReadNanos > settings.ioTimeout.toNanos()) {
            LOG.warn("session {}: nothing from the peer on the control connection for {} (dwcp.transport.io-timeout); "
                    + "closing it", session.idHex, settings.ioTimeout);
            c.close();
            return;
        }
        long stamp = System.nanoTime();
        heartbeatStamp = stamp;
        c.writeAndFlush(Frames.ping(c.alloc(), FrameHeader.TYPE_PING, stamp), c.voidPromise());
    }

    // ------------------------------------------------------------------ receiving

    /** A frame on the control connection (borrowed). Its event loop. */
    void onFrame(Frame f) {
        lastReadNanos = System.nanoTime();
        switch (f.type()) {
            case FrameHeader.TYPE_PING:
                send(Frames.ping(transport.alloc(), FrameHeader.TYPE_PONG, pingStamp(f)));
                break;
            case FrameHeader.TYPE_PONG:
                onPong(pingStamp(f));
                break;
            case FrameHeader.TYPE_OPEN:
                onOpen(f);
                break;
            case FrameHeader.TYPE_END:
                session.inboundFor(f.transferId()).ifPresent(r -> r.onEnd(f.offset()));
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
                session.terminate(new DwcpException(code == ErrorCode.UNKNOWN ? ErrorCode.CANCELLED : code,
                        "session " + session.idHex + ": the peer closed the session: " + msg));
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

    /** OPEN: a new inbound transfer, admitted within the node's and the peer's limits, or a re-sent one answered. */
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
        if (!session.isPeerTransfer(id)) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "OPEN for transfer id " + id + " of the wrong parity");
        }
        InboundTransfers inbound = session.inbound;
        InboundTransfers.Outcome known = inbound.finishedOutcome(id);
        if (known != null) {
            // A re-sent OPEN (after a resume) for a transfer that already ended: answer again.
            DwcpException outcome = known.failure();
            if (outcome == null) {
                sendDone(id, total);
            } else {
                sendAbort(id, outcome.code(), outcome.getMessage());
            }
            return;
        }
        TransferKind kind = TransferKind.ofWire(kindWire);
        if (kind == null || total < -1) {
            sendAbort(id, ErrorCode.PROTOCOL_ERROR, "unknown transfer kind " + kindWire + " or length " + total);
            return;
        }
        if (!inbound.isOpen(id)) {
            int all = transport.inboundTransfers();
            if (all >= settings.maxTransfers) {
                sendAbort(id, ErrorCode.LIMIT_EXCEEDED, "this node already has " + all + " inbound transfers open"
                        + " (dwcp.transport.max-transfers = " + settings.maxTransfers + ")");
                return;
            }
            String peer = session.peerIdentity != null ? session.peerIdentity : String.valueOf(session.remoteAddress());
            int open = transport.inboundTransfersOf(peer);
            if (open >= settings.maxTransfersPerPeer) {
                sendAbort(id, ErrorCode.LIMIT_EXCEEDED, peer + " already has " + open
                        + " inbound transfers open here (dwcp.transport.max-transfers-per-peer = "
                        + settings.maxTransfersPerPeer + ")");
                return;
            }
        }
        Reassembly r = inbound.openOrCreate(id, x -> new Reassembly(session, x));
        session.touch();
        if (r.onOpen(kind, key, total)) {
            try {
                transport.deliveryExecutor().execute(r);
            } catch (RejectedExecutionException e) {
                DwcpException d = new DwcpException(ErrorCode.LIMIT_EXCEEDED, "no delivery thread for transfer " + id);
                r.fail(d);
                session.finishInbound(r, d);
            }
        }
    }

    private void onAck(long id, long deliveredBytes) {
        OutboundTransfer t = session.outbound.get(id);
        if (t == null) {
            return;
        }
        long newly = session.queue.acknowledge(t, deliveredBytes);
        if (newly == 0) {
            return;
        }
        session.acknowledged(newly);
        long now = System.nanoTime();
        if (t.request.progress() != ProgressListener.NONE && now - t.lastProgressNanos > 10_000_000L) {
            t.lastProgressNanos = now;
            transport.callback(() -> t.request.progress().onProgress(deliveredBytes, t.totalBytes));
        }
    }

    private void onDone(long id, long totalBytes) {
        OutboundTransfer t = session.outbound.get(id);
        if (t == null) {
            return;
        }
        session.outbound.succeeded(t, totalBytes);
    }

    private void onAbort(Frame f) {
        long id = f.transferId();
        DwcpException cause = new DwcpException(Frames.errorCode(f.payload()), "transfer " + id + " aborted by the peer: "
                + Frames.errorMessage(f.payload()));
        if (session.isPeerTransfer(id)) {
            Reassembly r = session.inbound.get(id);
            if (r != null) {
                r.fail(cause);
            }
        } else {
            OutboundTransfer t = session.outbound.get(id);
            if (t != null) {
                session.outbound.fail(t, cause, false);
            }
        }
    }
}
