package io.dwcp.compression;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.spi.FrameSink;
import io.dwcp.core.state.DirtyPages;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.VmState;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/*
 * Encoding of one round. Maintainer notes.
 *
 * The state is cut into segments of at most 1 MiB that never cross a region or a page-store chunk. Three phases run
 * as a pipeline:
 *
 *  1. Scan (workers, in parallel, submitted at most SCAN_AHEAD segments ahead): read the segment from its region. A
 *     keyframe reads straight into the new baseline's store; a delta reads into the worker's scratch and compares with
 *     the baseline (ByteBuffer.mismatch, vectorised) so unchanged pages cost one memcmp. Each page to send is classed:
 *     zero; moved (its hash is in the baseline's content index and the bytes compare equal); XOR delta against the
 *     same-offset baseline page when that is below 3/4 page (after a sampled pre-test); the same against the baseline
 *     page sharing most content anchors (XOR_FROM); assembled from sub-page copies found anywhere in the baseline
 *     when they save an eighth of the page (SPLICE); else literal. A delta copies
 *     every sent page into the segment's own direct chunk, which becomes part of the pending baseline.
 *  2. Resolve (coordinator, sequential, in page order as scans complete): number the sent pages (slots), find
 *     duplicates of earlier pages of the round (hash map + byte compare; the first occurrence wins, so the result does
 *     not depend on thread timing), update the state digest, and cut batches once their raw bytes reach batch-size.
 *  3. Code (workers): write a batch's control and data streams, zstd them (or store them when they do not compress),
 *     and build the frame. The coordinator hands frames to the sink strictly in sequence order.
 *
 * Round splices (SPLICE on, deltas): a scan hashes each literal page at aligned anchors into the round index, where the
 * smallest state position wins (compare-and-set, any thread). A batch's coder looks its literal pages up and takes
 * only positions before the batch's first page. Every page there was scanned, and so indexed, before the coordinator
 * cut the batch, so what the coder sees for those positions is final whatever the other threads are doing. The
 * source's slot and content come from SentPages, which the coordinator records as it resolves each segment.
 *
 * Who does what: this class plans the segments, runs the pipeline and phase 2 on the coordinator thread (its
 * fields are the coordinator's alone, except the volatile abort flag), and owns the round's tables and results.
 * Phase 1 is SegmentScanner's, phase 3 BatchCoder's; both are made by run() for the round and dropped with it.
 *
 * Output depends only on the input, the baseline, the level, the clock (for the incompressible re-probe) and whether
 * the baseline's sub-page index was built yet (in the background after a keyframe; StateCodec.awaitBackgroundWork
 * waits for it), never on the number of threads or their timing.
 */
final class RoundEncoder {
    private static final int SEGMENT_BYTES = 1 << 20;
    private static final int SCAN_AHEAD = 32;
    private static final int CODE_AHEAD = 16;
    private static final int MAX_ZERO_PAGE = 2 << 20;
    static final ByteBuffer ZERO = DirectMemory.allocate(MAX_ZERO_PAGE).asReadOnlyBuffer();
    /** Per-page control bytes beyond the data: op, gap run, reference or run count (conservative). */
    private static final int OP_OVERHEAD = 24;
    /** Round index entries: one per KiB of state (an eighth of a state's anchors), 2^10 … 2^20 (8 MiB). */
    private static final int ROUND_INDEX_MIN_LOG2 = 10;
    private static final int ROUND_INDEX_MAX_LOG2 = 20;

    private final HdeCodec codec;
    private final VmState<? extends StateRegion> state;
    private final Layout layout;
    private final Baseline base;
    private final PageStore target;
    private final DirtyPages dirty;
    private final int level;
    private final FrameSink sink;
    private final ExecutorService executor;
    private final int pageSize;
    private final long zeroHash;
    private final int batchSize;
    private final int rawLimit;
    private final boolean keyframe;
    /** SPLICE in this round (a delta whose level pays for it, {@link HdeSettings#splice}). */
    private final boolean splice;
    /** Builds the round's frames: BEGIN, the batches (on the workers), END. */
    private final RoundFrames frames;
    /** Views for {@link #sameAsSlot}, which only the coordinator thread runs (phase 2). */
    private final PageViews resolveViews = new PageViews();

