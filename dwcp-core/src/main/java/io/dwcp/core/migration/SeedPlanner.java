package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.spi.BlockCompressor;
import io.dwcp.core.spi.FrameSink;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.VmState;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The sender's half of a replica-seeded round, as one pipeline: it hashes the state while its DESCRIBE is answered;
 * compares chunk hashes as the windows of the state are hashed; asks for the page hashes of the chunks that differ,
 * and for the block hashes of the pages that would go literal, without waiting for earlier replies (several requests
 * in flight); and hands each decided part of the round (zero pages, copies of kept pages, patches, literal pages) to a
 * {@link SeedFrameWriter} that compresses and sends it while the rest is still being hashed and described.
 *
 * <p>The round's transfer opens once at least an eighth of the state is decided and at most {@code maxLiteralShare}
 * of the decided pages differ (or once the whole state is decided); until then decided ops wait. More than {@code
 * maxLiteralShare} of all pages differing stops the round ({@link Outcome#TOO_DIFFERENT}; an opened transfer is then
 * cancelled by the caller, which sends the round in full).
 *
 * <p>One instance per round; not thread-safe. Runs on a thread of its own (it waits for replies and for the writer).
 */
final class SeedPlanner {
    /** Sends one seed message and waits for the reply's payload (a blocking exchange, e.g. a local receiver). */
    @FunctionalInterface
    interface Exchange {
        ByteBuffer ask(ByteBuffer request, long timeoutMillis) throws Exception;
    }

    /** Sends one seed message; the future completes with the reply's payload. Several may be in flight. */
    @FunctionalInterface
    interface AsyncExchange {
        CompletableFuture<ByteBuffer> send(ByteBuffer request);
    }

    /** Opens the round's transfer once the planner knows it will send a seeded round; returns where frames go. */
    @FunctionalInterface
    interface RoundOpener {
        FrameSink open() throws Exception;
    }

    /** How a planned round ended. */
    enum Outcome { SEEDED, NO_SEED, TOO_DIFFERENT }

    private final VmState<? extends StateRegion> state;
    private final StateRegion region;
    private final int pageSize;
    private final long stateBytes;
    private final long pages;
    private final int chunks;
    private final double maxLiteralShare;
    /** Offered for literal data besides DEFLATE, or null. */
    private final BlockCompressor compressor;
    /** The seed messages' version of this exchange (2, or 1 with a receiver that refused 2). */
    private int version = SeedWire.VERSION;
    /** The literal data format the receiver chose. */
    private int format = SeedWire.FORMAT_DEFLATE;

    /** Hashes the state (and this side's block hashes); its arrays are read for chunks it has hashed. */
    private SeedStateHasher hasher;
    private long[] pageHashes;
    private byte[] digest;
    private long hashNanos;

    private long[] theirChunks;
    private byte[] seedVersion;
    private int comparedChunks;
    /** Pages whose fate (kept, or an op) is decided. */
    private long pagesDecided;
    private long chunksDiffering;
    private final SeedHashIndex kept = new SeedHashIndex();
    /**
     * The receiver's pages that the round changes, by their old hash (its first 8 bytes with short page hashes): the
     * sources of copies of pages that moved (seed messages version 4 on).
     */
    private final SeedHashIndex moved = new SeedHashIndex();
    /** Copies from moved pages, and those whose source lies before the copy. */
    private long movedPages;
    private int movedBefore;
    /** The receiver only reads its seed (a CHUNKS flag, version 7): copies from earlier pages are not limited. */
    private boolean unwrittenSeed;
    /**
     * The seed's indexes mean nothing (a CHUNKS flag, version 7: an image of another size): nearly every page differs
     * at its index, so the round is not judged by that share; its pages are found by content.
     */
    private boolean contentSeed;
    private final ArrayDeque<PagesGroup> pagesInFlight = new ArrayDeque<>();
    private final ArrayDeque<SeedBlocksGroup> blocksInFlight = new ArrayDeque<>();
    /**
     * Groups whose patches wait for sub-block hashes (version 5 on), and the groups after them, in page order: ops go
     * to the writer in page order.
     */
    private final ArrayDeque<SeedBlocksGroup> subBlocksInFlight = new ArrayDeque<>();
    /** The exchange of the running round (for the requests of later levels). */
    private AsyncExchange exchange;
    /** Patches that became fine patches (of sub-blocks). */
    private long finePatches;
    private final List<CompletableFuture<ByteBuffer>> outstanding = new ArrayList<>();

    /** The round's ops, ascending by page, cut into batches. */
    private final SeedOps ops;
    /** Ops decided but not yet in {@link #ops} (waiting for block hashes) and those in it, for the share rule. */
    private long opsPlanned;
    private SeedFrameWriter writer;
    private long exchangeBytes;
    private long openedAfterNanos = -1;
    private long firstBatchAfterNanos = -1;
    /**
     * When the exchange's first steps were done ({@link System#nanoTime}, 0 until then): the DESCRIBE answered, the first
     * PAGE_HASHES and BLOCK_HASHES replies taken, the first ops handed on.
     */
    private long describedAt;
    private long firstPageHashesAt;
    private long firstBlockHashesAt;
    private long firstOpsAt;
    private long startNanos;
    private long frameBytes;
    /** The DESCRIBE in flight, and the literal formats it offered. */
    private CompletableFuture<ByteBuffer> describing;
    private int offered;

    /** {@link #plan}'s frames, for {@link #write}. */
    private List<ByteBuffer> planned;

    /**
     * Chunks compared, and asked for in one PAGES request at most, per window (16 MiB of 4 KiB pages); a multiple of
     * {@link SeedStateHasher#SLICE_CHUNKS}.
     */
    private static final int WINDOW_CHUNKS = 64;
    /** Would-be literal pages that go whole at the start of the round (see the constructor). */
    private final int leadWholePages;
    /** Whether to ask block hashes, and the patches their replies make. */
    private final SeedBlockLevel blockLevel;
    /** The round's transfer opens once this share of the pages is decided (or all of them). */
    private static final double OPEN_AFTER_SHARE = 1.0 / 8;

    /**
     * @param compressor offered to the receiver for the literal pages besides DEFLATE; null: DEFLATE only (version 1
     *     messages, as before formats)
     */
    SeedPlanner(VmState<? extends StateRegion> state, double maxLiteralShare, BlockCompressor compressor) {
        this(state, maxLiteralShare, compressor, 0);
    }

    /**
     * @param leadWholePages the round's first would-be literal pages, at least this many (whole PAGES groups), go whole
     *     without asking their block hashes, so that its first batches need not wait for two more round trips (0: every
     *     group is judged by {@link SeedBlockLevel#ask})
     */
    SeedPlanner(VmState<? extends StateRegion> state, double maxLiteralShare, BlockCompressor compressor,
                int leadWholePages) {
        this.leadWholePages = leadWholePages;
        this.compressor = compressor;
        if (state.regions().size() != 1) {
            throw new IllegalArgumentException("seeded rounds take states of one region");
        }
        this.state = state;
        this.region = state.region(0);
        this.pageSize = state.pageSizeBytes();
        this.stateBytes = region.sizeBytes();
        this.pages = SeedHashes.pages(stateBytes, pageSize);
        this.chunks = (int) SeedHashes.chunks(pages);
        this.maxLiteralShare = maxLiteralShare;
        this.ops = new SeedOps(pageSize);
        this.blockLevel = new SeedBlockLevel(pageSize);
    }

    /** {@return whether a state can be seeded at all} (one region, a description within the limits) */
    static boolean eligible(VmState<? extends StateRegion> state) {
        if (state.regions().size() != 1 || state.region(0).sizeBytes() <= 0) {
            return false;
        }
        long pages = SeedHashes.pages(state.region(0).sizeBytes(), state.pageSizeBytes());
        return SeedHashes.chunks(pages) <= SeedWire.MAX_CHUNKS && 2 * pages <= Integer.MAX_VALUE - 8;
    }

    long exchangeBytes() {
        return exchangeBytes;
    }

    long literalPages() {
        return ops.literalPages();
    }

    long patchedPages() {
        return ops.patchedPages();
    }

    long differingPages() {
        return ops.count();
    }

    long chunksDiffering() {
        return chunksDiffering;
    }

    /** {@return patches sent as sub-blocks (FINE_PATCH ops)} */
    long finePatches() {
        return finePatches;
    }

    /** {@return copies of pages the round writes (pages that moved)} */
    long movedPages() {
        return movedPages;
    }

    /** {@return would-be literal pages sent whole without asking their block hashes} (patches not expected to pay) */
    long blockPagesSkipped() {
        return blockLevel.pagesSkipped();
    }

    /** {@return nanoseconds from the start until the whole state was hashed} */
    long hashNanos() {
        return hashNanos;
    }

    /** {@return nanoseconds from the start until the first batch went to the transfer, or -1 when none did} */
    long firstBatchAfterNanos() {
        return firstBatchAfterNanos;
    }

    /**
     * {@return milliseconds from the start until the DESCRIBE was answered, the first page hashes and block hashes were
     * taken, the first ops were decided and the first batch went to the writer} (-1 for a step not reached), for the
     * round log
     */
    String exchangeSteps() {
        return "described " + sinceStart(describedAt) + ", first page hashes " + sinceStart(firstPageHashesAt)
                + ", first block hashes " + sinceStart(firstBlockHashesAt) + ", first ops " + sinceStart(firstOpsAt)
                + ", first batch to the writer " + sinceStart(ops.firstHandedNanos());
    }

    private long sinceStart(long at) {
        return at == 0 ? -1 : (at - startNanos) / 1_000_000;
    }

    /** {@return nanoseconds from the start until the round's transfer opened, or -1 when it did not} */
    long openedAfterNanos() {
        return openedAfterNanos;
    }

    long stateBytes() {
        return stateBytes;
    }

    /** {@return the bytes of the round's frames} (after a SEEDED run) */
    long frameBytes() {
        return frameBytes;
    }

    /** {@return the literal data format the receiver chose} (after planning; 0 DEFLATE) */
    int format() {
        return format;
    }

    /** {@return the codec chain id of the baseline both ends adopt once the round is verified} (after planning) */
    long chainId() {
        return SeedHashes.chainId(digest);
    }

    /** {@return the page counts of a planned round, by how the receiver gets them} */
    java.util.Map<String, Long> pagesByClass() {
        return ops.pagesByClass(pages);
    }

    /**
     * Plans the whole round against a blocking exchange and keeps its frames for {@link #write}: for callers that want
     * the outcome before sending anything (one request at a time; the frames are held in memory).
     */
    Outcome plan(Exchange exchange, long timeoutMillis, long replyTimeoutMillis) throws Exception {
        List<ByteBuffer> frames = new ArrayList<>();
        Outcome o = run(request -> {
            try {
                return CompletableFuture.completedFuture(exchange.ask(request, timeoutMillis));
            } catch (Exception e) {
                return CompletableFuture.failedFuture(e);
            }
        }, timeoutMillis, replyTimeoutMillis, () -> f -> frames.add(ByteBuffer.allocate(f.remaining()).put(f.duplicate()).flip()));
        planned = o == Outcome.SEEDED ? frames : null;
        return o;
    }

    /** Writes the frames {@link #plan} made; {@return their bytes} */
    long write(FrameSink sink) throws Exception {
        if (planned == null) {
            throw new IllegalStateException("no seeded round was planned");
        }
        long n = 0;
        for (ByteBuffer f : planned) {
            n += f.remaining();
            sink.accept(f.duplicate());
        }
        return n;
    }

    /**
     * Runs the round: the description exchange, hashing, and (unless the outcome is not {@link Outcome#SEEDED}) every
     * frame written into the sink {@code opener} returns, which is opened at most once. When the outcome is not
     * SEEDED, or this throws, after the sink was opened, the caller cancels the transfer behind it.
     *
     * @param timeoutMillis how long to wait for the DESCRIBE's reply (the receiver may have to describe its seed)
     * @param replyTimeoutMillis how long to wait for any other reply, counted from when it is needed
     */
    Outcome run(AsyncExchange exchange, long timeoutMillis, long replyTimeoutMillis, RoundOpener opener) throws Exception {
        startNanos = System.nanoTime();
        this.exchange = exchange;
        // Ask, and hash while the receiver answers: one round trip (or the receiver's cold description) of hashing
        // is all a receiver without a seed costs.
        offered = 1 << SeedWire.FORMAT_DEFLATE | (compressor == null ? 0 : 1 << compressor.formatId());
        version = SeedWire.VERSION;
        ByteBuffer describe = SeedWire.describe(version, 0, pageSize, stateBytes, offered);
        exchangeBytes += describe.remaining();
        describing = track(exchange.send(describe));
        hasher = new SeedStateHasher(region, pageSize, stateBytes);
        pageHashes = hasher.pageHashes;
        try {
            while (hasher.hashNextSlice()) {
                int hashedChunks = hasher.hashedChunks();
                if (hashedChunks % WINDOW_CHUNKS != 0 && hashedChunks != chunks) {
                    continue;
                }
                if (theirChunks == null && describing.isDone() && !described(exchange, timeoutMillis)) {
                    return Outcome.NO_SEED;
                }
                Outcome o = pump(exchange, replyTimeoutMillis, opener, false);
                if (o != null) {
                    return o;
                }
            }
            digest = hasher.stateDigest();
            hashNanos = System.nanoTime() - startNanos;
            while (theirChunks == null) {
                if (!described(exchange, timeoutMillis)) {
                    return Outcome.NO_SEED;
                }
            }
            Outcome o = pump(exchange, replyTimeoutMillis, opener, true);
            if (o != null) {
                return o;
            }
            if (writer == null) {
                open(opener);
            }
            ops.cut();
            writer.end(digest, pages);
            frameBytes = writer.finish();
            firstBatchAfterNanos = writer.firstBatchNanos() == 0 ? -1 : writer.firstBatchNanos() - startNanos;
            return Outcome.SEEDED;
        } finally {
            hasher.close();
            for (CompletableFuture<ByteBuffer> f : outstanding) {
                f.cancel(false);
            }
            if (writer != null) {
                writer.close();
            }
        }
    }

    /** {@return whether the round's transfer was opened} (the caller cancels it when the round was not sent) */
    boolean opened() {
        return writer != null;
    }

    private CompletableFuture<ByteBuffer> track(CompletableFuture<ByteBuffer> f) {
        outstanding.add(f);
        return f;
    }

    /**
     * Takes the DESCRIBE's reply (waiting for it): records the seed's chunk hashes, or asks again in version 1 (then no
     * chunk hashes yet); {@return false when the receiver holds no seed of this size}
     */
    private boolean described(AsyncExchange exchange, long timeoutMillis) throws Exception {
        ByteBuffer reply;
        try {
            reply = await(describing, timeoutMillis, "DESCRIBE");
        } catch (DwcpException e) {
            if (version == 1 || e.code() != ErrorCode.PROTOCOL_ERROR) {
                throw e;
            }
            // A receiver that speaks only older versions refuses this one: ask again one version lower (version 1:
            // DEFLATE only).
            version--;
            offered = version == 1 ? 1 << SeedWire.FORMAT_DEFLATE : offered;
            ByteBuffer again = SeedWire.describe(version, 0, pageSize, stateBytes, offered);
            exchangeBytes += again.remaining();
            describing = track(exchange.send(again));
            return true;
        }
        exchangeBytes += reply.remaining();
        SeedWire.Header h = SeedWire.header(reply);
        if (h.version() != version || h.type() != SeedWire.TYPE_CHUNKS) {
            throw SeedWire.malformed("reply of version " + h.version() + " and type " + h.type() + " to a DESCRIBE of version " + version);
        }
        SeedWire.Chunks theirs = SeedWire.parseChunks(version, reply, pageSize, stateBytes, offered);
        if (theirs.status() != SeedWire.STATUS_OK) {
            return false;
        }
        format = theirs.format();
        describedAt = System.nanoTime();
        unwrittenSeed = h.unwrittenSeed();
        contentSeed = h.contentSeed();
        seedVersion = theirs.seedVersion();
        theirChunks = theirs.hashes();
        return true;
    }

    /**
     * Moves the pipeline on: compares the chunks hashed since, asks for page hashes of those that differ, takes the
     * replies that arrived (all of them when {@code blocking}) in order, and hands decided ops to the writer. Returns
     * an outcome that ends the round, or null.
     */
    private Outcome pump(AsyncExchange exchange, long replyTimeoutMillis, RoundOpener opener, boolean blocking) throws Exception {
        if (theirChunks == null) {
            return null;
        }
        compareChunks(exchange);
        while (!pagesInFlight.isEmpty() && (blocking || pagesInFlight.peek().reply.isDone())) {
            PagesGroup g = pagesInFlight.poll();
            // Whether to ask the next group's block hashes is judged from the probe's answers: wait for them once,
            // so that the choice does not depend on how fast this side's hashing pool and the replies are.
            while (blockLevel.awaitingProbe() && !blocksInFlight.isEmpty()) {
                if (!blockHashes(blocksInFlight.poll(), replyTimeoutMillis)) {
                    return Outcome.NO_SEED;
                }
            }
            if (!pageHashes(exchange, g, await(g.reply, replyTimeoutMillis, "PAGES"))) {
                return Outcome.NO_SEED;
            }
            if (!contentSeed && opsPlanned > maxLiteralShare * pages) {
                return Outcome.TOO_DIFFERENT;
            }
        }
        while (!blocksInFlight.isEmpty() && (blocking || blocksInFlight.peek().done())) {
            SeedBlocksGroup g = blocksInFlight.poll();
            if (!blockHashes(g, replyTimeoutMillis)) {
                return Outcome.NO_SEED;
            }
        }
        while (!subBlocksInFlight.isEmpty() && (blocking || subBlocksInFlight.peek().subBlocksDone())) {
            if (!subBlockHashes(subBlocksInFlight.poll(), replyTimeoutMillis)) {
                return Outcome.NO_SEED;
            }
        }
        if (writer == null && (pagesDecided == pages
                || pagesDecided >= OPEN_AFTER_SHARE * pages && (contentSeed || opsPlanned <= maxLiteralShare * pagesDecided))) {
            open(opener);
        }
        if (writer != null && writer.failed()) {
            writer.finish(); // rethrows the write's failure
        }
        return null;
    }

    private void open(RoundOpener opener) throws Exception {
        FrameSink sink = opener.open();
        openedAfterNanos = System.nanoTime() - startNanos;
        writer = new SeedFrameWriter(region, pageSize, format, compressor, sink);
        writer.base(seedVersion);
        ops.open(writer);
    }

    /** Compares the chunks hashed since the last call; the differing ones go into PAGES requests. */
    private void compareChunks(AsyncExchange exchange) {
        int hashedChunks = hasher.hashedChunks();
        long[] chunkHashes = hasher.chunkHashes;
        int[] differing = new int[Math.min(SeedWire.MAX_CHUNKS_PER_REQUEST, Math.max(1, hashedChunks - comparedChunks))];
        int n = 0;
        for (; comparedChunks < hashedChunks; comparedChunks++) {
            int c = comparedChunks;
            // From version 5 on the receiver sends the first 4 bytes of each chunk hash (see SeedWire.chunkHashBytes).
            boolean shortChunks = SeedWire.chunkHashBytes(version) == 4;
            if (shortChunks ? theirChunks[2 * c] == (chunkHashes[2 * c] & 0xFFFFFFFF00000000L)
                    : theirChunks[2 * c] == chunkHashes[2 * c] && theirChunks[2 * c + 1] == chunkHashes[2 * c + 1]) {
                keep(c);
                continue;
            }
            chunksDiffering++;
            differing[n++] = c;
            if (n == differing.length) {
                pagesRequest(exchange, differing, n);
                n = 0;
            }
        }
        if (n > 0) {
            pagesRequest(exchange, differing, n);
        }
    }

    /** Keeps the pages of chunk {@code c}, equal to the receiver's: they become copy sources. */
    private void keep(int c) {
        long first = (long) c * SeedHashes.CHUNK_PAGES;
        int n = pagesOf(c);
        for (int p = 0; p < n; p++) {
            int i = (int) (first + p);
            kept.put(pageHashes[2 * i], pageHashes[2 * i + 1], i);
        }
        pagesDecided += n;
    }

    private void pagesRequest(AsyncExchange exchange, int[] differing, int n) {
        int[] group = Arrays.copyOf(differing, n);
        ByteBuffer ask = SeedWire.indexRequest(version, SeedWire.TYPE_PAGES, 0, pageSize, stateBytes, seedVersion, group, 0, n);
        exchangeBytes += ask.remaining();
        pagesInFlight.add(new PagesGroup(group, track(exchange.send(ask))));
    }

    /**
     * Takes a PAGE_HASHES reply: pages equal to the receiver's are kept (and become copy sources), the others become
     * ZERO, COPY or would-be literals, whose block hashes are asked for. Returns false when the seed changed.
     */
    private boolean pageHashes(AsyncExchange exchange, PagesGroup g, ByteBuffer answer) {
        if (!status(answer)) {
            return false;
        }
        if (firstPageHashesAt == 0) {
            firstPageHashesAt = System.nanoTime();
        }
        long expected = 0;
        for (int c : g.chunks) {
            expected += pagesOf(c);
        }
        int count = g.chunks.length;
        int hashBytes = SeedWire.pageHashBytes(version);
        boolean shortHashes = hashBytes == 8;
        boolean moves = SeedWire.movedFromPageHashes(version);
        if (answer.get() != SeedWire.STATUS_OK || answer.remaining() != 4 + expected * SeedWire.pageHashBytes(version)
                || answer.getInt() != count) {
            throw SeedWire.malformed("PAGE_HASHES reply of " + answer.remaining() + " bytes for " + count + " chunks");
        }
        // A call per chunk for each of the two passes (a loop of at most a chunk's pages in each): the JIT compiles
        // those small methods once, instead of this whole method on the stack of its long loop and then again.
        long[] theirs = new long[(int) (2 * expected)];
        for (int k = 0, c0 = 0; c0 < count; c0++) {
            k = theirPageHashes(answer, g.chunks[c0], theirs, k, hashBytes, moves);
        }
        SeedBlocksGroup b = new SeedBlocksGroup((int) expected);
        for (int k = 0, c0 = 0; c0 < count; c0++) {
            k = decide(g.chunks[c0], theirs, k, b, moves, shortHashes);
        }
        opsPlanned += b.n;
        // The round's first would-be literal pages go whole, without asking their block hashes: they make the first
        // batches, which then leave two round trips (BLOCKS, then SUBBLOCKS) earlier, while the later groups' block
        // hashes are asked and answered. Not with a content seed, whose pages are found by the BLOCKS lookups.
        boolean lead = !contentSeed && b.literals > 0 && blockLevel.leadWhole(b.literals, leadWholePages);
        if (b.literals > 0 && !lead && blockLevel.ask(b.literals, writer, version)) {
            int max = SeedWire.maxPagesPerBlockRequest(version);
            for (int from = 0; from < b.literals; from += max) {
                int n = Math.min(max, b.literals - from);
                ByteBuffer ask = SeedWire.blocksLookup(version)
                        ? SeedWire.blocksRequest(version, 0, pageSize, stateBytes, seedVersion, b.literalPages, pageHashes, from, n)
                        : SeedWire.indexRequest(version, SeedWire.TYPE_BLOCKS, 0, pageSize, stateBytes, seedVersion,
                        b.literalPages, from, n);
                exchangeBytes += ask.remaining();
                b.replies.add(track(exchange.send(ask)));
            }
            // This side's block hashes, on the pool, while the receiver computes its own.
            b.mine = hasher.blockHashes(b.literalPages, b.literals, SeedWire.crcBlockHashes(version));
        }
        blocksInFlight.add(b);
        return true;
    }

    /**
     * Reads the receiver's hashes of the pages of chunk {@code c} from a PAGE_HASHES reply into {@code theirs} from
     * page {@code k} of the group on (hi, lo; the bytes not sent are taken from this side's hash), and indexes the
     * receiver's pages that change as possible sources of moved pages. {@return the group's next page}
     */
    private int theirPageHashes(ByteBuffer answer, int c, long[] theirs, int k, int hashBytes, boolean moves) {
        boolean shortHashes = hashBytes == 8;
        long first = (long) c * SeedHashes.CHUNK_PAGES;
        int n = pagesOf(c);
        for (int p = 0; p < n; p++, k++) {
            int i = (int) (first + p);
            if (hashBytes == 4) {
                // The first 4 bytes: equal at the index when they match (the rest is taken from this side's hash).
                theirs[2 * k] = (long) answer.getInt() << 32 | pageHashes[2 * i] & 0xFFFFFFFFL;
                theirs[2 * k + 1] = pageHashes[2 * i + 1];
            } else {
                theirs[2 * k] = answer.getLong();
                theirs[2 * k + 1] = shortHashes ? pageHashes[2 * i + 1] : answer.getLong();
            }
            if (moves && (theirs[2 * k] != pageHashes[2 * i] || theirs[2 * k + 1] != pageHashes[2 * i + 1])) {
                // The receiver's page i changes: its old content may have moved (only the first 8 bytes of its
                // hash are known with short hashes: a wrong match fails the state digest, and the round goes full).
                moved.put(theirs[2 * k], shortHashes ? 0 : theirs[2 * k + 1], i);
            }
        }
        return k;
    }

    /**
     * Decides the pages of chunk {@code c}, whose receiver's hashes are in {@code theirs} from the group's page {@code
     * k} on: equal pages are kept (and become copy sources), the others go into {@code b} as ZERO, COPY or would-be
     * literals. {@return the group's next page}
     */
    private int decide(int c, long[] theirs, int k, SeedBlocksGroup b, boolean moves, boolean shortHashes) {
        long first = (long) c * SeedHashes.CHUNK_PAGES;
        int n = pagesOf(c);
        for (int p = 0; p < n; p++, k++) {
            int i = (int) (first + p);
            long hi = theirs[2 * k];
            long lo = theirs[2 * k + 1];
            if (hi == pageHashes[2 * i] && lo == pageHashes[2 * i + 1]) {
                kept.put(hi, lo, i);
                continue;
            }
            int source = hasher.zero(c, p) ? SeedWire.SOURCE_ZERO
                    : kept.get(pageHashes[2 * i], pageHashes[2 * i + 1]);
            if (source == SeedWire.SOURCE_LITERAL && moves) {
                source = movedSource(i, shortHashes);
            }
            b.add(i, source);
        }
        pagesDecided += n;
        return k;
    }

    /**
     * {@return whether the receiver would have to keep more pages in memory for copies from earlier pages} Never when
     * it only reads its seed ({@link SeedWire#FLAG_UNWRITTEN_SEED}).
     */
    private boolean preservedFull() {
        return !unwrittenSeed && movedBefore >= SeedWire.maxPreservedPages(pageSize);
    }

    /**
     * {@return a page of the receiver's seed whose content moved to page {@code i}, or {@link SeedWire#SOURCE_LITERAL}}
     * A source before {@code i} is one the receiver must keep in memory until it writes page {@code i}: at most {@link
     * SeedWire#maxPreservedPages} such copies per round.
     */
    private int movedSource(int i, boolean shortHashes) {
        int j = moved.get(pageHashes[2 * i], shortHashes ? 0 : pageHashes[2 * i + 1]);
        if (j < 0 || j == i || j < i && preservedFull()) {
            return SeedWire.SOURCE_LITERAL;
        }
        if (j < i) {
            movedBefore++;
        }
        movedPages++;
        return j;
    }

    /**
     * {@return the source of a copy of page {@code i} from the receiver's page {@code j}} that a BLOCK_HASHES reply
     * (version 5 on) named as holding page {@code i}'s content, or {@link SeedWire#SOURCE_LITERAL} when it cannot be
     * one: {@code j} out of range or {@code i} itself, or a source before {@code i} past {@link
     * SeedWire#maxPreservedPages} (the page then goes whole).
     */
    private int lookedUpSource(int i, int j) {
        if (j < 0 || j >= pages || j == i) {
            throw SeedWire.malformed("BLOCK_HASHES reply names page " + j + " as the content of page " + i);
        }
        if (j < i && preservedFull()) {
            return SeedWire.SOURCE_LITERAL;
        }
        if (j < i) {
            movedBefore++;
        }
        movedPages++;
        return j;
    }

    /**
     * Level 3 of the description: takes the block hashes of the receiver's pages that would go literal ({@link
     * SeedBlockLevel}); then the group's ops go to the writer. Returns false when the seed changed.
     */
    private boolean blockHashes(SeedBlocksGroup g, long replyTimeoutMillis) throws Exception {
        long[] mine = null;
        if (g.mine != null) {
            try {
                mine = g.mine.get();
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                throw c instanceof Exception ex ? ex : new IllegalStateException(c);
            }
        }
        int hashBytes = SeedWire.blockHashBytes(version);
        int k = 0;
        for (CompletableFuture<ByteBuffer> f : g.replies) {
            ByteBuffer answer = await(f, replyTimeoutMillis, "BLOCKS");
            if (!status(answer)) {
                return false;
            }
            int count = Math.min(SeedWire.maxPagesPerBlockRequest(version), g.literals - k);
            boolean lookup = SeedWire.blocksLookup(version);
            if (answer.get() != SeedWire.STATUS_OK || answer.remaining() < 4 || answer.getInt() != count
                    || !lookup && answer.remaining() != (long) count * hashBytes * SeedWire.BLOCKS_PER_PAGE) {
                throw SeedWire.malformed("BLOCK_HASHES reply of " + answer.remaining() + " bytes for " + count + " pages");
            }
            blockLevel.apply(g, mine, answer, k, count, hashBytes, lookup ? this::lookedUpSource : null);
            if (firstBlockHashesAt == 0) {
                firstBlockHashesAt = System.nanoTime();
            }
            if (answer.hasRemaining()) {
                throw SeedWire.malformed("BLOCK_HASHES reply with " + answer.remaining() + " bytes too many");
            }
            k += count;
        }
        if (SeedWire.finePatches(version) && g.collectPatches() > 0) {
            // Level 4: the sub-block hashes of the blocks each patch would carry, theirs and this side's.
            for (int from = 0; from < g.patches; from += SeedWire.MAX_PAGES_PER_SUBBLOCK_REQUEST) {
                int n = Math.min(SeedWire.MAX_PAGES_PER_SUBBLOCK_REQUEST, g.patches - from);
                ByteBuffer ask = SeedWire.subBlocksRequest(version, 0, pageSize, stateBytes, seedVersion, g.patchPages,
                        g.patchBlockMasks, from, n);
                exchangeBytes += ask.remaining();
                g.subReplies.add(track(exchange.send(ask)));
            }
            g.mineSub = hasher.subBlockHashes(g.patchPages, g.patchBlockMasks, g.patches);
        }
        if (g.subReplies.isEmpty() && subBlocksInFlight.isEmpty()) {
            addOps(g);
        } else {
            subBlocksInFlight.add(g);
        }
        return true;
    }

    private void addOps(SeedBlocksGroup g) {
        if (firstOpsAt == 0 && g.n > 0) {
            firstOpsAt = System.nanoTime();
        }
        for (int i = 0; i < g.n; i++) {
            ops.add(g.pages[i], g.sources[i], g.masks[i]);
        }
    }

    /**
     * Level 4 of the description (version 5 on): takes the sub-block hashes of the blocks the group's patches would
     * carry; a patch whose differing sub-blocks cost fewer bytes than its blocks becomes a FINE_PATCH carrying just
     * those. Then the group's ops go to the writer. Returns false when the seed changed.
     */
    private boolean subBlockHashes(SeedBlocksGroup g, long replyTimeoutMillis) throws Exception {
        if (g.subReplies.isEmpty()) {
            addOps(g);
            return true;
        }
        int[] mine;
        try {
            mine = g.mineSub.get();
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            throw c instanceof Exception ex ? ex : new IllegalStateException(c);
        }
        int bs = pageSize / SeedWire.BLOCKS_PER_PAGE;
        int ss = bs / SeedWire.SUBBLOCKS_PER_BLOCK;
        int k = 0;
        int at = 0;
        for (CompletableFuture<ByteBuffer> f : g.subReplies) {
            ByteBuffer answer = await(f, replyTimeoutMillis, "SUBBLOCKS");
            if (!status(answer)) {
                return false;
            }
            int count = Math.min(SeedWire.MAX_PAGES_PER_SUBBLOCK_REQUEST, g.patches - k);
            long hashes = 0;
            for (int i = k; i < k + count; i++) {
                hashes += (long) Integer.bitCount(g.patchBlockMasks[i] & 0xff) * SeedWire.SUBBLOCKS_PER_BLOCK;
            }
            if (answer.get() != SeedWire.STATUS_OK || answer.remaining() != 4 + 4 * hashes || answer.getInt() != count) {
                throw SeedWire.malformed("SUBBLOCK_HASHES reply of " + answer.remaining() + " bytes for " + count + " pages");
            }
            for (int end = k + count; k < end; k++) {
                int op = g.patchOps[k];
                int blockMask = g.patchBlockMasks[k] & 0xff;
                long fine = 0;
                int pieces = 0;
                for (int b = 0; b < SeedWire.BLOCKS_PER_PAGE; b++) {
                    if ((blockMask & 1 << b) == 0) {
                        continue;
                    }
                    int sub = 0;
                    for (int j = 0; j < SeedWire.SUBBLOCKS_PER_BLOCK; j++) {
                        if (answer.getInt() != mine[at++]) {
                            sub |= 1 << j;
                        }
                    }
                    // The block differs (its hash did), so some piece does: equal CRCs everywhere is a collision of one
                    // of them, and the whole block goes.
                    if (sub == 0) {
                        sub = 0xff;
                    }
                    fine |= (long) sub << (SeedWire.SUBBLOCKS_PER_BLOCK * b);
                    pieces += Integer.bitCount(sub);
                }
                long fineBytes = 1L + Integer.bitCount(blockMask) + (long) pieces * ss;
                long patchBytes = 1L + (long) Integer.bitCount(blockMask) * bs;
                if (fineBytes < patchBytes) {
                    g.sources[op] = SeedWire.SOURCE_FINE_PATCH;
                    g.masks[op] = fine;
                    finePatches++;
                }
            }
        }
        addOps(g);
        return true;
    }

    /** Checks a reply's header; {@return false when its status says the seed changed or is gone} (at the status) */
    private boolean status(ByteBuffer answer) {
        exchangeBytes += answer.remaining();
        SeedWire.header(answer);
        if (!answer.hasRemaining()) {
            throw SeedWire.malformed("reply without a status");
        }
        int status = answer.get(answer.position()) & 0xff;
        return status != SeedWire.STATUS_CHANGED && status != SeedWire.STATUS_NONE;
    }

    private static ByteBuffer await(CompletableFuture<ByteBuffer> f, long timeoutMillis, String what) throws Exception {
        try {
            return f.get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            DwcpException d = DwcpException.find(c);
            if (d != null) {
                throw d;
            }
            throw c instanceof Exception ex ? ex : new IllegalStateException(c);
        } catch (TimeoutException e) {
            throw new DwcpException(ErrorCode.TIMEOUT, "the receiver did not answer a seed " + what + " request within "
                    + timeoutMillis + " ms");
        }
    }

    private int pagesOf(int chunk) {
        return (int) Math.min(SeedHashes.CHUNK_PAGES, pages - (long) chunk * SeedHashes.CHUNK_PAGES);
    }

    /** The differing chunks of one PAGES request and its reply. */
    private record PagesGroup(int[] chunks, CompletableFuture<ByteBuffer> reply) {
    }
}
