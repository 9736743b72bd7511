package io.dwcp.core.migration;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Whether a seeded round asks for block hashes: judged from the answers alone, the found blocks counted uncompressed. */
class SeedBlockLevelTest {
    private static final int PAGE = 4096;
    /** Version 4: 4-byte block hashes, no copy entries; a page's hashes and index cost 8 * 4 + 4 = 36 bytes. */
    private static final int VERSION = 4;
    private static final int GROUP = 256;

    @Test
    void sparsePatchesKeepTheBlockHashesAsked() {
        // One would-be literal in 32 is a patch with 7 of its 8 blocks unchanged: 3,583 bytes found per patch, about
        // 112 per page asked — three times the 36 bytes of hashes, so the level asks for every group. Priced at a
        // compressed share of a quarter (28 bytes), as the rule before this one did, it would have stopped asking.
        SeedBlockLevel level = new SeedBlockLevel(PAGE);
        answerProbe(level, 32);
        for (int g = 0; g < 40; g++) {
            assertTrue(level.ask(GROUP, VERSION), "group " + g + " asked");
        }
        assertEquals(0, level.pagesSkipped());
    }

    @Test
    void blockHashesThatFindNothingAreAskedOnlyForProbes() {
        // Every block differs (wholly rewritten pages): the hashes save nothing; one group in 8 still probes.
        SeedBlockLevel level = new SeedBlockLevel(PAGE);
        answerProbe(level, 0);
        int asked = 0;
        for (int g = 0; g < 40; g++) {
            asked += level.ask(GROUP, VERSION) ? 1 : 0;
        }
        assertEquals(5, asked);
        assertEquals(35L * GROUP, level.pagesSkipped());
    }

    /** Asks for the probe's groups and answers them: one page in {@code patchEvery} (0: none) is a one-block patch. */
    private static void answerProbe(SeedBlockLevel level, int patchEvery) {
        for (int asked = 0; asked < SeedBlockLevel.BLOCK_PROBE_PAGES; asked += GROUP) {
            assertTrue(level.ask(GROUP, VERSION), "the probe is always asked");
            SeedBlocksGroup g = new SeedBlocksGroup(GROUP);
            long[] mine = new long[GROUP * SeedWire.BLOCKS_PER_PAGE];       // this side's block hashes: all 0
            ByteBuffer answer = ByteBuffer.allocate(GROUP * SeedWire.BLOCKS_PER_PAGE * 4);
            for (int p = 0; p < GROUP; p++) {
                g.add(asked + p, SeedWire.SOURCE_LITERAL);
                boolean patch = patchEvery > 0 && p % patchEvery == 0;
                for (int b = 0; b < SeedWire.BLOCKS_PER_PAGE; b++) {
                    answer.putInt(patch && b > 0 ? 0 : 1);                 // 0 = the receiver's block is the same
                }
            }
            level.apply(g, mine, answer.flip(), 0, GROUP, 4, null);
            for (int p = 0; p < GROUP; p++) {
                boolean patch = patchEvery > 0 && p % patchEvery == 0;
                assertEquals(patch ? SeedWire.SOURCE_PATCH : SeedWire.SOURCE_LITERAL, g.sources[p], "page " + p);
            }
        }
    }
}
