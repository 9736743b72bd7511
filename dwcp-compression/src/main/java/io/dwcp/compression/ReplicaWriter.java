package io.dwcp.compression;

import io.dwcp.core.state.VmState;
import io.dwcp.core.state.WritableRegion;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * Writes a verified round's pages to the replica: a keyframe's staging pages (in parallel where the region allows
 * it), or a delta's replaced pages (runs of adjacent pages as one write) and then, only after every replica write
 * succeeded, into the baseline. {@link HdeDecoder} calls it once the round's digest matched, and for the pieces of a
 * staged keyframe written behind the decode.
 *
 * <p>Threading: only final fields; the tasks run on the codec's workers and write disjoint page ranges. The stores
 * and slots it reads are the caller's, not changed while it writes.
 */
final class ReplicaWriter {
    private final VmState<? extends WritableRegion> replica;
    private final Layout layout;
    private final int pageSize;
    private final ExecutorService workers;

    ReplicaWriter(VmState<? extends WritableRegion> replica, Layout layout, ExecutorService workers) {
        this.replica = replica;
        this.layout = layout;
        this.pageSize = layout.pageSizeBytes;
        this.workers = workers;
    }

    /** Writes pages {@code [from, to)} of a keyframe's staging store to the replica, split at regions and chunks. */
    void writePages(PageStore store, long from, long to) throws IOException {
        int chunkPages = store.pagesPerChunk();
        long p = from;
        while (p < to) {
            int r = layout.regionOf(p);
            long e = Math.min(Math.min(to, layout.firstPage[r + 1]), (p / chunkPages + 1) * chunkPages);
            long offset = (p - layout.firstPage[r]) * pageSize;
            int bytes = (int) Math.min((e - p) * pageSize, layout.regionBytes[r] - offset);
            replica.region(r).write(offset, store.chunk(p).slice(store.offset(p), bytes));
            p = e;
        }
    }

    /** Runs {@code tasks} on the workers and waits for all; the first failure is thrown with the others suppressed. */
    private void runAll(List<Callable<Void>> tasks) throws IOException {
        List<Future<Void>> futures = new ArrayList<>();
        for (Callable<Void> t : tasks) {
            futures.add(workers.submit(t));
        }
        Throwable first = null;
        for (Future<Void> f : futures) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                first = first == null ? e : first;
            } catch (ExecutionException e) {
                if (first == null) {
                    first = e.getCause();
                } else {
                    first.addSuppressed(e.getCause());
                }
            }
        }
        if (first instanceof IOException) {
            throw (IOException) first;
        }
        if (first instanceof RuntimeException) {
            throw (RuntimeException) first;
        }
        if (first != null) {
            throw new IOException("replica write failed", first);
        }
    }

    /**
     * Writes the staged keyframe to the replica: one task per staging chunk where the region copies in parallel
     * (memory), one task per region otherwise (writers of one file serialise on its inode lock in the kernel, and
     * parallel ones only burn CPU spinning on it).
     */
    long writeKeyframe(PageStore staging) throws IOException {
        List<Callable<Void>> tasks = new ArrayList<>();
        for (int r = 0; r < layout.regionCount(); r++) {
            WritableRegion region = replica.region(r);
            long first = layout.firstPage[r];
            long end = layout.firstPage[r + 1];
            if (region.parallelWrites()) {
                int chunkPages = staging.pagesPerChunk();
                for (long p = first; p < end; ) {
                    long from = p;
                    long to = Math.min(end, (p / chunkPages + 1) * chunkPages);
                    tasks.add(() -> {
                        writePages(staging, from, to);
                        return null;
                    });
                    p = to;
                }
            } else {
                tasks.add(() -> {
                    writePages(staging, first, end);
                    return null;
                });
            }
        }
        runAll(tasks);
        return layout.totalPages();
    }

    /**
     * Writes the staged pages of a delta to the replica (one task per region, runs of adjacent pages as one write),
     * then into the baseline (ranges of slots in parallel).
     */
    long writeDelta(SlotPages slots, Baseline base) throws IOException {
        int n = slots.count();
        List<Callable<Void>> tasks = new ArrayList<>();
        int from = 0;
        while (from < n) {
            int r = layout.regionOf(slots.page(from));
            int to = from + 1;
            while (to < n && layout.regionOf(slots.page(to)) == r) {
                to++;
            }
            int lo = from;
            int hi = to;
            tasks.add(() -> {
                writeSlots(slots, r, lo, hi);
                return null;
            });
            from = to;
        }
        runAll(tasks);
        // Only after every replica write succeeded does the baseline change.
        tasks.clear();
        int per = Baseline.applyRangePages(n);
        for (from = 0; from < n; from += per) {
            int lo = from;
            int hi = Math.min(n, from + per);
            tasks.add(() -> {
                base.applyPages(slots, lo, hi);
                return null;
            });
        }
        runAll(tasks);
        return n;
    }

    /** Writes slots {@code [lo, hi)} of region {@code r}: a run of adjacent pages stored back to back is one write. */
    private void writeSlots(SlotPages slots, int r, int lo, int hi) throws IOException {
        WritableRegion region = replica.region(r);
        int s = lo;
        while (s < hi) {
            ByteBuffer chunk = slots.chunk(s);
            int off = slots.offset(s);
            long first = slots.page(s);
            int e = s + 1;
            while (e < hi && slots.page(e) == first + (e - s) && slots.chunk(e) == chunk
                    && slots.offset(e) == off + (e - s) * pageSize) {
                e++;
            }
            long last = first + (e - s) - 1;
            int bytes = (e - s - 1) * pageSize + layout.validBytes(r, last);
            region.write((first - layout.firstPage[r]) * pageSize, chunk.slice(off, bytes));
            s = e;
        }
    }
}
