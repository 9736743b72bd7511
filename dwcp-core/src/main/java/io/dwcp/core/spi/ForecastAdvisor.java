package io.dwcp.core.spi;

import io.dwcp.core.config.PredictionKeys;

import java.util.Objects;
import java.util.Optional;

/**
 * What a consumer of forecasts (the transport's stream controller, the codec's level controller) asks: the forecast of
 * a peer's path when it may act on it, or an unknown forecast when it must act on measurement alone.
 *
 * <p>A forecast is advice only when all of these hold: a predictor runs beside the component
 * ({@link ComponentContext#predictor()}), it is {@linkplain BandwidthPredictor#enabled() enabled}
 * ({@code dwcp.prediction.enabled}), the forecast is known, and its confidence is at least
 * {@code dwcp.prediction.min-confidence}. Otherwise every method answers {@link Forecast#unknown}, and a consumer that
 * tests {@link Forecast#isKnown()} behaves exactly as it would without the prediction module.
 *
 * <pre>{@code
 * ForecastAdvisor advisor = ForecastAdvisor.of(context);
 * Forecast f = advisor.advice(PathSample.peerName(session.remoteAddress()));
 * double planned = f.isKnown() ? f.meanBitsPerSecond() : measuredBitsPerSecond;
 * }</pre>
 *
 * <p>Thread-safe; queries read published forecasts and never block or throw (a {@code null} peer is unknown).
 */
public final class ForecastAdvisor {
    private final ComponentContext context;
    private final double minConfidence;

    private ForecastAdvisor(ComponentContext context) {
        this.context = context;
        this.minConfidence = context.config().get(PredictionKeys.MIN_CONFIDENCE);
    }

    /**
     * An advisor that reads {@code context}'s predictor at each query (the manager creates the predictor after the
     * transport and the codec, so it is not looked up here).
     *
     * @param context the component's context; not {@code null}
     * @return the advisor
     */
    public static ForecastAdvisor of(ComponentContext context) {
        return new ForecastAdvisor(Objects.requireNonNull(context, "context"));
    }

    /**
     * The forecast over {@code dwcp.prediction.horizon} of the path to {@code peer}, when it is advice.
     *
     * @param peer the peer as the path monitor names it ({@link io.dwcp.core.path.PathSample#peerName}); may be
     *     {@code null} (unknown)
     * @return the forecast, or an unknown one
     */
    public Forecast advice(String peer) {
        return gate(peer, true);
    }

    /**
     * The forecast over {@code dwcp.prediction.short-horizon} of the path to {@code peer}, when it is advice (the
     * same confidence rule as {@link #advice}).
     *
     * @param peer the peer as the path monitor names it; may be {@code null} (unknown)
     * @return the forecast, or an unknown one
     */
    public Forecast shortAdvice(String peer) {
        return gate(peer, false);
    }

    /**
     * The forecast of the round-trip time (seconds) of the path to {@code peer} over the horizon, when a predictor
     * runs beside the component with forecasts on and the path has enough measured RTTs; otherwise unknown. A
     * condition forecast carries no confidence: it is the recent measured values' mean and spread, so it is advice as
     * soon as it is known.
     *
     * @param peer the peer as the path monitor names it; may be {@code null} (unknown)
     * @return the forecast, or an unknown one
     */
    public ConditionForecast rttAdvice(String peer) {
        return condition(peer, true);
    }

    /**
     * The forecast of the loss ratio (retransmitted ÷ sent segments) of the path to {@code peer} over the horizon, on
     * the same terms as {@link #rttAdvice}.
     *
     * @param peer the peer as the path monitor names it; may be {@code null} (unknown)
     * @return the forecast, or an unknown one
     */
    public ConditionForecast lossAdvice(String peer) {
        return condition(peer, false);
    }

    /** {@return whether a predictor runs beside the component with forecasts on; false means measurement alone} */
    public boolean active() {
        Optional<BandwidthPredictor> p = context.predictor();
        return p.isPresent() && p.get().enabled();
    }

    private ConditionForecast condition(String peer, boolean rtt) {
        Optional<BandwidthPredictor> p = context.predictor();
        if (p.isEmpty() || !p.get().enabled() || peer == null) {
            return ConditionForecast.unknown(java.time.Duration.ZERO, 0);
        }
        return rtt ? p.get().rttForecast(peer) : p.get().lossForecast(peer);
    }

    private Forecast gate(String peer, boolean longHorizon) {
        Optional<BandwidthPredictor> p = context.predictor();
        if (p.isEmpty() || !p.get().enabled() || peer == null) {
            return Forecast.unknown(java.time.Duration.ZERO, 0);
        }
        Forecast f = longHorizon ? p.get().forecast(peer) : p.get().shortForecast(peer);
        if (f.isKnown() && f.confidence() >= minConfidence) {
            return f;
        }
        return Forecast.unknown(f.horizon(), f.samples());
    }
}
