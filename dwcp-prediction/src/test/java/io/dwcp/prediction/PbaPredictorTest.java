package io.dwcp.prediction;

import io.dwcp.core.DwcpException;
import io.dwcp.core.DwcpManager;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.config.PredictionKeys;
import io.dwcp.core.path.PathMonitor;
import io.dwcp.core.path.PathSample;
import io.dwcp.core.spi.BandwidthPredictor;
import io.dwcp.core.spi.ConditionForecast;
import io.dwcp.core.spi.Forecast;
import io.dwcp.core.Health;
import io.dwcp.core.testing.ManualClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The PBA component as DwcpManager finds and runs it: samples through the path monitor, forecasts, meters, bad input. */
class PbaPredictorTest {
    static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    final ManualClock clock = new ManualClock(T0);
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    DwcpManager manager;

    /** One-second samples, as {@link #feed} records them. */
    static DwcpConfig.Builder oneSecond() {
        return DwcpConfig.builder().set(PredictionKeys.SAMPLE_INTERVAL, Duration.ofSeconds(1))
                .set("dwcp.transport.adjust-interval", "1s");
    }

    DwcpManager start(DwcpConfig.Builder config) {
        manager = DwcpManager.builder().config(config.build()).clock(clock).meterRegistry(registry).build();
        manager.start();
        return manager;
    }

    @AfterEach
    void close() {
        if (manager != null) {
            manager.close();
        }
    }

    void feed(String peer, int seconds, double bitsPerSecond) {
        for (int i = 0; i < seconds; i++) {
            clock.advance(Duration.ofSeconds(1));
            assertNull(manager.pathMonitor().record(PathSample.goodput(peer, clock.instant(), PathSample.Source.TRANSPORT, bitsPerSecond)));
        }
    }

    @Test
    void theManagerDiscoversPbaAndStartsItWithTheOtherComponents() {
        start(oneSecond());
        BandwidthPredictor p = manager.predictor().orElseThrow();
        assertInstanceOf(PbaPredictor.class, p);
        assertTrue(manager.componentNames().contains("prediction"));
        assertEquals(Health.Status.HEALTHY, manager.componentHealth().get("prediction").status());
    }

    @Test
    void rttAndLossAreForecastFromTheMeasuredValuesOnlyAndUnknownWithoutThem() {
        start(oneSecond().set(PredictionKeys.UPDATE_INTERVAL, Duration.ofSeconds(1)));
        BandwidthPredictor p = manager.predictor().orElseThrow();
        feed("goodput-only", 40, 1e8);
        assertFalse(p.rttForecast("goodput-only").isKnown(), "no RTT was measured: none is made up");
        assertFalse(p.lossForecast("goodput-only").isKnown());
        assertFalse(p.rttForecast("nobody").isKnown());
        // 40 periods as AMST records them; the forecast uses the last 30 (one horizon of 1 s samples).
        for (int i = 0; i < 40; i++) {
            clock.advance(Duration.ofSeconds(1));
            Duration rtt = Duration.ofMillis(i % 2 == 0 ? 50 : 70);
            assertNull(manager.pathMonitor().record(new PathSample(clock.instant(), "peer-a", PathSample.Source.TRANSPORT,
                    1e8, rtt, i < 10 ? 0.5 : 0.01, -1)));
        }
        ConditionForecast rtt = p.rttForecast("peer-a");
        assertTrue(rtt.isKnown());
        assertEquals(40, rtt.samples());
        assertEquals(0.060, rtt.mean(), 1e-12);
        assertEquals(0.050, rtt.p10(), 1e-12);
        assertEquals(0.070, rtt.p90(), 1e-12);
        ConditionForecast loss = p.lossForecast("peer-a");
        assertEquals(0.01, loss.mean(), 1e-12, "the lossy first 10 periods have left the window");
        assertTrue(loss.p10() <= loss.mean() && loss.mean() <= loss.p90());
        assertEquals(0.06, registry.get("dwcp.pba.rtt.forecast").tag("peer", "peer-a").tag("quantile", "mean").gauge().value(), 1e-12);
        // A heartbeat's RTT without goodput joins the known path, and makes no path of its own.
        for (int i = 0; i < 30; i++) {
            clock.advance(Duration.ofSeconds(1));
            manager.pathMonitor().record(new PathSample(clock.instant(), "peer-a", PathSample.Source.HEARTBEAT, Double.NaN,
                    Duration.ofMillis(200), Double.NaN, -1));
            manager.pathMonitor().record(new PathSample(clock.instant(), "heartbeat-only", PathSample.Source.HEARTBEAT,
                    Double.NaN, Duration.ofMillis(200), Double.NaN, -1));
        }
        assertEquals(0.2, p.rttForecast("peer-a").mean(), 1e-12);
        assertFalse(p.rttForecast("heartbeat-only").isKnown());
    }

