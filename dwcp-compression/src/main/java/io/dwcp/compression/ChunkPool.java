package io.dwcp.compression;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * Recycles the {@value PageStore#CHUNK_BYTES}-byte direct chunks of page stores that were released (a replaced
 * baseline, a discarded pending keyframe, finished staging), so the next keyframe does not pay for fresh memory: a new
 * direct buffer is zeroed by the JVM and then page-faulted in by the kernel, which on a 1 GiB state costs more CPU
 * than the reading itself. Chunks handed out may hold old data: users overwrite every byte they later read.
 *
 * <p>Bounded by {@code maxPooledBytes} (the baseline memory cap: memory the codec was allowed to hold anyway);
 * emptied on codec stop. Chunks nobody took again for a while are freed by {@link #trimIdle} (the codec calls it every
 * few seconds): consecutive rounds of a migration reuse them, but a long-lived receiver does not keep its last delta's
 * pages (hundreds of MiB) between migrations. Thread-safe.
 */
final class ChunkPool {
    /** Most recently given back first; {@link #releasedAt} in the same order (nanoTime of the give). */
    private final ArrayDeque<ByteBuffer> free = new ArrayDeque<>();
    private final ArrayDeque<Long> releasedAt = new ArrayDeque<>();
    private final long maxPooledBytes;
    private long pooledBytes;

    ChunkPool(long maxPooledBytes) {
        this.maxPooledBytes = maxPooledBytes;
    }

    /** A direct buffer of {@code bytes}; contents undefined when it is a recycled full chunk. */
    ByteBuffer take(int bytes) {
        ByteBuffer b = takeRecycled(bytes);
        return b != null ? b : DirectMemory.allocate(bytes);
    }

    /** A recycled full chunk (contents undefined), or null when none is pooled or {@code bytes} is not a full chunk. */
    ByteBuffer takeRecycled(int bytes) {
        if (bytes == PageStore.CHUNK_BYTES) {
            synchronized (this) {
                ByteBuffer b = free.pollFirst();
                if (b != null) {
                    releasedAt.pollFirst();
                    pooledBytes -= b.capacity();
                    return b;
                }
            }
        }
        return null;
    }

    /** Takes back a buffer from {@link #take(int)}; keeps full chunks while under the bound, frees the rest. */
    void give(ByteBuffer b) {
        if (b == null) {
            return;
        }
        if (b.capacity() == PageStore.CHUNK_BYTES && b.isDirect()) {
            synchronized (this) {
                if (pooledBytes + b.capacity() <= maxPooledBytes) {
                    free.addFirst(b);
                    releasedAt.addFirst(System.nanoTime());
                    pooledBytes += b.capacity();
                    return;
                }
            }
        }
        DirectMemory.free(b);
    }

    /** Frees every pooled chunk. */
    synchronized void clear() {
        for (ByteBuffer b : free) {
            DirectMemory.free(b);
        }
        free.clear();
        releasedAt.clear();
        pooledBytes = 0;
    }

    /**
     * Frees the chunks given back more than {@code maxIdleNanos} before {@code nowNanos} (both {@link System#nanoTime()}
     * values) and not taken since. {@return the bytes freed}
     */
    long trimIdle(long nowNanos, long maxIdleNanos) {
        ArrayDeque<ByteBuffer> stale = new ArrayDeque<>();
        long bytes = 0;
        synchronized (this) {
            // The least recently given back are last: take from there while they are older than the limit.
            while (!releasedAt.isEmpty() && nowNanos - releasedAt.peekLast() > maxIdleNanos) {
                releasedAt.pollLast();
                ByteBuffer b = free.pollLast();
                pooledBytes -= b.capacity();
                bytes += b.capacity();
                stale.add(b);
            }
        }
        // Outside the lock: freeing 4 MiB chunks returns them to the system, which takes a moment each.
        stale.forEach(DirectMemory::free);
        return bytes;
    }

    synchronized long pooledBytes() {
        return pooledBytes;
    }
}
