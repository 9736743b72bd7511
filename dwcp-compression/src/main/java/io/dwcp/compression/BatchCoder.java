package io.dwcp.compression;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Phase 3 of a round ({@link RoundEncoder}, whose maintainer notes describe the pipeline): codes one batch on a
 * worker, that is finds its round splices, writes its control and data streams (the wire format of {@link Wire}) and
 * has {@link RoundFrames} compress them into the batch's frame. Made by {@link RoundEncoder#run} for one round and
 * dropped with it; {@link #code} runs on the codec's workers, several batches at once, and {@link #sent} on the
 * coordinator.
 *
 * <p>What it owns: the round's record of where each resolved segment's sent pages are (for round splices), the
 * count of pages it turned into round splices, and its CPU total. The segments it reads are final once the
 * coordinator has cut the batch (safe publication through the executor); the round index is lent for the round and
 * read only for positions before the batch, which are final (see the maintainer notes). The scratch it writes is
 * the coding worker's ({@link Worker}).
 *
 * <p>Locking: {@code cpuNanos} is guarded by {@code this}; {@code roundSpliced} is atomic. An element of
 * {@code sentPages} is written by the coordinator ({@link #sent}) before it cuts any batch that may read it, and is
 * then read by the batch's task, which the executor's submit publishes.
 */
final class BatchCoder {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    /**
     * The same as {@code SegmentScanner}'s SPLICE_MIN_SAVING for copies from the round's earlier pages, which are
     * found later (by the batch's coder) and only in pages still literal: there, a sixteenth (rather than an eighth)
     * took 0.4 % off that pair's bytes, a 64th no more.
     */
    private static final int ROUND_SPLICE_MIN_SAVING = 16;

    private final RoundFrames frames;
    private final Layout layout;
    private final int pageSize;
    /** Round splices (deltas with SPLICE on; else null): anchors of the round's literal pages, by the scans. */
    private final RoundSpliceIndex roundIndex;
    /** Round splices: the first page of each segment, and where each resolved segment's sent pages are. */
    private final long[] segmentFirstPage;
    private final SentPages[] sentPages;
    /** Literal pages the batch coders coded as round splices (the coordinator's class counts call them literal). */
    private final AtomicLong roundSpliced = new AtomicLong();
    /** Guarded by {@code this}. */
    private long cpuNanos;

    /** A coder of the round's batches, whose segments are {@code plan} (read here, before the scans take them). */
    BatchCoder(RoundFrames frames, Layout layout, RoundSpliceIndex roundIndex, Segment[] plan) {
        this.frames = frames;
        this.layout = layout;
        this.pageSize = layout.pageSizeBytes;
        this.roundIndex = roundIndex;
        if (roundIndex != null) {
            segmentFirstPage = new long[plan.length];
            for (int i = 0; i < plan.length; i++) {
                segmentFirstPage[i] = plan[i].firstPage;
            }
            sentPages = new SentPages[plan.length];
        } else {
            segmentFirstPage = null;
            sentPages = null;
        }
    }

    /**
     * Records where segment {@code i}'s sent pages are; the coordinator calls it for each scanned segment in order,
     * before it resolves the segment: a batch that resolve cuts may copy from this segment's pages before the batch.
     */
    void sent(int i, Segment s) {
        if (sentPages != null && s.count > 0) {
            sentPages[i] = new SentPages(s);
        }
    }

    /** Pages coded as round splices so far; final once every batch is coded. */
    long roundSpliced() {
        return roundSpliced.get();
    }

    private synchronized void addCpu(long nanos) {
        cpuNanos += nanos;
    }

    /** Worker CPU of the batches coded so far; read by the coordinator once every batch has ended. */
    synchronized long cpuNanos() {
        return cpuNanos;
    }

    // Split into short stages on purpose: one long method here cost C2 seconds of CPU per migration, recompiled whole
    // after every deoptimisation (a page class seen for the first time), on cores the codec and link needed.
    /**
     * Codes batch {@code seq} (a task of the round, on a worker): its pages are entries {@code ranges[g]} of
     * {@code segs[g]}. Returns its frame, owned by the caller.
     */
    FramePool.Lease code(Segment[] segs, int[][] ranges, long firstPage, long pageCount, long firstSlot, int seq) {
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
                } else if (Segment.hasCodedData(op)) {
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
                } else if (Segment.hasCodedData(op)) {
                    raw.put(p, s.xorData.array, s.dataOffset[k], s.dataLength[k]);
                    p += s.dataLength[k];
                }
            }
        }
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
}