    @Test
    void aPathFedAConstantRateIsForecastAtThatRateWithConfidence() {
        start(oneSecond());
        feed("peer-a", 121, 2e8);
        Forecast f = manager.predictor().orElseThrow().forecast("peer-a");
        assertTrue(f.isKnown());
        assertEquals(2e8, f.meanBitsPerSecond(), 1);
        assertEquals(Duration.ofSeconds(30), f.horizon());
        assertEquals(1.0, f.confidence(), 1e-9);
        assertEquals(121, f.samples(), "published at samples 1, 6, … 121 (update-interval 5s)");
        assertTrue(f.predictor().startsWith("auto/"), f.predictor());
        Forecast s = manager.predictor().orElseThrow().shortForecast("peer-a");
        assertEquals(Duration.ofSeconds(5), s.horizon());
        assertEquals(2e8, s.meanBitsPerSecond(), 1);
        assertEquals(f, manager.predictor().orElseThrow().advice("peer-a"));
        assertEquals(2e8, registry.get("dwcp.pba.forecast").tags("peer", "peer-a", "horizon", "30s", "quantile", "mean")
                .gauge().value(), 1);
        assertEquals(121, registry.get("dwcp.pba.samples").tag("source", "transport").counter().count());
        double inUse = 0;
        for (io.micrometer.core.instrument.Gauge g : registry.get("dwcp.pba.predictor").tag("peer", "peer-a").gauges()) {
            inUse += g.value();
            if (g.value() == 1) {
                assertEquals(f.predictor(), "auto/" + g.getId().getTag("model"), "the meter names the model in use");
            }
        }
        assertEquals(1, inUse, "exactly one model is in use");
        assertEquals(PathForecaster.NAMES.length, registry.get("dwcp.pba.predictor").tag("peer", "peer-a").gauges().size());
    }

    @Test
    void anUnknownOrYoungPathIsUnknownWithConfidenceZeroNotAnException() {
        start(oneSecond());
        BandwidthPredictor p = manager.predictor().orElseThrow();
        Forecast unknown = p.forecast("nobody");
        assertFalse(unknown.isKnown());
        assertTrue(Double.isNaN(unknown.meanBitsPerSecond()));
        assertEquals(0, unknown.confidence());
        feed("young", 5, 1e6);
        assertFalse(p.forecast("young").isKnown(), "below min-samples (10)");
        assertFalse(p.advice("young").isKnown());
        assertFalse(p.forecast(null).isKnown());
    }

    @Test
    void badSamplesAreRejectedCountedAndNeverReachTheModel() {
        start(oneSecond());
        PathMonitor monitor = manager.pathMonitor();
        feed("peer-a", 21, 1e6);
        assertEquals(PathMonitor.Rejection.NO_VALUE, monitor.record(PathSample.goodput("peer-a", clock.instant(), PathSample.Source.TRANSPORT, Double.NaN)));
        assertEquals(PathMonitor.Rejection.OUT_OF_RANGE, monitor.record(PathSample.goodput("peer-a", clock.instant(), PathSample.Source.TRANSPORT, -5)));
        assertEquals(PathMonitor.Rejection.NOT_FINITE, monitor.record(PathSample.goodput("peer-a", clock.instant(), PathSample.Source.TRANSPORT, Double.POSITIVE_INFINITY)));
        assertEquals(PathMonitor.Rejection.OUT_OF_ORDER, monitor.record(PathSample.goodput("peer-a", T0, PathSample.Source.TRANSPORT, 1e6)));
        assertEquals(PathMonitor.Rejection.FUTURE, monitor.record(PathSample.goodput("peer-a", clock.instant().plusSeconds(60), PathSample.Source.TRANSPORT, 1e6)));
        Forecast f = manager.predictor().orElseThrow().forecast("peer-a");
        assertEquals(21, f.samples());
        assertEquals(1e6, f.meanBitsPerSecond(), 1e-3);
        assertEquals(1, registry.get("dwcp.pba.samples.rejected").tag("reason", "out-of-range").functionCounter().count());
        assertEquals(1, registry.get("dwcp.pba.samples.rejected").tag("reason", "no-value").functionCounter().count());
        assertEquals(1, registry.get("dwcp.pba.samples.rejected").tag("reason", "future").functionCounter().count());
    }

