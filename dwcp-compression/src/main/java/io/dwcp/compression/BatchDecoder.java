package io.dwcp.compression;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.state.VmState;
import io.dwcp.core.state.WritableRegion;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.util.function.LongConsumer;

/**
 * The worker side of decoding one round: decompresses a batch and applies its page operations into the round's
 * scratch (a keyframe's staging pages, or the delta job's own chunk), reading the pinned baseline for moved, XOR and
 * splice pages, and sums the batch's part of the state digest. Copies whose source is in an earlier batch (or in an
 * earlier page of the round) are left to the feeding thread, which makes them in batch order when the job completes.
 *
 * <p>Threading: made by {@link HdeDecoder} when the round's BEGIN frame is accepted, before any batch is submitted;
 * every field is final and set then, so workers see it whole (the executor's hand-off orders it). Several workers run
 * {@link #decode} at once, each on its own {@link BatchJob}, and each writes only what its job owns: the pages
 * {@code [firstPage, endPage)} of the staging store, staging file and {@code hashes} (keyframe), or the chunk it
 * carved from the slot arena ({@link SlotPages#carve} is thread-safe) (delta). The baseline is pinned and not changed
 * before the round commits. The CPU time goes to a thread-safe sink.
 */
final class BatchDecoder {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private final VmState<? extends WritableRegion> replica;
    private final Layout layout;
    private final int pageSize;
    private final long zeroHash;
    private final boolean keyframe;
    /** Keyframe: the staging store of the whole state; null for a delta. */
    private final PageStore staging;
    /** Keyframe decoded straight into the staging replica's file (positional writes, see StagingWrites). */
    private final boolean inPlace;
    /** Keyframe: the page hashes of the new state, one entry per page; null for a delta. */
    private final long[] hashes;
    /** Delta: the pinned baseline the pages are decoded against; null for a keyframe. */
    private final Baseline base;
    /** Delta: the replaced pages, carved per job; null for a keyframe. */
    private final SlotPages slots;
    private final LongConsumer cpu;
    /**
     * In-place keyframe: zero pages are written only where the file does not read as zeros (see {@link #writeZeros});
     * cleared for the rest of the round once a read found data. Read and cleared by any worker: a stale true costs one
     * read more.
     */
    private volatile boolean probeZeros = true;

    BatchDecoder(VmState<? extends WritableRegion> replica, Layout layout, boolean keyframe, PageStore staging,
                 boolean inPlace, long[] hashes, Baseline base, SlotPages slots, LongConsumer cpu) {
        this.replica = replica;
        this.layout = layout;
        this.pageSize = layout.pageSizeBytes;
        this.zeroHash = PageHash.zeroHash(pageSize);
        this.keyframe = keyframe;
        this.staging = staging;
        this.inPlace = inPlace;
        this.hashes = hashes;
        this.base = base;
        this.slots = slots;
        this.cpu = cpu;
    }

    /** Worker: decompresses and applies one batch into scratch (keyframe: staging pages; delta: the job's chunk). */
    BatchJob decode(BatchJob j) {
        long cpu0 = THREADS.getCurrentThreadCpuTime();
        Worker w = Worker.current();
        ByteBuffer rb;
        if (j.codecId == Wire.CODEC_STORED) {
            rb = j.payload.slice(0, j.rawLength);
        } else {
            // Decoded off-heap: an in-place keyframe writes its pages to the file straight from here.
            w.raw = Worker.ensure(w.raw, j.rawLength);
            int n = w.decompressor().decompressDirectByteBuffer(w.raw, 0, j.rawLength, j.payload, 0, j.payloadLength);
            if (n != j.rawLength) {
                throw Wire.corrupt("zstd payload decoded to " + n + " bytes, header says " + j.rawLength);
            }
            rb = w.raw.slice(0, j.rawLength);
        }
        int count = countSent(rb, j);
        j.count = count;
        j.pages = new long[count];
        j.hashes = new long[count];
        if (!keyframe && count > 0) {
            // From the round's arena: freed with the slots on success and failure alike.
            j.chunk = slots.carve(count * pageSize);
        }
        apply(rb, j);
        cpu.accept(THREADS.getCurrentThreadCpuTime() - cpu0);
        return j;
    }

