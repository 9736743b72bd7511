package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.spi.BlockCompressor;
import io.dwcp.core.spi.FrameSink;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.VmState;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.Deflater;

/**
 * The sender's half of a replica-seeded round: hashes the state, asks the receiver for the description of its seed
 * (chunk hashes, then page hashes of the chunks that differ), plans which pages the receiver already has (same page,
 * or a copy of another page it keeps), and writes the round's frames. Only chunk hashes of the state and the
 * pages that differ are held in memory, never a hash per page of the whole state.
 *
 * <p>One instance per round; not thread-safe. Runs on a thread of its own (it blocks on replies and on the pipe).
 */
final class SeedPlanner {
    /** Sends one seed message and waits for the reply's payload. */
    @FunctionalInterface
    interface Exchange {
        ByteBuffer ask(ByteBuffer request, long timeoutMillis) throws Exception;
    }

    /** Why a planned seeded round was not sent, or null when it can be. */
    enum Outcome { SEEDED, NO_SEED, TOO_DIFFERENT }

    private final VmState<? extends StateRegion> state;
    private final StateRegion region;
    private final int pageSize;
    private final long stateBytes;
    private final long pages;
    private final double maxLiteralShare;
    private byte[] digest;
    /** After pass 1: the chunks whose hash differs from the receiver's, ascending. */
    private int[] differingChunks;
    private int differingCount;
    /**
     * After pass 1: page hashes and zero flags of the first {@link #keptChunks} differing chunks ({@value
     * SeedHashes#CHUNK_PAGES} entries each), so their pages are not read and hashed again; bounded.
     */
    private long[] keptPageHashes = new long[0];
    private java.util.BitSet keptZero = new java.util.BitSet();
    private int keptChunks;
    /** Chunks whose page hashes pass 1 keeps (8 MiB of hashes); later differing chunks are hashed again. */
    private static final int MAX_KEPT_CHUNKS = 4096;
    /** Chunks hashed in parallel per window of pass 1 (16 MiB of 4 KiB pages). */
    private static final int WINDOW_CHUNKS = 64;
    private byte[] seedVersion;
    /** Pages that differ, ascending, and their source (literal, zero or a copy). */
    private int[] opPages = new int[1024];
    private int[] opSources = new int[1024];
    private int ops;
    private long literalPages;
    private long exchangeBytes;
    private long chunksDiffering;
    private long hashNanos;
    private long patchedPages;
    /** Per op: the blocks a PATCH carries. */
    private byte[] opMasks;
    /** A page with more differing blocks than this goes whole. */
    private static final int MAX_PATCH_BLOCKS = 6;
    /** At most this many threads hash the state in pass 1 (one per core up to it). */
    private static final int HASH_THREADS = 8;

    /** Offered for literal data besides DEFLATE, or null. */
    private final BlockCompressor compressor;
    /** The seed messages' version of this exchange (2, or 1 with a receiver that refused 2). */
    private int version = SeedWire.VERSION;
    /** The literal data format the receiver chose. */
    private int format = SeedWire.FORMAT_DEFLATE;
    /** {@link #write}'s compressed batch. */
    private byte[] out;

    /**
     * @param compressor offered to the receiver for the literal pages besides DEFLATE; null: DEFLATE only (version 1
     *     messages, as before formats)
     */
    SeedPlanner(VmState<? extends StateRegion> state, double maxLiteralShare, BlockCompressor compressor) {
        this.compressor = compressor;
        if (state.regions().size() != 1) {
            throw new IllegalArgumentException("seeded rounds take states of one region");
        }
        this.state = state;
        this.region = state.region(0);
        this.pageSize = state.pageSizeBytes();
        this.stateBytes = region.sizeBytes();
        this.pages = SeedHashes.pages(stateBytes, pageSize);
        this.maxLiteralShare = maxLiteralShare;
    }

