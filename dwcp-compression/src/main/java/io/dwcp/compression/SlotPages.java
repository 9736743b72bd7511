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
 * <p>A receiver may give it a {@link SlotFile}: each batch's chunk is then a buffer of its own, which {@link #stage}
 * replaces by a read-only mapping of the same pages written to a scratch file, once nothing writes it any more.
 *
 * <p>Filled by one thread ({@link #addChunk}, {@link #add}, {@link #stage}); {@link #carve} may be called from any
 * thread. The memory belongs to its {@link Arena} (and its {@link SlotFile}) and goes back to the pool on
 * {@link #close()}.
 */
final class SlotPages implements AutoCloseable {
    private final int pageSizeBytes;
    private final Arena arena;
    /** Null: every chunk stays in the arena's memory. */
    private final SlotFile file;
    private final List<ByteBuffer> chunks = new ArrayList<>();
    private long[] pages = new long[64];
    private long[] hashes = new long[64];
    private long[] locations = new long[64];
    private int count;

    SlotPages(int pageSizeBytes, Arena arena) {
        this(pageSizeBytes, arena, null);
    }

    /** Slots whose chunks {@link #stage} may move to {@code file} (null: none). */
    SlotPages(int pageSizeBytes, Arena arena, SlotFile file) {
        this.pageSizeBytes = pageSizeBytes;
        this.arena = arena;
        this.file = file;
    }

    /**
     * Memory for slot contents (thread-safe); register it with {@link #addChunk} before adding its slots. With a
     * {@link SlotFile} that still stages, a buffer of its own (for {@link #stage}), else a slice of the arena.
     */
    ByteBuffer carve(int bytes) {
        return file != null && file.active() ? file.take(bytes) : arena.carve(bytes);
    }

    /**
     * Moves chunk {@code chunkIndex}'s first {@code bytes} to the scratch file, when it was carved for that and the file
     * takes it: later reads of its slots see a read-only mapping, and its memory goes back. Only once nothing writes
     * the chunk any more. {@return whether the chunk was moved}
     */
    boolean stage(int chunkIndex, int bytes) {
        if (file == null) {
            return false;
        }
        ByteBuffer m = file.stage(chunks.get(chunkIndex), bytes);
        if (m == null) {
            return false;
        }
        chunks.set(chunkIndex, m);
        return true;
    }

    /** Bytes moved to the scratch file so far. */
    long stagedBytes() {
        return file == null ? 0 : file.stagedBytes();
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

    /** Returns the memory of every slot to the pool (and unmaps and deletes the scratch file). */
    @Override
    public void close() {
        chunks.clear();
        count = 0;
        arena.close();
        if (file != null) {
            file.close();
        }
    }
}
