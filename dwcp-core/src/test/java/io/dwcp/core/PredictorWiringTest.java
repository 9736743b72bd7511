package io.dwcp.core;

import io.dwcp.core.RecordingComponents.Log;
import io.dwcp.core.RecordingComponents.RecordingCodec;
import io.dwcp.core.RecordingComponents.RecordingTransport;
import io.dwcp.core.path.PathMonitor;
import io.dwcp.core.spi.BandwidthPredictor;
import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.spi.Forecast;
import io.dwcp.core.spi.ForecastAdvisor;
import io.dwcp.core.testing.FixedPredictor;
import io.dwcp.core.testing.TestContext;
import io.dwcp.core.spi.PredictorProvider;
import org.junit.jupiter.api.Test;

import java.net.URL;
import java.net.URLClassLoader;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The manager wires a bandwidth predictor after transport and codec, and hands it its path monitor. */
class PredictorWiringTest {
    static final class RecordingPredictor extends RecordingComponents.Recording implements BandwidthPredictor {
        PathMonitor monitor;

        RecordingPredictor(Log log) {
            super("prediction", log);
        }

        @Override
        public Forecast forecast(String peer) {
            return Forecast.unknown(horizon(), 0);
        }

        @Override
        public Forecast shortForecast(String peer) {
            return Forecast.unknown(Duration.ofSeconds(5), 0);
        }

        @Override
        public Forecast advice(String peer) {
            return forecast(peer);
        }

        @Override
        public Duration horizon() {
            return Duration.ofSeconds(30);
        }

        @Override
        public boolean enabled() {
            return true;
        }
    }

    @Test
    void startsPredictionAfterTransportAndCompressionAndStopsItFirst() {
        Log log = new Log();
        RecordingPredictor predictor = new RecordingPredictor(log);
        RecordingTransport transport = new RecordingTransport(log);
        RecordingCodec codec = new RecordingCodec(log);
        DwcpManager manager = DwcpManager.builder()
                .transportProvider(RecordingComponents.provider(transport))
                .codecProvider(RecordingComponents.provider(codec))
                .predictorProvider(new PredictorProvider() {
                    @Override
                    public String name() {
                        return "recording";
                    }

                    @Override
                    public BandwidthPredictor create(ComponentContext context, PathMonitor monitor) {
                        predictor.monitor = monitor;
                        return predictor;
                    }
                })
                .build();
        manager.start();
        manager.close();
        assertEquals(List.of("start:transport", "start:compression", "start:prediction",
                "stop:prediction", "stop:compression", "stop:transport"), log.events);
        assertSame(predictor, manager.predictor().orElseThrow());
        assertSame(manager.pathMonitor(), predictor.monitor, "the predictor reads the manager's monitor");
        assertEquals(List.of("transport", "compression", "prediction"), manager.componentNames());
        assertSame(predictor, transport.context.predictor().orElseThrow(), "created after the transport, still visible to it");
        assertSame(predictor, codec.context.predictor().orElseThrow());
    }

    @Test
    void withoutAProviderComponentsSeeNoPredictor() {
        Log log = new Log();
        RecordingTransport transport = new RecordingTransport(log);
        DwcpManager manager = DwcpManager.builder().classLoader(new URLClassLoader(new URL[0], null))
                .transportProvider(RecordingComponents.provider(transport)).build();
        assertFalse(transport.context.predictor().isPresent());
        assertFalse(ForecastAdvisor.of(transport.context).active());
        assertFalse(ForecastAdvisor.of(transport.context).advice("peer").isKnown());
        manager.close();
    }

    @Test
    void theAdvisorPassesOnlyConfidentForecastsOfAnEnabledPredictor() {
        FixedPredictor pba = new FixedPredictor();
        TestContext context = TestContext.defaults().predictor(pba);
        ForecastAdvisor advisor = ForecastAdvisor.of(context);
        assertTrue(advisor.active());
        assertFalse(advisor.advice("peer").isKnown(), "unknown path");
        pba.set(FixedPredictor.mbps(Duration.ofSeconds(30), 50, 40, 60, 0.59), FixedPredictor.mbps(Duration.ofSeconds(5), 50, 40, 60, 0.6));
        assertFalse(advisor.advice("peer").isKnown(), "confidence 0.59 < min-confidence 0.6");
        assertTrue(advisor.shortAdvice("peer").isKnown(), "confidence 0.6 is enough");
        assertEquals(50e6, advisor.shortAdvice("peer").meanBitsPerSecond());
        assertFalse(advisor.shortAdvice(null).isKnown(), "no peer, no forecast");
        pba.enabled(false);
        assertFalse(advisor.active());
        assertFalse(advisor.shortAdvice("peer").isKnown(), "dwcp.prediction.enabled = false");
        TestContext strict = TestContext.of(io.dwcp.core.config.DwcpConfig.builder().set("dwcp.prediction.min-confidence", "0.9")
                .build()).predictor(pba.enabled(true));
        assertFalse(ForecastAdvisor.of(strict).shortAdvice("peer").isKnown(), "min-confidence is read from the config");
    }

    @Test
    void theAdvisorPassesKnownRttAndLossForecastsOfAnEnabledPredictorOnly() {
        FixedPredictor pba = new FixedPredictor();
        ForecastAdvisor advisor = ForecastAdvisor.of(TestContext.defaults().predictor(pba));
        assertFalse(advisor.rttAdvice("peer").isKnown(), "unknown path");
        assertFalse(advisor.lossAdvice("peer").isKnown(), "unknown path");
        pba.conditions(FixedPredictor.condition(0.06, 0.05, 0.08), FixedPredictor.condition(0.001, 0, 0.003));
        assertEquals(0.06, advisor.rttAdvice("peer").mean());
        assertEquals(0.001, advisor.lossAdvice("peer").mean());
        assertFalse(advisor.lossAdvice(null).isKnown(), "no peer, no forecast");
        pba.enabled(false);
        assertFalse(advisor.rttAdvice("peer").isKnown(), "dwcp.prediction.enabled = false");
        assertFalse(advisor.lossAdvice("peer").isKnown(), "dwcp.prediction.enabled = false");
        assertFalse(ForecastAdvisor.of(TestContext.defaults()).lossAdvice("peer").isKnown(), "no predictor");
    }

    @Test
    void withoutAProviderThereIsNoPredictorButStillAPathMonitor() {
        // An empty class loader: ServiceLoader finds no provider at all.
        DwcpManager manager = DwcpManager.builder().classLoader(new URLClassLoader(new URL[0], null)).build();
        assertFalse(manager.predictor().isPresent());
        assertTrue(manager.pathMonitor().peers().isEmpty());
        manager.close();
    }
}