    /** {@return whether a state can be seeded at all} (one region, a description within the limits) */
    static boolean eligible(VmState<? extends StateRegion> state) {
        if (state.regions().size() != 1 || state.region(0).sizeBytes() <= 0) {
            return false;
        }
        long pages = SeedHashes.pages(state.region(0).sizeBytes(), state.pageSizeBytes());
        return SeedHashes.chunks(pages) <= SeedWire.MAX_CHUNKS && pages <= Integer.MAX_VALUE;
    }

    long exchangeBytes() {
        return exchangeBytes;
    }

    long literalPages() {
        return literalPages;
    }

    long patchedPages() {
        return patchedPages;
    }

    long differingPages() {
        return ops;
    }

    long chunksDiffering() {
        return chunksDiffering;
    }

    /** {@return nanoseconds pass 1 took to hash the whole state} */
    long hashNanos() {
        return hashNanos;
    }

    long stateBytes() {
        return stateBytes;
    }

    /** {@return the codec chain id of the baseline both ends adopt once the round is verified} (after planning) */
    long chainId() {
        return SeedHashes.chainId(digest);
    }

    /** {@return the page counts of a planned round, by how the receiver gets them} */
    java.util.Map<String, Long> pagesByClass() {
        long zero = 0;
        long copied = 0;
        for (int i = 0; i < ops; i++) {
            if (opSources[i] == SeedWire.SOURCE_ZERO) {
                zero++;
            } else if (opSources[i] >= 0) {
                copied++;
            }
        }
        return java.util.Map.of("unchanged", pages - ops, "zero", zero, "copied", copied, "literal", literalPages,
                "patched", patchedPages);
    }