    @Test
    void confidenceDecaysToZeroAsTheNewestSampleAgesPastTheHorizon() {
        start(oneSecond().set(PredictionKeys.UPDATE_INTERVAL, Duration.ofSeconds(1)));
        feed("peer-a", 100, 1e7);
        BandwidthPredictor p = manager.predictor().orElseThrow();
        assertEquals(1.0, p.forecast("peer-a").confidence(), 1e-9);
        clock.advance(Duration.ofSeconds(15));
        assertEquals(0.5, p.forecast("peer-a").confidence(), 1e-9);
        assertFalse(p.advice("peer-a").isKnown(), "0.5 is below min-confidence 0.6");
        clock.advance(Duration.ofSeconds(60));
        assertEquals(0, p.forecast("peer-a").confidence());
    }

    @Test
    void forecastsArePublishedOncePerUpdateInterval() {
        start(oneSecond());
        feed("peer-a", 21, 1e6);
        Forecast first = manager.predictor().orElseThrow().forecast("peer-a");
        assertEquals(T0.plusSeconds(21), first.madeAt());
        feed("peer-a", 4, 5e6);
        assertEquals(first, manager.predictor().orElseThrow().forecast("peer-a"), "update-interval is 5s");
        feed("peer-a", 1, 5e6);
        assertEquals(26, manager.predictor().orElseThrow().forecast("peer-a").samples());
    }

    @Test
    void aSampleThatComesAMillisecondEarlyIsStillPublished() {
        // The transport's 1 s periods jitter: samples 999 ms and 1001 ms apart, update interval = sample interval.
        start(oneSecond().set(PredictionKeys.UPDATE_INTERVAL, Duration.ofSeconds(1)));
        BandwidthPredictor p = manager.predictor().orElseThrow();
        for (int i = 0; i < 30; i++) {
            clock.advance(Duration.ofMillis(i % 2 == 0 ? 999 : 1001));
            assertNull(manager.pathMonitor().record(PathSample.goodput("peer-a", clock.instant(),
                    PathSample.Source.TRANSPORT, 1e6 + i)));
            assertEquals(i + 1, p.forecast("peer-a").samples(), "sample " + i + " was not published");
        }
    }

    @Test
    void disabledPredictionAnswersUnknownAndRegistersNothing() {
        start(oneSecond().set(PredictionKeys.ENABLED, false));
        feed("peer-a", 50, 1e6);
        BandwidthPredictor p = manager.predictor().orElseThrow();
        assertFalse(p.enabled());
        assertFalse(p.forecast("peer-a").isKnown());
        assertTrue(registry.find("dwcp.pba.samples").meters().isEmpty());
    }

    @Test
    void pluginWithoutAFactoryFailsToStartWithInvalidConfig() {
        DwcpManager m = DwcpManager.builder().config(DwcpConfig.builder().set(PredictionKeys.PREDICTOR, "plugin").build())
                .clock(clock).build();
        DwcpException e = assertThrows(DwcpException.class, m::start);
        assertEquals(ErrorCode.INVALID_CONFIG, e.code());
        assertTrue(e.getMessage().contains("ForecastModelFactory"), e.getMessage());
        m.close();
    }

    @Test
    void stopRemovesMetersAndUnsubscribes() {
        start(oneSecond());
        feed("peer-a", 20, 1e6);
        assertNotNull(registry.find("dwcp.pba.confidence").gauge());
        manager.stop();
        assertNull(registry.find("dwcp.pba.confidence").gauge());
        assertNull(registry.find("dwcp.pba.samples").counter());
        clock.advance(Duration.ofSeconds(1));
        manager.pathMonitor().record(PathSample.goodput("peer-a", clock.instant(), PathSample.Source.TRANSPORT, 1e6));
        assertFalse(manager.predictor().orElseThrow().forecast("peer-a").isKnown());
    }
}
