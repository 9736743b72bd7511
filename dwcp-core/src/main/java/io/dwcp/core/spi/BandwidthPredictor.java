package io.dwcp.core.spi;

import java.time.Duration;

/**
 * The bandwidth predictor (PBA in {@code dwcp-prediction}): forecasts, per peer, the mean goodput of the path over the
 * next {@code dwcp.prediction.horizon} and {@code dwcp.prediction.short-horizon}. It reads the goodput samples the
 * manager's {@link io.dwcp.core.path.PathMonitor} accepts, so it only knows what was measured.
 *
 * <pre>{@code
 * BandwidthPredictor pba = manager.predictor().orElseThrow();
 * Forecast f = pba.forecast("peer-a");
 * }</pre>
 *
 * <p>Thread-safe. Queries never throw for an unknown peer: they return {@link Forecast#unknown}. A disabled predictor
 * ({@code dwcp.prediction.enabled = false}) starts no threads and answers every query with an unknown forecast.
 */
public interface BandwidthPredictor extends Component {
    /**
     * Forecast of the mean goodput over the configured horizon; unknown when the path has too few samples.
     *
     * @param peer the peer, as the path monitor names it
     * @return the forecast
     */
    Forecast forecast(String peer);

    /**
     * Forecast of the mean goodput over the configured short horizon; unknown when the path has too few samples.
     *
     * @param peer the peer, as the path monitor names it
     * @return the forecast
     */
    Forecast shortForecast(String peer);

    /**
     * The forecast over the configured horizon when consumers may act on it: known, and with confidence at least
     * {@code dwcp.prediction.min-confidence}; otherwise (and when disabled) an unknown forecast. Consumers use this
     * as advice; their own measurement stays the authority.
     *
     * @param peer the peer, as the path monitor names it
     * @return the forecast
     */
    Forecast advice(String peer);

    /**
     * Forecast of the path's round-trip time over the configured horizon, in seconds; unknown when the path's
     * transport has reported too few RTTs (or the predictor does not forecast it).
     *
     * @param peer the peer, as the path monitor names it
     * @return the forecast
     */
    default ConditionForecast rttForecast(String peer) {
        return ConditionForecast.unknown(horizon(), 0);
    }

    /**
     * Forecast of the path's loss ratio (retransmitted ÷ sent segments) over the configured horizon; unknown when the
     * path's transport has reported too few loss ratios (or the predictor does not forecast it).
     *
     * @param peer the peer, as the path monitor names it
     * @return the forecast
     */
    default ConditionForecast lossForecast(String peer) {
        return ConditionForecast.unknown(horizon(), 0);
    }

    /** {@return the configured horizon of {@link #forecast(String)}} */
    Duration horizon();

    /**
     * {@return whether forecasts are on ({@code dwcp.prediction.enabled}); when off, consumers act on measurement
     * alone}
     */
    boolean enabled();
}