    /**
     * Runs the description exchange and hashes the state (only when the receiver has a seed of its size).
     *
     * @param exchange sends seed messages
     * @param timeoutMillis how long to wait for the first reply (the receiver may have to describe its seed first)
     * @param replyTimeoutMillis how long to wait for the others
     * @return whether the round can be seeded
     */
    Outcome plan(Exchange exchange, long timeoutMillis, long replyTimeoutMillis) throws Exception {
        // Ask first: a receiver without a seed of this size answers at once, and then the state is not hashed at all
        // (hashing 1 GiB takes seconds, more under a C1-only JIT, and a first migration to a new destination is the
        // common case).
        int offered = compressor == null ? 0 : 1 << SeedWire.FORMAT_DEFLATE | 1 << compressor.formatId();
        ByteBuffer request = SeedWire.describe(0, pageSize, stateBytes, offered);
        version = offered == 0 ? 1 : SeedWire.VERSION;
        exchangeBytes += request.remaining();
        ByteBuffer reply;
        try {
            reply = exchange.ask(request, timeoutMillis);
        } catch (DwcpException e) {
            if (version == 1 || e.code() != ErrorCode.PROTOCOL_ERROR) {
                throw e;
            }
            // A receiver that speaks only version 1 refuses version 2: ask again in version 1 (DEFLATE only).
            offered = 0;
            version = 1;
            request = SeedWire.describe(0, pageSize, stateBytes, 0);
            exchangeBytes += request.remaining();
            reply = exchange.ask(request, timeoutMillis);
        }
        exchangeBytes += reply.remaining();
        SeedWire.Header h = SeedWire.header(reply);
        if (h.version() != version || h.type() != SeedWire.TYPE_CHUNKS) {
            throw SeedWire.malformed("reply of version " + h.version() + " and type " + h.type() + " to a DESCRIBE of version " + version);
        }
        SeedWire.Chunks theirs = SeedWire.parseChunks(version, reply, pageSize, stateBytes, offered);
        if (theirs.status() != SeedWire.STATUS_OK) {
            return Outcome.NO_SEED;
        }
        format = theirs.format();
        long t0 = System.nanoTime();
        seedVersion = theirs.seedVersion();
        hashState(theirs.hashes());
        hashNanos = System.nanoTime() - t0;
        int[] differing = differingChunks;
        int n = differingCount;
        chunksDiffering = n;
        differingChunks = null;
        long maxLiterals = (long) (maxLiteralShare * pages);
        HashIndex kept = new HashIndex();
        long[] candidateHashes = new long[2 * 1024];
        boolean[] candidateZero = new boolean[1024];
        SeedHashes hashes = new SeedHashes();
        long[] mine = new long[2];
        ByteBuffer block = ByteBuffer.allocateDirect(pageSize * SeedHashes.CHUNK_PAGES);
        for (int from = 0; from < n; from += SeedWire.MAX_CHUNKS_PER_REQUEST) {
            int count = Math.min(SeedWire.MAX_CHUNKS_PER_REQUEST, n - from);
            ByteBuffer answer = indexRequest(exchange, replyTimeoutMillis, SeedWire.TYPE_PAGES, differing, from, count);
            if (answer == null) {
                return Outcome.NO_SEED;
            }
            int status = answer.get() & 0xff;
            long expected = 0;
            for (int i = from; i < from + count; i++) {
                expected += pagesOf(differing[i]);
            }
            if (status != SeedWire.STATUS_OK || answer.remaining() != 4 + expected * SeedHashes.HASH_BYTES
                    || answer.getInt() != count) {
                throw SeedWire.malformed("PAGE_HASHES reply of " + answer.remaining() + " bytes for " + count + " chunks");
            }
            for (int i = from; i < from + count; i++) {
                int c = differing[i];
                long first = (long) c * SeedHashes.CHUNK_PAGES;
                boolean keptHashes = i < keptChunks;
                if (!keptHashes) {
                    readBlock(block, first);
                }
                for (int p = 0; p < pagesOf(c); p++) {
                    boolean zero;
                    if (keptHashes) {
                        int k = i * SeedHashes.CHUNK_PAGES + p;
                        mine[0] = keptPageHashes[2 * k];
                        mine[1] = keptPageHashes[2 * k + 1];
                        zero = keptZero.get(k);
                    } else {
                        ByteBuffer page = pageOf(block, p);
                        hashes.pageHash(page, mine, 0);
                        zero = SeedHashes.isZero(page);
                    }
                    long hi = answer.getLong();
                    long lo = answer.getLong();
                    int index = (int) (first + p);
                    if (hi == mine[0] && lo == mine[1]) {
                        kept.put(hi, lo, index);
                        continue;
                    }
                    if (ops == opPages.length) {
                        opPages = Arrays.copyOf(opPages, 2 * ops);
                        candidateZero = Arrays.copyOf(candidateZero, 2 * ops);
                        candidateHashes = Arrays.copyOf(candidateHashes, 4 * ops);
                    }
                    opPages[ops] = index;
                    candidateHashes[2 * ops] = mine[0];
                    candidateHashes[2 * ops + 1] = mine[1];
                    candidateZero[ops] = zero;
                    ops++;
                    if (ops > maxLiterals) {
                        return Outcome.TOO_DIFFERENT;
                    }
                }
            }
        }
        keptPageHashes = null;
        keptZero = null;
        opSources = new int[ops];
        int literal = 0;
        for (int i = 0; i < ops; i++) {
            int source = candidateZero[i] ? SeedWire.SOURCE_ZERO : kept.get(candidateHashes[2 * i], candidateHashes[2 * i + 1]);
            opSources[i] = source;
            if (source == SeedWire.SOURCE_LITERAL) {
                literal++;
            }
        }
        return patchLiterals(exchange, replyTimeoutMillis, literal) ? Outcome.SEEDED : Outcome.NO_SEED;
    }

