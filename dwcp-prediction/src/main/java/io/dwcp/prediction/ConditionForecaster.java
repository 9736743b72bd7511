package io.dwcp.prediction;

import java.util.Arrays;

/**
 * The RTT or the loss ratio of one path: forecasts the mean over the horizon as the mean of the last {@code window}
 * measured values, with the 10th and 90th percentiles of those values as its band (clamped to contain the mean).
 * These quantities have no trace set here to choose a model on, so the forecast is the plain recent mean and its band
 * the spread of the recent values, which is wider than the spread of a window mean: a conservative band.
 *
 * <p>Not thread-safe: the path's lock confines it. Allocation-free per value after construction.
 */
final class ConditionForecaster {
    private final double[] ring;
    private final double[] sorted;
    private int next;
    private int size;
    private long samples;
    private double mean = Double.NaN;
    private double low = Double.NaN;
    private double high = Double.NaN;

    /** @param window values the forecast is made from, ≥ 1 */
    ConditionForecaster(int window) {
        if (window < 1) {
            throw new IllegalArgumentException("window must be >= 1, got " + window);
        }
        this.ring = new double[window];
        this.sorted = new double[window];
    }

    /** Records one measured value (finite, ≥ 0; the path monitor has rejected others). */
    void update(double value) {
        ring[next] = value;
        next = next + 1 == ring.length ? 0 : next + 1;
        size = Math.min(size + 1, ring.length);
        samples++;
    }

    /** Recomputes the forecast from the values recorded so far (at publication, not per value). */
    void compute() {
        if (size == 0) {
            return;
        }
        System.arraycopy(ring, 0, sorted, 0, size);
        Arrays.sort(sorted, 0, size);
        double sum = 0;
        for (int i = 0; i < size; i++) {
            sum += sorted[i];
        }
        mean = sum / size;
        low = Math.min(mean, quantile(0.1));
        high = Math.max(mean, quantile(0.9));
    }

    private double quantile(double q) {
        double pos = q * (size - 1);
        int i = (int) Math.floor(pos);
        int j = Math.min(size - 1, i + 1);
        return sorted[i] + (pos - i) * (sorted[j] - sorted[i]);
    }

    long samples() {
        return samples;
    }

    /** {@return the forecast mean; NaN before any value} */
    double mean() {
        return mean;
    }

    /** {@return the P10; NaN before any value} */
    double low() {
        return low;
    }

    /** {@return the P90; NaN before any value} */
    double high() {
        return high;
    }
}