    // Results, valid after run().
    final SlotPages slots;
    final long[] newHashes;
    /** Keyframe: the pages sent as zero (bit p of word p / 64), for {@link Baseline#zeroPages}; null for a delta. */
    final long[] zeroPages;
    final long[] classCounts = new long[PageClass.values().length];
    long digest;
    long encodedBytes;
    /** Uncompressed bytes of all BATCH payloads (data + control streams): what zstd was offered. */
    long offeredBytes;
    long cpuNanos;
    private int sequence;
    private long nextSlot;
    /** Round tables from the codec's {@link RoundTables}, given back when the round's tasks are done. */
    private LongIntMap duplicates;
    private final LongIntMap baseIndex;
    private final AnchorIndex similarIndex;
    private SpliceIndex spliceIndex;
    /** Round splices (deltas with SPLICE on; else null): anchors of the round's literal pages, by the scans. */
    private RoundSpliceIndex roundIndex;
    /** Phase 3 of the round: set by run() (null before and after it); the coordinator's alone. */
    private BatchCoder coder;

    // Batch being cut.
    private final List<Segment> batchSegments = new ArrayList<>();
    private final List<int[]> batchRanges = new ArrayList<>();
    private long batchFirstPage = -1;
    private long batchLastPage;
    private long batchFirstSlot;
    private long batchRawBytes;
    private final ArrayDeque<Future<FramePool.Lease>> coding = new ArrayDeque<>();
    /** Set when the round failed: tasks that have not started return at once instead of touching the round's memory. */
    private volatile boolean aborted;

    RoundEncoder(HdeCodec codec, VmState<? extends StateRegion> state, Layout layout, Baseline base, PageStore target,
                 DirtyPages dirty, int level, boolean splice, FrameSink sink, long roundId, long producedId,
                 long producedVersion) {
        this.codec = codec;
        this.state = state;
        this.layout = layout;
        this.base = base;
        this.target = target;
        this.dirty = dirty;
        this.level = level;
        this.sink = sink;
        this.executor = codec.workers();
        this.pageSize = layout.pageSizeBytes;
        this.zeroHash = PageHash.zeroHash(pageSize);
        this.keyframe = base == null;
        this.splice = !keyframe && splice;
        this.batchSize = Math.max(codec.settings().batchBytes(!keyframe, this.splice), pageSize);
        this.rawLimit = codec.settings().rawBatchLimit(pageSize);
        this.frames = new RoundFrames(codec, state.key(), layout, base, level, roundId, producedId, producedVersion);
        long pages = layout.totalPages();
        if (pages > Integer.MAX_VALUE - 8) {
            throw new DwcpException(ErrorCode.LIMIT_EXCEEDED, "state of " + pages + " pages exceeds the "
                    + (Integer.MAX_VALUE - 8) + "-page limit of one HDE state: use larger pages or split the state");
        }
        this.slots = keyframe ? null : new SlotPages(pageSize, new Arena(codec.chunks()));
        this.newHashes = keyframe ? new long[(int) pages] : null;
        this.zeroPages = keyframe ? new long[(int) ((pages + 63) >>> 6)] : null;
        this.duplicates = codec.roundTables().map((int) Math.min(pages, 1 << 22));
        this.baseIndex = keyframe ? null : base.contentIndex(zeroHash);
        this.similarIndex = keyframe ? null : base.similarIndex(zeroHash, codec.settings().indexMaxMemoryBytes);
        this.digest = keyframe ? 0 : base.digest();
        this.roundIndex = this.splice
                ? codec.roundTables().roundIndex(roundIndexLog2(layout.totalBytes)) : null;
    }

    private static int roundIndexLog2(long stateBytes) {
        int log2 = 64 - Long.numberOfLeadingZeros(Math.max(1, stateBytes >>> 10) - 1);
        return Math.max(ROUND_INDEX_MIN_LOG2, Math.min(ROUND_INDEX_MAX_LOG2, log2));
    }

    /** Lets {@code source} choose each batch's level from now on (see {@link RoundFrames#levelSource}). */
    void levelSource(java.util.function.IntSupplier source) {
        frames.levelSource(source);
    }