    /**
     * Level 3 of the description: block hashes of the receiver's pages that would go literal. A page of which only a
     * few blocks differ becomes a PATCH carrying just those blocks. Returns false when the seed changed meanwhile.
     */
    private boolean patchLiterals(Exchange exchange, long replyTimeoutMillis, int literal) throws Exception {
        opMasks = new byte[ops];
        int[] literalPagesIdx = new int[literal];
        int[] literalOps = new int[literal];
        int n = 0;
        for (int i = 0; i < ops; i++) {
            if (opSources[i] == SeedWire.SOURCE_LITERAL) {
                literalOps[n] = i;
                literalPagesIdx[n++] = opPages[i];
            }
        }
        SeedHashes hashes = new SeedHashes();
        long[] mine = new long[SeedWire.BLOCKS_PER_PAGE];
        ByteBuffer page = ByteBuffer.allocate(pageSize);
        for (int from = 0; from < n; from += SeedWire.MAX_PAGES_PER_BLOCK_REQUEST) {
            int count = Math.min(SeedWire.MAX_PAGES_PER_BLOCK_REQUEST, n - from);
            ByteBuffer answer = indexRequest(exchange, replyTimeoutMillis, SeedWire.TYPE_BLOCKS, literalPagesIdx, from, count);
            if (answer == null) {
                return false;
            }
            int status = answer.get() & 0xff;
            int hashBytes = SeedWire.blockHashBytes(version);
            if (status != SeedWire.STATUS_OK || answer.remaining() != 4 + (long) count * hashBytes * SeedWire.BLOCKS_PER_PAGE
                    || answer.getInt() != count) {
                throw SeedWire.malformed("BLOCK_HASHES reply of " + answer.remaining() + " bytes for " + count + " pages");
            }
            for (int k = from; k < from + count; k++) {
                long off = (long) literalPagesIdx[k] * pageSize;
                page.clear().limit((int) Math.min(pageSize, stateBytes - off));
                region.read(off, page);
                hashes.blockHashes(page.flip(), pageSize, mine, 0);
                int mask = 0;
                for (int b = 0; b < SeedWire.BLOCKS_PER_PAGE; b++) {
                    if (hashBytes == 8 ? answer.getLong() != mine[b] : answer.getInt() != (int) (mine[b] >>> 32)) {
                        mask |= 1 << b;
                    }
                }
                if (Integer.bitCount(mask) <= MAX_PATCH_BLOCKS) {
                    opSources[literalOps[k]] = SeedWire.SOURCE_PATCH;
                    opMasks[literalOps[k]] = (byte) mask;
                    patchedPages++;
                } else {
                    literalPages++;
                }
            }
        }
        return true;
    }

    /**
     * Sends a PAGES or BLOCKS request for {@code indexes[from, from + count)}; returns the reply positioned at its
     * status byte, or null when the receiver's seed changed or is gone.
     */
    private ByteBuffer indexRequest(Exchange exchange, long timeoutMillis, int type, int[] indexes, int from, int count) throws Exception {
        ByteBuffer ask = SeedWire.indexRequest(version, type, 0, pageSize, stateBytes, seedVersion, indexes, from, count);
        exchangeBytes += ask.remaining();
        ByteBuffer answer = exchange.ask(ask, timeoutMillis);
        exchangeBytes += answer.remaining();
        SeedWire.header(answer);
        if (!answer.hasRemaining()) {
            throw SeedWire.malformed("reply without a status");
        }
        int status = answer.get(answer.position()) & 0xff;
        return status == SeedWire.STATUS_CHANGED || status == SeedWire.STATUS_NONE ? null : answer;
    }

    private int pagesOf(int chunk) {
        return (int) Math.min(SeedHashes.CHUNK_PAGES, pages - (long) chunk * SeedHashes.CHUNK_PAGES);
    }

    private void readBlock(ByteBuffer block, long firstPage) throws IOException {
        long off = firstPage * pageSize;
        block.clear().limit((int) Math.min(block.capacity(), stateBytes - off));
        region.read(off, block);
        block.flip();
    }

    private ByteBuffer pageOf(ByteBuffer block, int p) {
        ByteBuffer page = block.duplicate();
        page.position(p * pageSize).limit(Math.min(block.limit(), (p + 1) * pageSize));
        return page;
    }