    /** First pass over the control stream: checks its structure and counts the sent pages (bounded by the page range). */
    private int countSent(ByteBuffer rb, BatchJob j) {
        Cursor control = new Cursor(rb, 0, j.controlLength, "control stream");
        long page = j.firstPage;
        int count = 0;
        while (control.hasRemaining()) {
            int op = control.u8();
            if (op == Wire.OP_UNCHANGED) {
                long n = control.uleb();
                if (keyframe || n == 0 || n > j.endPage - page) {
                    throw Wire.corrupt("unchanged run of " + n + " pages at page " + page + " is not allowed here");
                }
                page += n;
                continue;
            }
            if (page >= j.endPage) {
                throw Wire.corrupt("batch has more page operations than its " + (j.endPage - j.firstPage) + " pages");
            }
            switch (op) {
                case Wire.OP_ZERO:
                case Wire.OP_LITERAL:
                    break;
                case Wire.OP_MOVED:
                case Wire.OP_DUPLICATE:
                    control.uleb();
                    break;
                case Wire.OP_XOR:
                case Wire.OP_XOR_FROM: {
                    if (op == Wire.OP_XOR_FROM) {
                        long src = control.uleb();
                        if (keyframe || src >= layout.totalPages()) {
                            throw Wire.corrupt("XOR page " + page + " refers to baseline page " + src);
                        }
                    }
                    long runs = control.uleb();
                    if (keyframe || runs == 0 || runs > pageSize) {
                        throw Wire.corrupt("XOR page " + page + " with " + runs + " runs is not allowed here");
                    }
                    for (long r = 0; r < 2 * runs; r++) {
                        control.uleb();
                    }
                    break;
                }
                case Wire.OP_SPLICE: {
                    long parts = control.uleb();
                    if (keyframe || parts == 0 || parts > pageSize) {
                        throw Wire.corrupt("splice page " + page + " with " + parts + " parts is not allowed here");
                    }
                    Splice.skip(control, parts, pageSize, page);
                    break;
                }
                default:
                    throw Wire.corrupt("unknown page operation " + op + " at page " + page);
            }
            page++;
            count++;
        }
        if (page != j.endPage) {
            throw Wire.corrupt("batch covers pages up to " + page + ", header says " + j.endPage);
        }
        return count;
    }

    private void apply(ByteBuffer rb, BatchJob j) {
        Cursor control = new Cursor(rb, 0, j.controlLength, "control stream");
        Cursor data = new Cursor(rb, j.controlLength, j.rawLength, "data stream");
        // Hashes through one reusable view per batch: a slice per page was a fifth of the receiver's allocations.
        PageViews views = new PageViews();
        StagingWrites writes = inPlace ? new StagingWrites(views) : null;
        long page = j.firstPage;
        int k = 0;
        long digestPart = 0;
        while (control.hasRemaining()) {
            int op = control.u8();
            if (op == Wire.OP_UNCHANGED) {
                page += control.uleb();
                continue;
            }
            long slot = j.firstSlot + k;
            ByteBuffer dst;
            int off;
            if (keyframe) {
                dst = staging.chunk(page);
                off = staging.offset(page);
            } else {
                dst = j.chunk;
                off = k * pageSize;
            }
            long h;
            boolean deferred = false;
            switch (op) {
                case Wire.OP_ZERO:
                    // Pooled staging is not zero-filled, nor is a reused staging file: write the zeros.
                    if (writes != null) {
                        writes.zero(page);
                    } else {
                        dst.put(off, RoundEncoder.ZERO, 0, pageSize);
                    }
                    h = zeroHash;
                    break;
                case Wire.OP_MOVED:
                    h = applyMoved(control, page, dst, off);
                    break;
                case Wire.OP_DUPLICATE: {
                    long ref = duplicateSource(control, page, slot);
                    int local = (int) (ref - j.firstSlot);
                    if (ref >= j.firstSlot && !j.isDeferred(local)) {
                        if (writes != null) {
                            writes.copy(page, j.pages[local]);
                            h = j.hashes[local];
                        } else {
                            h = copyDuplicate(j, local, dst, off);
                        }
                    } else {
                        // The source is in an earlier batch that may still be decoding (or is itself such a copy):
                        // copied when this batch completes, in slot order (complete() runs in batch order).
                        j.defer(k, ref);
                        deferred = true;
                        h = 0;
                    }
                    break;
                }
                case Wire.OP_XOR:
                case Wire.OP_XOR_FROM:
                    h = applyXor(op, control, data, page, dst, off, views);
                    break;
                case Wire.OP_SPLICE: {
                    int copies = j.roundCopies == null ? 0 : j.roundCopies.size();
                    h = applySplice(control, data, page, dst, off, j, k, slot, views);
                    if (j.roundCopies != null && j.roundCopies.size() > copies) {
                        // Copies from earlier pages of the round: made in slot order when the batch completes.
                        j.defer(k, BatchJob.SPLICE);
                        deferred = true;
                        h = 0;
                    }
                    break;
                }
                default:
                    if (writes != null) {
                        int at = data.skip(pageSize);
                        h = views.hash(rb, at, pageSize);
                        writes.literal(page, rb, at);
                    } else {
                        data.copyTo(dst, off, pageSize);
                        h = views.hash(dst, off, pageSize);
                    }
                    break;
            }
            j.pages[k] = page;
            j.hashes[k] = h;
            if (!deferred) {
                digestPart += PageHash.mix(page, h);
            }
            if (keyframe) {
                hashes[(int) page] = h;
            } else {
                digestPart -= PageHash.mix(page, base.pageHashes[(int) page]);
            }
            page++;
            k++;
        }
        if (data.hasRemaining()) {
            throw Wire.corrupt(data.remaining() + " unused bytes at the end of the data stream");
        }
        if (writes != null) {
            writes.flush();
        }
        j.digestPart = digestPart;
    }

