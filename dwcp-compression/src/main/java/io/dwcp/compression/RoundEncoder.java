package io.dwcp.compression;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.spi.FrameSink;
import io.dwcp.core.state.DirtyPages;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.VmState;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

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
 * Output depends only on the input, the baseline, the level, the clock (for the incompressible re-probe) and whether
 * the baseline's sub-page index was built yet (in the background after a keyframe; StateCodec.awaitBackgroundWork
 * waits for it), never on the number of threads or their timing.
 */
final class RoundEncoder {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
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
    /**
     * A page becomes a SPLICE when its copies save at least 1/this of its raw bytes. A copy of a few hundred bytes
     * saves little after zstd, which often finds the same bytes in the batch, and it breaks the literal run around it:
     * on fresh corpus A's s0→s30 (the pair tuned on) a quarter gave 0.4 % fewer bytes than an eighth, a half 0.2 % more.
     */
    private static final int SPLICE_MIN_SAVING = 4;
    /**
     * The same for copies from the round's earlier pages, which are found later (by the batch's coder) and only in
     * pages still literal: there, a sixteenth (rather than an eighth) took 0.4 % off that pair's bytes, a 64th no more.
     */
    private static final int ROUND_SPLICE_MIN_SAVING = 16;

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
    private Splice.Index spliceIndex;
    /** Round splices (deltas with SPLICE on; else null): anchors of the round's literal pages, by the scans. */
    private Splice.RoundIndex roundIndex;
    /** Round splices: the first page of each segment, and where each resolved segment's sent pages are. */
    private long[] segmentFirstPage;
    private SentPages[] sentPages;
    /** Literal pages the batch coders coded as round splices (classCounts is the coordinator's alone). */
    private final AtomicLong roundSpliced = new AtomicLong();

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
        if (roundIndex != null) {
            segmentFirstPage = new long[plan.length];
            for (int i = 0; i < plan.length; i++) {
                segmentFirstPage[i] = plan[i].firstPage;
            }
            sentPages = new SentPages[plan.length];
        }
        List<Future<Segment>> scans = new ArrayList<>(plan.length);
        int submitted = 0;
        try {
            for (int i = 0; i < plan.length; i++) {
                while (submitted < plan.length && submitted < i + SCAN_AHEAD) {
                    Segment s = plan[submitted];
                    plan[submitted] = null;     // a segment's arrays go with its batch, not with the round
                    scans.add(executor.submit(() -> aborted ? null : scan(s)));
                    submitted++;
                }
                Segment s = get(scans.get(i));
                scans.set(i, null);
                if (sentPages != null && s.count > 0) {
                    // Before resolve(): a batch it cuts may copy from this segment's pages before the batch.
                    sentPages[i] = new SentPages(s);
                }
                resolve(s);
                drainDone();
            }
            closeBatch();
            while (!coding.isEmpty()) {
                emit(get(coding.removeFirst()));
            }
            // Every batch is coded: the pages the coders turned into round splices were counted literal by resolve().
            long spliced = roundSpliced.get();
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

    // ---------------------------------------------------------------- phase 1: scan (worker)

    private Segment scan(Segment s) throws IOException {
        long cpu0 = THREADS.getCurrentThreadCpuTime();
        int region = layout.regionOf(s.firstPage);
        long regionOffset = (s.firstPage - layout.firstPage[region]) * pageSize;
        int validBytes = (int) Math.min((long) s.pageCount * pageSize, layout.regionBytes[region] - regionOffset);
        int bytes = s.pageCount * pageSize;
        StateRegion src = state.region(region);
        if (keyframe) {
            ByteBuffer chunk = target.chunk(s.firstPage);
            int off = target.offset(s.firstPage);
            ByteBuffer view = !target.isViews() && validBytes == bytes && !src.immutable()
                    ? src.view(regionOffset, bytes) : null;
            if (view != null) {
                // Memory that changes while it is read (a running guest's): zero pages are found in place and never
                // copied, and a new store chunk already reads as zeros (see scanKeyframeInPlace).
                scanKeyframeInPlace(s, view, chunk, off);
                addCpu(THREADS.getCurrentThreadCpuTime() - cpu0);
                return s;
            }
            // A store of views of this snapshot holds its pages already (whole pages only): nothing to copy.
            if (!target.isViews()) {
                src.read(regionOffset, chunk.slice(off, validBytes));
                if (validBytes < bytes) {
                    // Pooled chunks hold old data: the padding of a partial last page must read as zeros.
                    chunk.put(off + validBytes, ZERO, 0, bytes - validBytes);
                }
            }
            scanKeyframe(s, chunk, off);
        } else {
            if (dirty != null) {
                long local0 = s.firstPage - layout.firstPage[region];
                long next = dirty.next(region, local0);
                if (next < 0 || next >= local0 + s.pageCount) {
                    // No page of the caller's dirty list here: nothing to read or compare, so a round's cost follows
                    // its dirty pages, not the state's size.
                    s.allocate(0);
                    addCpu(THREADS.getCurrentThreadCpuTime() - cpu0);
                    return s;
                }
            }
            // A delta only compares most pages: over memory or a mapping, compare in place and copy just the changed.
            ByteBuffer buf = validBytes == bytes ? src.view(regionOffset, bytes) : null;
            // The changed pages of an immutable snapshot's view need no copy: the view stays valid and unchanged.
            boolean stable = buf != null && src.immutable();
            if (buf == null) {
                Worker w = Worker.current();
                w.read = Worker.ensure(w.read, bytes);
                buf = w.read;
                src.read(regionOffset, buf.slice(0, validBytes));
                if (validBytes < bytes) {
                    buf.put(validBytes, ZERO, 0, bytes - validBytes);
                }
            }
            scanDelta(s, buf, stable, region);
        }
        addCpu(THREADS.getCurrentThreadCpuTime() - cpu0);
        return s;
    }

    private synchronized void addCpu(long nanos) {
        cpuNanos += nanos;
    }

    private void scanKeyframe(Segment s, ByteBuffer chunk, int off) {
        int n = s.pageCount;
        s.allocate(n);
        s.contentChunk = chunk;
        PageViews v = new PageViews();
        for (int i = 0; i < n; i++) {
            int o = off + i * pageSize;
            s.page[i] = s.firstPage + i;
            s.contentOffset[i] = o;
            if (isZero(v, chunk, o)) {
                s.op[i] = Wire.OP_ZERO;
                s.hash[i] = zeroHash;
            } else {
                s.op[i] = Wire.OP_LITERAL;
                s.hash[i] = v.hash(chunk, o, pageSize);
            }
        }
        s.count = n;
    }

    /**
     * A keyframe over a view of memory that may change while it is read: each page is tested for zeros where it is,
     * and only the others are copied into the store (then hashed from the copy, which is what is sent). A zero page is
     * sent as zero and the store must read zeros there: a chunk that is new reads as zeros already (a hole of the
     * staging file stays a hole), a recycled one gets them written. A page the guest writes between the test and the
     * copy is sent as it was copied (or as zero), and the next round finds it changed.
     */
    private void scanKeyframeInPlace(Segment s, ByteBuffer view, ByteBuffer chunk, int off) {
        int n = s.pageCount;
        s.allocate(n);
        s.contentChunk = chunk;
        boolean zeroFilled = target.zeroFilledChunk(s.firstPage);
        PageViews v = new PageViews();
        for (int i = 0; i < n; i++) {
            int o = off + i * pageSize;
            s.page[i] = s.firstPage + i;
            s.contentOffset[i] = o;
            if (isZero(v, view, i * pageSize)) {
                s.op[i] = Wire.OP_ZERO;
                s.hash[i] = zeroHash;
                if (!zeroFilled) {
                    chunk.put(o, ZERO, 0, pageSize);
                }
            } else {
                chunk.put(o, view, i * pageSize, pageSize);
                s.op[i] = Wire.OP_LITERAL;
                s.hash[i] = v.hash(chunk, o, pageSize);
            }
        }
        s.count = n;
    }

    private boolean isZero(PageViews v, ByteBuffer chunk, int off) {
        return !v.differs(chunk, off, ZERO, 0, pageSize);
    }

    /** {@code stable}: {@code buf} is a view of an immutable snapshot, so changed pages stay where they are. */
    private void scanDelta(Segment s, ByteBuffer buf, boolean stable, int region) {
        ByteBuffer baseChunk = base.store.chunk(s.firstPage);
        int baseOff = base.store.offset(s.firstPage);
        int n = s.pageCount;
        int[] changed = new int[n];
        int c = 0;
        PageViews v = new PageViews();
        if (dirty != null) {
            long local0 = s.firstPage - layout.firstPage[region];
            for (long p = dirty.next(region, local0); p >= 0 && p < local0 + n; p = dirty.next(region, p + 1)) {
                int i = (int) (p - local0);
                boolean zero = base.knownZero(s.firstPage + i);
                if (v.differs(buf, i * pageSize, zero ? ZERO : baseChunk, zero ? 0 : baseOff + i * pageSize, pageSize)) {
                    changed[c++] = i;
                }
            }
        } else {
            // Runs of pages the baseline knows are zero are compared with zeros, the others with the store.
            int i = 0;
            while (i < n) {
                boolean zero = base.knownZero(s.firstPage + i);
                int end = i + 1;
                while (end < n && base.knownZero(s.firstPage + end) == zero) {
                    end++;
                }
                c = changedPages(v, buf, zero ? ZERO : baseChunk, zero ? -i * pageSize : baseOff, i, end, changed, c);
                i = end;
            }
        }
        s.allocate(c);
        s.count = c;
        if (c == 0) {
            return;
        }
        ByteBuffer content = stable ? buf : slots.carve(c * pageSize);
        s.contentChunk = content;
        s.xorControl = new Bytes(256);
        s.xorData = new Bytes(1024);
        Worker w = Worker.current();
        int budget = pageSize - pageSize / 4;
        for (int k = 0; k < c; k++) {
            int i = changed[k];
            long page = s.firstPage + i;
            int co;
            if (stable) {
                co = i * pageSize;
            } else {
                co = k * pageSize;
                content.put(co, buf, i * pageSize, pageSize);
            }
            s.page[k] = page;
            s.contentOffset[k] = co;
            if (isZero(v, content, co)) {
                s.op[k] = Wire.OP_ZERO;
                s.hash[k] = zeroHash;
                continue;
            }
            long h = v.hash(content, co, pageSize);
            s.hash[k] = h;
            int j = baseIndex.get(PageHash.indexKey(h));
            if (j >= 0 && base.pageHashes[j] == h
                    && !v.differs(content, co, base.store.chunk(j), base.store.offset(j), pageSize)) {
                s.op[k] = Wire.OP_MOVED;
                s.ref[k] = j;
                continue;
            }
            // Against zeros when the baseline knows the page is zero: the same delta, without reading the store.
            boolean zero = base.knownZero(page);
            if (tryXor(s, k, w, zero ? ZERO : baseChunk, zero ? 0 : baseOff + i * pageSize, content, co, budget,
                    Wire.OP_XOR, page, true)) {
                continue;
            }
            // Not an edit in place: maybe an edited copy of another baseline page (anchor vote, then the same delta).
            int similar = Anchors.bestCandidate(similarIndex, content, co, pageSize, page, w.anchors, w.candidates);
            if (similar >= 0 && tryXor(s, k, w, base.store.chunk(similar), base.store.offset(similar), content, co, budget,
                    Wire.OP_XOR_FROM, similar, true)) {
                continue;
            }
            // Or assembled from pieces found anywhere in the baseline (sub-page copies).
            if (spliceIndex != null && trySplice(s, k, w, content, co, page)) {
                continue;
            }
            s.op[k] = Wire.OP_LITERAL;
            if (roundIndex != null) {
                indexForRound(content, co, page);
            }
        }
    }

    /**
     * Appends to {@code changed} the pages of {@code [from, to)} where {@code buf} differs from {@code old}, whose page
     * {@code i} is at {@code oldShift + i * pageSize}; returns the new count. One vectorised mismatch per run of equal
     * pages.
     */
    private int changedPages(PageViews v, ByteBuffer buf, ByteBuffer old, int oldShift, int from, int to, int[] changed,
                             int c) {
        int pos = from * pageSize;
        int total = to * pageSize;
        while (pos < total) {
            int m = v.mismatch(buf, pos, old, oldShift + pos, total - pos);
            if (m < 0) {
                break;
            }
            int i = (pos + m) / pageSize;
            changed[c++] = i;
            pos = (i + 1) * pageSize;
        }
        return c;
    }

    /**
     * Adds the anchors of the literal page at {@code content/co} (state page {@code page}) to the round index. They are
     * not kept: the batch's coder computes them again, which costs less than memory that lives as long as the round.
     */
    private void indexForRound(ByteBuffer content, int co, long page) {
        Splice.AnchorList anchors = Worker.current().roundAnchors;
        anchors.size = 0;
        Splice.roundAnchors(content, co, pageSize, anchors, Worker.current().pageWords(pageSize));
        long position = page * pageSize;
        for (int a = 0; a < anchors.size; a++) {
            roundIndex.insert(anchors.hash[a], position + anchors.position[a]);
        }
    }

    /** Codes entry {@code k} as an XOR delta against the page at {@code oldChunk/oldOff} when that fits the budget. */
    private boolean tryXor(Segment s, int k, Worker w, ByteBuffer oldChunk, int oldOff, ByteBuffer content, int co,
                           int budget, int op, long ref, boolean pretest) {
        if (pretest && XorDelta.looksRewritten(oldChunk, oldOff, content, co, pageSize)) {
            return false;
        }
        oldChunk.get(oldOff, w.oldPage, 0, pageSize);
        content.get(co, w.newPage, 0, pageSize);
        int ctl0 = s.xorControl.length;
        int data0 = s.xorData.length;
        int runs = XorDelta.encode(w.oldPage, w.newPage, pageSize, s.xorControl, s.xorData, budget);
        if (runs > 0) {
            coded(s, k, op, ref, runs, ctl0, data0);
            return true;
        }
        s.xorControl.length = ctl0;
        s.xorData.length = data0;
        return false;
    }

    /** Codes entry {@code k} as a SPLICE when its copies save at least a {@link #SPLICE_MIN_SAVING}th of the page. */
    private boolean trySplice(Segment s, int k, Worker w, ByteBuffer content, int co, long page) {
        int ctl0 = s.xorControl.length;
        int data0 = s.xorData.length;
        int parts = Splice.encode(content, co, pageSize, page * pageSize, spliceIndex, base.store,
                layout.totalPages() * pageSize, s.xorControl, s.xorData, pageSize - pageSize / SPLICE_MIN_SAVING,
                w.pageWords(pageSize));
        if (parts < 0) {
            return false;
        }
        coded(s, k, Wire.OP_SPLICE, 0, parts, ctl0, data0);
        return true;
    }

    /** Records entry {@code k} as {@code op} with the control and data it appended from {@code ctl0} / {@code data0}. */
    private static void coded(Segment s, int k, int op, long ref, int runs, int ctl0, int data0) {
        s.op[k] = (byte) op;
        s.ref[k] = ref;
        s.runs[k] = runs;
        s.controlOffset[k] = ctl0;
        s.controlLength[k] = s.xorControl.length - ctl0;
        s.dataOffset[k] = data0;
        s.dataLength[k] = s.xorData.length - data0;
    }

    /** Ops recorded by {@link #coded}: their control and data live in the segment's xorControl / xorData. */
    private static boolean hasCodedData(int op) {
        return op == Wire.OP_XOR || op == Wire.OP_XOR_FROM || op == Wire.OP_SPLICE;
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
            if (hasCodedData(op) || op == Wire.OP_LITERAL) {
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
        coding.addLast(executor.submit(() -> aborted ? null : code(segs, ranges, firstPage, pageCount, firstSlot, seq)));
    }

    // ---------------------------------------------------------------- phase 3: code (worker)

    // Split into short stages on purpose: one long method here cost C2 seconds of CPU per migration, recompiled whole
    // after every deoptimisation (a page class seen for the first time), on cores the codec and link needed.
    private FramePool.Lease code(Segment[] segs, int[][] ranges, long firstPage, long pageCount, long firstSlot, int seq) {
        long cpu0 = THREADS.getCurrentThreadCpuTime();
        Worker w = Worker.current();
        Bytes control = new Bytes(1024);
        BatchSplices splices = roundIndex == null ? null : spliceFromRound(segs, ranges, firstPage);
        writeControl(segs, ranges, firstPage, control, splices);
        int rawLength = control.length + dataBytes(segs, ranges, splices);
        w.raw = Worker.ensure(w.raw, rawLength);
        ByteBuffer raw = w.raw;
        raw.put(0, control.array, 0, control.length);
        gatherData(segs, ranges, raw, control.length, splices);
        FramePool.Lease frame = frames.batch(raw, rawLength, control.length, firstPage, pageCount, firstSlot, seq,
                sentCount(segs, ranges));
        addCpu(THREADS.getCurrentThreadCpuTime() - cpu0);
        return frame;
    }

    /**
     * Round splices of a batch's literal pages: copies from pages sent in earlier batches of the round, found
     * through the anchors the scans indexed. Copies from the batch's own pages are left to zstd, which sees the whole
     * batch. Per entry (the batch's pages in order): the part count (0 = not spliced) and where its control and data
     * bytes are.
     */
    private static final class BatchSplices {
        /** The coding worker's scratch, valid until the batch's frame is built. */
        final Bytes control;
        final Bytes data;
        final int[] parts;
        final int[] controlOffset;
        final int[] controlLength;
        final int[] dataOffset;
        final int[] dataLength;

        /** Whether entry {@code e} of the batch is a round splice ({@code b} null: the batch has none). */
        static boolean spliced(BatchSplices b, int e) {
            return b != null && b.parts[e] > 0;
        }

        BatchSplices(Bytes control, Bytes data, int entries) {
            this.control = control;
            this.data = data;
            parts = new int[entries];
            controlOffset = new int[entries];
            controlLength = new int[entries];
            dataOffset = new int[entries];
            dataLength = new int[entries];
        }
    }

    /** Searches the literal pages of a batch for copies from the round's pages before {@code firstPage}; null if none. */
    private BatchSplices spliceFromRound(Segment[] segs, int[][] ranges, long firstPage) {
        BatchSplices b = null;
        long limit = firstPage * pageSize;
        long roundBase = layout.totalPages() * pageSize;
        Worker w = Worker.current();
        Bytes control = w.spliceControl;
        Bytes data = w.spliceData;
        control.length = 0;
        data.length = 0;
        Splice.AnchorList anchors = w.roundAnchors;
        int spliced = 0;
        int e = 0;
        for (int g = 0; g < segs.length; g++) {
            Segment s = segs[g];
            for (int k = ranges[g][0]; k < ranges[g][1]; k++, e++) {
                if (s.op[k] != Wire.OP_LITERAL) {
                    continue;
                }
                // The anchors the scan indexed for this page (the same function of the same bytes).
                anchors.size = 0;
                Splice.roundAnchors(s.contentChunk, s.contentOffset[k], pageSize, anchors, w.pageWords(pageSize));
                if (anchors.size == 0) {
                    continue;
                }
                int ctl0 = control.length;
                int data0 = data.length;
                Splice.Parts parts = new Splice.Parts(s.contentChunk, s.contentOffset[k], pageSize, s.page[k] * pageSize,
                        control, data, pageSize - pageSize / ROUND_SPLICE_MIN_SAVING, 0);
                for (int a = 0; a < anchors.size && !parts.done(); a++) {
                    int i = anchors.position[a];
                    if (!parts.wants(i)) {
                        continue;
                    }
                    long position = roundIndex.get(anchors.hash[a], limit);
                    if (position < 0) {
                        parts.miss();
                        continue;
                    }
                    long page = position / pageSize;
                    int inPage = (int) (position - page * pageSize);
                    SentPages src = sentPages[segmentOf(page)];
                    int sk = Arrays.binarySearch(src.page, 0, src.count, page);
                    int co = src.contentOffset[sk];
                    parts.match(i, roundBase + src.slot[sk] * pageSize + inPage, src.contentChunk, co + inPage, co,
                            co + pageSize);
                }
                int n = parts.finish();
                if (n > 0) {
                    if (b == null) {
                        b = new BatchSplices(control, data, sentCount(segs, ranges));
                    }
                    b.parts[e] = n;
                    b.controlOffset[e] = ctl0;
                    b.controlLength[e] = control.length - ctl0;
                    b.dataOffset[e] = data0;
                    b.dataLength[e] = data.length - data0;
                    spliced++;
                }
            }
        }
        roundSpliced.addAndGet(spliced);
        return b;
    }

    /** The index of the segment holding {@code page}. */
    private int segmentOf(long page) {
        int i = Arrays.binarySearch(segmentFirstPage, page);
        return i >= 0 ? i : -i - 2;
    }

    /**
     * Where a resolved segment's sent pages are (page, slot, content), for the round splices that copy from them;
     * holds only these arrays of the segment, not its codings. Set by the coordinator before it resolves the segment,
     * whose slot numbers it fills in before it cuts a batch that may copy from them.
     */
    private static final class SentPages {
        final int count;
        final long[] page;
        final long[] slot;
        final ByteBuffer contentChunk;
        final int[] contentOffset;

        SentPages(Segment s) {
            count = s.count;
            page = s.page;
            slot = s.slot;
            contentChunk = s.contentChunk;
            contentOffset = s.contentOffset;
        }
    }

    /** Bytes of the data stream: whole literal pages, the XOR data of delta pages, the literal parts of splices. */
    private int dataBytes(Segment[] segs, int[][] ranges, BatchSplices splices) {
        int dataBytes = 0;
        int e = 0;
        for (int g = 0; g < segs.length; g++) {
            Segment s = segs[g];
            for (int k = ranges[g][0]; k < ranges[g][1]; k++, e++) {
                int op = s.op[k];
                if (BatchSplices.spliced(splices, e)) {
                    dataBytes += splices.dataLength[e];
                } else if (op == Wire.OP_LITERAL) {
                    dataBytes += pageSize;
                } else if (hasCodedData(op)) {
                    dataBytes += s.dataLength[k];
                }
            }
        }
        return dataBytes;
    }

    private static int sentCount(Segment[] segs, int[][] ranges) {
        int sent = 0;
        for (int[] r : ranges) {
            sent += r[1] - r[0];
        }
        return sent;
    }

    /** The control stream: one op per sent page, with runs of unchanged pages between them. */
    private void writeControl(Segment[] segs, int[][] ranges, long firstPage, Bytes control, BatchSplices splices) {
        long prevPage = firstPage - 1;
        int e = 0;
        for (int g = 0; g < segs.length; g++) {
            Segment s = segs[g];
            for (int k = ranges[g][0]; k < ranges[g][1]; k++, e++) {
                long gap = s.page[k] - prevPage - 1;
                if (gap > 0) {
                    control.put(Wire.OP_UNCHANGED);
                    control.uleb(gap);
                }
                prevPage = s.page[k];
                if (BatchSplices.spliced(splices, e)) {
                    control.put(Wire.OP_SPLICE);
                    control.uleb(splices.parts[e]);
                    control.put(splices.control.array, splices.controlOffset[e], splices.controlLength[e]);
                } else {
                    writeOp(s, k, control);
                }
            }
        }
    }

    private void writeOp(Segment s, int k, Bytes control) {
        int op = s.op[k];
        control.put(op);
        switch (op) {
            case Wire.OP_MOVED:
                control.uleb(s.ref[k]);
                break;
            case Wire.OP_DUPLICATE:
                control.uleb(s.slot[k] - s.ref[k] - 1);
                break;
            case Wire.OP_XOR_FROM:
                control.uleb(s.ref[k]);
                control.uleb(s.runs[k]);
                control.put(s.xorControl.array, s.controlOffset[k], s.controlLength[k]);
                break;
            case Wire.OP_XOR:
            case Wire.OP_SPLICE:
                control.uleb(s.runs[k]);
                control.put(s.xorControl.array, s.controlOffset[k], s.controlLength[k]);
                break;
            default:
                break;
        }
    }

    /** The data stream after the control stream in {@code raw}, from {@code p}. */
    private void gatherData(Segment[] segs, int[][] ranges, ByteBuffer raw, int p, BatchSplices splices) {
        int e = 0;
        for (int g = 0; g < segs.length; g++) {
            Segment s = segs[g];
            for (int k = ranges[g][0]; k < ranges[g][1]; k++, e++) {
                int op = s.op[k];
                if (BatchSplices.spliced(splices, e)) {
                    raw.put(p, splices.data.array, splices.dataOffset[e], splices.dataLength[e]);
                    p += splices.dataLength[e];
                } else if (op == Wire.OP_LITERAL) {
                    raw.put(p, s.contentChunk, s.contentOffset[k], pageSize);
                    p += pageSize;
                } else if (hasCodedData(op)) {
                    raw.put(p, s.xorData.array, s.dataOffset[k], s.dataLength[k]);
                    p += s.dataLength[k];
                }
            }
        }
    }
}