    /**
     * Pass 1: every page's hash, folded in page order into chunk hashes (compared at once with the receiver's
     * {@code their}) and the state digest. Windows of {@value #WINDOW_CHUNKS} chunks are hashed by one thread per
     * core; only the window's page hashes, and those of chunks that differ (bounded), are held.
     */
    private void hashState(long[] their) throws Exception {
        int chunks = (int) SeedHashes.chunks(pages);
        int threads = Math.max(1, Math.min(HASH_THREADS, Runtime.getRuntime().availableProcessors()));
        long[] window = new long[2 * WINDOW_CHUNKS * SeedHashes.CHUNK_PAGES];
        java.util.BitSet windowZero = new java.util.BitSet(WINDOW_CHUNKS * SeedHashes.CHUNK_PAGES);
        differingChunks = new int[Math.min(chunks, 1024)];
        SeedHashes fold = new SeedHashes();
        long[] chunkHash = new long[2];
        java.util.concurrent.ExecutorService pool = threads == 1 ? null
                : java.util.concurrent.Executors.newFixedThreadPool(threads, r -> {
                    Thread t = new Thread(r, "dwcp-migration-seed-hash");
                    t.setDaemon(true);
                    return t;
                });
        try {
            ByteBuffer[] blocks = new ByteBuffer[threads];
            SeedHashes[] hashers = new SeedHashes[threads];
            for (int t = 0; t < threads; t++) {
                blocks[t] = ByteBuffer.allocateDirect(pageSize * SeedHashes.CHUNK_PAGES);
                hashers[t] = new SeedHashes();
            }
            for (int w = 0; w < chunks; w += WINDOW_CHUNKS) {
                int n = Math.min(WINDOW_CHUNKS, chunks - w);
                windowZero.clear();
                if (pool == null) {
                    hashChunks(w, w, w + n, blocks[0], hashers[0], window, windowZero);
                } else {
                    List<java.util.concurrent.Future<?>> parts = new ArrayList<>(threads);
                    for (int t = 0; t < threads; t++) {
                        int from = w + (int) ((long) n * t / threads);
                        int to = w + (int) ((long) n * (t + 1) / threads);
                        ByteBuffer block = blocks[t];
                        SeedHashes hasher = hashers[t];
                        int base = w;
                        parts.add(pool.submit(() -> {
                            hashChunks(base, from, to, block, hasher, window, windowZero);
                            return null;
                        }));
                    }
                    for (java.util.concurrent.Future<?> f : parts) {
                        try {
                            f.get();
                        } catch (java.util.concurrent.ExecutionException e) {
                            Throwable c = e.getCause();
                            throw c instanceof Exception ex ? ex : new IllegalStateException(c);
                        }
                    }
                }
                for (int c = w; c < w + n; c++) {
                    int local = (c - w) * SeedHashes.CHUNK_PAGES;
                    int count = pagesOf(c);
                    for (int p = 0; p < count; p++) {
                        fold.addPage(window[2 * (local + p)], window[2 * (local + p) + 1], chunkHash, 0);
                    }
                    if (count < SeedHashes.CHUNK_PAGES) {
                        fold.finishChunk(chunkHash, 0);
                    }
                    if (their[2 * c] != chunkHash[0] || their[2 * c + 1] != chunkHash[1]) {
                        keep(c, window, windowZero, local, count);
                    }
                }
            }
        } finally {
            if (pool != null) {
                pool.shutdownNow();
            }
        }
        digest = fold.stateDigest();
    }

    /** Hashes chunks {@code [from, to)} of the window starting at chunk {@code base} (a task of pass 1). */
    private void hashChunks(int base, int from, int to, ByteBuffer block, SeedHashes hasher, long[] window,
                            java.util.BitSet windowZero) throws IOException {
        long[] h = new long[2];
        for (int c = from; c < to; c++) {
            readBlock(block, (long) c * SeedHashes.CHUNK_PAGES);
            int local = (c - base) * SeedHashes.CHUNK_PAGES;
            for (int p = 0; p < pagesOf(c); p++) {
                ByteBuffer page = pageOf(block, p);
                hasher.pageHash(page, h, 0);
                window[2 * (local + p)] = h[0];
                window[2 * (local + p) + 1] = h[1];
                if (SeedHashes.isZero(page)) {
                    synchronized (windowZero) {
                        windowZero.set(local + p);
                    }
                }
            }
        }
    }

