package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.state.StateRegions;
import io.dwcp.core.state.WritableRegion;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The pages a seeded round produced, staged in page order, go to their pages of the replica and nowhere else. */
class StagedPagesTest {
    private static final int PAGE = 4096;

    @Test
    void stagedPagesGoToTheirPagesInRunsAcrossReadBlocksWithAShortLastPage(@TempDir Path dir) throws Exception {
        int pages = 3 * SeedHashes.runPages(PAGE) + 7;
        long stateBytes = (long) pages * PAGE - 1000;
        byte[] replica = new byte[(int) stateBytes];
        new Random(1).nextBytes(replica);
        byte[] expected = replica.clone();
        Path file = Files.write(dir.resolve("replica"), replica);
        BitSet targets = new BitSet();
        // Runs of every length, one across each boundary of the staged file's read blocks, and the short last page.
        Random r = new Random(2);
        for (int p = 0; p < pages; p++) {
            if (r.nextInt(3) != 0 || p % SeedHashes.runPages(PAGE) == 0 || p == SeedHashes.runPages(PAGE) - 1) {
                targets.set(p);
            }
        }
        targets.set(pages - 1);
        Path staging = Files.createFile(dir.resolve("pages.staging"));
        try (StagedPages staged = new StagedPages(staging, PAGE);
             WritableRegion region = StateRegions.fileReplica("ram", file, stateBytes)) {
            for (int p = targets.nextSetBit(0); p >= 0; p = targets.nextSetBit(p + 1)) {
                int len = (int) Math.min(PAGE, stateBytes - (long) p * PAGE);
                byte[] page = new byte[len];
                r.nextBytes(page);
                System.arraycopy(page, 0, expected, p * PAGE, len);
                staged.add(ByteBuffer.wrap(page));
                if (p % 5 == 0) {
                    staged.flush(); // as after a batch
                }
            }
            assertThrows(IllegalStateException.class, () -> staged.add(ByteBuffer.allocate(PAGE)),
                    "nothing after the short last page");
            assertEquals(targets.cardinality(), staged.pages());
            assertEquals(targets.cardinality(), staged.writeTo(region, targets, stateBytes));
            BitSet fewer = (BitSet) targets.clone();
            fewer.clear(3);
            assertThrows(DwcpException.class, () -> staged.writeTo(region, fewer, stateBytes));
        }
        assertArrayEquals(expected, Files.readAllBytes(file));
        assertFalse(Files.exists(staging), "deleted when closed");
    }
}
