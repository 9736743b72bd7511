package io.dwcp.prediction;

/**
 * Online log-linear ridge regression over history features.
 *
 * <p>Idea: bandwidth is multiplicative, so the model works on logarithms, relative to the path's EWMA(0.1) level
 * {@code r = ln(ewma₀.₁ + ε)}: the features are {@code ln(f + ε) − r} (clamped to ±3) for the last sample, the mean of the last 5
 * and 30 samples, the maximum of the last 30, EWMAs with α = 0.3, 0.05 and 0.01, and a constant; the target is
 * {@code ln(window mean + ε) − r}. Working relative to the level makes the model scale-free (the same weights fit a
 * 1 Mbit/s and a 1 Gbit/s path), and the ridge penalty pulls the weights towards 0, that is towards the EWMA(0.1)
 * forecast, which is what the model says until the path's own windows teach it better. The forecast never exceeds
 * the maximum of the last 30 samples. ε = 1 % of the slow EWMA
 * keeps the logarithm of an idle second finite.
 *
 * <p>Learning: each forecast's features are kept until its window closes ({@link #windowClosed(double)}); then
 * {@code A ← γA + xxᵀ}, {@code c ← γc + xy} with forgetting {@code γ = 1 − 1/memory}, and the weights solve
 * {@code (A + λI) w = c} by Cholesky. Everything lives in arrays sized at construction: no allocation per sample.
 *
 * <p>Confined to the path's thread.
 */
final class LogRidgeModel implements ForecastModel {
    static final int FEATURES = 8;
    private static final int RECENT = 30;
    /** Bound of a log feature: a factor e³ ≈ 20 from the reference level. */
    static final double FEATURE_LIMIT = 3;
    /**
     * Matches between two solves of the weights. The normal equations are accumulated on every match, but the 8 × 8
     * Cholesky solve, which was half the cost of a sample, runs on every fourth: with a memory of hundreds of windows
     * the weights move little in four matches, and the accuracy on the development subset did not change.
     */
    static final int SOLVE_INTERVAL = 4;
    private long closed;

    private final int horizon;
    private final double forgetting;
    private final double lambda;
    private final double[] recent = new double[RECENT];
    private int recentNext;
    private int recentSize;
    private double e03 = Double.NaN;
    private double e01 = Double.NaN;
    private double e005 = Double.NaN;
    private double e001 = Double.NaN;
    private long updates;

    /** Features of the forecast made after update n, at row n % (horizon + 1); then its ε and reference level. */
    private final double[] pendingFeatures;
    private final double[] pendingEpsilon;
    private final double[] pendingReference;
    private final double[] gram = new double[FEATURES * FEATURES];
    private final double[] moment = new double[FEATURES];
    private final double[] weights = new double[FEATURES];
    private final double[] factor = new double[FEATURES * FEATURES];
    private final double[] solveScratch = new double[FEATURES];
    private final double[] current = new double[FEATURES];
    private double currentReference;
    /** Maximum of the last 30 samples: the forecast's cap. */
    private double currentMax;
    private double currentEpsilon;

    /**
     * @param horizonSamples the window, in samples
     * @param memorySamples windows after which an old one weighs 1/e
     * @param lambda ridge penalty, in windows' worth of weight
     */
    LogRidgeModel(int horizonSamples, int memorySamples, double lambda) {
        this.horizon = horizonSamples;
        this.forgetting = 1 - 1.0 / Math.max(2, memorySamples);
        this.lambda = lambda;
        this.pendingFeatures = new double[(horizonSamples + 1) * FEATURES];
        this.pendingEpsilon = new double[horizonSamples + 1];
        this.pendingReference = new double[horizonSamples + 1];
    }

    @Override
    public void update(double value) {
        recent[recentNext] = value;
        recentNext = (recentNext + 1) % RECENT;
        recentSize = Math.min(recentSize + 1, RECENT);
        e03 = ewma(e03, 0.3, value);
        e01 = ewma(e01, 0.1, value);
        e005 = ewma(e005, 0.05, value);
        e001 = ewma(e001, 0.01, value);
        updates++;
        computeFeatures(value);
        int row = (int) (updates % (horizon + 1));
        System.arraycopy(current, 0, pendingFeatures, row * FEATURES, FEATURES);
        pendingEpsilon[row] = currentEpsilon;
        pendingReference[row] = currentReference;
    }

