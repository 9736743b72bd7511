package io.dwcp.transport.netty;

/*
 * Reassembly of one inbound transfer.
 *
 * Chunks arrive on any data stream in any order. Event loops place each payload by offset in a sorted map (the
 * reorder buffer); one delivery thread per transfer (never an event loop) takes the chunk that starts at the
 * delivered position, hands it to the sink, releases it and advances the position. The delivered position is what
 * the receiver acknowledges (cumulative ACK on the control connection), so the sender's window bounds what can be
 * in this buffer: memory stays bounded whatever the speed of the sink, and a slow sink holds the sender back.
 *
 * Invariants (under `lock`):
 *   - every entry of `pending` starts at or after `delivered` (entries wholly below are dropped as duplicates);
 *   - entries do not start at the same offset (a second copy is a duplicate and is dropped);
 *   - `limit` (-1 until known) bounds every entry's end; a frame beyond it is CORRUPT_FRAME.
 * Ownership: `pending` owns one reference to each payload; whoever removes an entry releases it.
 *
 * Inactivity (dwcp.transport.transfer-idle-timeout, see IdleReaper): `lastActivityNanos` is stamped by every frame of
 * the transfer and by every return from the application (handler, sink); while the delivery thread is inside the
 * application (`inApplication`) the transfer is never idle, so only a silent sender makes it idle.
 */

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.transport.InboundTransfer;
import io.dwcp.core.transport.TransferKind;
import io.dwcp.core.transport.TransferSink;
import io.netty.buffer.ByteBuf;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/** Reorder buffer and delivery loop of one inbound transfer. Thread-safe as documented per method. */
final class Reassembly implements Runnable {
    private final AmstSession session;
    final long id;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final TreeMap<Long, ByteBuf> pending = new TreeMap<>();
    private TransferKind kind;
    private String key;
    private boolean opened;
    /** Total length: from OPEN (known length) or END (streaming); -1 while unknown. */
    private long limit = -1;
    private long highestEnd;
    private volatile long delivered;
    private long lastAcked;
    private DwcpException failure;
    private boolean finished;
    /** Ended by the IdleReaper (at most once). */
    private boolean expired;
    /** When a frame of this transfer last arrived or the application last returned (System.nanoTime). Any thread. */
    private volatile long lastActivityNanos = System.nanoTime();
    /** Written by the delivery thread around calls into the handler and the sink; read by the reaper. */
    private volatile boolean inApplication;

    Reassembly(AmstSession session, long id) {
        this.session = session;
        this.id = id;
    }

    long deliveredBytes() {
        return delivered;
    }

    /**
     * Places a DATA payload (borrowed; retained when kept). Event loop. Returns the bytes added to the reorder buffer.
     *
     * @throws DwcpException CORRUPT_FRAME beyond the announced length; LIMIT_EXCEEDED over the session's reorder limit
     */
    int onData(long offset, ByteBuf payload) {
        lastActivityNanos = System.nanoTime();
        int len = payload.readableBytes();
        long end = offset + len;
        if (end < offset) {
            throw new DwcpException(ErrorCode.CORRUPT_FRAME, "transfer " + id + ": offset " + offset + " + length "
                    + len + " overflows");
        }
        lock.lock();
        try {
            if (failure != null || finished || len == 0) {
                return 0;
            }
            if (limit >= 0 && end > limit) {
                throw new DwcpException(ErrorCode.CORRUPT_FRAME, "transfer " + id + ": chunk at offset " + offset
                        + " + " + len + " bytes ends beyond the announced length " + limit);
            }
            if (end <= delivered || pending.containsKey(offset)) {
                session.duplicateChunk();
                return 0;
            }
            session.reserveReorder(len);
            pending.put(offset, payload.retain());
            highestEnd = Math.max(highestEnd, end);
            if (offset <= delivered) {
                changed.signal();
            }
            return len;
        } finally {
            lock.unlock();
        }
    }

