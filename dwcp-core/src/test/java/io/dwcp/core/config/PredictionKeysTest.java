package io.dwcp.core.config;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Rules between the prediction keys. */
class PredictionKeysTest {
    @Test
    void updateIntervalAboveHorizonIsInvalidConfigNamingBothKeys() {
        DwcpException e = assertThrows(DwcpException.class, () -> DwcpConfig.builder()
                .set("dwcp.prediction.horizon", "10s").set("dwcp.prediction.update-interval", "20s").build());
        assertEquals(ErrorCode.INVALID_CONFIG, e.code());
        assertTrue(e.getMessage().contains("dwcp.prediction.update-interval (20s) must be ≤ horizon (10s)"), e.getMessage());
    }

    @Test
    void shortHorizonAboveHorizonAndHistoryBelowHorizonAreBothReported() {
        DwcpException e = assertThrows(DwcpException.class, () -> DwcpConfig.builder()
                .set("dwcp.prediction.horizon", "10s").set("dwcp.prediction.short-horizon", "20s")
                .set("dwcp.prediction.update-interval", "5s").set("dwcp.prediction.history-window", "6s").build());
        assertTrue(e.getMessage().contains("short-horizon (20s) must be ≤ horizon (10s)"), e.getMessage());
        assertTrue(e.getMessage().contains("history-window (6s) must be ≥ horizon (10s)"), e.getMessage());
    }

    @Test
    void windowsOfMoreThan3600SamplesAreRefusedToBoundMemory() {
        DwcpException e = assertThrows(DwcpException.class, () -> DwcpConfig.builder()
                .set("dwcp.prediction.sample-interval", "100ms").set("dwcp.prediction.short-horizon", "1s")
                .set("dwcp.prediction.history-window", "2h").build());
        assertTrue(e.getMessage().contains("dwcp.prediction.history-window (2h) spans 72000 samples"), e.getMessage());
        DwcpConfig.builder().set("dwcp.prediction.sample-interval", "1s").set("dwcp.prediction.history-window", "1h").build();
    }

    @Test
    void quantilesParseOnlyAnOrderedPairAroundTheMedian() {
        assertArrayEquals(new double[] {0.1, 0.9}, PredictionKeys.quantiles(" 0.1 , 0.9"));
        assertNull(PredictionKeys.quantiles("0.6, 0.9"));
        assertNull(PredictionKeys.quantiles("0.1"));
        assertNull(PredictionKeys.quantiles("a, b"));
        assertArrayEquals(new double[] {0.1, 0.9}, PredictionKeys.quantiles(DwcpConfig.defaults().get(PredictionKeys.QUANTILES)));
    }
}
