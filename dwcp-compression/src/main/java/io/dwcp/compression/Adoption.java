package io.dwcp.compression;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.VmState;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * Builds a baseline's pages and hashes from a state both ends already hold (after a replica-seeded round), without
 * encoding it: one pass over the state, one task per store chunk on the codec's workers. The digest is the one a
 * keyframe of the same content would have, so the two ends agree exactly when they hold the same bytes.
 */
final class Adoption {
    private static final ByteBuffer ZERO = ByteBuffer.allocateDirect(PageStore.CHUNK_BYTES);

    private Adoption() {
    }

    /**
     * Fills {@code store} with the pages of {@code state} unless {@code filled} (a store of views of the state, or of
     * the replica region itself, holds them already) and hashes every page into {@code hashes}.
     *
     * @return the state digest
     */
    static long build(VmState<? extends StateRegion> state, Layout layout, PageStore store, boolean filled, long[] hashes,
                      ExecutorService pool) {
        long total = layout.totalPages();
        int per = store.pagesPerChunk();
        List<Future<Long>> parts = new ArrayList<>();
        try {
            for (long first = 0; first < total; first += per) {
                long from = first;
                long to = Math.min(total, first + per);
                parts.add(pool.submit(() -> range(state, layout, store, filled, hashes, from, to)));
            }
        } catch (RuntimeException | Error e) {
            drain(parts);
            throw e;
        }
        return sum(state, parts, 0);
    }

    /**
     * As {@link #build} for a store that holds the state's pages already and differs from the baseline whose page
     * hashes are {@code hashes} (updated in place) and digest {@code digest} only in the pages {@code changed}: only
     * those are hashed again, one task per store chunk that has any.
     *
     * @return the state digest
     */
    static long update(VmState<? extends StateRegion> state, Layout layout, PageStore store, long[] hashes, long digest,
                       BitSet changed, ExecutorService pool) {
        long total = layout.totalPages();
        if (changed.length() > total) {
            throw new IllegalArgumentException("page " + (changed.length() - 1) + " changed in a state of " + total + " pages");
        }
        int per = store.pagesPerChunk();
        // Every chunk taken now, while the state is open: a store of the replica's own pages maps a chunk at its first
        // use, and the caller may close the replica once adopted (the chunks no page changed in are not hashed here).
        for (long first = 0; first < total; first += per) {
            store.chunk(first);
        }
        List<Future<Long>> parts = new ArrayList<>();
        try {
            for (int first = changed.nextSetBit(0); first >= 0; ) {
                int chunkEnd = (int) Math.min(total, (first / per + 1L) * per);
                int from = first;
                parts.add(pool.submit(() -> rehash(layout, store, hashes, changed, from, chunkEnd)));
                first = chunkEnd >= total ? -1 : changed.nextSetBit(chunkEnd);
            }
        } catch (RuntimeException | Error e) {
            drain(parts);
            throw e;
        }
        return sum(state, parts, digest);
    }

    /**
     * {@return {@code initial} plus every part's result}; when it returns or throws, no part still runs (nothing may
     * still write into the store when the caller closes it after a failure).
     */
    private static long sum(VmState<? extends StateRegion> state, List<Future<Long>> parts, long initial) {
        try {
            long d = initial;
            for (Future<Long> f : parts) {
                d += f.get();
            }
            return d;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DwcpException(ErrorCode.CANCELLED, "adopting the baseline of " + state.key() + " was interrupted", e);
        } catch (ExecutionException e) {
            throw new DwcpException(ErrorCode.IO_ERROR, "adopting the baseline of " + state.key() + " failed: "
                    + e.getCause(), e.getCause());
        } finally {
            drain(parts);
        }
    }

    /** Cancels the parts not yet started and waits for the others to end. */
    private static void drain(List<Future<Long>> parts) {
        for (Future<Long> f : parts) {
            f.cancel(false);
        }
        for (Future<Long> f : parts) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (ExecutionException | java.util.concurrent.CancellationException e) {
                // reported by sum, or cancelled before it started
            }
        }
    }

    /** The changed pages in {@code [from, to)} (one store chunk): new hashes; returns the digest's change. */
    private static long rehash(Layout layout, PageStore store, long[] hashes, BitSet changed, int from, int to) {
        int pageSize = layout.pageSizeBytes;
        ByteBuffer chunk = store.chunk(from);
        PageViews views = new PageViews();
        long delta = 0;
        for (int p = changed.nextSetBit(from); p >= 0 && p < to; p = changed.nextSetBit(p + 1)) {
            long h = views.hash(chunk, store.offset(p), pageSize);
            delta += PageHash.mix(p, h) - PageHash.mix(p, hashes[p]);
            hashes[p] = h;
        }
        return delta;
    }

    /** Pages {@code [from, to)}, all in one store chunk; returns their share of the digest. */
    private static long range(VmState<? extends StateRegion> state, Layout layout, PageStore store, boolean filled,
                              long[] hashes, long from, long to) throws java.io.IOException {
        int pageSize = layout.pageSizeBytes;
        ByteBuffer chunk = store.chunk(from);
        PageViews views = new PageViews();
        long digest = 0;
        long p = from;
        while (p < to) {
            int r = layout.regionOf(p);
            long end = Math.min(to, layout.firstPage[r + 1]);
            if (!filled) {
                int off = store.offset(p);
                long regionOffset = (p - layout.firstPage[r]) * pageSize;
                int bytes = (int) (end - p) * pageSize;
                int valid = (int) Math.min(bytes, layout.regionBytes[r] - regionOffset);
                state.region(r).read(regionOffset, chunk.slice(off, valid));
                if (valid < bytes) {
                    // Pooled chunks hold old data: the padding of a partial last page must read as zeros.
                    chunk.put(off + valid, ZERO, 0, bytes - valid);
                }
            }
            for (; p < end; p++) {
                long h = views.hash(chunk, store.offset(p), pageSize);
                hashes[(int) p] = h;
                digest += PageHash.mix(p, h);
            }
        }
        return digest;
    }
}
