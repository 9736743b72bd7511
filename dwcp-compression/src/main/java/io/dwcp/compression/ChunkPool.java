package io.dwcp.compression;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Recycles the {@value PageStore#CHUNK_BYTES}-byte direct chunks of page stores that were released (a replaced
 * baseline, a discarded pending keyframe, finished staging), so the next keyframe does not pay for fresh memory: a new
 * direct buffer is zeroed by the JVM and then page-faulted in by the kernel, which on a 1 GiB state costs more CPU
 * than the reading itself. Chunks handed out may hold old data: users overwrite every byte they later read.
 *
 * <p>New chunks for {@link #take} are cut from slabs of {@value #SLAB_CHUNKS} chunks (32 MiB). The C allocator maps an
 * allocation that large on its own and unmaps it when it is freed; a 4 MiB buffer, once a freed one raised its
 * threshold, comes from its arenas instead, and after a free stays resident there. A slab is freed whole, when all
 * its chunks are back in the pool. Chunks of callers' own ({@link #takeRecycled} misses that the caller then allocates)
 * are pooled and freed one by one.
 *
 * <p>Bounded by {@code maxPooledBytes} (the baseline memory cap: memory the codec was allowed to hold anyway), except
 * for the free chunks of a slab of which some chunk is still in use (at most {@value #SLAB_CHUNKS} − 1 per such slab);
 * emptied on codec stop (a slab with a chunk still in use waits for it). Chunks nobody took again for a while are
 * freed by {@link #trimIdle} (the codec calls it every few seconds): consecutive rounds of a migration reuse them, but
 * a long-lived receiver does not keep its last delta's pages (hundreds of MiB) between migrations. Thread-safe.
 */
final class ChunkPool {
    /** Chunks per slab: 32 MiB, glibc's largest dynamic mmap threshold on 64-bit systems. */
    static final int SLAB_CHUNKS = 8;

    /** Free chunks, most recently given back first; {@link #releasedAt} in the same order (nanoTime of the give). */
    private final ArrayDeque<ByteBuffer> free = new ArrayDeque<>();
    private final ArrayDeque<Long> releasedAt = new ArrayDeque<>();
    /** The slab of every chunk cut from one, in use or free, until the slab is freed. */
    private final Map<ByteBuffer, Slab> slabOf = new IdentityHashMap<>();
    private final long maxPooledBytes;
    private long pooledBytes;

    /** A slab: the allocation, and how many of its chunks are in {@link #free}. Guarded by the pool. */
    private static final class Slab {
        final ByteBuffer whole;
        int free;

        Slab(ByteBuffer whole) {
            this.whole = whole;
        }
    }

    ChunkPool(long maxPooledBytes) {
        this.maxPooledBytes = maxPooledBytes;
    }

    /** A direct buffer of {@code bytes}; contents undefined when it is a recycled full chunk. */
    ByteBuffer take(int bytes) {
        ByteBuffer b = takeRecycled(bytes);
        if (b != null) {
            return b;
        }
        if (bytes != PageStore.CHUNK_BYTES) {
            return DirectMemory.allocate(bytes);
        }
        // Outside the lock: zeroing 32 MiB takes a moment.
        Slab s;
        try {
            s = new Slab(DirectMemory.allocate(SLAB_CHUNKS * PageStore.CHUNK_BYTES));
        } catch (OutOfMemoryError e) {
            // Near the direct-memory limit a whole slab may not fit where one chunk still does: a chunk of its own.
            return DirectMemory.allocate(bytes);
        }
        long now = System.nanoTime();
        synchronized (this) {
            ByteBuffer first = null;
            for (int i = 0; i < SLAB_CHUNKS; i++) {
                ByteBuffer c = s.whole.slice(i * PageStore.CHUNK_BYTES, PageStore.CHUNK_BYTES);
                slabOf.put(c, s);
                if (first == null) {
                    first = c;
                } else {
                    free.addLast(c);
                    releasedAt.addLast(now);
                    s.free++;
                    pooledBytes += c.capacity();
                }
            }
            return first;
        }
    }

    /** A recycled full chunk (contents undefined), or null when none is pooled or {@code bytes} is not a full chunk. */
    ByteBuffer takeRecycled(int bytes) {
        if (bytes == PageStore.CHUNK_BYTES) {
            synchronized (this) {
                ByteBuffer b = free.pollFirst();
                if (b != null) {
                    releasedAt.pollFirst();
                    pooledBytes -= b.capacity();
                    Slab s = slabOf.get(b);
                    if (s != null) {
                        s.free--;
                    }
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
        List<ByteBuffer> freed = new ArrayList<>(0);
        synchronized (this) {
            Slab s = slabOf.get(b);
            if (s != null) {
                // A slab's chunk cannot be freed alone: pooled, then whole slabs over the bound are freed.
                push(b);
                s.free++;
                if (pooledBytes > maxPooledBytes) {
                    removeSlabs(freed, Long.MAX_VALUE);
                }
            } else if (b.capacity() == PageStore.CHUNK_BYTES && b.isDirect()
                    && pooledBytes + b.capacity() <= maxPooledBytes) {
                push(b);
                return;
            } else {
                freed.add(b);
            }
        }
        freed.forEach(DirectMemory::free);
    }

    private void push(ByteBuffer b) {
        free.addFirst(b);
        releasedAt.addFirst(System.nanoTime());
        pooledBytes += b.capacity();
    }

    /**
     * Removes from {@link #free} the chunks given back before {@code before} (nanoTime; Long.MAX_VALUE: all) that can
     * be freed: a chunk of its own, or all the chunks of a slab when every one of them is free and that old; adds what
     * to free to {@code out}. Called with the lock held.
     */
    private void removeSlabs(List<ByteBuffer> out, long before) {
        Map<Slab, Integer> old = new IdentityHashMap<>();
        Iterator<ByteBuffer> bi = free.iterator();
        Iterator<Long> ti = releasedAt.iterator();
        while (bi.hasNext()) {
            ByteBuffer b = bi.next();
            long t = ti.next();
            Slab s = slabOf.get(b);
            if (s != null && s.free == SLAB_CHUNKS && (before == Long.MAX_VALUE || before - t > 0)) {
                old.merge(s, 1, Integer::sum);
            }
        }
        bi = free.iterator();
        ti = releasedAt.iterator();
        while (bi.hasNext()) {
            ByteBuffer b = bi.next();
            long t = ti.next();
            Slab s = slabOf.get(b);
            boolean remove;
            if (s == null) {
                remove = before == Long.MAX_VALUE || before - t > 0;
                if (remove) {
                    out.add(b);
                }
            } else {
                remove = old.getOrDefault(s, 0) == SLAB_CHUNKS;
                if (remove) {
                    slabOf.remove(b);
                    if (--s.free == 0) {
                        out.add(s.whole);
                    }
                }
            }
            if (remove) {
                bi.remove();
                ti.remove();
                pooledBytes -= b.capacity();
            }
        }
    }

    /**
     * Frees every pooled chunk that can be freed: chunks of their own, and slabs whose chunks are all back. The free
     * chunks of a slab that still has one in use stay pooled until it comes back ({@link #trimIdle} then frees the slab).
     */
    void clear() {
        List<ByteBuffer> freed = new ArrayList<>();
        synchronized (this) {
            removeSlabs(freed, Long.MAX_VALUE);
        }
        freed.forEach(DirectMemory::free);
    }

    /**
     * Frees the chunks given back more than {@code maxIdleNanos} before {@code nowNanos} (both {@link System#nanoTime()}
     * values) and not taken since; a slab's chunks only when all of the slab's are that idle. {@return the bytes freed}
     */
    long trimIdle(long nowNanos, long maxIdleNanos) {
        List<ByteBuffer> stale = new ArrayList<>();
        synchronized (this) {
            removeSlabs(stale, nowNanos - maxIdleNanos);
        }
        long bytes = 0;
        for (ByteBuffer b : stale) {
            bytes += b.capacity();
        }
        // Outside the lock: returning memory to the system takes a moment per buffer.
        stale.forEach(DirectMemory::free);
        return bytes;
    }

    synchronized long pooledBytes() {
        return pooledBytes;
    }
}
