package io.dwcp.prediction;

import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.config.PredictionKeys;

import java.time.Duration;

/**
 * The prediction keys read once from the configuration, horizons converted to samples.
 *
 * @param enabled {@code dwcp.prediction.enabled}
 * @param horizon {@code dwcp.prediction.horizon}
 * @param shortHorizon {@code dwcp.prediction.short-horizon}
 * @param updateInterval {@code dwcp.prediction.update-interval}
 * @param sampleInterval {@code dwcp.prediction.sample-interval}
 * @param historySamples {@code dwcp.prediction.history-window} ÷ sample interval, ≥ 1
 * @param predictor {@code dwcp.prediction.predictor}
 * @param alphaLong {@code dwcp.prediction.ewma.alpha-long}
 * @param alphaShort {@code dwcp.prediction.ewma.alpha-short}
 * @param minSamples {@code dwcp.prediction.min-samples}
 * @param minMatched {@code dwcp.prediction.min-matched}
 * @param tolerance {@code dwcp.prediction.tolerance}
 * @param minConfidence {@code dwcp.prediction.min-confidence}
 * @param lowQuantile first of {@code dwcp.prediction.quantiles}
 * @param highQuantile second of {@code dwcp.prediction.quantiles}
 */
record PredictionSettings(boolean enabled, Duration horizon, Duration shortHorizon, Duration updateInterval,
                          Duration sampleInterval, int historySamples, String predictor, double alphaLong,
                          double alphaShort, int minSamples, int minMatched, double tolerance, double minConfidence,
                          double lowQuantile, double highQuantile) {

    static PredictionSettings from(DwcpConfig config) {
        Duration sample = config.get(PredictionKeys.SAMPLE_INTERVAL);
        double[] q = PredictionKeys.quantiles(config.get(PredictionKeys.QUANTILES));
        return new PredictionSettings(config.get(PredictionKeys.ENABLED), config.get(PredictionKeys.HORIZON),
                config.get(PredictionKeys.SHORT_HORIZON), config.get(PredictionKeys.UPDATE_INTERVAL), sample,
                samples(config.get(PredictionKeys.HISTORY_WINDOW), sample), config.get(PredictionKeys.PREDICTOR),
                config.get(PredictionKeys.EWMA_ALPHA_LONG), config.get(PredictionKeys.EWMA_ALPHA_SHORT),
                config.get(PredictionKeys.MIN_SAMPLES), config.get(PredictionKeys.MIN_MATCHED),
                config.get(PredictionKeys.TOLERANCE), config.get(PredictionKeys.MIN_CONFIDENCE), q[0], q[1]);
    }

    /** A duration in whole samples, at least 1. */
    int samples(Duration d) {
        return samples(d, sampleInterval);
    }

    private static int samples(Duration d, Duration sample) {
        return (int) Math.max(1, Math.round((double) d.toNanos() / sample.toNanos()));
    }
}
