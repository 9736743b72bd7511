package io.dwcp.compression;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The pages one delta round replaces, in slot order (slot = ordinal of a sent page in its round): page index, page
 * hash and content, the content in direct-memory chunks (or, on a sender reading an immutable snapshot, in views of
 * the snapshot itself). The sender keeps it as the pending baseline until the
 * receiver acknowledges; the receiver stages a delta in it until the round verified. Applying it to a baseline copies
 * each slot's content, so the order of application cannot matter (a moved page's source was copied when it was
 * read, not when it is applied).
 *
 * <p>Filled by one thread ({@link #addChunk}, {@link #add}); {@link #carve} may be called from any thread. The
 * memory belongs to its {@link Arena} and goes back to the pool on {@link #close()}.
 */
final class SlotPages implements AutoCloseable {
    private final int pageSizeBytes;
    private final Arena arena;
    private final List<ByteBuffer> chunks = new ArrayList<>();
    private long[] pages = new long[64];
    private long[] hashes = new long[64];
    private long[] locations = new long[64];
    private int count;

    SlotPages(int pageSizeBytes, Arena arena) {
        this.pageSizeBytes = pageSizeBytes;
        this.arena = arena;
    }

    /** Memory for slot contents (thread-safe); register it with {@link #addChunk} before adding its slots. */
    ByteBuffer carve(int bytes) {
        return arena.carve(bytes);
    }

    int count() {
        return count;
    }

    long allocatedBytes() {
        return arena.allocatedBytes();
    }

    /** Registers a slice from {@link #carve} or a view of an immutable snapshot; returns its index for {@link #add}. */
    int addChunk(ByteBuffer chunk) {
        chunks.add(chunk);
        return chunks.size() - 1;
    }

    /** Appends a slot whose content is at {@code offset} of chunk {@code chunkIndex}; returns the slot number. */
    int add(long page, long hash, int chunkIndex, int offset) {
        if (count == pages.length) {
            int n = count * 2;
            pages = Arrays.copyOf(pages, n);
            hashes = Arrays.copyOf(hashes, n);
            locations = Arrays.copyOf(locations, n);
        }
        pages[count] = page;
        hashes[count] = hash;
        locations[count] = ((long) chunkIndex << 32) | (offset & 0xFFFFFFFFL);
        return count++;
    }

    void hash(int slot, long hash) {
        hashes[slot] = hash;
    }

    long page(int slot) {
        return pages[slot];
    }

    long hash(int slot) {
        return hashes[slot];
    }

    ByteBuffer chunk(int slot) {
        return chunks.get((int) (locations[slot] >>> 32));
    }

    int offset(int slot) {
        return (int) locations[slot];
    }

    int pageSizeBytes() {
        return pageSizeBytes;
    }

    /** Returns the memory of every slot to the pool. */
    @Override
    public void close() {
        chunks.clear();
        count = 0;
        arena.close();
    }
}
