package io.dwcp.prediction;

import java.util.Arrays;

/**
 * The forecasting engine of one path and one horizon: runs every built-in model (and the plug-in, if any) on each
 * sample, matches each forecast with its realised window mean once the window closes, and from those matches derives
 * the choice among models, the P10/P90 band and the confidence.
 *
 * <p>How {@code auto} works: every model's forecast is kept until its window of H samples closes; its error
 * {@code min(1, |forecast − actual| ÷ actual)} then enters a sliding window of the last W matches (W = history
 * window ÷ sample interval). Each model's mean error e_m is shrunk towards its prior error with the weight of W
 * matches ({@link #PRIOR_ERROR}), so a young path starts from the models that are good on average. The auto forecast
 * blends the models with weights {@code exp(−(e_m − e_min) ÷ T)}, so a model clearly worse than the best recently
 * gets almost no weight and near-ties share it; the output is the blend
 * lowered in proportion to the band's relative width ({@link #AUTO_SHRINK}). The band comes from the blend's own matched residuals
 * {@code (actual − blend) ÷ level}, level being a slow EWMA of the path (α = 0.02) so that the residuals of a
 * 1 Mbit/s and a 1 Gbit/s path share one histogram: P10/P90 = blend + level × the empirical low/high quantiles of the
 * last W residuals. This is the path's own recent error, not an assumed distribution. Before {@code min-matched}
 * matches exist, the low/high quantiles of the last 30 samples stand in; until {@link #WARM_RESIDUALS} exist, the band
 * is the union of both and of the prior band ({@link #PRIOR_LOW}, {@link #PRIOR_HIGH}).
 * A single-model predictor ({@code ewma}, {@code holt}, …) is that model's forecast, not shrunk, with the same band.
 *
 * <p>Indexing: the forecast made after update n targets updates n+1 … n+H and is kept at row n % (H + 1) until the
 * update n + H closes its window. No gaps are filled: samples are steps.
 *
 * <p>Not thread-safe: the owner confines it (one lock per path). Allocation-free per sample after construction.
 */
final class PathForecaster {
    static final int LAST = 0;
    static final int EWMA_LONG = 1;
    static final int EWMA_SHORT = 2;
    static final int HARMONIC_5 = 3;
    static final int HARMONIC_20 = 4;
    static final int HOLT = 5;
    static final int RIDGE = 6;
    /** The mean of the last {@link #MEAN_SAMPLES} samples: a member of the auto blend only (no single predictor). */
    static final int MEAN = 7;
    static final int BUILTIN = 8;
    static final String[] NAMES = {"last", "ewma", "ewma-short", "harmonic-5", "harmonic", "holt", "ridge", "mean-90"};
    /**
     * Window of the moving-mean member of {@code auto}, in samples. Chosen on the tuning subset (full traces and 140 s
     * pieces, 30 s horizon): adding a 60- or 90-sample mean to the blend raised {@code auto} on all three families of
     * both views (90: +0.002 to +0.013), 45 samples did not; 90 had the largest smallest gain.
     */
    static final int MEAN_SAMPLES = 90;

