package io.dwcp.prediction;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The incremental quantile cursors against a sort of the same sliding window. */
class SlidingHistogramTest {
    private static final double BIN = 0.02;

    @Test
    void cursorsAgreeWithTheSortedWindowToWithinABinWhileTheDistributionDrifts() {
        int capacity = 300;
        SlidingHistogram h = new SlidingHistogram(-8 - BIN / 2, 8 + BIN / 2, BIN, capacity, 2);
        double[] ring = new double[capacity];
        Random r = new Random(7);
        for (int i = 0; i < 5000; i++) {
            // Drift and a jump in scale half-way, so the cursors have to travel.
            double v = (i < 2500 ? 0.3 : 1.5) * r.nextGaussian() + Math.sin(i / 300.0);
            ring[i % capacity] = v;
            h.add(v);
            int n = Math.min(i + 1, capacity);
            double[] sorted = Arrays.copyOf(ring, n);
            Arrays.sort(sorted);
            for (int c = 0; c < 2; c++) {
                double q = c == 0 ? 0.1 : 0.9;
                // The value of rank ceil(q·n) in the window, as the cursor defines the quantile.
                double expected = sorted[Math.max(0, (int) Math.ceil(q * n) - 1)];
                assertEquals(expected, h.quantile(c, q), BIN, "sample " + i + " q " + q);
            }
        }
    }

    @Test
    void aCursorFollowsAnyLevelAndValuesOutsideTheRangeAreClamped() {
        SlidingHistogram h = new SlidingHistogram(-1.01, 1.01, BIN, 10, 1);
        for (int i = 0; i < 10; i++) {
            h.add(i < 5 ? -50 : 50);
        }
        assertEquals(-1.0, h.quantile(0, 0.2), 1e-9);
        assertEquals(1.0, h.quantile(0, 0.9), 1e-9);
        assertEquals(-1.0, h.quantile(0, 0.5), 1e-9);
        assertTrue(Double.isNaN(new SlidingHistogram(-1, 1, BIN, 4, 1).quantile(0, 0.5)));
        assertThrows(IllegalArgumentException.class, () -> new SlidingHistogram(-1, 1, BIN, 4, 0));
    }
}
