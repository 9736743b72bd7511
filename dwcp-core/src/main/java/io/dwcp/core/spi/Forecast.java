package io.dwcp.core.spi;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * A forecast of the mean goodput a path will deliver over the next {@link #horizon()}, with its P10 and P90 quantiles
 * and how much to trust it. Rates are in bits per second (10^6 bit/s = 1 Mbit/s).
 *
 * <p>An {@link #unknown unknown} forecast (no samples, or fewer than {@code dwcp.prediction.min-samples}) has
 * {@code NaN} rates and confidence 0: it is never a made-up number. Consumers test {@link #isKnown()} and
 * {@link #confidence()} before using a forecast, and treat it as advice: measurement stays the authority.
 *
 * <pre>{@code
 * Forecast f = predictor.forecast(peer);
 * if (f.isKnown() && f.confidence() >= minConfidence) {
 *     plan(f.meanBitsPerSecond(), f.p10BitsPerSecond());
 * }
 * }</pre>
 *
 * @param known whether the rates are a forecast ({@code false}: unknown path, rates NaN)
 * @param meanBitsPerSecond forecast mean goodput over [madeAt, madeAt + horizon), bits per second; NaN when unknown
 * @param p10BitsPerSecond 10th percentile of that mean (≥ 0, ≤ mean); NaN when unknown
 * @param p90BitsPerSecond 90th percentile of that mean (≥ mean); NaN when unknown
 * @param confidence share of the path's recent matched forecasts that fell within tolerance, in [0, 1]; 0 until
 *     enough were matched, and decaying to 0 when the newest sample is older than the horizon
 * @param samples goodput samples the path's model has seen
 * @param horizon the window the mean is over; never {@code null}
 * @param madeAt when the forecast was made (the time of the newest sample it used), or {@code null} when unknown
 * @param predictor name of the model that made it ({@code auto/ewma-long}, {@code holt}, …); empty when unknown
 */
public record Forecast(boolean known, double meanBitsPerSecond, double p10BitsPerSecond, double p90BitsPerSecond,
                       double confidence, long samples, Duration horizon, Instant madeAt, String predictor) {
    /**
     * Checks the invariants: a known forecast has finite rates with 0 ≤ P10 ≤ mean ≤ P90.
     *
     * @param known whether the rates are a forecast ({@code false}: unknown path, rates NaN)
     * @param meanBitsPerSecond forecast mean goodput over [madeAt, madeAt + horizon), bits per second; NaN when unknown
     * @param p10BitsPerSecond 10th percentile of that mean (≥ 0, ≤ mean); NaN when unknown
     * @param p90BitsPerSecond 90th percentile of that mean (≥ mean); NaN when unknown
     * @param confidence share of the path's recent matched forecasts that fell within tolerance, in [0, 1]; 0 until
     *     enough were matched, and decaying to 0 when the newest sample is older than the horizon
     * @param samples goodput samples the path's model has seen
     * @param horizon the window the mean is over; never {@code null}
     * @param madeAt when the forecast was made (the time of the newest sample it used), or {@code null} when unknown
     * @param predictor name of the model that made it ({@code auto/ewma-long}, {@code holt}, …); empty when unknown
     */
    public Forecast {
        Objects.requireNonNull(horizon, "horizon");
        Objects.requireNonNull(predictor, "predictor");
        if (!(confidence >= 0 && confidence <= 1)) {
            throw new IllegalArgumentException("confidence must be in [0, 1], got " + confidence);
        }
        if (known) {
            Objects.requireNonNull(madeAt, "madeAt");
            if (!(p10BitsPerSecond >= 0 && p10BitsPerSecond <= meanBitsPerSecond && meanBitsPerSecond <= p90BitsPerSecond
                    && Double.isFinite(p90BitsPerSecond))) {
                throw new IllegalArgumentException("a known forecast needs finite 0 <= p10 <= mean <= p90, got "
                        + p10BitsPerSecond + ", " + meanBitsPerSecond + ", " + p90BitsPerSecond);
            }
        }
    }

    /**
     * The forecast for a path without enough data: NaN rates, confidence 0.
     *
     * @param horizon the horizon asked for
     * @param samples the samples the path has
     * @return the forecast
     */
    public static Forecast unknown(Duration horizon, long samples) {
        return new Forecast(false, Double.NaN, Double.NaN, Double.NaN, 0, samples, horizon, null, "");
    }

    /** {@return whether the rates are a forecast (false: unknown path)} */
    public boolean isKnown() {
        return known;
    }
}