    /**
     * Softmax temperature of the auto blend, in units of mean error (tuned on the tuning subset: 0.01, 0.02, 0.03,
     * 0.05 and 0.1 tried; 0.05 until the error prior was added, 0.02 until the moving mean joined the blend; with it,
     * 0.025, 0.03 and 0.04 are within 0.002 of each other on every family of both tuning views, 0.02 lower).
     */
    static final double AUTO_TEMPERATURE = 0.03;
    /**
     * The auto forecast is {@code blend × (1 − AUTO_SHRINK × min(2, (P90 − P10) ÷ blend))}. The scored error is
     * relative to the actual mean, so over-forecasting a dip costs more than under-forecasting a peak by the same
     * amount, and the more uncertain the path the lower the best forecast; a path without error (a constant rate)
     * keeps the blend exactly. Tuned on the development subset (0.03–0.08 tried). A per-path factor fitted to the
     * path's own recent matches was also tried and scored worse out of sample, so it is not used.
     */
    static final double AUTO_SHRINK = 0.04;
    /**
     * Step of the adaptive calibration of the band (adaptive conformal inference, Gibbs and Candès 2021): after each
     * matched window the level of the low quantile moves by {@code γ × (q_low − miss_low)} and that of the high one by
     * {@code −γ × ((1 − q_high) − miss_high)}, so that over any stretch of matches the share of windows outside the
     * band tends to the configured one whatever the residuals' distribution or their drift. Tuned on the development
     * subset.
     */
    static final double CALIBRATION_RATE = 0.005;
    static final double RESIDUAL_RANGE = 8;
    static final double RESIDUAL_BIN = 0.02;
    /** Smoothing of the path level that scales residuals. */
    static final double LEVEL_ALPHA = 0.02;
    /**
     * Matched residuals below which the band is widened to include the spread of the recent samples (the union of
     * the two). Tuned on the development subset: on its one short trace (139 s) coverage rose from 0.54 to 0.76,
     * with no change beyond 0.01 on the long ones (30, 60, 100, 150 and 300 tried; 100 and above tie).
     */
    static final int WARM_RESIDUALS = 100;
    /**
     * The prior band of a young path, as factors of the blend: until {@link #WARM_RESIDUALS} residuals exist the band
     * spans at least [e^−0.3, e^0.4] × blend. Chosen on the tuning subset (its traces, and the same cut into 140 s
     * pieces that start as fresh paths): the pooled 10 % / 90 % quantiles of ln(actual ÷ forecast) in the first 100 s
     * of a path, −0.5 and 0.7, over-covered the pieces (0.85–0.92); −0.3 / 0.4 gave 0.77–0.84 on every family of
     * both, −0.2 / 0.3 0.78–0.80.
     */
    static final double PRIOR_LOW = Math.exp(-0.3);
    static final double PRIOR_HIGH = Math.exp(0.4);
    /** Samples whose low/high quantiles form the band before enough matches exist. */
    private static final int FALLBACK_SAMPLES = 30;
    /** Matched forecasts the confidence is computed over. */
    private static final int CONFIDENCE_WINDOW = 20;
    /** Holt smoothing, trend smoothing and damping. */
    static final double HOLT_ALPHA = 0.2;
    static final double HOLT_BETA = 0.05;
    static final double HOLT_PHI = 0.9;
    /**
     * Prior mean error of each built-in model (same order as {@link #NAMES}): 1 − accuracy at the 30 s horizon,
     * averaged over the three trace families of the tuning subset. A young path has no matched forecasts to choose
     * by; without a prior, {@code auto} blended all models equally there, the noisy ones (last value, harmonic
     * means) included.
     */
    static final double[] PRIOR_ERROR = {0.381, 0.321, 0.339, 0.391, 0.446, 0.357, 0.322, 0.350};
    /** Ridge penalty in windows' worth of weight. */
    static final double RIDGE_LAMBDA = 30;

    private static final double PRIOR_MEAN = Arrays.stream(PRIOR_ERROR).average().orElse(0.5);

    private final PredictionSettings settings;
    private final int horizon;
    /** -1 for auto, else the model whose forecast is the output. */
    private final int single;
    private final ForecastModel[] models;
    private final int modelCount;
    private final boolean hasPlugin;

    private final double[] window;
    private int windowNext;
    private double windowSum;
    private long updates;

    /** Per row (n % (H + 1)): each model's forecast, then the blend, the output and its low quantile. */
    private final double[] pending;
    private final double[] pendingBlend;
    private final double[] pendingOutput;
    private final double[] pendingLow;
    private final double[] pendingHigh;

