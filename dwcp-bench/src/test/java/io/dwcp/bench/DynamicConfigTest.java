package io.dwcp.bench;

import io.dwcp.core.DwcpException;
import io.dwcp.core.DwcpManager;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.config.CompressionKeys;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.config.TransportKeys;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Dynamic keys change through {@link DwcpManager#updateConfig} on a running manager with the real providers. */
@Timeout(60)
class DynamicConfigTest {
    private static DwcpManager manager(SimpleMeterRegistry registry) {
        return DwcpManager.builder().meterRegistry(registry).config(DwcpConfig.builder()
                .set("dwcp.node-id", "n1").set("dwcp.transport.tls.enabled", "false").build()).build();
    }

    private static double pacingRate(SimpleMeterRegistry registry) {
        return registry.get("dwcp.amst.pacing.rate").tag("node", "n1").gauge().value();
    }

    @Test
    void theRateCapChangesOnARunningTransportAndSurvivesARestart() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (DwcpManager m = manager(registry)) {
            m.start();
            assertEquals(0, pacingRate(registry), "no cap by default");

            m.updateConfig("dwcp.transport.rate-cap", "40Mbit/s");
            assertEquals(40e6, pacingRate(registry), 1, "the transport applied the cap");
            assertEquals("40Mbit/s", m.config().get(TransportKeys.RATE_CAP).orElseThrow().toString());

            m.stop();
            m.start();
            assertEquals(40e6, pacingRate(registry), 1, "a restart keeps the change");

            m.updateConfig(TransportKeys.RATE_CAP, Optional.empty());
            assertEquals(0, pacingRate(registry), "none removes the cap");
        }
    }

    @Test
    void compressionLevelsAreReadThroughTheLiveView() {
        try (DwcpManager m = manager(new SimpleMeterRegistry())) {
            DwcpConfig view = m.config();
            m.updateConfig(CompressionKeys.LEVEL_WAN, "zstd:1");
            assertEquals("zstd:1", view.get(CompressionKeys.LEVEL_WAN), "a view taken before the change sees it");
            DwcpConfig snapshot = view.toBuilder().build();
            m.updateConfig(CompressionKeys.LEVEL_WAN, "zstd:5");
            assertEquals("zstd:1", snapshot.get(CompressionKeys.LEVEL_WAN), "a snapshot does not change");
        }
    }

    @Test
    void staticKeysUnknownKeysAndBadValuesAreRefusedAndChangeNothing() {
        try (DwcpManager m = manager(new SimpleMeterRegistry())) {
            m.start();
            DwcpException notDynamic = assertThrows(DwcpException.class,
                    () -> m.updateConfig("dwcp.transport.max-streams", "8"));
            assertEquals(ErrorCode.INVALID_CONFIG, notDynamic.code());
            assertTrue(notDynamic.getMessage().contains("dwcp.transport.max-streams is not dynamic"), notDynamic.getMessage());
            assertTrue(notDynamic.getMessage().contains("dwcp.transport.rate-cap"), "names the dynamic keys");

            DwcpException badValue = assertThrows(DwcpException.class,
                    () -> m.updateConfig("dwcp.compression.level.wan", "lz4"));
            assertEquals(ErrorCode.INVALID_CONFIG, badValue.code());
            assertEquals("zstd:9", m.config().get(CompressionKeys.LEVEL_WAN), "nothing changed");

            DwcpException unknown = assertThrows(DwcpException.class,
                    () -> m.updateConfig("dwcp.transport.rate-capp", "1Gbit/s"));
            assertTrue(unknown.getMessage().contains("did you mean dwcp.transport.rate-cap"), unknown.getMessage());
        }
    }
}
