package io.dwcp.core.migration;

import io.dwcp.core.state.StateRegion;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The sender's hashing of a seeded round's state, and the thread pool that does it (one thread per core, at most
 * {@value #HASH_THREADS}): slices of {@value #SLICE_CHUNKS} chunks are hashed by the pool a few ahead of the one the
 * owner folds, so the pool keeps hashing while the owner takes replies and plans. The same pool computes this side's
 * block hashes of would-be literal pages.
 *
 * <p>Threading: {@link #hashNextSlice()}, {@link #stateDigest()} and {@link #close()} are called by the owner (the
 * planner's thread) only. The arrays {@link #pageHashes}, {@link #zeroWords} and {@link #chunkHashes} are written by
 * pool threads, each slice by one thread, and read by the owner only for chunks below {@link #hashedChunks()}: the
 * slice's {@link Future#get()} orders those writes before the reads. {@link #close()} stops the pool (idempotent).
 */
final class SeedStateHasher implements AutoCloseable {
    /** Chunks one hashing task hashes (2 MiB of 4 KiB pages). */
    static final int SLICE_CHUNKS = 8;
    /** At most this many threads hash the state (one per core up to it). */
    private static final int HASH_THREADS = 8;
    /** Bytes {@link #warmUpInBackground} hashes (from a buffer of {@value #WARM_UP_BUFFER} bytes, read repeatedly). */
    static final int WARM_UP_BYTES = 32 << 20;
    private static final int WARM_UP_BUFFER = 1 << 20;
    private static final java.util.concurrent.atomic.AtomicReference<Thread> WARM_UP =
            new java.util.concurrent.atomic.AtomicReference<>();

    private final StateRegion region;
    private final int pageSize;
    private final long stateBytes;
    private final long pages;
    private final int chunks;
    private final int slices;
    private final int threads;
    /** The hash of a page of {@code pageSize} zero bytes. */
    private final long[] zeroHash = new long[2];
    /** Every page's hash (hi, lo), filled as the slices are hashed. */
    final long[] pageHashes;
    /** Bit p of word c: page p of chunk c is all zero bytes (a chunk is hashed by one thread: words are not shared). */
    final long[] zeroWords;
    /** Chunk hashes (hi, lo) of the chunks hashed so far. */
    final long[] chunkHashes;
    private final ExecutorService pool;
    /** The slices submitted and not yet folded, in order: each gives its page hashes as bytes (16 a page). */
    private final ArrayDeque<Future<byte[]>> hashing = new ArrayDeque<>();
    /** Pages one read of a hashing thread takes ({@link SeedHashes#runPages}). */
    private final int runPages;
    private final ThreadLocal<ByteBuffer> blocks;
    private final ThreadLocal<SeedHashes> hashers = ThreadLocal.withInitial(SeedHashes::new);
    /** Folds page hashes into the state digest (owner thread only; the chunk hashes are the pool's). */
    private final SeedHashes fold = new SeedHashes();
    private int submitted;
    private int folded;
    private int hashedChunks;

    SeedStateHasher(StateRegion region, int pageSize, long stateBytes) {
        this.region = region;
        this.pageSize = pageSize;
        this.stateBytes = stateBytes;
        this.pages = SeedHashes.pages(stateBytes, pageSize);
        this.chunks = (int) SeedHashes.chunks(pages);
        this.slices = (chunks + SLICE_CHUNKS - 1) / SLICE_CHUNKS;
        this.pageHashes = new long[(int) (2 * pages)];
        this.zeroWords = new long[chunks];
        this.chunkHashes = new long[2 * chunks];
        new SeedHashes().pageHash(ByteBuffer.allocate(pageSize), zeroHash, 0);
        this.runPages = SeedHashes.runPages(pageSize);
        // On the heap: the digest reads a heap buffer's array in place (a direct one it copies once more).
        this.blocks = ThreadLocal.withInitial(() -> ByteBuffer.allocate(pageSize * runPages));
        this.threads = Math.max(1, Math.min(HASH_THREADS, Runtime.getRuntime().availableProcessors()));
        this.pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "dwcp-migration-seed-hash");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Hashes {@value #WARM_UP_BYTES} bytes of generated pages as a seeded round hashes a state, once per JVM, on a daemon
     * thread: a new process's JIT then has compiled the hashing (SHA-256 with the CPU's instructions, which only the
     * optimizing compiler uses) before its first seeded round, instead of compiling it while that round hashes the
     * whole state. Called when a sender is created, so that it runs while the sender connects. About 0.2 s of CPU on
     * one core, most of it the compilation; later calls do nothing. {@return the thread that warms up (the first
     * call's)}
     */
    static Thread warmUpInBackground() {
        Thread t = new Thread(SeedStateHasher::warmUp, "dwcp-migration-seed-warm-up");
        if (!WARM_UP.compareAndSet(null, t)) {
            return WARM_UP.get();
        }
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static void warmUp() {
        byte[] content = new byte[WARM_UP_BUFFER];
        new java.util.Random(1).nextBytes(content);
        // Some zero pages, as in a guest's memory (the zero-page test takes both ways).
        java.util.Arrays.fill(content, 0, content.length / 8, (byte) 0);
        StateRegion generated = new StateRegion() {
            @Override
            public String name() {
                return "warm-up";
            }

            @Override
            public long sizeBytes() {
                return WARM_UP_BYTES;
            }

            @Override
            public void read(long offsetBytes, ByteBuffer dst) {
                while (dst.hasRemaining()) {
                    int at = (int) (offsetBytes % WARM_UP_BUFFER);
                    int n = Math.min(dst.remaining(), WARM_UP_BUFFER - at);
                    dst.put(content, at, n);
                    offsetBytes += n;
                }
            }
        };
        try (SeedStateHasher h = new SeedStateHasher(generated, 4096, WARM_UP_BYTES)) {
            while (h.hashNextSlice()) {
                // Every slice; the digest below folds them.
            }
            h.stateDigest();
            int[] pages = new int[64];
            for (int i = 0; i < pages.length; i++) {
                pages[i] = i * 3;
            }
            await(h.blockHashes(pages, pages.length, false));
        } catch (Exception | LinkageError e) {
            // Only a warm-up: the round hashes the same way, and reports a failure itself.
        }
    }

    /** {@return the chunks whose page and chunk hashes are known} (a prefix of the state) */
    int hashedChunks() {
        return hashedChunks;
    }

    /**
     * Keeps up to two slices per thread in the pool, waits for the next slice and folds it. {@return false when
     * every slice was hashed already}
     */
    boolean hashNextSlice() throws Exception {
        if (folded == slices) {
            return false;
        }
        for (; submitted < slices && submitted < folded + 2 * threads; submitted++) {
            int from = submitted * SLICE_CHUNKS;
            int to = Math.min(chunks, from + SLICE_CHUNKS);
            hashing.add(pool.submit(() -> hashChunks(from, to, blocks.get(), hashers.get())));
        }
        byte[] sliceHashes = await(hashing.poll());
        // One digest update a slice: the page hashes in page order (the pool hashed the chunks' own).
        fold.addToState(sliceHashes, 0, sliceHashes.length / SeedHashes.HASH_BYTES);
        folded++;
        hashedChunks = Math.min(chunks, folded * SLICE_CHUNKS);
        return true;
    }

    /** {@return the 32-byte state digest} (after every slice was hashed) */
    byte[] stateDigest() {
        if (folded != slices) {
            throw new IllegalStateException("the state is not hashed yet");
        }
        return fold.stateDigest();
    }

    /** {@return whether page {@code p} of chunk {@code c} is all zero bytes} */
    boolean zero(int c, int p) {
        return (zeroWords[c] & 1L << p) != 0;
    }

    /**
     * Computes this side's block hashes of {@code count} pages, 8 per page, on the pool ({@code crc}: CRC32C, seed
     * messages version 6 on; else SHA-256, see {@link SeedHashes#blockHashes}).
     */
    Future<long[]> blockHashes(int[] pageNumbers, int count, boolean crc) {
        return pool.submit(() -> blockHashesOf(pageNumbers, count, crc));
    }

    /**
     * Computes this side's sub-block hashes ({@link SeedHashes#subBlockHashes}) of {@code count} pages, of the blocks in
     * each page's mask, on the pool: 8 per block, in page and block order.
     */
    Future<int[]> subBlockHashes(int[] pageNumbers, byte[] blockMasks, int count) {
        return pool.submit(() -> {
            int total = 0;
            for (int k = 0; k < count; k++) {
                total += Integer.bitCount(blockMasks[k] & 0xff) * SeedWire.SUBBLOCKS_PER_BLOCK;
            }
            int[] out = new int[total];
            int[] one = new int[SeedWire.BLOCKS_PER_PAGE * SeedWire.SUBBLOCKS_PER_BLOCK];
            ByteBuffer page = ByteBuffer.allocate(pageSize);
            int at = 0;
            for (int k = 0; k < count; k++) {
                long off = (long) pageNumbers[k] * pageSize;
                page.clear().limit((int) Math.min(pageSize, stateBytes - off));
                region.read(off, page);
                int n = SeedHashes.subBlockHashes(page.flip(), pageSize, blockMasks[k] & 0xff, one);
                System.arraycopy(one, 0, out, at, n);
                at += n;
            }
            return out;
        });
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }

    static <T> T await(Future<T> f) throws Exception {
        try {
            return f.get();
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            throw c instanceof Exception ex ? ex : new IllegalStateException(c);
        }
    }

    private int pagesOf(int chunk) {
        return (int) Math.min(SeedHashes.CHUNK_PAGES, pages - (long) chunk * SeedHashes.CHUNK_PAGES);
    }

    /**
     * Hashes the pages of chunks {@code [from, to)} (a task of one hashing thread), reading {@link #runPages} pages at
     * a time into {@code block} (a heap buffer the thread reuses: {@link SeedHashes#READ_BYTES} or one page), and the
     * chunks' hashes. {@return the pages' hashes as bytes} (16 a page, hi then lo, big-endian: what the state digest
     * takes)
     */
    private byte[] hashChunks(int from, int to, ByteBuffer block, SeedHashes hasher) throws IOException {
        long firstPage = (long) from * SeedHashes.CHUNK_PAGES;
        int slicePages = (int) (Math.min(pages, (long) to * SeedHashes.CHUNK_PAGES) - firstPage);
        byte[] bytes = new byte[slicePages * SeedHashes.HASH_BYTES];
        long[] h = new long[2];
        // A call per chunk, a loop of at most a chunk's pages in each: the JIT compiles the chunk's method once, as
        // a method called many times, instead of compiling this loop on the stack and then again as a method.
        for (int c = from; c < to; c++) {
            hashChunk(c, block, hasher, bytes, (int) ((long) c * SeedHashes.CHUNK_PAGES - firstPage) * SeedHashes.HASH_BYTES, h);
        }
        return bytes;
    }

    /**
     * Hashes the pages of chunk {@code c} into {@link #pageHashes}, {@link #zeroWords} and {@code bytes} from {@code
     * at} (16 a page), and the chunk's hash into {@link #chunkHashes}.
     */
    private void hashChunk(int c, ByteBuffer block, SeedHashes hasher, byte[] bytes, int at, long[] h) throws IOException {
        long first = (long) c * SeedHashes.CHUNK_PAGES;
        int count = pagesOf(c);
        long zero = 0;
        for (int run = 0; run < count; run += runPages) {
            int n = Math.min(runPages, count - run);
            long off = (first + run) * pageSize;
            block.clear().limit((int) Math.min((long) n * pageSize, stateBytes - off));
            region.read(off, block);
            block.flip();
            for (int p = 0; p < n; p++) {
                if (hashPage(block, p, hasher, (int) (first + run + p), bytes, at + SeedHashes.HASH_BYTES * (run + p), h)) {
                    zero |= 1L << (run + p);
                }
            }
        }
        zeroWords[c] = zero;
        hasher.chunkHash(bytes, at, count, chunkHashes, 2 * c);
    }

    /**
     * Hashes page {@code p} of the pages read into {@code block}, page {@code i} of the state, into {@link #pageHashes}
     * and {@code bytes[at..at+15]} ({@code h}: scratch). {@return whether the page is all zero bytes} A method of its
     * own, called for every page: the JIT compiles it early (the background warm-up calls it often enough), and the
     * loops around it stay small to compile.
     */
    private boolean hashPage(ByteBuffer block, int p, SeedHashes hasher, int i, byte[] bytes, int at, long[] h) {
        ByteBuffer page = block.duplicate();
        page.position(p * pageSize).limit(Math.min(block.limit(), (p + 1) * pageSize));
        hasher.pageHash(page, h, 0);
        pageHashes[2 * i] = h[0];
        pageHashes[2 * i + 1] = h[1];
        putLong(bytes, at, h[0]);
        putLong(bytes, at + 8, h[1]);
        // A whole page is zero exactly when its hash is the zero page's (no second pass over its bytes).
        return page.remaining() == pageSize ? h[0] == zeroHash[0] && h[1] == zeroHash[1] : SeedHashes.isZero(page);
    }

    /** Puts {@code v} big-endian at {@code b[at..at+7]} (as {@link ByteBuffer#putLong} would). */
    private static void putLong(byte[] b, int at, long v) {
        for (int k = 7; k >= 0; k--) {
            b[at + k] = (byte) v;
            v >>>= 8;
        }
    }

    /** {@return the block hashes of the given pages, 8 per page} (a task of the pool) */
    private long[] blockHashesOf(int[] pageNumbers, int count, boolean crc) throws IOException {
        SeedHashes hasher = new SeedHashes();
        long[] out = new long[count * SeedWire.BLOCKS_PER_PAGE];
        ByteBuffer page = ByteBuffer.allocate(pageSize);
        for (int k = 0; k < count; k++) {
            long off = (long) pageNumbers[k] * pageSize;
            page.clear().limit((int) Math.min(pageSize, stateBytes - off));
            region.read(off, page);
            hasher.blockHashes(page.flip(), pageSize, out, k * SeedWire.BLOCKS_PER_PAGE, crc);
        }
        return out;
    }
}