    /** Sliding window of the last W matched errors per model: ring rows of modelCount. */
    private final double[] errors;
    private final double[] errorSums;
    private int errorNext;
    private int errorSize;

    /** (actual − blend) ÷ level of the last W matches: the band. */
    private final SlidingHistogram residuals;
    private final double[] pendingLevel;
    /** Slow EWMA of the samples: the path's level, which scales the residuals. */
    private double level = Double.NaN;
    /** Calibrated quantile levels looked up in the residual histogram (start at the configured ones). */
    private double lowLevel;
    private double highLevel;
    /** {@code auto/<model>} or the model's own name, per model: no string is built per sample. */
    private final String[] outputNames;

    private final boolean[] hits = new boolean[CONFIDENCE_WINDOW];
    private int hitNext;
    private int hitCount;
    /** Hits among the {@code hitCount} entries of {@link #hits}. */
    private int hitTotal;
    private long matched;
    /** The forecast (mean, low, high) and the actual window mean of the newest match. */
    private final double[] lastMatch = {Double.NaN, Double.NaN, Double.NaN, Double.NaN};
    /** Sliding window sums for accuracy and P10 misses over the last W matches. */
    private final double[] matchAbsError;
    private final double[] matchActual;
    private final boolean[] matchBelowLow;
    private int matchNext;
    private int matchSize;

    private final double[] scratch = new double[FALLBACK_SAMPLES];
    /** The spread band of the recent samples, computed by {@link #fallbackBand()}. */
    private double fallbackLow;
    private double fallbackHigh;
    private final double[] current;
    private final double[] weights;

    private double mean = Double.NaN;
    private double low = Double.NaN;
    private double high = Double.NaN;
    private int dominant = -1;
    private long pluginFailures;

    PathForecaster(PredictionSettings settings, int horizonSamples, ForecastModel plugin) {
        this.settings = settings;
        this.horizon = horizonSamples;
        this.hasPlugin = plugin != null;
        this.modelCount = BUILTIN + (hasPlugin ? 1 : 0);
        this.models = new ForecastModel[modelCount];
        models[LAST] = new BuiltinModels.LastValue();
        models[EWMA_LONG] = new BuiltinModels.Ewma(settings.alphaLong());
        models[EWMA_SHORT] = new BuiltinModels.Ewma(settings.alphaShort());
        models[HARMONIC_5] = new BuiltinModels.HarmonicMean(5);
        models[HARMONIC_20] = new BuiltinModels.HarmonicMean(20);
        models[HOLT] = new BuiltinModels.DampedHolt(HOLT_ALPHA, HOLT_BETA, HOLT_PHI, horizonSamples);
        models[RIDGE] = new LogRidgeModel(horizonSamples, settings.historySamples(), RIDGE_LAMBDA);
        models[MEAN] = new BuiltinModels.MovingMean(MEAN_SAMPLES);
        if (hasPlugin) {
            models[BUILTIN] = plugin;
        }
        String p = settings.predictor();
        this.single = p.equals("auto") ? -1 : p.equals("plugin") ? BUILTIN : Arrays.asList(NAMES).indexOf(p);
        int w = settings.historySamples();
        this.window = new double[horizonSamples];
        this.pending = new double[(horizonSamples + 1) * modelCount];
        this.pendingBlend = new double[horizonSamples + 1];
        this.pendingOutput = new double[horizonSamples + 1];
        this.pendingLow = new double[horizonSamples + 1];
        this.pendingHigh = new double[horizonSamples + 1];
        this.errors = new double[w * modelCount];
        this.errorSums = new double[modelCount];
        // A bin centred on 0, so that a path without error has a zero-width band.
        this.residuals = new SlidingHistogram(-RESIDUAL_RANGE - RESIDUAL_BIN / 2, RESIDUAL_RANGE + RESIDUAL_BIN / 2, RESIDUAL_BIN, w, 2);
        this.lowLevel = settings.lowQuantile();
        this.highLevel = settings.highQuantile();
        this.outputNames = new String[modelCount];
        for (int m = 0; m < modelCount; m++) {
            String name = m == BUILTIN ? "plugin" : NAMES[m];
            outputNames[m] = single < 0 ? "auto/" + name : name;
        }
        this.pendingLevel = new double[horizonSamples + 1];
        this.matchAbsError = new double[w];
        this.matchActual = new double[w];
        this.matchBelowLow = new boolean[w];
        this.current = new double[modelCount];
        this.weights = new double[modelCount];
    }

