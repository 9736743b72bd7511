package io.dwcp.compression;

import io.dwcp.core.state.DirtyPages;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.VmState;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;

/**
 * Phase 1 of a round ({@link RoundEncoder}, whose maintainer notes describe the pipeline): reads one segment of the
 * state, finds the pages to send and classes each one (zero, moved, XOR, XOR_FROM, SPLICE, literal), coding the
 * deltas into the segment's own streams. Made by {@link RoundEncoder#run} for one round and dropped with it; its
 * {@link #scan} runs on the codec's workers, several segments at once.
 *
 * <p>What it owns: only its CPU total. Everything else is lent for the round: the baseline and its indexes (read
 * only, nothing changes them during a round), the keyframe's target store (each scan writes the pages of its own
 * segment only), the delta's {@link SlotPages} (each scan carves its own content chunk), the round index (inserted
 * into by compare-and-set, any thread) and the {@link Segment} being scanned, which is the scan's alone until the
 * task returns it (safe publication through the future). The coordinator takes the round tables back once every
 * scan has ended.
 *
 * <p>Locking: {@code cpuNanos} is guarded by {@code this}; every other field is final and set before the first scan
 * is submitted.
 */
final class SegmentScanner {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final ByteBuffer ZERO = RoundEncoder.ZERO;
    /**
     * A page becomes a SPLICE when its copies save at least 1/this of its raw bytes. A copy of a few hundred bytes
     * saves little after zstd, which often finds the same bytes in the batch, and it breaks the literal run around it:
     * on fresh corpus A's s0→s30 (the pair tuned on) a quarter gave 0.4 % fewer bytes than an eighth, a half 0.2 % more.
     */
    private static final int SPLICE_MIN_SAVING = 4;

    private final VmState<? extends StateRegion> state;
    private final Layout layout;
    /** The delta's baseline; null for a keyframe. */
    private final Baseline base;
    /** The keyframe's new store; null for a delta. */
    private final PageStore target;
    private final DirtyPages dirty;
    private final int pageSize;
    private final long zeroHash;
    private final boolean keyframe;
    /** A delta's sent pages (each scan carves its segment's content chunk here); null for a keyframe. */
    private final SlotPages slots;
    private final LongIntMap baseIndex;
    private final AnchorIndex similarIndex;
    /** The baseline's sub-page index when it was ready as the round began; null: no SPLICE from the baseline. */
    private final SpliceIndex spliceIndex;
    /** Round splices (deltas with SPLICE on; else null): the scans add the anchors of their literal pages. */
    private final RoundSpliceIndex roundIndex;
    /** Guarded by {@code this}. */
    private long cpuNanos;

    SegmentScanner(VmState<? extends StateRegion> state, Layout layout, Baseline base, PageStore target,
                   DirtyPages dirty, long zeroHash, SlotPages slots, LongIntMap baseIndex, AnchorIndex similarIndex,
                   SpliceIndex spliceIndex, RoundSpliceIndex roundIndex) {
        this.state = state;
        this.layout = layout;
        this.base = base;
        this.target = target;
        this.dirty = dirty;
        this.pageSize = layout.pageSizeBytes;
        this.zeroHash = zeroHash;
        this.keyframe = base == null;
        this.slots = slots;
        this.baseIndex = baseIndex;
        this.similarIndex = similarIndex;
        this.spliceIndex = spliceIndex;
        this.roundIndex = roundIndex;
    }

    /** Scans segment {@code s} (a task of the round, on a worker) and returns it, filled in. */
    Segment scan(Segment s) throws IOException {
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
                scanKeyframeInPlace(s, resident(view) ? view : readInto(src, regionOffset, bytes), chunk, off);
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
            if (buf != null && !src.immutable() && !resident(buf)) {
                buf = null;     // read instead: see resident()
            }
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

    /**
     * Whether every page of {@code view} is in memory, when it is a mapping of a file (other buffers: true). A page of
     * a file that is not (above all a hole of a tmpfs file: guest memory the guest never touched, such as most of a
     * large guest's RAM file after a boot) is read with a read call instead: read through a shared mapping, a tmpfs
     * hole gets a page allocated and zeroed (about 1 CPU-s per GiB here, and the source host's memory), while a read
     * call copies zeros. Either way the bytes are the file's; only the cost differs.
     */
    private static boolean resident(ByteBuffer view) {
        return !(view instanceof MappedByteBuffer) || ((MappedByteBuffer) view).isLoaded();
    }

    /** {@code bytes} of {@code src} from {@code offset}, read into the worker's scratch (valid until its next use). */
    private static ByteBuffer readInto(StateRegion src, long offset, int bytes) throws IOException {
        Worker w = Worker.current();
        w.read = Worker.ensure(w.read, bytes);
        ByteBuffer buf = w.read.slice(0, bytes);
        src.read(offset, buf.duplicate());
        return buf;
    }

    private synchronized void addCpu(long nanos) {
        cpuNanos += nanos;
    }

    /** Worker CPU of the scans so far; read by the coordinator once every scan has ended. */
    synchronized long cpuNanos() {
        return cpuNanos;
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
}
