package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.spi.BlockCompressor;
import io.dwcp.core.spi.FrameSink;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.VmState;

import java.nio.ByteBuffer;
import java.util.ArrayList;
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
 * <p>The planner runs the pipeline: the DESCRIBE (and its version fallback), hashing, when the transfer opens, the
 * share rule, the writer and the round's figures. The PAGES level (chunk comparison, page hashes, each page's fate)
 * is {@link SeedPageLevel}, the BLOCKS and SUBBLOCKS levels (patches, fine patches) {@link SeedBlockExchange}; their
 * requests go out through {@link #send} and their replies' headers are checked by {@link #status}, which count the
 * exchange's bytes.
 *
 * <p>One instance per round; not thread-safe. Runs on a thread of its own (it waits for replies and for the writer);
 * every field, and the levels', is confined to that thread.
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
    private byte[] digest;
    private long hashNanos;

    private long[] theirChunks;
    private byte[] seedVersion;
    /** The PAGES level: chunk comparison, page hashes, the pages' fates. */
    private final SeedPageLevel pageLevel;
    /** The BLOCKS and SUBBLOCKS levels: patches and fine patches of would-be literal pages. */
    private final SeedBlockExchange blocks;
    /**
     * The seed's indexes mean nothing (a CHUNKS flag, version 7: an image of another size): nearly every page differs
     * at its index, so the round is not judged by that share; its pages are found by content.
     */
    private boolean contentSeed;
    /** The exchange of the running round (for the requests of later levels). */
    private AsyncExchange exchange;
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
        this.pageLevel = new SeedPageLevel(this, pageSize, pages, stateBytes);
        this.blocks = new SeedBlockExchange(this, pageLevel, ops, pageSize, stateBytes, leadWholePages);
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
        return pageLevel.chunksDiffering();
    }

    /** {@return patches sent as sub-blocks (FINE_PATCH ops)} */
    long finePatches() {
        return blocks.finePatches();
    }

    /** {@return copies of pages the round writes (pages that moved)} */
    long movedPages() {
        return pageLevel.movedPages();
    }

    /** {@return would-be literal pages sent whole without asking their block hashes} (patches not expected to pay) */
    long blockPagesSkipped() {
        return blocks.pagesSkipped();
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
                + ", first block hashes " + sinceStart(blocks.firstBlockHashesAt()) + ", first ops "
                + sinceStart(blocks.firstOpsAt())
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
        pageLevel.start(hasher);
        blocks.start(hasher);
        try {
            while (hasher.hashNextSlice()) {
                int hashedChunks = hasher.hashedChunks();
                if (hashedChunks % WINDOW_CHUNKS != 0 && hashedChunks != chunks) {
                    continue;
                }
                if (theirChunks == null && describing.isDone() && !described(exchange, timeoutMillis)) {
                    return Outcome.NO_SEED;
                }
                Outcome o = pump(replyTimeoutMillis, opener, false);
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
            Outcome o = pump(replyTimeoutMillis, opener, true);
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
     * Sends one request of a later level on the running round's exchange, counts its bytes and tracks its reply (the
     * levels' requests go through here). {@return the reply}
     */
    CompletableFuture<ByteBuffer> send(ByteBuffer request) {
        exchangeBytes += request.remaining();
        return track(exchange.send(request));
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
        contentSeed = h.contentSeed();
        seedVersion = theirs.seedVersion();
        theirChunks = theirs.hashes();
        pageLevel.described(version, seedVersion, theirChunks, h.unwrittenSeed());
        blocks.described(version, seedVersion, contentSeed);
        return true;
    }

    /**
     * Moves the pipeline on: compares the chunks hashed since, asks for page hashes of those that differ, takes the
     * replies that arrived (all of them when {@code blocking}) in order, and hands decided ops to the writer. Returns
     * an outcome that ends the round, or null.
     */
    private Outcome pump(long replyTimeoutMillis, RoundOpener opener, boolean blocking) throws Exception {
        if (theirChunks == null) {
            return null;
        }
        pageLevel.compareChunks();
        while (pageLevel.replyDue(blocking)) {
            SeedPageLevel.PagesGroup g = pageLevel.next();
            // Whether to ask the next group's block hashes is judged from the probe's answers: wait for them once,
            // so that the choice does not depend on how fast this side's hashing pool and the replies are.
            if (!blocks.takeProbe(replyTimeoutMillis)) {
                return Outcome.NO_SEED;
            }
            if (!pageHashes(g, await(g.reply(), replyTimeoutMillis, "PAGES"))) {
                return Outcome.NO_SEED;
            }
            if (!contentSeed && opsPlanned > maxLiteralShare * pages) {
                return Outcome.TOO_DIFFERENT;
            }
        }
        if (!blocks.takeBlocks(blocking, replyTimeoutMillis)) {
            return Outcome.NO_SEED;
        }
        if (!blocks.takeSubBlocks(blocking, replyTimeoutMillis)) {
            return Outcome.NO_SEED;
        }
        long pagesDecided = pageLevel.pagesDecided();
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

    /**
     * Takes a PAGE_HASHES reply: pages equal to the receiver's are kept (and become copy sources), the others become
     * ZERO, COPY or would-be literals ({@link SeedPageLevel}), whose block hashes are asked for ({@link
     * SeedBlockExchange}). Returns false when the seed changed.
     */
    private boolean pageHashes(SeedPageLevel.PagesGroup g, ByteBuffer answer) {
        if (!status(answer)) {
            return false;
        }
        if (firstPageHashesAt == 0) {
            firstPageHashesAt = System.nanoTime();
        }
        SeedBlocksGroup b = pageLevel.decide(g, answer);
        opsPlanned += b.n;
        blocks.ask(b);
        return true;
    }

    /**
     * Checks a reply's header and counts its bytes (also for the later levels); {@return false when its status says the
     * seed changed or is gone} (at the status)
     */
    boolean status(ByteBuffer answer) {
        exchangeBytes += answer.remaining();
        SeedWire.header(answer);
        if (!answer.hasRemaining()) {
            throw SeedWire.malformed("reply without a status");
        }
        int status = answer.get(answer.position()) & 0xff;
        return status != SeedWire.STATUS_CHANGED && status != SeedWire.STATUS_NONE;
    }

    /** Waits for a reply; a failure or a timeout becomes the round's failure. */
    static ByteBuffer await(CompletableFuture<ByteBuffer> f, long timeoutMillis, String what) throws Exception {
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

}
