package io.dwcp.prediction;

/**
 * The classic predictors: last value, EWMA, harmonic and arithmetic mean of the last n samples, damped Holt. Each forecasts the
 * horizon's mean as a level (they have no notion of a window, except Holt, whose trend is averaged over it).
 * Allocation-free after construction.
 */
final class BuiltinModels {
    private BuiltinModels() {
    }

    /** The last sample. */
    static final class LastValue implements ForecastModel {
        private double last = Double.NaN;

        @Override
        public void update(double value) {
            last = value;
        }

        @Override
        public double forecast() {
            return last;
        }
    }

    /** Exponentially weighted moving average, seeded with the first sample. */
    static final class Ewma implements ForecastModel {
        private final double alpha;
        private double level = Double.NaN;

        Ewma(double alpha) {
            if (!(alpha > 0 && alpha <= 1)) {
                throw new IllegalArgumentException("alpha must be in (0, 1], got " + alpha);
            }
            this.alpha = alpha;
        }

        @Override
        public void update(double value) {
            level = Double.isNaN(level) ? value : alpha * value + (1 - alpha) * level;
        }

        @Override
        public double forecast() {
            return level;
        }
    }

    /**
     * Harmonic mean of the last {@code n} samples (fewer at the start); 0 when one of them is 0. O(1) per sample: a
     * running sum of the inverses of the positive samples and a count of the zeros in the window, re-added exactly
     * once per lap of the ring so rounding never accumulates.
     */
    static final class HarmonicMean implements ForecastModel {
        private final double[] ring;
        private int next;
        private int size;
        private int zeros;
        private double inverseSum;

        HarmonicMean(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("n must be >= 1, got " + n);
            }
            this.ring = new double[n];
        }

        @Override
        public void update(double value) {
            if (size == ring.length) {
                double old = ring[next];
                if (old <= 0) {
                    zeros--;
                } else {
                    inverseSum -= 1 / old;
                }
            } else {
                size++;
            }
            ring[next] = value;
            if (value <= 0) {
                zeros++;
            } else {
                inverseSum += 1 / value;
            }
            next = next + 1 == ring.length ? 0 : next + 1;
            if (next == 0) {
                double s = 0;
                for (double v : ring) {
                    if (v > 0) {
                        s += 1 / v;
                    }
                }
                inverseSum = s;
            }
        }

        @Override
        public double forecast() {
            if (size == 0) {
                return Double.NaN;
            }
            return zeros > 0 ? 0 : size / inverseSum;
        }
    }

    /**
     * Damped-trend Holt: level {@code l}, trend {@code b}; the forecast of step k is {@code l + b(φ + … + φ^k)}, so
     * the mean over H steps is {@code l + b·Σ_{k=1..H} (φ − φ^{k+1}) / ((1 − φ) H)}, never below 0.
     */
    static final class DampedHolt implements ForecastModel {
        private final double alpha;
        private final double beta;
        private final double phi;
        /** Mean over the horizon of the cumulative damping factors φ + … + φ^k. */
        private final double trendGain;
        private double level = Double.NaN;
        private double trend;

        DampedHolt(double alpha, double beta, double phi, int horizonSamples) {
            this.alpha = alpha;
            this.beta = beta;
            this.phi = phi;
            double sum = 0;
            double cumulative = 0;
            double power = 1;
            for (int k = 1; k <= horizonSamples; k++) {
                power *= phi;
                cumulative += power;
                sum += cumulative;
            }
            this.trendGain = sum / horizonSamples;
        }

        @Override
        public void update(double value) {
            if (Double.isNaN(level)) {
                level = value;
                return;
            }
            double previous = level;
            level = alpha * value + (1 - alpha) * (previous + phi * trend);
            trend = beta * (level - previous) + (1 - beta) * phi * trend;
        }

        @Override
        public double forecast() {
            return Double.isNaN(level) ? Double.NaN : Math.max(0, level + trendGain * trend);
        }
    }

    /**
     * Arithmetic mean of the last {@code n} samples (fewer at the start). O(1) per sample: a running sum, re-added
     * exactly once per lap of the ring so rounding never accumulates. Unlike an EWMA it weighs the window equally, so
     * one spike moves it by 1/n and leaves it after n samples.
     */
    static final class MovingMean implements ForecastModel {
        private final double[] ring;
        private int next;
        private int size;
        private double sum;

        MovingMean(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("n must be >= 1, got " + n);
            }
            this.ring = new double[n];
        }

        @Override
        public void update(double value) {
            if (size == ring.length) {
                sum -= ring[next];
            } else {
                size++;
            }
            ring[next] = value;
            sum += value;
            next = next + 1 == ring.length ? 0 : next + 1;
            if (next == 0) {
                double s = 0;
                for (double v : ring) {
                    s += v;
                }
                sum = s;
            }
        }

        @Override
        public double forecast() {
            return size == 0 ? Double.NaN : Math.max(0, sum / size);
        }
    }
}