    /**
     * OPEN arrived: records what the transfer is. Returns true when the delivery loop should start (first OPEN).
     *
     * @throws DwcpException CORRUPT_FRAME when data already received lies beyond the announced length
     */
    boolean onOpen(TransferKind kind, String key, long totalBytes) {
        lastActivityNanos = System.nanoTime();
        lock.lock();
        try {
            if (opened || failure != null) {
                return false;
            }
            if (totalBytes >= 0 && highestEnd > totalBytes) {
                throw new DwcpException(ErrorCode.CORRUPT_FRAME, "transfer " + id + ": announced length " + totalBytes
                        + " is below data already received up to " + highestEnd);
            }
            this.kind = kind;
            this.key = key;
            this.limit = totalBytes;
            this.opened = true;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** END of a streaming transfer. Event loop. @throws DwcpException CORRUPT_FRAME when inconsistent */
    void onEnd(long totalBytes) {
        lastActivityNanos = System.nanoTime();
        lock.lock();
        try {
            if (limit >= 0 && limit != totalBytes) {
                throw new DwcpException(ErrorCode.CORRUPT_FRAME, "transfer " + id + ": END at " + totalBytes
                        + " but the length is " + limit);
            }
            if (highestEnd > totalBytes || delivered > totalBytes) {
                throw new DwcpException(ErrorCode.CORRUPT_FRAME, "transfer " + id + ": END at " + totalBytes
                        + " is below data already received up to " + highestEnd);
            }
            limit = totalBytes;
            changed.signal();
        } finally {
            lock.unlock();
        }
    }

    /** Fails the transfer: wakes the delivery loop, releases buffered chunks. Any thread. Idempotent. */
    void fail(DwcpException cause) {
        lock.lock();
        try {
            if (failure == null && !finished) {
                failure = cause;
            }
            releasePending();
            changed.signal();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Whether the transfer has had no frame and no return from the application since {@code cutoffNanos} and is not in
     * the application now. Any thread.
     */
    boolean idleSince(long cutoffNanos) {
        return !inApplication && lastActivityNanos - cutoffNanos <= 0;
    }

    /**
     * Ends an idle transfer with {@code cause} (IdleReaper). Its delivery loop, if one runs, reports it to the sink and
     * the sender; a transfer whose OPEN never came has none, so it is finished (and the sender told) here. Returns
     * whether this call ended it (false when it had ended or was ending already). Any thread.
     */
    boolean expire(DwcpException cause) {
        DwcpException report;
        lock.lock();
        try {
            if (finished || expired || (failure != null && opened)) {
                return false;
            }
            expired = true;
            if (failure == null) {
                failure = cause;
            }
            releasePending();
            changed.signal();
            report = opened ? null : failure;
        } finally {
            lock.unlock();
        }
        if (report != null) {
            session.finishInbound(this, report);
        }
        return true;
    }

    /** What the transfer is, for messages: its kind and key once OPEN came. */
    String describe() {
        lock.lock();
        try {
            return opened ? kind + " '" + key + "'" : "not opened";
        } finally {
            lock.unlock();
        }
    }

    /** Re-sends the cumulative ACK (after a resume). */
    void resendAck() {
        session.control.sendAck(id, delivered);
    }

    private void releasePending() {
        long bytes = 0;
        for (ByteBuf b : pending.values()) {
            bytes += b.readableBytes();
            b.release();
        }
        pending.clear();
        session.releaseReorder(bytes);
    }

    /** The delivery loop: runs on a delivery thread (never an event loop), calls the sink sequentially. */
    @Override
    public void run() {
        TransferSink sink;
        try {
            inApplication = true;
            try {
                sink = session.handler().onTransfer(session, new InboundTransfer(id, kind, key, limit));
            } finally {
                leftApplication();
            }
            if (sink == null) {
                throw new DwcpException(ErrorCode.ILLEGAL_STATE, "the handler refused transfer " + id + " ('" + key + "')");
            }
        } catch (Throwable t) {
            DwcpException e = asDwcp(t, "the handler refused transfer " + id);
            fail(e);
            session.finishInbound(this, e);
            return;
        }
        long ackEvery = session.ackEveryBytes();
        try {
            while (true) {
                ByteBuf chunk = null;
                long chunkOffset = 0;
                lock.lock();
                try {
                    while (true) {
                        if (failure != null) {
                            throw failure;
                        }
                        if (limit >= 0 && delivered == limit) {
                            break;
                        }
                        Map.Entry<Long, ByteBuf> first = pending.firstEntry();
                        if (first != null && first.getKey() <= delivered) {
                            pending.pollFirstEntry();
                            chunk = first.getValue();
                            chunkOffset = first.getKey();
                            break;
                        }
                        if (delivered > lastAcked) {
                            // About to wait: acknowledge what was delivered so the sender's window opens.
                            lastAcked = delivered;
                            session.control.sendAck(id, delivered);
                        }
                        changed.await(1, TimeUnit.SECONDS);
                    }
                } finally {
                    lock.unlock();
                }
                if (chunk == null) {
                    break;
                }
                int held = chunk.readableBytes();
                try {
                    int skip = (int) (delivered - chunkOffset);
                    if (skip > 0) {
                        // A chunk overlapping what was delivered (a peer that re-cut its chunks): deliver the rest.
                        chunk.skipBytes(Math.min(skip, chunk.readableBytes()));
                    }
                    int n = chunk.readableBytes();
                    if (n > 0) {
                        inApplication = true;
                        try {
                            // Component by component: nioBuffer() of a composite would copy.
                            if (chunk.nioBufferCount() == 1) {
                                sink.write(chunk.nioBuffer());
                            } else {
                                for (java.nio.ByteBuffer part : chunk.nioBuffers()) {
                                    sink.write(part);
                                }
                            }
                        } finally {
                            leftApplication();
                        }
                        delivered += n;
                        session.delivered(n);
                    }
                } finally {
                    chunk.release();
                    session.releaseReorder(held);
                }
                if (delivered - lastAcked >= ackEvery) {
                    lastAcked = delivered;
                    session.control.sendAck(id, delivered);
                }
            }
            inApplication = true;
            try {
                sink.complete();
            } finally {
                leftApplication();
            }
        } catch (Throwable t) {
            DwcpException e = asDwcp(t, "transfer " + id + " failed at the receiver");
            fail(e);
            try {
                sink.fail(e);
            } catch (Throwable sinkFailure) {
                // TransferSink.fail must not throw; a broken sink cannot make the failure worse than reported, but its
                // own failure stays attached to the one reported.
                e.addSuppressed(sinkFailure);
            }
            session.finishInbound(this, e);
            return;
        }
        lock.lock();
        try {
            finished = true;
        } finally {
            lock.unlock();
        }
        session.control.sendAck(id, delivered);
        session.finishInbound(this, null);
    }

    private void leftApplication() {
        lastActivityNanos = System.nanoTime();
        inApplication = false;
    }

    static DwcpException asDwcp(Throwable t, String context) {
        DwcpException d = DwcpException.find(t);
        if (d != null) {
            return d;
        }
        if (t instanceof InterruptedException) {
            Thread.currentThread().interrupt();
            return new DwcpException(ErrorCode.CANCELLED, context + ": interrupted", t);
        }
        return new DwcpException(ErrorCode.IO_ERROR, context + ": " + t, t);
    }
}
