package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.spi.FrameSink;
import io.dwcp.core.transport.PayloadSource;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Connects the codec to the transport so that encoding and sending overlap (pipelining): the encoder's frames go in
 * length-prefixed, the transport reads them out as one streaming payload. At most {@code capacityBytes} are buffered
 * (one frame larger than that is let through alone), so a slow link holds back the encoder instead of filling memory.
 *
 * <p>Frames come copied ({@link #accept}), handed over ({@link #acceptOwned}) or lent ({@link #acceptLent}); a lent
 * frame's release runs exactly once: when the reader has copied its last byte, or when the pipe fails or closes with
 * the frame still queued (or refuses it), always outside the lock.
 *
 * <p>Thread-safe: one encoder thread writes, one transport thread reads; either side may fail the pipe. Every field
 * below is guarded by {@code lock}.
 */
final class FramePipe implements FrameSink, PayloadSource {
    /** Queued bytes, and the release of the lent frame they are (null for copies, prefixes and handed-over frames). */
    private record Part(ByteBuffer bytes, Runnable release) {
    }

    private final long capacityBytes;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();
    private final Condition notFull = lock.newCondition();
    private final ArrayDeque<Part> queue = new ArrayDeque<>();
    private long queuedBytes;
    /** Every byte ever put in (header, prefixes, frames, end marker): the transfer's length once finished. */
    private long totalBytes;
    private boolean finished;
    private Throwable failure;
    /** Nanoseconds the encoder spent waiting for room: the link, not the codec, was the bottleneck then. */
    private long encoderBlockedNanos;

    FramePipe(ByteBuffer header, long capacityBytes) {
        this.capacityBytes = capacityBytes;
        queue.add(new Part(header, null));
        queuedBytes = header.remaining();
        totalBytes = queuedBytes;
    }

    /** The transfer's total length once the encoder finished without failure, else -1. */
    long finishedLength() {
        lock.lock();
        try {
            return finished && failure == null ? totalBytes : -1;
        } finally {
            lock.unlock();
        }
    }

    /** Encoder side: one frame (borrowed; copied here). Blocks while the pipe is full. */
    @Override
    public void accept(ByteBuffer frame) throws Exception {
        int len = frame.remaining();
        ByteBuffer copy = ByteBuffer.allocate(4 + len);
        copy.putInt(len).put(frame.duplicate()).flip();
        put(copy, null, null);
    }

    /** Encoder side: one frame handed over, queued as it is behind its length prefix. Blocks while the pipe is full. */
    @Override
    public void acceptOwned(ByteBuffer frame) throws Exception {
        ByteBuffer prefix = ByteBuffer.allocate(4).putInt(0, frame.remaining());
        put(prefix, frame.slice(), null);
    }

    /** Encoder side: one frame lent, queued as it is; released once read to its end, or on failure or close. */
    @Override
    public void acceptLent(ByteBuffer frame, Runnable release) throws Exception {
        ByteBuffer prefix = ByteBuffer.allocate(4).putInt(0, frame.remaining());
        put(prefix, frame.slice(), release);
    }

    /** Encoder side: the last frame was written; appends the end marker (4 bytes, never blocks). */
    void finish() {
        lock.lock();
        try {
            if (failure != null || finished) {
                return; // a failed pipe reports its failure to the reader instead
            }
            queue.add(new Part(ByteBuffer.allocate(4), null));
            queuedBytes += 4;
            totalBytes += 4;
            finished = true;
            notEmpty.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Either side: stops the pipe; the other side sees {@code cause}. Idempotent (the first cause wins). */
    void fail(Throwable cause) {
        Runnable[] dropped;
        lock.lock();
        try {
            if (failure == null && !finished) {
                failure = cause;
            }
            dropped = clearQueue();
            notEmpty.signalAll();
            notFull.signalAll();
        } finally {
            lock.unlock();
        }
        runAll(dropped);
    }

    /** Empties the queue; returns the releases of the lent frames it held, to run outside the lock. */
    private Runnable[] clearQueue() {
        Runnable[] dropped = queue.stream().map(Part::release).filter(r -> r != null).toArray(Runnable[]::new);
        queue.clear();
        queuedBytes = 0;
        return dropped;
    }

    private static void runAll(Runnable[] releases) {
        for (Runnable r : releases) {
            r.run();
        }
    }

    /**
     * Queues {@code b} and, when not null, {@code then} right behind it (one frame: both or neither); {@code release}
     * (may be null) belongs to {@code then} and runs here when the frame is refused.
     */
    private void put(ByteBuffer b, ByteBuffer then, Runnable release) throws InterruptedException {
        boolean queued = false;
        try {
            queued = enqueue(b, then, release);
        } finally {
            if (!queued && release != null) {
                release.run();
            }
        }
    }

    private boolean enqueue(ByteBuffer b, ByteBuffer then, Runnable release) throws InterruptedException {
        long bytes = b.remaining() + (then == null ? 0 : then.remaining());
        lock.lock();
        try {
            if (failure == null && queuedBytes > 0 && queuedBytes + bytes > capacityBytes) {
                long waitStart = System.nanoTime();
                while (failure == null && queuedBytes > 0 && queuedBytes + bytes > capacityBytes) {
                    notFull.await();
                }
                encoderBlockedNanos += System.nanoTime() - waitStart;
            }
            if (failure != null) {
                throw new DwcpException(ErrorCode.CANCELLED, "the round's transfer ended before encoding finished", failure);
            }
            queue.add(new Part(b, null));
            if (then != null) {
                queue.add(new Part(then, release));
            }
            queuedBytes += bytes;
            totalBytes += bytes;
            notEmpty.signalAll();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Total time the encoder waited for the transport to drain the pipe. */
    long encoderBlockedNanos() {
        lock.lock();
        try {
            return encoderBlockedNanos;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public long lengthBytes() {
        return -1;
    }

    /** Transport side: blocks until bytes, the end, or a failure. */
    @Override
    public int read(ByteBuffer dst) throws IOException {
        List<Runnable> consumed = null;
        lock.lock();
        try {
            while (queue.isEmpty() && !finished && failure == null) {
                notEmpty.await();
            }
            if (failure != null) {
                throw new IOException("encoding the round failed: " + failure, failure);
            }
            if (queue.isEmpty()) {
                return -1;
            }
            int n = 0;
            while (dst.hasRemaining() && !queue.isEmpty()) {
                ByteBuffer head = queue.peek().bytes();
                int k = Math.min(dst.remaining(), head.remaining());
                ByteBuffer part = head.duplicate();
                part.limit(part.position() + k);
                dst.put(part);
                head.position(head.position() + k);
                n += k;
                if (!head.hasRemaining()) {
                    Runnable r = queue.poll().release();
                    if (r != null) {
                        if (consumed == null) {
                            consumed = new ArrayList<>(2);
                        }
                        consumed.add(r);
                    }
                }
            }
            queuedBytes -= n;
            notFull.signalAll();
            return n;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for encoded frames");
        } finally {
            lock.unlock();
            if (consumed != null) {
                consumed.forEach(Runnable::run);
            }
        }
    }

    @Override
    public void close() {
        Runnable[] dropped;
        lock.lock();
        try {
            if (!finished && failure == null) {
                failure = new DwcpException(ErrorCode.CANCELLED, "transfer closed its source");
            }
            dropped = clearQueue();
            notFull.signalAll();
        } finally {
            lock.unlock();
        }
        runAll(dropped);
    }
}