    /** Consumes one goodput sample (finite, ≥ 0) and recomputes the forecast. */
    void update(double value) {
        double old = window[windowNext];
        window[windowNext] = value;
        windowNext = (windowNext + 1) % horizon;
        windowSum += value - old;
        if (windowNext == 0) {
            // Re-add from scratch once per window so rounding never accumulates.
            double s = 0;
            for (double v : window) {
                s += v;
            }
            windowSum = s;
        }
        updates++;
        level = Double.isNaN(level) ? value : LEVEL_ALPHA * value + (1 - LEVEL_ALPHA) * level;
        for (int m = 0; m < modelCount; m++) {
            if (m == BUILTIN) {
                try {
                    models[m].update(value);
                } catch (RuntimeException e) {
                    pluginFailures++;
                }
            } else {
                models[m].update(value);
            }
        }
        if (updates > horizon) {
            match((int) ((updates - horizon) % (horizon + 1)), Math.max(0, windowSum) / horizon);
        }
        predict((int) (updates % (horizon + 1)));
    }

    private void match(int row, double actual) {
        int base = row * modelCount;
        int errBase = errorNext * modelCount;
        boolean full = errorSize == settings.historySamples();
        for (int m = 0; m < modelCount; m++) {
            double f = pending[base + m];
            double e = !(f >= 0) || !Double.isFinite(f) ? 1 : actual > 0 ? Math.min(1, Math.abs(f - actual) / actual) : f > 0 ? 1 : 0;
            if (full) {
                errorSums[m] -= errors[errBase + m];
            }
            errors[errBase + m] = e;
            errorSums[m] += e;
            if (m == BUILTIN) {
                try {
                    models[m].windowClosed(actual);
                } catch (RuntimeException ex) {
                    pluginFailures++;
                }
            } else {
                models[m].windowClosed(actual);
            }
        }
        errorNext = (errorNext + 1) % settings.historySamples();
        errorSize = Math.min(errorSize + 1, settings.historySamples());

        double blend = pendingBlend[row];
        double output = pendingOutput[row];
        if (Double.isNaN(output)) {
            return;
        }
        double lvl = pendingLevel[row];
        residuals.add(lvl > 0 ? (actual - blend) / lvl : 0);
        lowLevel = clampLevel(lowLevel + CALIBRATION_RATE * (settings.lowQuantile() - (actual < pendingLow[row] ? 1 : 0)));
        highLevel = clampLevel(highLevel - CALIBRATION_RATE * ((1 - settings.highQuantile()) - (actual > pendingHigh[row] ? 1 : 0)));

        matched++;
        lastMatch[0] = output;
        lastMatch[1] = pendingLow[row];
        lastMatch[2] = pendingHigh[row];
        lastMatch[3] = actual;
        boolean hit = Math.abs(output - actual) <= settings.tolerance() * actual;
        if (matched > CONFIDENCE_WINDOW && hits[hitNext]) {
            hitTotal--;
        }
        hits[hitNext] = hit;
        hitTotal += hit ? 1 : 0;
        hitNext = (hitNext + 1) % CONFIDENCE_WINDOW;
        hitCount = (int) Math.min(matched, CONFIDENCE_WINDOW);
        matchAbsError[matchNext] = Math.abs(output - actual);
        matchActual[matchNext] = actual;
        matchBelowLow[matchNext] = actual < pendingLow[row];
        matchNext = (matchNext + 1) % matchActual.length;
        matchSize = Math.min(matchSize + 1, matchActual.length);
    }

