package io.dwcp.compression;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Hands out direct-memory slices carved from {@link ChunkPool} chunks, for the pages of one delta round (sender
 * overlay, receiver staging). Recycled chunks are neither zeroed by the JVM nor page-faulted again, which on a delta
 * with 50,000 changed pages was 14 % of the encoder's CPU. Slices hold old data until written; every user writes
 * each page before reading it. Requests above one chunk get a dedicated buffer.
 *
 * <p>{@link #carve} is thread-safe (workers carve concurrently); {@link #close()} returns everything and must follow
 * the last use of every slice.
 */
final class Arena implements AutoCloseable {
    private final ChunkPool pool;
    private final List<ByteBuffer> owned = new ArrayList<>();
    private ByteBuffer current;
    private int used;

    Arena(ChunkPool pool) {
        this.pool = pool;
    }

    /** A slice of {@code bytes} (position 0, capacity {@code bytes}). */
    synchronized ByteBuffer carve(int bytes) {
        if (bytes > PageStore.CHUNK_BYTES) {
            ByteBuffer b = DirectMemory.allocate(bytes);
            owned.add(b);
            return b;
        }
        if (current == null || used + bytes > current.capacity()) {
            current = pool.take(PageStore.CHUNK_BYTES);
            owned.add(current);
            used = 0;
        }
        ByteBuffer s = current.slice(used, bytes);
        used += bytes;
        return s;
    }

    synchronized long allocatedBytes() {
        long n = 0;
        for (ByteBuffer b : owned) {
            n += b.capacity();
        }
        return n;
    }

    @Override
    public synchronized void close() {
        for (ByteBuffer b : owned) {
            pool.give(b);
        }
        owned.clear();
        current = null;
    }
}
