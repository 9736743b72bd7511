package io.dwcp.transport.netty;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledDirectByteBuf;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * Reuses the large direct buffers of the data path: whole DATA frames on the send side, socket reads on the receive
 * side.
 *
 * <p>Why not Netty's pooled allocator alone: its arenas free a chunk as soon as the chunk's last buffer is released,
 * and map and zero a new one for the next allocation. MiB-sized chunks acknowledged in order empty whole arena
 * chunks several times a second, and on loopback the zeroing and page faults took 15–20 % of each side's CPU. Here a
 * released buffer goes back to a free list of its capacity and is handed out again as it is (no zeroing).
 *
 * <p>Capacities are rounded up to {@value #STEP_BYTES}-byte steps; requests below {@value #MIN_RECYCLED_BYTES} or
 * above {@value #MAX_RECYCLED_BYTES} bytes go to the fallback allocator. At most {@code maxIdleBytes} wait in the
 * free lists; when a buffer does not fit, idle buffers of other capacities are freed first (the chunk size changed),
 * then the buffer itself. {@link #trimIdle} frees buffers nobody asked for during a while, so an idle transport
 * does not keep the window's memory. A buffer's maximum capacity is its capacity: it never grows in place.
 *
 * <p>Ownership: a buffer from {@link #directBuffer} is an ordinary reference-counted {@link ByteBuf}; whoever
 * releases the last reference returns it here. After {@link #close()} returned buffers are freed. Thread-safe.
 *
 * <p>Leaks: every buffer handed out, fresh or reused, goes through Netty's leak detector as the pooled allocator's
 * buffers do (wrapped by {@code toLeakAwareBuffer}, at the level of {@code io.netty.leakDetection.level}: sampled by
 * default, all at paranoid). A recycled buffer that is dropped without its last release is reported like any Netty
 * buffer, with where it was allocated and last touched.
 */
final class BufferRecycler implements AutoCloseable {
    static final int STEP_BYTES = 64 * 1024;
    static final int MIN_RECYCLED_BYTES = 64 * 1024;
    static final int MAX_RECYCLED_BYTES = 16 << 20;

    private final ByteBufAllocator fallback;
    private final long maxIdleBytes;
    /** Per capacity, most recently released last (reused first: warm in cache and TLB). */
    private final Map<Integer, ArrayDeque<Recycled>> idle = new HashMap<>();
    private long idleBytes;
    private long allocations;
    private long reuses;
    private boolean closed;

    BufferRecycler(ByteBufAllocator fallback, long maxIdleBytes) {
        if (maxIdleBytes < 0) {
            throw new IllegalArgumentException("maxIdleBytes " + maxIdleBytes + " < 0");
        }
        this.fallback = fallback;
        this.maxIdleBytes = maxIdleBytes;
    }

    /** A direct buffer with at least {@code minCapacity} writable bytes, reader and writer index 0, refCnt 1. */
    ByteBuf directBuffer(int minCapacity) {
        if (minCapacity < MIN_RECYCLED_BYTES || minCapacity > MAX_RECYCLED_BYTES) {
            return fallback.directBuffer(minCapacity);
        }
        int capacity = (int) ((minCapacity + (long) STEP_BYTES - 1) / STEP_BYTES * STEP_BYTES);
        Recycled b = null;
        synchronized (this) {
            ArrayDeque<Recycled> q = idle.get(capacity);
            if (q != null) {
                b = q.pollLast();
            }
            if (b != null) {
                idleBytes -= capacity;
                reuses++;
            } else {
                allocations++;
            }
        }
        if (b == null) {
            return LeakAware.track(new Recycled(this, capacity));
        }
        b.reuse();
        return LeakAware.track(b);
    }

    /** Frees buffers released more than {@code maxIdleNanos} before {@code nowNanos} ({@link System#nanoTime()}). */
    void trimIdle(long nowNanos, long maxIdleNanos) {
        ArrayDeque<Recycled> stale = new ArrayDeque<>();
        synchronized (this) {
            for (Iterator<ArrayDeque<Recycled>> it = idle.values().iterator(); it.hasNext(); ) {
                ArrayDeque<Recycled> q = it.next();
                while (!q.isEmpty() && nowNanos - q.peekFirst().releasedAtNanos > maxIdleNanos) {
                    Recycled b = q.pollFirst();
                    idleBytes -= b.capacity();
                    stale.add(b);
                }
                if (q.isEmpty()) {
                    it.remove();
                }
            }
        }
        stale.forEach(Recycled::free);
    }

    /** Bytes waiting in the free lists. */
    synchronized long idleBytes() {
        return idleBytes;
    }

    /** Buffers allocated fresh, and buffers handed out again, since creation. */
    synchronized long[] counts() {
        return new long[] {allocations, reuses};
    }

    /** Frees every idle buffer; buffers released later are freed at once. Idempotent. */
    @Override
    public void close() {
        ArrayDeque<Recycled> all = new ArrayDeque<>();
        synchronized (this) {
            closed = true;
            idle.values().forEach(all::addAll);
            idle.clear();
            idleBytes = 0;
        }
        all.forEach(Recycled::free);
    }

    private void recycle(Recycled b) {
        int capacity = b.capacity();
        ArrayDeque<Recycled> evicted = null;
        boolean kept = false;
        synchronized (this) {
            if (!closed && capacity <= maxIdleBytes) {
                if (idleBytes + capacity > maxIdleBytes) {
                    evicted = evictOtherCapacities(capacity, idleBytes + capacity - maxIdleBytes);
                }
                if (idleBytes + capacity <= maxIdleBytes) {
                    b.releasedAtNanos = System.nanoTime();
                    idle.computeIfAbsent(capacity, k -> new ArrayDeque<>()).addLast(b);
                    idleBytes += capacity;
                    kept = true;
                }
            }
        }
        if (evicted != null) {
            evicted.forEach(Recycled::free);
        }
        if (!kept) {
            b.free();
        }
    }

    /** Removes idle buffers of capacities other than {@code keep} until {@code bytes} are removed or none is left. */
    private ArrayDeque<Recycled> evictOtherCapacities(int keep, long bytes) {
        ArrayDeque<Recycled> out = new ArrayDeque<>();
        long removed = 0;
        for (Iterator<Map.Entry<Integer, ArrayDeque<Recycled>>> it = idle.entrySet().iterator();
                it.hasNext() && removed < bytes; ) {
            Map.Entry<Integer, ArrayDeque<Recycled>> e = it.next();
            if (e.getKey() == keep) {
                continue;
            }
            ArrayDeque<Recycled> q = e.getValue();
            while (!q.isEmpty() && removed < bytes) {
                Recycled b = q.pollFirst();
                removed += b.capacity();
                out.add(b);
            }
            if (q.isEmpty()) {
                it.remove();
            }
        }
        idleBytes -= removed;
        return out;
    }

    /** Access to Netty's leak-detector wrapping for buffers that no Netty allocator made. Never instantiated. */
    private abstract static class LeakAware extends AbstractByteBufAllocator {
        static ByteBuf track(ByteBuf buf) {
            return toLeakAwareBuffer(buf);
        }
    }

    /** A direct buffer that returns to its recycler when its last reference is released. */
    private static final class Recycled extends UnpooledDirectByteBuf {
        private final BufferRecycler owner;
        long releasedAtNanos;

        Recycled(BufferRecycler owner, int capacity) {
            super(owner.fallback, capacity, capacity);
            this.owner = owner;
        }

        void reuse() {
            resetRefCnt();
            clear();
        }

        void free() {
            super.deallocate();
        }

        @Override
        protected void deallocate() {
            owner.recycle(this);
        }
    }
}
