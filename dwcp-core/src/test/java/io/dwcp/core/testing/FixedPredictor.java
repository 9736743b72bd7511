package io.dwcp.core.testing;

import io.dwcp.core.Health;
import io.dwcp.core.spi.BandwidthPredictor;
import io.dwcp.core.spi.ConditionForecast;
import io.dwcp.core.spi.Forecast;

import java.time.Duration;
import java.time.Instant;

/**
 * A {@link BandwidthPredictor} for consumers' tests: every peer gets the forecasts last {@linkplain #set set} (unknown
 * until then), so a test decides exactly what the transport or the codec is advised. Thread-safe.
 */
public final class FixedPredictor implements BandwidthPredictor {
    private volatile Forecast longForecast = Forecast.unknown(Duration.ofSeconds(30), 0);
    private volatile Forecast shortForecast = Forecast.unknown(Duration.ofSeconds(5), 0);
    private volatile boolean enabled = true;
    private volatile ConditionForecast rtt = ConditionForecast.unknown(Duration.ofSeconds(30), 0);
    private volatile ConditionForecast loss = ConditionForecast.unknown(Duration.ofSeconds(30), 0);
    private final java.util.concurrent.atomic.AtomicInteger queries = new java.util.concurrent.atomic.AtomicInteger();

    /** A known forecast over {@code horizon}: mean, P10 and P90 in Mbit/s, with the given confidence. */
    public static Forecast mbps(Duration horizon, double mean, double p10, double p90, double confidence) {
        return new Forecast(true, mean * 1e6, p10 * 1e6, p90 * 1e6, confidence, 100, horizon, Instant.EPOCH, "fixed");
    }

    /** Sets what {@link #forecast} and {@link #advice} answer; {@code null} keeps the current one. */
    public FixedPredictor set(Forecast longHorizon, Forecast shortHorizon) {
        if (longHorizon != null) {
            this.longForecast = longHorizon;
        }
        if (shortHorizon != null) {
            this.shortForecast = shortHorizon;
        }
        return this;
    }

    /** A known RTT (seconds) or loss-ratio forecast over 30 s: mean, P10 and P90. */
    public static ConditionForecast condition(double mean, double p10, double p90) {
        return new ConditionForecast(true, mean, p10, p90, 100, Duration.ofSeconds(30), Instant.EPOCH);
    }

    /** Sets what {@link #rttForecast} and {@link #lossForecast} answer; {@code null} keeps the current one. */
    public FixedPredictor conditions(ConditionForecast rttForecast, ConditionForecast lossForecast) {
        if (rttForecast != null) {
            this.rtt = rttForecast;
        }
        if (lossForecast != null) {
            this.loss = lossForecast;
        }
        return this;
    }

    /** Sets {@link #enabled()} (the {@code dwcp.prediction.enabled} switch). */
    public FixedPredictor enabled(boolean on) {
        this.enabled = on;
        return this;
    }

    /** Queries answered so far (of either horizon). */
    public int queries() {
        return queries.get();
    }

    @Override
    public Forecast forecast(String peer) {
        queries.incrementAndGet();
        return longForecast;
    }

    @Override
    public Forecast shortForecast(String peer) {
        queries.incrementAndGet();
        return shortForecast;
    }

    @Override
    public Forecast advice(String peer) {
        Forecast f = forecast(peer);
        return f.isKnown() && f.confidence() >= 0.6 ? f : Forecast.unknown(f.horizon(), f.samples());
    }

    @Override
    public ConditionForecast rttForecast(String peer) {
        queries.incrementAndGet();
        return rtt;
    }

    @Override
    public ConditionForecast lossForecast(String peer) {
        queries.incrementAndGet();
        return loss;
    }

    @Override
    public Duration horizon() {
        return longForecast.horizon();
    }

    @Override
    public boolean enabled() {
        return enabled;
    }

    @Override
    public String name() {
        return "prediction";
    }

    @Override
    public void start() {
    }

    @Override
    public void stop() {
    }

    @Override
    public Health health() {
        return Health.healthy("fixed forecasts");
    }
}
