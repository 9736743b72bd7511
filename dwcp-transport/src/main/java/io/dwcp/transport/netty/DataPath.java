package io.dwcp.transport.netty;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.transport.wire.Frame;
import io.dwcp.transport.wire.FrameHeader;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.EpollSocketChannelConfig;
import io.netty.channel.socket.SocketChannelConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The data streams of one session: attaching and sizing them, pumping queued chunks into them (work-stealing from the
 * session's {@link SendQueue}, paced by the token buckets), handing their DATA frames to the inbound transfers, and
 * what happens when one closes (its unacknowledged chunks go first on the survivors; the client re-opens a failed
 * slot).
 *
 * <p>Threading: {@link #pump} and {@link #onFrame} run on the stream's channel event loop; {@link #enqueue} on a
 * sender thread. This class keeps no mutable state of its own: the queues, slots and window are the
 * {@link SendQueue}'s (under its lock), a stream's {@code retiring} flag and send counter are the {@link DataStream}'s.
 */
final class DataPath {
    private static final Logger LOG = LoggerFactory.getLogger(DataPath.class);

    private final AmstSession session;
    private final AmstTransport transport;
    private final Settings settings;
    private final SendQueue queue;

    DataPath(AmstSession session, AmstTransport transport, Settings settings, SendQueue queue) {
        this.session = session;
        this.transport = transport;
        this.settings = settings;
        this.queue = queue;
    }

    /** Attaches a data stream in slot {@code index}, replacing an older connection of that slot. */
    DataStream attach(int index, Channel ch) {
        DataStream s = new DataStream(index, ch);
        sizeBuffers(ch);
        // terminate() snapshots the slots under the queue's lock after setting CLOSED: a late stream closes here.
        DataStream old = queue.attach(s, session.role == AmstSession.Role.CLIENT && index > session.targetStreams(),
                () -> session.state() == SessionLifecycle.State.CLOSED);
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
    private void sizeBuffers(Channel ch) {
        long share = session.controller.bdpBytes() / Math.max(1, session.targetStreams());
        ch.config().setWriteBufferWaterMark(new WriteBufferWaterMark(32 * 1024, 64 * 1024));
        if (ch.config() instanceof EpollSocketChannelConfig) {
            long lowat = Math.max(Math.max(128L * 1024, 2L * session.chunkBytes()), Math.min(share / 2, 16L << 20));
            ((EpollSocketChannelConfig) ch.config()).setTcpNotSentLowAt(lowat);
        } else if (settings.socketBufferBytes.isEmpty() && ch.config() instanceof SocketChannelConfig) {
            ((SocketChannelConfig) ch.config()).setSendBufferSize((int) Math.max(256L * 1024, Math.min(2 * share, 64L << 20)));
        }
    }

    /** Data stream {@code s} closed. Its channel's event loop. */
    void closed(DataStream s) {
        boolean failure = !s.retiring && !session.isClosingOrClosed();
        // Unacknowledged chunks last written on this stream go first on the survivors.
        wakeAll(queue.detach(s, session.outbound.values()));
        if (failure) {
            transport.metrics().streamFailures.increment();
            LOG.debug("session {}: {} lost", session.idHex, s);
            if (session.role == AmstSession.Role.CLIENT && s.index <= session.targetStreams()
                    && session.state() == SessionLifecycle.State.OPEN) {
                session.resumption.scheduleStreamReconnect(s.index, 0);
            }
        }
    }

    /** Queues a produced chunk and wakes parked streams. Returns false (and releases it) if the transfer ended. */
    boolean enqueue(OutboundTransfer t, Chunk c) {
        // Progress is measured from when there is something to acknowledge (the stall check).
        List<DataStream> wake = queue.enqueue(t, c, session::ackProgress);
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
            SendQueue.Next next = queue.next(s, bytes -> transport.acquirePacing(session.pacer, bytes));
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

    /** A frame on data stream {@code s} (borrowed): DATA for an inbound transfer, or the peer retiring the stream. */
    void onFrame(DataStream s, Frame f) {
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
        session.inboundFor(f.transferId()).ifPresent(r -> r.onData(f.offset(), f.payload()));
    }
}