    /** Encodes the round: BEGIN, batches, END. Blocks the calling (coordinator) thread. */
    void run() throws Exception {
        if (splice) {
            // Built in the background after the keyframe; a round never waits for it (see awaitBackgroundWork).
            spliceIndex = base.spliceIndexIfReady();
            if (spliceIndex == null) {
                codec.buildSpliceIndexInBackground(base);
            }
        }
        emit(frames.begin());
        Segment[] plan = segments().toArray(new Segment[0]);
        SegmentScanner scanner = new SegmentScanner(state, layout, base, target, dirty, zeroHash, slots, baseIndex,
                similarIndex, spliceIndex, roundIndex);
        coder = new BatchCoder(frames, layout, roundIndex, plan);
        List<Future<Segment>> scans = new ArrayList<>(plan.length);
        int submitted = 0;
        try {
            for (int i = 0; i < plan.length; i++) {
                while (submitted < plan.length && submitted < i + SCAN_AHEAD) {
                    Segment s = plan[submitted];
                    plan[submitted] = null;     // a segment's arrays go with its batch, not with the round
                    scans.add(executor.submit(() -> aborted ? null : scanner.scan(s)));
                    submitted++;
                }
                Segment s = get(scans.get(i));
                scans.set(i, null);
                // Before resolve(): a batch it cuts may copy from this segment's pages before the batch.
                coder.sent(i, s);
                resolve(s);
                drainDone();
            }
            closeBatch();
            while (!coding.isEmpty()) {
                emit(get(coding.removeFirst()));
            }
            // Every batch is coded: the pages the coders turned into round splices were counted literal by resolve().
            long spliced = coder.roundSpliced();
            classCounts[PageClass.LITERAL.ordinal()] -= spliced;
            classCounts[PageClass.SPLICE.ordinal()] += spliced;
            // No task of the round runs any more. (After a failure they are dropped instead: a task that an interrupt
            // left running may still read them.)
            codec.roundTables().give(duplicates);
            duplicates = null;
            if (roundIndex != null) {
                codec.roundTables().give(roundIndex);
                roundIndex = null;
            }
        } catch (Exception | Error e) {
            // Tasks write into memory the caller frees on failure, so every task must have ended first. They are not
            // cancelled (a cancelled FutureTask's get() returns while the task may still run): tasks not yet started
            // see the abort flag and return at once, and running ones are waited for, through interrupts too.
            aborted = true;
            boolean interrupted = awaitAll(scans);
            interrupted |= awaitAll(coding);
            releaseCoded();
            Await.restore(interrupted);
            throw e;
        } finally {
            // Both totals are final after a success; after a failure a task that an interrupt left running may still add
            // to them (under their lock), and nobody reads cpuNanos then.
            cpuNanos = scanner.cpuNanos() + coder.cpuNanos();
            coder = null;
        }
        emit(frames.end(sequence, nextSlot, digest, encodedBytes));
    }

    private static boolean awaitAll(Iterable<? extends Future<?>> futures) {
        boolean interrupted = false;
        for (Future<?> f : futures) {
            if (f != null) {
                interrupted |= Await.ended(f);
            }
        }
        return interrupted;
    }

