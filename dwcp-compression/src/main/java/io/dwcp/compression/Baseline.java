package io.dwcp.compression;

import io.dwcp.core.spi.BaselineRef;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One baseline of one key: the full content of a state version in a {@link PageStore} (off-heap, page
 * granular), the 64-bit hash of every page, and its identity (id, version, digest). A delta commit replaces pages in
 * place and bumps the version; a keyframe creates a new baseline with a new id.
 *
 * <p>Lifetime: reference counted. The store holds one reference; every encode or decode using the baseline pins it.
 * Memory is freed when the last reference goes, so eviction or {@code drop} during a decode cannot free pages under
 * it. Mutation ({@link #apply}) happens under the key's lock, when no round of that key runs (rounds of one key are
 * sequential, SPI contract).
 */
final class Baseline {
    private static final Logger LOG = LoggerFactory.getLogger(Baseline.class);
    final String key;
    final long id;
    final Layout layout;
    final PageStore store;
    final long[] pageHashes;
    /**
     * When the chain started: when both ends held its keyframe (the sender's acknowledgement, the receiver's decode).
     * Age rules count from here, so a keyframe that took longer than the refresh interval to send is still used.
     */
    private volatile Instant chainStart;
    private volatile long version;
    private volatile long digest;
    private volatile int chainLength;
    private volatile LongIntMap contentIndex;
    private volatile AnchorIndex similarIndex;
    /** Pages of the similarity index: those whose number is a multiple of this (1 = all; set with the index). */
    private volatile int similarStride = 1;
    /** Whether the similarity index was full as soon as it was built (content with unusually many anchors). */
    private volatile boolean similarFullWhenBuilt;
    private volatile SpliceIndex spliceIndex;
    private volatile boolean spliceIndexBuilding;
    private final AtomicInteger references = new AtomicInteger(1);
    /**
     * Pages known to hold zeros in the store (bit p of word p / 64), or null when not known: set from a keyframe's zero
     * pages, cleared for every page a delta writes. A set bit lets a round compare the page with zeros instead of
     * reading the store (half the memory traffic; a page the staging file never held is not faulted in). Written by
     * the key's owner under the key's lock, read by the next round's scans (published by their submission).
     */
    private long[] zeroPages;
    /** LRU stamp, from a store-wide counter; guarded by the store. */
    long lastUse;

    Baseline(String key, long id, long version, long digest, Layout layout, PageStore store, long[] pageHashes,
             Instant chainStart, int chainLength) {
        this.key = key;
        this.id = id;
        this.version = version;
        this.digest = digest;
        this.layout = layout;
        this.store = store;
        this.pageHashes = pageHashes;
        this.chainStart = chainStart;
        this.chainLength = chainLength;
    }

    /** Records the keyframe's zero pages (see {@link #zeroPages}); the store must hold zeros at each of them. */
    void zeroPages(long[] bits) {
        this.zeroPages = bits;
    }

    /** Whether page {@code page} is known to be zero in the store. */
    boolean knownZero(long page) {
        long[] z = zeroPages;
        return z != null && (z[(int) (page >>> 6)] & (1L << page)) != 0;
    }

    BaselineRef ref() {
        return new BaselineRef(key, id, version, digest);
    }

    long version() {
        return version;
    }

    long digest() {
        return digest;
    }

    int chainLength() {
        return chainLength;
    }

    Instant chainStart() {
        return chainStart;
    }

    /** The sender's keyframe became the receiver's baseline at {@code at}: its chain starts then. */
    void chainStartsAt(Instant at) {
        chainStart = at;
    }

    /**
     * Direct memory its pages take, counted against the cap: none for a store backed by a file (views of a snapshot,
     * the replica's own mapping, a temporary file), whose pages the page cache holds.
     */
    long sizeBytes() {
        return store.isFileBacked() ? 0 : store.sizeBytes();
    }

    boolean matches(BaselineRef r) {
        return r != null && r.key().equals(key) && r.id() == id && r.version() == version && r.digest() == digest;
    }

    /** Pins the baseline; false when it was already released (the caller must treat it as missing). */
    boolean retain() {
        for (;;) {
            int n = references.get();
            if (n <= 0) {
                return false;
            }
            if (references.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    /** Drops one reference; the last one frees the pages. */
    void release() {
        if (references.decrementAndGet() == 0) {
            store.close();
            AnchorIndex similar = similarIndex;
            if (similar != null) {
                similarIndex = null;
                similar.free();
            }
        }
    }

    /**
     * The content-hash index over this baseline's non-zero pages (hash key → first page with it), built on first use
     * after each change. Thread-safe (a racing second build is only wasted work).
     */
    LongIntMap contentIndex(long zeroHash) {
        LongIntMap idx = contentIndex;
        if (idx == null) {
            int n = pageHashes.length;
            idx = new LongIntMap(n);
            for (int p = 0; p < n; p++) {
                long h = pageHashes[p];
                if (h != zeroHash) {
                    idx.putIfAbsent(PageHash.indexKey(h), p);
                }
            }
            contentIndex = idx;
        }
        return idx;
    }

    /**
     * The anchor index over this baseline's pages ({@link Anchors}), built on first use and kept up to date by
     * {@link #applyPages} (stale anchors of replaced pages may remain; every candidate is checked by its delta). Off the
     * heap, freed with the baseline. Past {@code budgetBytes} it indexes every stride-th page only (a power of two),
     * so its size stays within the budget however large the state; the ratio degrades gently instead. Thread-safe for
     * readers; only the sender builds it, and only while it holds a reference.
     */
    AnchorIndex similarIndex(long zeroHash, long budgetBytes) {
        AnchorIndex idx = similarIndex;
        if (idx == null || idx.isFull() && !similarFullWhenBuilt) {
            synchronized (this) {
                idx = similarIndex;
                if (idx == null || idx.isFull() && !similarFullWhenBuilt) {
                    // A full one (the anchors of many replaced pages) is rebuilt from the current pages. The old one is
                    // left to the collector, not freed: this is the start of a round, but a reader of it is not ruled
                    // out here as it is when the last reference goes.
                    int ps = layout.pageSizeBytes;
                    int n = pageHashes.length;
                    int anchorsPerPage = Math.max(1, ps / 512);
                    // Sized for the non-zero pages it will index with half as many again for the anchors of pages
                    // that later deltas replace (applyPages, same stride); a full index drops new anchors instead of
                    // growing, until the next round rebuilds it.
                    int stride = 1;
                    while (stride < n && AnchorIndex.bytesFor(nonZeroPages(zeroHash, stride) * anchorsPerPage * 3 / 2) > budgetBytes) {
                        stride *= 2;
                    }
                    idx = new AnchorIndex(nonZeroPages(zeroHash, stride) * anchorsPerPage * 3 / 2);
                    long[] scratch = new long[ps / Anchors.GRID_BYTES + 1];
                    for (int p = 0; p < n; p += stride) {
                        if (pageHashes[p] != zeroHash) {
                            Anchors.index(idx, store.chunk(p), store.offset(p), ps, p, scratch);
                        }
                    }
                    similarStride = stride;
                    similarFullWhenBuilt = idx.isFull();     // then a rebuild would not help: never again
                    similarIndex = idx;
                }
            }
        }
        return idx;
    }

    /** The sub-page index if it is built, else null (a round does not wait for it). */
    SpliceIndex spliceIndexIfReady() {
        return spliceIndex;
    }

    /** Whether {@link #prebuildSpliceIndex} is running. */
    boolean spliceIndexBuilding() {
        return spliceIndexBuilding;
    }

    /**
     * Builds the sub-page index ({@link Splice}) over this baseline's non-zero pages on the calling thread unless it
     * exists; a caller arriving during another build waits for it. About 0.8 s per GiB with the default JIT and
     * 1.7 s with the C1-only one (one run each on a busy 2-core host). Gives up (and leaves none) as soon as the caller holds the last reference: a baseline
     * replaced or dropped meanwhile, e.g. by the next keyframe of the key, needs no index, and the CPU belongs to that
     * next encode. Kept up to date by {@link #applyPages} like {@link #similarIndex}. Only the sender builds it.
     */
    void prebuildSpliceIndex(long zeroHash) {
        synchronized (this) {
            if (spliceIndex != null) {
                return;
            }
            spliceIndexBuilding = true;
            try {
                long t0 = System.nanoTime();
                int ps = layout.pageSizeBytes;
                int n = pageHashes.length;
                // One copy of each page content (the first, as in the content index the deltas use anyway): a
                // quarter of a guest's non-zero pages repeat another (page cache and tmpfs copies of the same file),
                // and a repeat's anchors would only replace the first copy's.
                LongIntMap content = contentIndex(zeroHash);
                long distinct = 0;
                for (int p = 0; p < n; p++) {
                    if (firstCopy(content, p, zeroHash)) {
                        distinct++;
                    }
                }
                SpliceIndex idx = new SpliceIndex((long) n * ps, distinct * ps);
                SpliceIndex.Writer writer = idx.writer((long) n * ps);
                for (int p = 0; p < n; p++) {
                    if ((p & 1023) == 0 && references.get() <= 1) {
                        LOG.debug("sub-page index of {} abandoned at page {} of {}: baseline replaced", this, p, n);
                        return;
                    }
                    if (firstCopy(content, p, zeroHash)) {
                        writer.add(store.chunk(p), store.offset(p), ps, (long) p * ps);
                    }
                }
                writer.flush();
                spliceIndex = idx;
                LOG.debug("built the sub-page index of {}: {} MiB in {} ms", this, idx.sizeBytes() >> 20,
                        (System.nanoTime() - t0) / 1_000_000);
            } finally {
                spliceIndexBuilding = false;
            }
        }
    }

    /** Whether page {@code p} is non-zero and the first page with its content in {@code content}. */
    private boolean firstCopy(LongIntMap content, int p, long zeroHash) {
        long h = pageHashes[p];
        return h != zeroHash && content.get(PageHash.indexKey(h)) == p;
    }

    /** Non-zero pages among those whose number is a multiple of {@code stride}. */
    private long nonZeroPages(long zeroHash, int stride) {
        long nonZero = 0;
        for (int p = 0; p < pageHashes.length; p += stride) {
            if (pageHashes[p] != zeroHash) {
                nonZero++;
            }
        }
        return nonZero;
    }

    /**
     * Replaces the pages of {@code slots} (an acknowledged delta) and moves to {@code newVersion} with {@code newDigest};
     * a large delta is applied in ranges on {@code pool} (its index updates are what take the time), a small one or
     * one without a pool (codec stopped) on the calling thread. A baseline of snapshot views takes the views of the
     * delta's target, {@code targetViews}, instead of copying pages (null for other baselines). Caller holds the key's
     * lock.
     */
    void apply(SlotPages slots, PageStore targetViews, long newVersion, long newDigest, ExecutorService pool) {
        if (store.isViews()) {
            if (targetViews == null) {
                throw new IllegalStateException("a baseline of snapshot views needs the views of the delta's target");
            }
            store.adoptViews(targetViews);
        }
        int n = slots.count();
        long[] z = zeroPages;
        if (z != null) {
            // Before the pages change: a delta's page is no longer known to be zero (even if it was sent as zero).
            for (int i = 0; i < n; i++) {
                long page = slots.page(i);
                z[(int) (page >>> 6)] &= ~(1L << page);
            }
        }
        int per = applyRangePages(n);
        if (n <= per || pool == null) {
            applyPages(slots, 0, n);
        } else {
            List<Future<?>> ranges = new ArrayList<>();
            for (int from = 0; from < n; from += per) {
                int lo = from;
                int hi = Math.min(n, from + per);
                try {
                    ranges.add(pool.submit(() -> applyPages(slots, lo, hi)));
                } catch (RejectedExecutionException e) {
                    applyPages(slots, lo, hi);     // the codec is stopping: this thread does the range
                }
            }
            // Never leave half a delta applied: wait for every range even when interrupted (they are short).
            boolean interrupted = false;
            RuntimeException failure = null;
            for (Future<?> f : ranges) {
                while (true) {
                    try {
                        f.get();
                        break;
                    } catch (InterruptedException e) {
                        interrupted = true;
                    } catch (ExecutionException e) {
                        failure = failure != null ? failure
                                : new IllegalStateException("applying a delta to " + this + " failed", e.getCause());
                        break;
                    }
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            if (failure != null) {
                throw failure;
            }
        }
        applied(newVersion, newDigest);
    }

    /** Pages per parallel range when a delta of {@code n} pages is applied: about eight ranges, none tiny. */
    static int applyRangePages(int n) {
        return Math.max(256, n / 8 + 1);
    }

    /**
     * Copies slots {@code [from, to)} into their pages; ranges of one delta may be applied in parallel (distinct pages;
     * anchor inserts are locked; the sub-page index takes plain stores, last writer wins, as it is only a hint).
     */
    void applyPages(SlotPages slots, int from, int to) {
        AnchorIndex similar = similarIndex;
        SpliceIndex.Writer splice = spliceIndex == null ? null : spliceIndex.writer((long) (to - from) * layout.pageSizeBytes);
        long[] scratch = similar == null ? null : new long[layout.pageSizeBytes / Anchors.GRID_BYTES + 1];
        for (int s = from; s < to; s++) {
            long page = slots.page(s);
            if (!store.isViews()) {
                store.writePage(page, slots.chunk(s), slots.offset(s));
            }
            pageHashes[(int) page] = slots.hash(s);
            if (similar != null && page % similarStride == 0) {
                // Anchors outside the lock: ranges applied in parallel contend only for the inserts.
                int anchors = Anchors.of(store.chunk(page), store.offset(page), layout.pageSizeBytes, scratch);
                synchronized (similar) {
                    Anchors.insert(similar, scratch, anchors, (int) page);
                }
            }
            if (splice != null) {
                splice.add(store.chunk(page), store.offset(page), layout.pageSizeBytes, page * layout.pageSizeBytes);
            }
        }
        if (splice != null) {
            splice.flush();
        }
    }

    /** Completes an application of a delta's pages: the new version and digest. */
    void applied(long newVersion, long newDigest) {
        contentIndex = null;
        version = newVersion;
        digest = newDigest;
        chainLength = chainLength + 1;
    }

    @Override
    public String toString() {
        return ref().toString();
    }
}
