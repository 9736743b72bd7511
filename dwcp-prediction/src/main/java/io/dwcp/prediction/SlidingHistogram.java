package io.dwcp.prediction;

/**
 * The last {@code capacity} values of a quantity as a fixed-bin histogram over [min, max] (values outside are clamped
 * to the end bins): empirical quantiles in O(bins), without sorting or allocation.
 *
 * <p>A quantile is the centre of the bin it falls in, so it is exact to within half a bin width, and exact for a
 * value that sits on a bin centre (callers centre a bin on 0, so a path without error gets a zero-width band).
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
    private int lowestBin = Integer.MAX_VALUE;
    private int highestBin = -1;

    SlidingHistogram(double min, double max, double binWidth, int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1, got " + capacity);
        }
        int bins = (int) Math.round((max - min) / binWidth);
        if (bins < 1 || bins > Short.MAX_VALUE) {
            throw new IllegalArgumentException("bins must be in 1.." + Short.MAX_VALUE + ", got " + bins);
        }
        this.min = min;
        this.binWidth = binWidth;
        this.counts = new int[bins];
        this.ring = new short[capacity];
    }

    /** Adds one value, dropping the oldest when full. NaN counts as 0. */
    void add(double value) {
        double v = Double.isNaN(value) ? 0 : value;
        int bin = (int) Math.floor((v - min) / binWidth);
        bin = Math.max(0, Math.min(counts.length - 1, bin));
        if (size == ring.length) {
            counts[ring[next]]--;
        } else {
            size++;
        }
        ring[next] = (short) bin;
        counts[bin]++;
        lowestBin = Math.min(lowestBin, bin);
        highestBin = Math.max(highestBin, bin);
        next = (next + 1) % ring.length;
    }

    int size() {
        return size;
    }

    /** The q-quantile (0 < q < 1); NaN when empty. */
    double quantile(double q) {
        if (size == 0) {
            return Double.NaN;
        }
        trimRange();
        double target = q * size;
        if (q <= 0.5) {
            double cumulative = 0;
            for (int b = lowestBin; b <= highestBin; b++) {
                int c = counts[b];
                if (c > 0 && cumulative + c >= target) {
                    return center(b);
                }
                cumulative += c;
            }
            return center(highestBin);
        }
        double fromTop = size - target;
        double cumulative = 0;
        for (int b = highestBin; b >= lowestBin; b--) {
            int c = counts[b];
            if (c > 0 && cumulative + c >= fromTop) {
                return center(b);
            }
            cumulative += c;
        }
        return center(lowestBin);
    }

    /** Lowest and highest non-empty bins, after old values left. */
    private void trimRange() {
        while (lowestBin <= highestBin && counts[lowestBin] == 0) {
            lowestBin++;
        }
        while (highestBin >= lowestBin && counts[highestBin] == 0) {
            highestBin--;
        }
    }

    double center(int bin) {
        return min + binWidth * (bin + 0.5);
    }
}
