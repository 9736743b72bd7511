package io.dwcp.compression;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Direct buffers for the sender's batch frames, recycled once the frame sink has read them ({@link Lease}). Frames
 * used to be fresh heap arrays: a round makes as many bytes of them as it sends, and the ones waiting in the pipe to
 * the transport (up to tens of MiB) outlived young collections, were promoted and piled up in the old generation
 * until a concurrent cycle, so the sender's heap, and its resident memory, grew with the bytes sent. Pooled off-heap
 * frames keep the round's garbage small and its frame memory bounded by what is in flight.
 *
 * <p>Buffers come in power-of-two size classes from {@value #MIN_CLASS_BYTES} bytes to {@value #MAX_CLASS_BYTES}; a
 * larger frame gets a buffer of its own, freed on release. At most {@code maxPooledBytes} of free buffers are kept;
 * more are freed at once. Thread-safe: workers take, the sink's reader thread releases. {@link #close()} (codec stop)
 * frees the free buffers, and a lease released after it (a frame still queued in a pipe when the codec stopped) frees
 * its buffer instead of pooling it, until {@link #open()} (codec start) pools again.
 */
final class FramePool implements AutoCloseable {
    static final int MIN_CLASS_BYTES = 64 << 10;
    static final int MAX_CLASS_BYTES = 8 << 20;
    private static final int MIN_SHIFT = Integer.numberOfTrailingZeros(MIN_CLASS_BYTES);
    private static final int CLASSES = Integer.numberOfTrailingZeros(MAX_CLASS_BYTES) - MIN_SHIFT + 1;

    /** Guarded by {@code this}: free buffers per class, their bytes, and whether the pool is closed. */
    private final ArrayDeque<ByteBuffer>[] free;
    private final long maxPooledBytes;
    private long pooledBytes;
    private boolean closed;
    /** Leases taken and not yet released. */
    private final AtomicInteger outstanding = new AtomicInteger();

    @SuppressWarnings("unchecked")
    FramePool(long maxPooledBytes) {
        this.maxPooledBytes = maxPooledBytes;
        free = new ArrayDeque[CLASSES];
        for (int i = 0; i < CLASSES; i++) {
            free[i] = new ArrayDeque<>();
        }
    }

    /** The size class of a {@code bytes}-byte frame, or -1 when it is too large for one. */
    static int classOf(int bytes) {
        if (bytes > MAX_CLASS_BYTES) {
            return -1;
        }
        int shift = Math.max(MIN_SHIFT, 32 - Integer.numberOfLeadingZeros(Math.max(1, bytes) - 1));
        return shift - MIN_SHIFT;
    }

    /** A lease on a direct buffer of at least {@code bytes} (big-endian, position 0, limit {@code bytes}; old data). */
    Lease take(int bytes) {
        int c = classOf(bytes);
        ByteBuffer b = null;
        if (c >= 0) {
            synchronized (this) {
                b = free[c].pollFirst();
                if (b != null) {
                    pooledBytes -= b.capacity();
                }
            }
            if (b == null) {
                b = DirectMemory.allocate(MIN_CLASS_BYTES << c);
            }
        } else {
            b = DirectMemory.allocate(bytes);
        }
        b.order(ByteOrder.BIG_ENDIAN).clear().limit(bytes);
        outstanding.incrementAndGet();
        return new Lease(this, b);
    }

    private void give(ByteBuffer b) {
        outstanding.decrementAndGet();
        int c = Integer.bitCount(b.capacity()) == 1 ? classOf(b.capacity()) : -1;
        if (c >= 0 && (MIN_CLASS_BYTES << c) == b.capacity()) {
            synchronized (this) {
                if (!closed && pooledBytes + b.capacity() <= maxPooledBytes) {
                    free[c].addFirst(b);
                    pooledBytes += b.capacity();
                    return;
                }
            }
        }
        DirectMemory.free(b);
    }

    /** Leases taken and not yet released: 0 whenever no round is encoding and no sink holds a frame. */
    int outstanding() {
        return outstanding.get();
    }

    /** Bytes of free buffers held. */
    synchronized long pooledBytes() {
        return pooledBytes;
    }

    /** Pools released buffers again after {@link #close()}. */
    synchronized void open() {
        closed = false;
    }

    /** Frees the free buffers; releases from now until {@link #open()} free theirs. Idempotent. */
    @Override
    public synchronized void close() {
        closed = true;
        for (ArrayDeque<ByteBuffer> q : free) {
            for (ByteBuffer b : q) {
                DirectMemory.free(b);
            }
            q.clear();
        }
        pooledBytes = 0;
    }

    /**
     * One frame's buffer, from {@link #take} until {@link #run()} gives it back. Runs at most once: a second call does
     * nothing, so a buffer can never be in the pool twice (two frames writing one buffer).
     */
    static final class Lease implements Runnable {
        private final FramePool pool;
        private final ByteBuffer buffer;
        private final AtomicBoolean released = new AtomicBoolean();

        private Lease(FramePool pool, ByteBuffer buffer) {
            this.pool = pool;
            this.buffer = buffer;
        }

        /** The frame's buffer; not to be touched after {@link #run()}. */
        ByteBuffer buffer() {
            return buffer;
        }

        /** Returns the buffer to its pool (or frees it); only the first call counts. */
        @Override
        public void run() {
            if (released.compareAndSet(false, true)) {
                pool.give(buffer);
            }
        }
    }
}
