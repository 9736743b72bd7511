package io.dwcp.core;

import io.dwcp.core.RecordingComponents.Log;
import io.dwcp.core.RecordingComponents.RecordingCodec;
import io.dwcp.core.RecordingComponents.RecordingTransport;
import io.dwcp.core.path.PathMonitor;
import io.dwcp.core.spi.BandwidthPredictor;
import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.spi.Forecast;
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
        DwcpManager manager = DwcpManager.builder()
                .transportProvider(RecordingComponents.provider(new RecordingTransport(log)))
                .codecProvider(RecordingComponents.provider(new RecordingCodec(log)))
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