    /**
     * In-place keyframe: pages go to the staging file by positional writes, adjacent ones at once, instead of stores
     * into its mapping. A store into a page of the new file makes the kernel read it first, that is zero-fill it (0.6 s
     * of receiver CPU per GiB, a quarter of the decode); a whole-page write does not. A full disk is an I/O error here,
     * not a SIGBUS. The mapping stays the baseline's view of the same pages.
     */
    private final class StagingWrites {
        /** The batch's views, for the zero-page comparisons of {@link #writeZeros}. */
        private final PageViews views;
        private ByteBuffer runSource;
        private int runSourceOffset;
        private long runFirstPage;
        private int runPages;

        StagingWrites(PageViews views) {
            this.views = views;
        }

        void literal(long page, ByteBuffer source, int offset) {
            if (runPages > 0 && runSource == source && page == runFirstPage + runPages
                    && offset == runSourceOffset + runPages * pageSize) {
                runPages++;
                return;
            }
            flush();
            runSource = source;
            runSourceOffset = offset;
            runFirstPage = page;
            runPages = 1;
        }

        void zero(long page) {
            if (runPages > 0 && runSource == RoundEncoder.ZERO && page == runFirstPage + runPages
                    && (runPages + 1) * pageSize <= RoundEncoder.ZERO.capacity()) {
                runPages++;
                return;
            }
            literal(page, RoundEncoder.ZERO, 0);
        }

        /** Page {@code page} becomes a copy of page {@code from} of this batch, written first if still pending. */
        void copy(long page, long from) {
            flush();
            copyStagingPage(page, from);
        }

        void flush() {
            if (runPages > 0) {
                if (runSource == RoundEncoder.ZERO) {
                    writeZeros(runFirstPage, runPages, views);
                } else {
                    writeStaging(runFirstPage, runSource.slice(runSourceOffset, runPages * pageSize));
                }
                runPages = 0;
                runSource = null;
            }
        }
    }