    /** Records a differing chunk, and its page hashes while within the bound. */
    private void keep(int c, long[] window, java.util.BitSet windowZero, int local, int count) {
        if (differingCount == differingChunks.length) {
            differingChunks = Arrays.copyOf(differingChunks, 2 * differingCount);
        }
        differingChunks[differingCount++] = c;
        if (keptChunks < MAX_KEPT_CHUNKS && keptChunks == differingCount - 1) {
            int at = keptChunks * SeedHashes.CHUNK_PAGES;
            if (keptPageHashes.length < 2 * (at + SeedHashes.CHUNK_PAGES)) {
                keptPageHashes = Arrays.copyOf(keptPageHashes, Math.max(2 * keptPageHashes.length, 2 * (at + SeedHashes.CHUNK_PAGES)));
            }
            System.arraycopy(window, 2 * local, keptPageHashes, 2 * at, 2 * count);
            for (int p = 0; p < count; p++) {
                if (windowZero.get(local + p)) {
                    keptZero.set(at + p);
                }
            }
            keptChunks++;
        }
    }

    /**
     * Writes the round's frames: BASE, the batches of differing pages (literal pages compressed in the format the
     * receiver chose: DEFLATE, or the block compressor's), END.
     *
     * @return the bytes of the frames
     */
    long write(FrameSink sink) throws Exception {
        long written = 0;
        ByteBuffer base = ByteBuffer.allocate(25).put((byte) SeedWire.FRAME_BASE).put(seedVersion).putLong(stateBytes).flip();
        written += base.remaining();
        sink.accept(base);
        int maxLiterals = Math.max(1, Math.min(SeedWire.MAX_BATCH_LITERALS, SeedDecoder.MAX_BATCH_RAW_BYTES / (pageSize + 1)));
        // Room for the batch's pages, a patch's mask, and one page beyond as a patch's scratch.
        byte[] raw = new byte[maxLiterals * (pageSize + 1) + 2 * pageSize];
        out = new byte[format == SeedWire.FORMAT_DEFLATE ? raw.length + 1024 : compressor.maxCompressedLength(raw.length)];
        Deflater deflater = new Deflater(Deflater.BEST_SPEED, true);
        try {
            int i = 0;
            while (i < ops) {
                int start = i;
                int literals = 0;
                int rawBytes = 0;
                while (i < ops && i - start < SeedWire.MAX_BATCH_OPS && (!carriesData(opSources[i]) || literals < maxLiterals)) {
                    if (opSources[i] == SeedWire.SOURCE_PATCH) {
                        long off = (long) opPages[i] * pageSize;
                        int len = (int) Math.min(pageSize, stateBytes - off);
                        ByteBuffer whole = ByteBuffer.wrap(raw, rawBytes + 1 + pageSize, pageSize).slice();
                        whole.limit(len);
                        region.read(off, whole);
                        int mask = opMasks[i] & 0xff;
                        raw[rawBytes++] = (byte) mask;
                        int bs = pageSize / SeedWire.BLOCKS_PER_PAGE;
                        for (int b = 0; b < SeedWire.BLOCKS_PER_PAGE; b++) {
                            int from = b * bs;
                            int n = Math.min(bs, len - from);
                            if ((mask & (1 << b)) != 0 && n > 0) {
                                whole.get(from, raw, rawBytes, n);
                                rawBytes += n;
                            }
                        }
                        literals++;
                    } else if (opSources[i] == SeedWire.SOURCE_LITERAL) {
                        long off = (long) opPages[i] * pageSize;
                        int len = (int) Math.min(pageSize, stateBytes - off);
                        ByteBuffer dst = ByteBuffer.wrap(raw, rawBytes, len);
                        region.read(off, dst);
                        if (dst.hasRemaining()) {
                            throw new DwcpException(ErrorCode.IO_ERROR, "short read of page " + opPages[i]);
                        }
                        rawBytes += len;
                        literals++;
                    }
                    i++;
                }
                int compressed = format == SeedWire.FORMAT_DEFLATE ? deflate(deflater, raw, rawBytes)
                        : compressor.compress(raw, 0, rawBytes, out, 0);
                int count = i - start;
                ByteBuffer frame;
                if (format == SeedWire.FORMAT_DEFLATE) {
                    frame = ByteBuffer.allocate(1 + 4 + 8 * count + 8 + compressed).put((byte) SeedWire.FRAME_BATCH);
                } else {
                    frame = ByteBuffer.allocate(2 + 4 + 8 * count + 8 + compressed).put((byte) SeedWire.FRAME_FORMAT_BATCH)
                            .put((byte) format);
                }
                frame.putInt(count);
                for (int k = start; k < i; k++) {
                    frame.putInt(opPages[k]).putInt(opSources[k]);
                }
                frame.putInt(literals).putInt(rawBytes).put(out, 0, compressed).flip();
                written += frame.remaining();
                sink.accept(frame);
            }
        } finally {
            deflater.end();
        }
        ByteBuffer end = ByteBuffer.allocate(41).put((byte) SeedWire.FRAME_END).put(digest).putLong(pages).flip();
        written += end.remaining();
        sink.accept(end);
        return written;
    }

