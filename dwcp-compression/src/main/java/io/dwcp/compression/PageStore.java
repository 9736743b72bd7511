package io.dwcp.compression;

import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.WritableRegion;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A page-granular store of a whole state outside the Java heap: pages live in fixed chunks of at most
 * {@value #CHUNK_BYTES} bytes, allocated on first touch, either in direct memory from a {@link ChunkPool} (contents
 * undefined until written), in a deleted temporary file mapped read-write (states larger than the baseline memory
 * budget; unwritten pages read as zeros), or in mappings of a replica region itself (a keyframe decoded in place:
 * the receiver's baseline and its replica file are then the same pages), or read-only views of an
 * {@link StateRegion#immutable() immutable} snapshot region (the sender's baseline of a snapshot file: no copy, no
 * memory of its own). Owners write every page before reading it; a view store is never written, but can
 * {@link #adoptViews adopt} the views of a newer snapshot.
 *
 * <p>Thread-safety: chunk allocation is synchronised; page reads and writes of different pages may run concurrently;
 * callers order writes and reads of one page. {@link #close()} frees the memory and must follow every use.
 */
final class PageStore implements AutoCloseable {
    static final int CHUNK_BYTES = 4 << 20;

    private final int pageSizeBytes;
    private final long pageCount;
    private final int pagesPerChunkShift;
    /** Volatile so that {@link #adoptViews} publishes a whole new array to lock-free readers (background indexers). */
    private volatile ByteBuffer[] chunks;
    private final FileChannel file;
    private final ChunkPool pool;
    private final WritableRegion region;
    private final boolean views;
    private final AtomicBoolean closed = new AtomicBoolean();
    /**
     * Chunks that read as zeros until written: a new direct buffer (zero-filled by the JVM) or a new mapping of the
     * staging file (a hole). Set when the chunk is allocated; guarded by this store's lock until then.
     */
    private final boolean[] zeroFilled;

    private PageStore(int pageSizeBytes, long pageCount, FileChannel file, ChunkPool pool, WritableRegion region,
                      boolean views) {
        if (Integer.bitCount(pageSizeBytes) != 1) {
            throw new IllegalArgumentException("pageSizeBytes must be a power of 2, got " + pageSizeBytes);
        }
        this.pageSizeBytes = pageSizeBytes;
        this.pageCount = pageCount;
        int pagesPerChunk = Math.max(1, CHUNK_BYTES / pageSizeBytes);
        this.pagesPerChunkShift = Integer.numberOfTrailingZeros(pagesPerChunk);
        long n = (pageCount + pagesPerChunk - 1) >>> pagesPerChunkShift;
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("state of " + pageCount + " pages is too large for one store");
        }
        this.chunks = new ByteBuffer[(int) n];
        this.zeroFilled = new boolean[(int) n];
        this.file = file;
        this.pool = pool;
        this.region = region;
        this.views = views;
    }

    /**
     * A store in direct memory whose chunks come from (and return to) {@code pool}. Pitfall: its pages are not
     * zero-filled; the owner writes every page before reading it.
     */
    static PageStore pooled(int pageSizeBytes, long pageCount, ChunkPool pool) {
        return new PageStore(pageSizeBytes, pageCount, null, pool, null, false);
    }

    /** A store in a deleted temporary file under {@code dir}, mapped chunk by chunk. */
    static PageStore tempFile(int pageSizeBytes, long pageCount, Path dir) {
        try {
            Path p = Files.createTempFile(dir, "dwcp-hde-", ".stage");
            FileChannel ch = FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE,
                    StandardOpenOption.DELETE_ON_CLOSE);
            Files.deleteIfExists(p);
            return new PageStore(pageSizeBytes, pageCount, ch, null, null, false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a staging file in " + dir, e);
        }
    }

    /**
     * A store whose chunks are mappings of {@code region} ({@link WritableRegion#mappable()}), which must hold exactly
     * {@code pageCount} whole pages. The store does not own the region; closing the store unmaps the chunks.
     */
    static PageStore inRegion(int pageSizeBytes, long pageCount, WritableRegion region) {
        if (!region.mappable() || region.sizeBytes() != pageCount * pageSizeBytes) {
            throw new IllegalArgumentException(region + " is not a mappable region of " + pageCount + " pages");
        }
        return new PageStore(pageSizeBytes, pageCount, null, null, region, false);
    }

    /**
     * A read-only store over an {@link StateRegion#immutable() immutable} region of exactly {@code pageCount} whole
     * pages, all of its chunks taken as views now (while the region is open); null when the region is not immutable,
     * not whole pages, or offers no views. The store neither owns nor copies the region.
     */
    static PageStore views(int pageSizeBytes, long pageCount, StateRegion region) throws IOException {
        if (!region.immutable() || region.sizeBytes() != pageCount * pageSizeBytes) {
            return null;
        }
        PageStore s = new PageStore(pageSizeBytes, pageCount, null, null, null, true);
        for (int c = 0; c < s.chunks.length; c++) {
            long first = (long) c << s.pagesPerChunkShift;
            long bytes = Math.min(1L << s.pagesPerChunkShift, pageCount - first) * pageSizeBytes;
            ByteBuffer v = region.view(first * pageSizeBytes, (int) bytes);
            if (v == null) {
                return null;
            }
            s.chunks[c] = v;
        }
        return s;
    }

    /** Whether the pages live in a file (views, a replica region, a temporary file) rather than in direct memory. */
    boolean isFileBacked() {
        return views || region != null || file != null;
    }

    /** Whether this store is made of read-only views of a snapshot region (see {@link #views}). */
    boolean isViews() {
        return views;
    }

    /**
     * Replaces this view store's chunks by those of {@code newer}, a view store of the same shape over the next
     * snapshot of the state (after a delta to it was acknowledged, the two differ exactly by that delta's pages).
     * A reader sees the old or the new array of views, both valid; {@code newer} may be closed afterwards.
     */
    synchronized void adoptViews(PageStore newer) {
        if (!views || !newer.views || newer.chunks.length != chunks.length || newer.pageSizeBytes != pageSizeBytes) {
            throw new IllegalArgumentException("only a view store of the same page size and chunk count can be adopted");
        }
        if (closed.get()) {
            throw new IllegalStateException("page store is closed");
        }
        chunks = newer.chunks.clone();
    }

    /**
     * Makes pages {@code [from, to)} durable in the region (msync of the chunks holding them); a no-op for other
     * stores. Unchecked I/O failures, as {@link MappedByteBuffer#force()}.
     */
    void force(long from, long to) {
        if (region == null || from >= to) {
            return;
        }
        int first = (int) (from >>> pagesPerChunkShift);
        int last = (int) ((to - 1) >>> pagesPerChunkShift);
        synchronized (this) {
            if (closed.get()) {
                throw new IllegalStateException("page store is closed");
            }
            for (int c = first; c <= last; c++) {
                if (chunks[c] instanceof MappedByteBuffer) {
                    ((MappedByteBuffer) chunks[c]).force();
                }
            }
        }
    }

    int pageSizeBytes() {
        return pageSizeBytes;
    }

    long pageCount() {
        return pageCount;
    }

    long sizeBytes() {
        return pageCount * pageSizeBytes;
    }

    int pagesPerChunk() {
        return 1 << pagesPerChunkShift;
    }

    /** The chunk holding {@code page} (absolute indexing, shared: never change its position or limit). */
    ByteBuffer chunk(long page) {
        int c = (int) (page >>> pagesPerChunkShift);
        ByteBuffer b = chunks[c];
        return b != null ? b : allocateChunk(c);
    }

    /** Byte offset of {@code page} inside {@link #chunk(long)}. */
    int offset(long page) {
        return (int) (page & ((1L << pagesPerChunkShift) - 1)) * pageSizeBytes;
    }

    private synchronized ByteBuffer allocateChunk(int c) {
        if (closed.get()) {
            throw new IllegalStateException("page store is closed");
        }
        ByteBuffer b = chunks[c];
        if (b != null) {
            return b;
        }
        long first = (long) c << pagesPerChunkShift;
        long pages = Math.min(1L << pagesPerChunkShift, pageCount - first);
        int bytes = (int) (pages * pageSizeBytes);
        boolean zeros = false;
        if (pool != null) {
            b = pool.takeRecycled(bytes);
            if (b == null) {
                b = DirectMemory.allocate(bytes);
                zeros = true;
            }
        } else if (region != null) {
            try {
                b = region.mapWritable(first * pageSizeBytes, bytes);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot map chunk " + c + " of " + region, e);
            }
        } else if (file == null) {
            b = DirectMemory.allocate(bytes);
            zeros = true;
        } else {
            try {
                b = file.map(FileChannel.MapMode.READ_WRITE, first * pageSizeBytes, bytes);
                zeros = true;      // the staging file is new and only grows by mapping: unwritten pages are holes
            } catch (IOException e) {
                throw new UncheckedIOException("cannot map staging file chunk " + c, e);
            }
        }
        zeroFilled[c] = zeros;
        chunks[c] = b;
        return b;
    }

    /**
     * Whether page {@code page} still reads as zeros because its chunk was new (zero-filled memory, or a hole of the
     * staging file) and nothing wrote the page since. Only the writer that fills the store once, page by page (a
     * keyframe), may rely on it: it is a property of the chunk when it was allocated, not of the page's later writes.
     * Skipping the write of a zero page there saves the copy and, in the staging file, the page itself.
     */
    boolean zeroFilledChunk(long page) {
        int c = (int) (page >>> pagesPerChunkShift);
        if (chunks[c] == null) {
            allocateChunk(c);
        }
        synchronized (this) {
            return zeroFilled[c];
        }
    }

    /** Copies page {@code page} into {@code dst} at absolute {@code dstOffset}. */
    void readPage(long page, ByteBuffer dst, int dstOffset) {
        dst.put(dstOffset, chunk(page), offset(page), pageSizeBytes);
    }

    /** Copies {@code pageSizeBytes} of {@code src} at absolute {@code srcOffset} into page {@code page}. */
    void writePage(long page, ByteBuffer src, int srcOffset) {
        if (views) {
            throw new IllegalStateException("a store of snapshot views is read-only");
        }
        ByteBuffer c = chunk(page);
        int o = offset(page);
        // A store over the replica file usually holds the page already: the delta's replica write put it there, and
        // a store into a mapped page costs a write fault (the filesystem's page_mkwrite) even when nothing changes.
        if (region != null && c.slice(o, pageSizeBytes).mismatch(src.slice(srcOffset, pageSizeBytes)) < 0) {
            return;
        }
        c.put(o, src, srcOffset, pageSizeBytes);
    }

    /** Frees every chunk (and the staging file). Idempotent; safe from any thread once no one reads the store. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        synchronized (this) {
            for (int i = 0; i < chunks.length; i++) {
                if (views) {
                    // Views share the region's mapping, which the JVM releases once unreachable.
                    chunks[i] = null;
                    continue;
                }
                if (pool != null) {
                    pool.give(chunks[i]);
                } else {
                    DirectMemory.free(chunks[i]);
                }
                chunks[i] = null;
            }
        }
        if (file != null) {
            try {
                file.close();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot close staging file", e);
            }
        }
    }
}