    private static <T> T get(Future<T> f) throws Exception {
        try {
            return f.get();
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof Exception) {
                throw (Exception) c;
            }
            if (c instanceof Error) {
                throw (Error) c;
            }
            throw e;
        }
    }

    /** A BEGIN or END frame: a fresh array, handed over. */
    private void emit(byte[] frame) throws Exception {
        encodedBytes += frame.length;
        sink.acceptOwned(ByteBuffer.wrap(frame));    // never touched again
    }

    /** A batch frame in a pooled buffer, lent to the sink, which releases it (also when it throws). */
    private void emit(FramePool.Lease frame) throws Exception {
        ByteBuffer f = frame.buffer();
        encodedBytes += f.remaining();
        offeredBytes += f.getInt(Wire.BATCH_RAW_LENGTH_OFFSET) & 0xFFFFFFFFL;
        sink.acceptLent(f, frame);
    }

    /**
     * After a failure, once every coding task has ended: returns the frames they built that were never emitted (the
     * sink never saw them, so nobody else releases them).
     */
    private void releaseCoded() {
        for (Future<FramePool.Lease> f : coding) {
            if (f.isDone() && !f.isCancelled()) {
                try {
                    FramePool.Lease lease = f.get();
                    if (lease != null) {
                        lease.run();
                    }
                } catch (ExecutionException | InterruptedException e) {
                    // no frame was built (or the wait was cut short by an interrupt that awaitAll already saw)
                }
            }
        }
        coding.clear();
    }

    private void drainDone() throws Exception {
        while (!coding.isEmpty() && (coding.peekFirst().isDone() || coding.size() > CODE_AHEAD)) {
            emit(get(coding.removeFirst()));
        }
    }

    /** Segments of at most 1 MiB, never crossing a region or a store chunk. */
    private List<Segment> segments() {
        List<Segment> out = new ArrayList<>();
        int segPages = Math.max(1, SEGMENT_BYTES / pageSize);
        int chunkPages = Math.max(1, PageStore.CHUNK_BYTES / pageSize);
        for (int r = 0; r < layout.regionCount(); r++) {
            long p = layout.firstPage[r];
            long end = layout.firstPage[r + 1];
            while (p < end) {
                long chunkEnd = (p / chunkPages + 1) * chunkPages;
                long e = Math.min(end, Math.min(p + segPages, chunkEnd));
                out.add(new Segment(p, (int) (e - p)));
                p = e;
            }
        }
        return out;
    }


    // ---------------------------------------------------------------- phase 2: resolve (coordinator)

    private void resolve(Segment s) {
        int chunkIndex = -1;
        if (!keyframe && s.count > 0) {
            chunkIndex = slots.addChunk(s.contentChunk);
        }
        if (!keyframe) {
            // Pages of the segment that are not sent are unchanged.
            classCounts[PageClass.UNCHANGED.ordinal()] += s.pageCount - s.count;
        }
        for (int k = 0; k < s.count; k++) {
            long page = s.page[k];
            long slot = nextSlot++;
            s.slot[k] = slot;
            long h = s.hash[k];
            int op = s.op[k];
            if (Segment.hasCodedData(op) || op == Wire.OP_LITERAL) {
                int prior = duplicates.size() < (1 << 21) ? duplicates.putIfAbsent(PageHash.indexKey(h), (int) slot)
                        : duplicates.get(PageHash.indexKey(h));
                if (prior >= 0 && prior != slot && sameAsSlot(prior, s.contentChunk, s.contentOffset[k])) {
                    s.op[k] = Wire.OP_DUPLICATE;
                    s.ref[k] = prior;
                    op = Wire.OP_DUPLICATE;
                }
            }
            if (keyframe) {
                if (op == Wire.OP_ZERO) {
                    zeroPages[(int) (page >>> 6)] |= 1L << page;
                }
                newHashes[(int) page] = h;
                digest += PageHash.mix(page, h);
            } else {
                slots.add(page, h, chunkIndex, s.contentOffset[k]);
                digest += PageHash.mix(page, h) - PageHash.mix(page, base.pageHashes[(int) page]);
            }
            classCounts[classOf(op).ordinal()]++;
            addToBatch(s, k);
        }
    }

    private static PageClass classOf(int op) {
        switch (op) {
            case Wire.OP_ZERO: return PageClass.ZERO;
            case Wire.OP_MOVED: return PageClass.MOVED;
            case Wire.OP_DUPLICATE: return PageClass.DUPLICATE;
            case Wire.OP_XOR:
            case Wire.OP_XOR_FROM:
                return PageClass.XOR;
            case Wire.OP_SPLICE: return PageClass.SPLICE;
            default: return PageClass.LITERAL;
        }
    }

    private boolean sameAsSlot(int slot, ByteBuffer chunk, int off) {
        ByteBuffer c;
        int o;
        if (keyframe) {
            c = target.chunk(slot);
            o = target.offset(slot);
        } else {
            c = slots.chunk(slot);
            o = slots.offset(slot);
        }
        return !resolveViews.differs(c, o, chunk, off, pageSize);
    }

    private int rawCost(Segment s, int k) {
        switch (s.op[k]) {
            case Wire.OP_XOR:
            case Wire.OP_XOR_FROM:
            case Wire.OP_SPLICE:
                return OP_OVERHEAD + s.controlLength[k] + s.dataLength[k];
            case Wire.OP_LITERAL:
                return OP_OVERHEAD + pageSize;
            default:
                return OP_OVERHEAD;
        }
    }

    private void addToBatch(Segment s, int k) {
        int cost = rawCost(s, k);
        if (batchFirstPage >= 0 && batchRawBytes + cost > rawLimit) {
            closeBatch();
        }
        if (batchFirstPage < 0) {
            batchFirstPage = s.page[k];
            batchFirstSlot = s.slot[k];
            batchRawBytes = 0;
        }
        int last = batchSegments.size() - 1;
        if (last >= 0 && batchSegments.get(last) == s) {
            batchRanges.get(last)[1] = k + 1;
        } else {
            batchSegments.add(s);
            batchRanges.add(new int[] {k, k + 1});
        }
        batchLastPage = s.page[k];
        batchRawBytes += cost;
        if (batchRawBytes >= batchSize) {
            closeBatch();
        }
    }

    private void closeBatch() {
        if (batchFirstPage < 0) {
            return;
        }
        final Segment[] segs = batchSegments.toArray(new Segment[0]);
        final int[][] ranges = batchRanges.toArray(new int[0][]);
        final long firstPage = batchFirstPage;
        final long pageCount = batchLastPage - batchFirstPage + 1;
        final long firstSlot = batchFirstSlot;
        final int seq = ++sequence;
        batchSegments.clear();
        batchRanges.clear();
        batchFirstPage = -1;
        BatchCoder c = coder;
        coding.addLast(executor.submit(() -> aborted ? null : c.code(segs, ranges, firstPage, pageCount, firstSlot, seq)));
    }
}
