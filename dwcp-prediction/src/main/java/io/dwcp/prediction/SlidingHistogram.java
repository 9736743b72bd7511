package io.dwcp.prediction;

/**
 * The last {@code capacity} values of a quantity as a fixed-bin histogram over [min, max] (values outside are clamped
 * to the end bins): empirical quantiles without sorting or allocation.
 *
 * <p>A quantile is the centre of the bin it falls in, so it is exact to within half a bin width, and exact for a
 * value that sits on a bin centre (callers centre a bin on 0, so a path without error gets a zero-width band).
 *
 * <p>Cost: a query goes through one of a few cursors, each remembering the bin it last answered and the count of the
 * values below that bin. Adding or dropping a value adjusts those counts in O(1), and a query walks the cursor from
 * its last bin to the new one, so a quantile that drifts slowly costs a few steps instead of a scan of the bins.
 * Callers use one cursor per quantile they track (a cursor works for any q, just slower when q jumps).
 *
 * <p>Confined to the path's thread.
 */
final class SlidingHistogram {
    private final double min;
    private final double binWidth;
    private final int[] counts;
    private final short[] ring;
    private int next;
    private int size;
    /** Per cursor: the bin it last answered, and how many values lie in the bins below it. */
    private final int[] cursorBin;
    private final int[] cursorBelow;

    SlidingHistogram(double min, double max, double binWidth, int capacity, int cursors) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1, got " + capacity);
        }
        if (cursors < 1) {
            throw new IllegalArgumentException("cursors must be >= 1, got " + cursors);
        }
        int bins = (int) Math.round((max - min) / binWidth);
        if (bins < 1 || bins > Short.MAX_VALUE) {
            throw new IllegalArgumentException("bins must be in 1.." + Short.MAX_VALUE + ", got " + bins);
        }
        this.min = min;
        this.binWidth = binWidth;
        this.counts = new int[bins];
        this.ring = new short[capacity];
        this.cursorBin = new int[cursors];
        this.cursorBelow = new int[cursors];
        java.util.Arrays.fill(cursorBin, bins / 2);
    }

    /** Adds one value, dropping the oldest when full. NaN counts as 0. */
    void add(double value) {
        double v = Double.isNaN(value) ? 0 : value;
        int bin = (int) Math.floor((v - min) / binWidth);
        bin = Math.max(0, Math.min(counts.length - 1, bin));
        if (size == ring.length) {
            int old = ring[next];
            counts[old]--;
            moved(old, -1);
        } else {
            size++;
        }
        ring[next] = (short) bin;
        counts[bin]++;
        moved(bin, 1);
        next = next + 1 == ring.length ? 0 : next + 1;
    }

    private void moved(int bin, int delta) {
        for (int c = 0; c < cursorBin.length; c++) {
            if (bin < cursorBin[c]) {
                cursorBelow[c] += delta;
            }
        }
    }

    int size() {
        return size;
    }

    /**
     * The q-quantile (0 &lt; q &lt; 1) through cursor {@code cursor}: the centre of the bin b with
     * {@code below(b) < q·size ≤ below(b) + count(b)}; NaN when empty.
     */
    double quantile(int cursor, double q) {
        if (size == 0) {
            return Double.NaN;
        }
        double target = Math.max(Math.min(q, 1), 0) * size;
        int b = cursorBin[cursor];
        int below = cursorBelow[cursor];
        // Walk down while the bins below already hold the target, up while this bin does not reach it.
        while (b > 0 && below >= target) {
            b--;
            below -= counts[b];
        }
        while (b < counts.length - 1 && below + counts[b] < target) {
            below += counts[b];
            b++;
        }
        cursorBin[cursor] = b;
        cursorBelow[cursor] = below;
        return center(b);
    }

    double center(int bin) {
        return min + binWidth * (bin + 0.5);
    }
}
