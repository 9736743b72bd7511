package io.dwcp.compression;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AnchorIndexTest {

    /** Anchors as {@link Anchors#of} makes them: the two lowest bits zero. */
    private static long anchor(SplittableRandom rnd) {
        return rnd.nextLong() & ~3L;
    }

    @Test
    void theFirstPageOfAnAnchorWinsAndUnknownAnchorsMiss() {
        AnchorIndex idx = new AnchorIndex(1000);
        try {
            SplittableRandom rnd = new SplittableRandom(7);
            long[] anchors = new long[1000];
            for (int i = 0; i < anchors.length; i++) {
                anchors[i] = anchor(rnd);
                idx.putIfAbsent(anchors[i], i);
            }
            idx.putIfAbsent(anchors[5], 999_999);
            assertEquals(1000, idx.size());
            for (int i = 0; i < anchors.length; i++) {
                assertEquals(i, idx.get(anchors[i]));
            }
            assertEquals(-1, idx.get(anchor(new SplittableRandom(8))));
        } finally {
            idx.free();
        }
    }

    @Test
    void pageZeroAndTheLargestPageNumberRoundTrip() {
        AnchorIndex idx = new AnchorIndex(16);
        try {
            idx.putIfAbsent(4L << 32, 0);
            idx.putIfAbsent(8L << 32, Integer.MAX_VALUE - 8);
            assertEquals(0, idx.get(4L << 32));
            assertEquals(Integer.MAX_VALUE - 8, idx.get(8L << 32));
        } finally {
            idx.free();
        }
    }

    @Test
    void aFullIndexDropsNewAnchorsInsteadOfGrowing() {
        AnchorIndex idx = new AnchorIndex(12);
        try {
            SplittableRandom rnd = new SplittableRandom(9);
            for (int i = 0; i < 1000; i++) {
                idx.putIfAbsent(anchor(rnd), i);
            }
            assertTrue(idx.isFull());
            assertEquals(idx.capacity() / 4 * 3, idx.size());
        } finally {
            idx.free();
        }
    }

    @Test
    void capacityHoldsTheExpectedAnchorsAtThreeQuartersLoad() {
        assertEquals(16, AnchorIndex.capacityFor(0));
        assertEquals(16, AnchorIndex.capacityFor(12));
        assertEquals(32, AnchorIndex.capacityFor(13));
        assertEquals(1 << 24, AnchorIndex.capacityFor(8L << 20), "4 GiB of 4 KiB pages, eight anchors each");
        assertEquals(AnchorIndex.MAX_SLOTS, AnchorIndex.capacityFor(Long.MAX_VALUE / 8));
    }
}