    /**
     * {@code ln(v + ε) − r}, clamped to ±{@link #FEATURE_LIMIT}: after an idle stretch ε and the reference are tiny
     * and the first busy second would otherwise be a feature of 30 or more, from which the weights extrapolate wildly.
     */
    private static double feature(double v, double eps, double ref) {
        return Math.max(-FEATURE_LIMIT, Math.min(FEATURE_LIMIT, Math.log(v + eps) - ref));
    }

    private static double ewma(double level, double alpha, double value) {
        return Double.isNaN(level) ? value : alpha * value + (1 - alpha) * level;
    }

    private void computeFeatures(double last) {
        // The 30-sample sum and maximum do not depend on order: one pass over the ring's filled slots.
        double sum30 = 0;
        double max30 = 0;
        for (int i = 0; i < recentSize; i++) {
            double v = recent[i];
            sum30 += v;
            max30 = Math.max(max30, v);
        }
        double sum5 = 0;
        int n5 = Math.min(5, recentSize);
        for (int i = 1, j = recentNext - 1; i <= n5; i++, j--) {
            sum5 += recent[j < 0 ? j + RECENT : j];
        }
        double eps = 0.01 * Math.max(e005, 1e-12);
        double ref = Math.log(e01 + eps);
        current[0] = 1;
        current[1] = feature(last, eps, ref);
        current[2] = feature(sum5 / Math.min(5, recentSize), eps, ref);
        current[3] = feature(sum30 / recentSize, eps, ref);
        current[4] = feature(max30, eps, ref);
        current[5] = feature(e03, eps, ref);
        current[6] = feature(e005, eps, ref);
        current[7] = feature(e001, eps, ref);
        currentMax = max30;
        currentEpsilon = eps;
        currentReference = ref;
    }

    @Override
    public void windowClosed(double actualMean) {
        int row = (int) ((updates - horizon) % (horizon + 1));
        int base = row * FEATURES;
        double y = Math.log(actualMean + pendingEpsilon[row]) - pendingReference[row];
        for (int i = 0; i < FEATURES; i++) {
            double xi = pendingFeatures[base + i];
            moment[i] = forgetting * moment[i] + xi * y;
            for (int j = 0; j < FEATURES; j++) {
                gram[i * FEATURES + j] = forgetting * gram[i * FEATURES + j] + xi * pendingFeatures[base + j];
            }
        }
        if (++closed % SOLVE_INTERVAL == 0) {
            solve();
        }
    }

    /** Weights from {@code (A + λI) w = c} by Cholesky; λ > 0 keeps the matrix positive definite. */
    private void solve() {
        int n = FEATURES;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double s = gram[i * n + j] + (i == j ? lambda : 0);
                for (int k = 0; k < j; k++) {
                    s -= factor[i * n + k] * factor[j * n + k];
                }
                if (i == j) {
                    factor[i * n + i] = Math.sqrt(Math.max(s, 1e-12));
                } else {
                    factor[i * n + j] = s / factor[j * n + j];
                }
            }
        }
        for (int i = 0; i < n; i++) {
            double s = moment[i];
            for (int k = 0; k < i; k++) {
                s -= factor[i * n + k] * solveScratch[k];
            }
            solveScratch[i] = s / factor[i * n + i];
        }
        for (int i = n - 1; i >= 0; i--) {
            double s = solveScratch[i];
            for (int k = i + 1; k < n; k++) {
                s -= factor[k * n + i] * weights[k];
            }
            weights[i] = s / factor[i * n + i];
        }
    }

    @Override
    public double forecast() {
        if (updates == 0) {
            return Double.NaN;
        }
        double z = currentReference;
        for (int i = 0; i < FEATURES; i++) {
            z += weights[i] * current[i];
        }
        return Math.max(0, Math.min(currentMax, Math.exp(z) - currentEpsilon));
    }
}