    private void predict(int row) {
        int base = row * modelCount;
        for (int m = 0; m < modelCount; m++) {
            double f;
            if (m == BUILTIN) {
                try {
                    f = models[m].forecast();
                } catch (RuntimeException e) {
                    f = Double.NaN;
                }
            } else {
                f = models[m].forecast();
            }
            current[m] = f;
            pending[base + m] = f;
        }
        double blend;
        boolean scaled = single < 0;
        if (single == BUILTIN) {
            double f = current[BUILTIN];
            if (f >= 0 && Double.isFinite(f)) {
                blend = f;
                dominant = BUILTIN;
            } else {
                pluginFailures++;
                blend = autoBlend();
                scaled = true;
            }
        } else if (single >= 0) {
            blend = current[single];
            dominant = single;
        } else {
            blend = autoBlend();
        }
        pendingBlend[row] = blend;
        if (Double.isNaN(blend)) {
            mean = low = high = Double.NaN;
            pendingOutput[row] = Double.NaN;
            return;
        }
        boolean own = residuals.size() >= settings.minMatched();
        pendingLevel[row] = level;
        double lo;
        double hi;
        if (own) {
            // Split-conformal ranks: of n residuals, the floor((n + 1) q)-th smallest and the ceil((n + 1) q)-th, so
            // that a band from few matches is wider than their raw quantiles (the extremes when n < 1 ÷ (1 − q)).
            int n = residuals.size();
            double lowRank = Math.max(1, Math.floor((n + 1) * lowLevel));
            double highRank = Math.min(n, Math.ceil((n + 1) * highLevel));
            lo = blend + level * residuals.quantile(0, (lowRank - 0.5) / n);
            hi = blend + level * residuals.quantile(1, (highRank - 0.5) / n);
            if (n < WARM_RESIDUALS) {
                // Warm-up: a band from fewer residuals than this misses too often on a path that is still moving
                // away from where it started (short traces that ramp up); the spread of the recent samples widens it.
                fallbackBand();
                lo = Math.min(lo, fallbackLow);
                hi = Math.max(hi, fallbackHigh);
            }
        } else {
            fallbackBand();
            lo = fallbackLow;
            hi = fallbackHigh;
        }
        double output = blend;
        if (scaled && blend > 0) {
            output = blend * (1 - AUTO_SHRINK * Math.min(2, Math.max(0, hi - lo) / blend));
        }
        if (residuals.size() < WARM_RESIDUALS && lo < hi) {
            // A young path's band spans at least the prior one; the shrink above is from the path's own spread only,
            // and a path without any spread (a constant rate) keeps its zero-width band.
            lo = Math.min(lo, blend * PRIOR_LOW);
            hi = Math.max(hi, blend * PRIOR_HIGH);
        }
        mean = output;
        low = Math.max(0, Math.min(lo, output));
        high = Math.max(hi, output);
        pendingOutput[row] = output;
        pendingLow[row] = low;
        pendingHigh[row] = high;
    }

    /** The low/high quantiles of the last samples (at most 30, at most one horizon's) into fallbackLow/High. */
    private void fallbackBand() {
        int n = (int) Math.min(updates, FALLBACK_SAMPLES);
        for (int i = 0; i < n; i++) {
            scratch[i] = window[((windowNext - 1 - i) % horizon + horizon) % horizon];
        }
        // The window ring holds the last min(H, n) samples; with H < 30 the band uses H of them.
        n = Math.min(n, horizon);
        Arrays.sort(scratch, 0, n);
        fallbackLow = quantileOfSorted(scratch, n, settings.lowQuantile());
        fallbackHigh = quantileOfSorted(scratch, n, settings.highQuantile());
    }

