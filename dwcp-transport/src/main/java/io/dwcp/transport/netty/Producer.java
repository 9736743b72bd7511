package io.dwcp.transport.netty;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.transport.TransferRequest;
import io.dwcp.transport.wire.FrameHeader;
import io.dwcp.transport.wire.Frames;
import io.netty.buffer.ByteBuf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The producer of one outbound transfer, run once on a sender thread: sends OPEN, then waits for room in the
 * send window, reads one chunk from the source straight into a recycled direct buffer laid out as a whole DATA frame,
 * seals its CRC and queues it, until the source ends; then records the end (END for a streaming source). Any failure
 * fails the transfer and tells the peer. The source is closed at the end, whatever happened. The producer is the only
 * writer of the transfer's produced-chunk counter, so it reads it without the queue's lock.
 */
final class Producer implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(Producer.class);

    private final AmstSession session;
    private final SendQueue queue;
    private final OutboundTransfer t;

    Producer(AmstSession session, SendQueue queue, OutboundTransfer t) {
        this.session = session;
        this.queue = queue;
        this.t = t;
    }

    @Override
    public void run() {
        TransferRequest req = t.request;
        try {
            session.control.sendOpen(t);
            long offset = 0;
            while (true) {
                int want = session.chunkBytes();
                if (t.totalBytes >= 0) {
                    long left = t.totalBytes - offset;
                    if (left == 0) {
                        break;
                    }
                    want = (int) Math.min(want, left);
                }
                queue.awaitWindow(t, want);
                ByteBuf buf = session.transport.recycler().directBuffer(FrameHeader.HEADER_LENGTH + want);
                int n;
                try {
                    n = fill(req, buf, want);
                    if (n > 0) {
                        buf.writerIndex(0);
                        FrameHeader.writeHeader(buf, FrameHeader.TYPE_DATA, 0, t.id, offset, t.chunksProduced, n);
                        buf.writerIndex(FrameHeader.HEADER_LENGTH + n);
                        FrameHeader.sealCrc(buf, 0);
                    }
                } catch (Throwable e) {
                    buf.release();
                    throw e;
                }
                if (n <= 0) {
                    buf.release();
                    break;
                }
                if (!session.enqueue(t, new Chunk(t, offset, n, buf))) {
                    return;
                }
                offset += n;
            }
            if (t.totalBytes >= 0 && offset != t.totalBytes) {
                throw new DwcpException(ErrorCode.IO_ERROR, t + ": the source ended after " + offset
                        + " bytes, before its announced length " + t.totalBytes);
            }
            queue.ended(t, offset);
            if (t.totalBytes < 0) {
                session.control.send(Frames.empty(session.transport.alloc(), FrameHeader.TYPE_END, t.id, offset,
                        t.chunksProduced));
            }
        } catch (Throwable e) {
            session.failOutbound(t, Reassembly.asDwcp(e, t + ": sending failed"), true);
        } finally {
            closeSource();
        }
    }

    private void closeSource() {
        try {
            t.request.source().close();
        } catch (Exception e) {
            LOG.debug("{}: closing the source failed", t, e);
        }
    }

    /** Reads up to {@code want} bytes into {@code buf} after the header space; returns the count (0 at the end). */
    private static int fill(TransferRequest req, ByteBuf buf, int want) throws IOException {
        ByteBuffer dst = buf.nioBuffer(FrameHeader.HEADER_LENGTH, want);
        int total = 0;
        while (dst.hasRemaining()) {
            int n = req.source().read(dst);
            if (n < 0) {
                break;
            }
            total += n;
        }
        return total;
    }
}