    /** Compresses {@code raw[0, rawBytes)} into {@link #out} (grown as needed); returns the compressed length. */
    private int deflate(Deflater deflater, byte[] raw, int rawBytes) {
        deflater.reset();
        deflater.setInput(raw, 0, rawBytes);
        deflater.finish();
        int compressed = 0;
        while (!deflater.finished()) {
            if (compressed == out.length) {
                out = Arrays.copyOf(out, 2 * out.length);
            }
            compressed += deflater.deflate(out, compressed, out.length - compressed);
        }
        return compressed;
    }

    /** {@return the literal data format the receiver chose} (after planning; 0 DEFLATE) */
    int format() {
        return format;
    }

    /** {@return whether an op's page travels in the batch's compressed data} (a LITERAL or a PATCH) */
    private static boolean carriesData(int source) {
        return source == SeedWire.SOURCE_LITERAL || source == SeedWire.SOURCE_PATCH;
    }

    /** The receiver's pages kept as they are, by hash: sources of copies. Open addressing, bounded. */
    private static final class HashIndex {
        private static final int MAX_ENTRIES = 1 << 22;
        private long[] hi = new long[2048];
        private long[] lo = new long[2048];
        private int[] index = new int[2048];
        private int size;

        void put(long h, long l, int page) {
            if (size >= MAX_ENTRIES) {
                return;
            }
            if (2 * (size + 1) > index.length) {
                grow();
            }
            int mask = index.length - 1;
            for (int s = (int) (h ^ (h >>> 32)) & mask; ; s = (s + 1) & mask) {
                if (index[s] == 0) {
                    hi[s] = h;
                    lo[s] = l;
                    index[s] = page + 1;
                    size++;
                    return;
                }
                if (hi[s] == h && lo[s] == l) {
                    return;
                }
            }
        }

        /** {@return the page with that hash, or {@link SeedWire#SOURCE_LITERAL}} */
        int get(long h, long l) {
            int mask = index.length - 1;
            for (int s = (int) (h ^ (h >>> 32)) & mask; index[s] != 0; s = (s + 1) & mask) {
                if (hi[s] == h && lo[s] == l) {
                    return index[s] - 1;
                }
            }
            return SeedWire.SOURCE_LITERAL;
        }

        private void grow() {
            long[] oh = hi;
            long[] ol = lo;
            int[] oi = index;
            hi = new long[2 * oi.length];
            lo = new long[2 * oi.length];
            index = new int[2 * oi.length];
            size = 0;
            for (int s = 0; s < oi.length; s++) {
                if (oi[s] != 0) {
                    put(oh[s], ol[s], oi[s] - 1);
                }
            }
        }
    }
}
