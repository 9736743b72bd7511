package io.dwcp.compression;

import io.dwcp.core.state.StateRegions;
import io.dwcp.core.state.VmState;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The sender's similarity index stays within its memory budget, by indexing every n-th page past it. */
class SimilarIndexBudgetTest {
    private static final int PAGE = 4096;
    private static final int PAGES = 4096;

    private static Baseline baseline() {
        ByteBuffer ram = ByteBuffer.allocateDirect(PAGES * PAGE);
        SplittableRandom rnd = new SplittableRandom(3);
        byte[] page = new byte[PAGE];
        for (int p = 0; p < PAGES; p++) {
            rnd.nextBytes(page);
            ram.put(p * PAGE, page);
        }
        Layout layout = Layout.of(VmState.of("vm", StateRegions.ofBuffer("ram", ram)));
        PageStore store = PageStore.pooled(PAGE, PAGES, new ChunkPool(0));
        for (int p = 0; p < PAGES; p++) {
            store.writePage(p, ram, p * PAGE);
        }
        long[] hashes = new long[PAGES];
        Arrays.fill(hashes, 1);
        return new Baseline("vm", 1, 0, 0, layout, store, hashes, Instant.EPOCH, 0);
    }

    @Test
    void anIndexOverItsBudgetCoversFewerPagesAndFitsTheBudget() {
        long zeroHash = PageHash.zeroHash(PAGE);
        long full = AnchorIndex.bytesFor(PAGES * (PAGE / 512) * 3 / 2);
        Baseline unbounded = baseline();
        try {
            AnchorIndex all = unbounded.similarIndex(zeroHash, Long.MAX_VALUE);
            assertEquals(full, all.sizeBytes(), "within budget: every page indexed");
        } finally {
            unbounded.release();
        }
        Baseline capped = baseline();
        try {
            long budget = full / 5;
            AnchorIndex some = capped.similarIndex(zeroHash, budget);
            assertTrue(some.sizeBytes() <= budget, "the index fits its budget: " + some.sizeBytes() + " > " + budget);
            assertTrue(some.size() > 0, "it still indexes pages");
        } finally {
            capped.release();
        }
    }
}
