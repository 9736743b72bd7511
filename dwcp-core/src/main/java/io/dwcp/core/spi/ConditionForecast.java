package io.dwcp.core.spi;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * A forecast of one path condition other than goodput over the next {@link #horizon()}: the round-trip time (in
 * seconds, {@link BandwidthPredictor#rttForecast}) or the loss ratio (retransmitted ÷ sent segments, 0 to 1,
 * {@link BandwidthPredictor#lossForecast}), with a P10 and a P90.
 *
 * <p>An {@linkplain #unknown unknown} forecast (the path has fewer than {@code dwcp.prediction.min-samples} measured
 * values of the quantity) has {@code NaN} values: a path whose transport reports no RTT or loss never gets a made-up
 * one.
 *
 * <pre>{@code
 * ConditionForecast rtt = predictor.rttForecast(peer);
 * if (rtt.isKnown()) {
 *     timeout = Duration.ofNanos((long) (rtt.p90() * 4e9));
 * }
 * }</pre>
 *
 * @param known whether the values are a forecast ({@code false}: unknown, values NaN)
 * @param mean forecast mean of the quantity over [madeAt, madeAt + horizon); NaN when unknown
 * @param p10 10th percentile (≥ 0, ≤ mean); NaN when unknown
 * @param p90 90th percentile (≥ mean, finite); NaN when unknown
 * @param samples measured values of the quantity the path has had
 * @param horizon the window the mean is over; never {@code null}
 * @param madeAt when the forecast was made (the time of the newest sample it used), or {@code null} when unknown
 */
public record ConditionForecast(boolean known, double mean, double p10, double p90, long samples, Duration horizon,
                                Instant madeAt) {
    /**
     * Checks the invariants: a known forecast has finite values with 0 ≤ P10 ≤ mean ≤ P90 and a time.
     *
     * @param known whether the values are a forecast
     * @param mean forecast mean; NaN when unknown
     * @param p10 10th percentile; NaN when unknown
     * @param p90 90th percentile; NaN when unknown
     * @param samples measured values of the quantity the path has had
     * @param horizon the window the mean is over; never {@code null}
     * @param madeAt when the forecast was made, or {@code null} when unknown
     */
    public ConditionForecast {
        Objects.requireNonNull(horizon, "horizon");
        if (known) {
            Objects.requireNonNull(madeAt, "madeAt");
            if (!(p10 >= 0 && p10 <= mean && mean <= p90 && Double.isFinite(p90))) {
                throw new IllegalArgumentException("a known forecast needs finite 0 <= p10 <= mean <= p90, got "
                        + p10 + ", " + mean + ", " + p90);
            }
        }
    }

    /**
     * The forecast for a path without enough measured values: NaN values.
     *
     * @param horizon the horizon asked for
     * @param samples the measured values the path has
     * @return the forecast
     */
    public static ConditionForecast unknown(Duration horizon, long samples) {
        return new ConditionForecast(false, Double.NaN, Double.NaN, Double.NaN, samples, horizon, null);
    }

    /** {@return whether the values are a forecast (false: unknown)} */
    public boolean isKnown() {
        return known;
    }
}