    /** The auto blend of the built-in models; NaN when none can forecast. */
    private double autoBlend() {
        double best = Double.POSITIVE_INFINITY;
        for (int m = 0; m < BUILTIN; m++) {
            if (Double.isFinite(current[m]) && current[m] >= 0) {
                best = Math.min(best, meanError(m));
            }
        }
        if (best == Double.POSITIVE_INFINITY) {
            return Double.NaN;
        }
        double weightSum = 0;
        double sum = 0;
        double top = -1;
        for (int m = 0; m < BUILTIN; m++) {
            double w = 0;
            if (Double.isFinite(current[m]) && current[m] >= 0) {
                w = Math.exp(-(meanError(m) - best) / AUTO_TEMPERATURE);
                weightSum += w;
                sum += w * current[m];
            }
            weights[m] = w;
            if (w > top) {
                top = w;
                dominant = m;
            }
        }
        return sum / weightSum;
    }

    /**
     * Mean matched error of a model over the window, shrunk towards its prior error ({@link #PRIOR_ERROR}) with the
     * weight of a full window of matches W: a young path follows the prior, a path with W matches weighs both
     * equally. (On the tuning subset, weights of 10–1,000 matches were tried; from about 300 matches, that is W with
     * 1-second samples, the result no longer moved.) A plug-in, without a prior, gets the mean of the built-in ones.
     */
    private double meanError(int m) {
        double prior = m < PRIOR_ERROR.length ? PRIOR_ERROR[m] : PRIOR_MEAN;
        double k = settings.historySamples();
        return (errorSums[m] + k * prior) / (errorSize + k);
    }

    private static double clampLevel(double q) {
        return Math.max(0.005, Math.min(0.995, q));
    }

    private static double quantileOfSorted(double[] sorted, int n, double q) {
        double pos = q * (n - 1);
        int i = (int) Math.floor(pos);
        int j = Math.min(n - 1, i + 1);
        return sorted[i] + (pos - i) * (sorted[j] - sorted[i]);
    }

    /** Forecasts matched with their window so far. */
    long matched() {
        return matched;
    }

    /**
     * The newest match: {@code 0} the forecast's mean, {@code 1} its low and {@code 2} its high quantile, {@code 3} the
     * realised window mean; NaN before any match.
     */
    double lastMatch(int which) {
        return lastMatch[which];
    }

    /** Whether a forecast may be published: enough samples and a finite forecast. */
    boolean known() {
        return updates >= settings.minSamples() && Double.isFinite(mean);
    }

    double mean() {
        return mean;
    }

    double low() {
        return low;
    }

    double high() {
        return high;
    }

    long samples() {
        return updates;
    }

    /** Share of the last 20 matched forecasts within tolerance; 0 before {@code min-matched} matches. */
    double confidence() {
        if (matched < settings.minMatched() || hitCount == 0) {
            return 0;
        }
        return (double) hitTotal / hitCount;
    }

    /** 1 − WAPE of the output over the last W matches; NaN before any. */
    double accuracy() {
        double err = 0;
        double act = 0;
        for (int i = 0; i < matchSize; i++) {
            err += matchAbsError[i];
            act += matchActual[i];
        }
        return matchSize == 0 || act == 0 ? Double.NaN : 1 - err / act;
    }

    /** Share of the last W matched windows whose mean fell below the low quantile; NaN before any. */
    double lowMissRatio() {
        int below = 0;
        for (int i = 0; i < matchSize; i++) {
            if (matchBelowLow[i]) {
                below++;
            }
        }
        return matchSize == 0 ? Double.NaN : (double) below / matchSize;
    }

    /** Name of the model behind the output: the single model, or {@code auto/<largest weight>}. */
    String predictorName() {
        return dominant < 0 ? (single < 0 ? "auto/none" : "none") : outputNames[dominant];
    }

    /** Plug-in calls that threw or returned an unusable value. */
    long pluginFailures() {
        return pluginFailures;
    }
}