    /**
     * In-place keyframe: pages {@code [page, page + count)} of the staging file become zeros, written only where the
     * file does not read as zeros already. A new staging file and the RAM file of a destination QEMU that has not run
     * are holes: reading a hole costs a tenth of writing zeros into it (which also allocates the page, in tmpfs memory),
     * so a keyframe that is half zero pages leaves half the file unallocated and costs the receiver less. Once a read
     * finds data (a file reused from an earlier round), the rest of the round writes its zeros without reading first.
     */
    private void writeZeros(long page, int count, PageViews v) {
        if (!probeZeros) {
            writeStaging(page, RoundEncoder.ZERO.slice(0, count * pageSize));
            return;
        }
        Worker w = Worker.current();
        w.read = Worker.ensure(w.read, count * pageSize);
        ByteBuffer held = w.read.slice(0, count * pageSize);
        try {
            replica.region(0).read(page * pageSize, held);
        } catch (IOException e) {
            throw new DwcpException(ErrorCode.IO_ERROR, "reading the staging replica of " + replica.key()
                    + " failed; the replica and the baseline were not changed", e);
        }
        int i = 0;
        while (i < count) {
            if (!v.differs(held, i * pageSize, RoundEncoder.ZERO, 0, pageSize)) {
                i++;
                continue;
            }
            probeZeros = false;
            int end = i + 1;
            while (end < count && v.differs(held, end * pageSize, RoundEncoder.ZERO, 0, pageSize)) {
                end++;
            }
            writeStaging(page + i, RoundEncoder.ZERO.slice(0, (end - i) * pageSize));
            i = end;
        }
    }

    /** In-place keyframe: page {@code page} of the staging file becomes a copy of its written page {@code from}. */
    void copyStagingPage(long page, long from) {
        writeStaging(page, staging.chunk(from).slice(staging.offset(from), pageSize));
    }

    /** In-place keyframe: writes whole pages from {@code page} on to the staging file. */
    private void writeStaging(long page, ByteBuffer pages) {
        try {
            replica.region(0).write(page * pageSize, pages);
        } catch (IOException e) {
            throw new DwcpException(ErrorCode.IO_ERROR, "writing the staging replica of " + replica.key()
                    + " failed; the replica and the baseline were not changed", e);
        }
    }

    // The page classes are separate methods on purpose: as one switch, apply() was a long method that C2 recompiled
    // whole after each deoptimisation, at a cost of seconds of CPU per migration on the receiver.

    private long applyMoved(Cursor control, long page, ByteBuffer dst, int off) {
        long src = control.uleb();
        if (keyframe || src >= layout.totalPages()) {
            throw Wire.corrupt("moved page " + page + " refers to baseline page " + src);
        }
        dst.put(off, base.store.chunk(src), base.store.offset(src), pageSize);
        return base.pageHashes[(int) src];
    }

    private static long duplicateSource(Cursor control, long page, long slot) {
        long d = control.uleb();
        if (d >= slot) {
            throw Wire.corrupt("duplicate page " + page + " refers " + (d + 1) + " slots back from slot " + slot);
        }
        return slot - 1 - d;
    }

    /** Copies entry {@code local} of this batch (already decoded) to {@code dst/off}; returns its hash. */
    private long copyDuplicate(BatchJob j, int local, ByteBuffer dst, int off) {
        if (keyframe) {
            long refPage = j.pages[local];
            dst.put(off, staging.chunk(refPage), staging.offset(refPage), pageSize);
        } else {
            dst.put(off, j.chunk, local * pageSize, pageSize);
        }
        return j.hashes[local];
    }

    private long applyXor(int op, Cursor control, Cursor data, long page, ByteBuffer dst, int off, PageViews views) {
        // countSent() validated the source page and the run count.
        long src = op == Wire.OP_XOR_FROM ? control.uleb() : page;
        long runs = control.uleb();
        dst.put(off, base.store.chunk(src), base.store.offset(src), pageSize);
        XorDelta.apply(dst, off, pageSize, (int) runs, control, data);
        return views.hash(dst, off, pageSize);
    }

    private long applySplice(Cursor control, Cursor data, long page, ByteBuffer dst, int off, BatchJob j, int entry,
                             long slot, PageViews views) {
        // countSent() validated the part structure; apply() checks every source against the baseline and the round.
        long parts = control.uleb();
        long baseBytes = layout.totalPages() * pageSize;
        Splice.apply(dst, off, pageSize, page * pageSize, parts, control, data, base.store, baseBytes, j.roundCopies, entry,
                baseBytes + slot * pageSize);
        return views.hash(dst, off, pageSize);
    }
}
