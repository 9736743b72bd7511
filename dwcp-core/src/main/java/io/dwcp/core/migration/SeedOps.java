package io.dwcp.core.migration;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The ops of a seeded round as a {@link SeedPlanner} decides them, ascending by page (page, source, patch mask), cut
 * into batches of at most {@link SeedWire#MAX_BATCH_OPS} ops and {@link SeedFrameWriter#maxBatchLiterals} pages of
 * data. A cut batch goes to the writer at once, or waits until the round's transfer opens ({@link #open}).
 *
 * <p>Owned by the planner's thread; not thread-safe (the writer copies each batch when it takes it).
 */
final class SeedOps {
    private final int pageSize;
    private int[] pages = new int[1024];
    private int[] sources = new int[1024];
    /** Per op: a PATCH's block mask, a FINE_PATCH's sub-block mask, else 0. */
    private long[] masks = new long[1024];
    private int count;
    private long literalPages;
    private long patchedPages;
    /** Ops already cut into batches, and the data pages of the batch being filled. */
    private int batchStart;
    private int batchLiterals;
    /** Batches cut so far. */
    private int batchesCut;
    /** When the first batch went to the writer ({@link System#nanoTime}), or 0. */
    private long firstHandedNanos;
    /** Batches cut before the transfer opened: [from, to). */
    private final List<int[]> waiting = new ArrayList<>();
    private SeedFrameWriter writer;

    SeedOps(int pageSize) {
        this.pageSize = pageSize;
    }

    /** {@return the ops so far} (pages that differ from the seed) */
    int count() {
        return count;
    }

    long literalPages() {
        return literalPages;
    }

    long patchedPages() {
        return patchedPages;
    }

    /** {@return the page counts of the round, by how the receiver gets them} */
    Map<String, Long> pagesByClass(long statePages) {
        long zero = 0;
        long copied = 0;
        for (int i = 0; i < count; i++) {
            if (sources[i] == SeedWire.SOURCE_ZERO) {
                zero++;
            } else if (sources[i] >= 0) {
                copied++;
            }
        }
        return Map.of("unchanged", statePages - count, "zero", zero, "copied", copied, "literal", literalPages,
                "patched", patchedPages);
    }

    /** Appends one op (pages ascend); cuts a batch when it is full. */
    void add(int page, int source, long mask) {
        if (count == pages.length) {
            pages = Arrays.copyOf(pages, 2 * count);
            sources = Arrays.copyOf(sources, 2 * count);
            masks = Arrays.copyOf(masks, 2 * count);
        }
        boolean data = source == SeedWire.SOURCE_LITERAL || source == SeedWire.SOURCE_PATCH
                || source == SeedWire.SOURCE_FINE_PATCH;
        if (count - batchStart == SeedWire.MAX_BATCH_OPS || data && batchLiterals == batchLiteralLimit(batchesCut, pageSize)) {
            cut();
        }
        pages[count] = page;
        sources[count] = source;
        masks[count] = mask;
        count++;
        if (source == SeedWire.SOURCE_LITERAL) {
            literalPages++;
        } else if (source == SeedWire.SOURCE_PATCH || source == SeedWire.SOURCE_FINE_PATCH) {
            patchedPages++;
        }
        if (data) {
            batchLiterals++;
        }
    }

    /**
     * {@return the most data pages batch number {@code batch} (from 0) of a round takes}: {@value #FIRST_BATCH_LITERALS}
     * in the first, twice as many in each next one up to {@link SeedFrameWriter#maxBatchLiterals}. The first bytes of
     * a round then leave as soon as its first pages are decided (a full batch of 4 KiB pages is 4 MiB, which takes a
     * while to decide, compress and carry), and later batches are as large as before.
     */
    static int batchLiteralLimit(int batch, int pageSize) {
        int max = SeedFrameWriter.maxBatchLiterals(pageSize);
        return batch >= 31 ? max : (int) Math.min(max, (long) FIRST_BATCH_LITERALS << batch);
    }

    /** Data pages of a round's first batch (see {@link #batchLiteralLimit}). */
    static final int FIRST_BATCH_LITERALS = 64;

    /** Ends the batch being filled: to the writer, or kept until the transfer opens. */
    void cut() {
        if (count == batchStart) {
            return;
        }
        batchesCut++;
        if (writer != null) {
            handed();
            writer.batch(pages, sources, masks, batchStart, count);
        } else {
            waiting.add(new int[]{batchStart, count});
        }
        batchStart = count;
        batchLiterals = 0;
    }

    private void handed() {
        if (firstHandedNanos == 0) {
            firstHandedNanos = System.nanoTime();
        }
    }

    /** {@return when the first batch went to the writer} ({@link System#nanoTime}; 0 when none did yet) */
    long firstHandedNanos() {
        return firstHandedNanos;
    }

    /** The transfer opened: the batches cut so far, and every later one, go to {@code w}. */
    void open(SeedFrameWriter w) {
        writer = w;
        if (!waiting.isEmpty()) {
            handed();
        }
        for (int[] b : waiting) {
            w.batch(pages, sources, masks, b[0], b[1]);
        }
        waiting.clear();
    }
}
