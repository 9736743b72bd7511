package io.dwcp.prediction;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The classic predictors against hand-computed values. */
class BuiltinModelsTest {
    static void feed(ForecastModel m, double... values) {
        for (double v : values) {
            m.update(v);
        }
    }

    @Test
    void lastValueIsTheLastSampleAndUnknownBeforeAny() {
        BuiltinModels.LastValue m = new BuiltinModels.LastValue();
        assertTrue(Double.isNaN(m.forecast()));
        feed(m, 3, 7);
        assertEquals(7, m.forecast());
    }

    @Test
    void ewmaIsSeededWithTheFirstSample() {
        BuiltinModels.Ewma m = new BuiltinModels.Ewma(0.5);
        feed(m, 2);
        assertEquals(2, m.forecast());
        feed(m, 4, 8);
        // 2 → 0.5·4 + 0.5·2 = 3 → 0.5·8 + 0.5·3 = 5.5
        assertEquals(5.5, m.forecast(), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> new BuiltinModels.Ewma(0));
    }

    @Test
    void harmonicMeanOfTheLastNAndZeroWhenOneIsZero() {
        BuiltinModels.HarmonicMean m = new BuiltinModels.HarmonicMean(3);
        feed(m, 100, 1, 2, 4);
        // last three: 3 / (1 + 1/2 + 1/4)
        assertEquals(3 / 1.75, m.forecast(), 1e-12);
        feed(m, 0);
        assertEquals(0, m.forecast());
        feed(m, 5, 5, 5);
        assertEquals(5, m.forecast(), 1e-12);
    }

    @Test
    void movingMeanOfTheLastNSamples() {
        BuiltinModels.MovingMean m = new BuiltinModels.MovingMean(3);
        assertTrue(Double.isNaN(m.forecast()));
        feed(m, 6);
        assertEquals(6, m.forecast());
        feed(m, 3);
        assertEquals(4.5, m.forecast(), 1e-12);
        feed(m, 0, 9, 1e9, 2, 2, 2);
        // the spike (1e9) has left the window of three: (2 + 2 + 2) / 3
        assertEquals(2, m.forecast(), 1e-6);
        feed(m, 5);
        assertEquals(3, m.forecast(), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> new BuiltinModels.MovingMean(0));
    }

    @Test
    void dampedHoltMatchesTheRecurrenceByHand() {
        BuiltinModels.DampedHolt m = new BuiltinModels.DampedHolt(0.5, 0.5, 0.5, 2);
        feed(m, 10);
        assertEquals(10, m.forecast(), 1e-12);
        feed(m, 20);
        // level = 0.5·20 + 0.5·(10 + 0) = 15; trend = 0.5·(15 − 10) + 0.5·0.5·0 = 2.5
        // mean over 2 steps of cumulative damping: (0.5 + (0.5 + 0.25)) / 2 = 0.625 → 15 + 0.625·2.5
        assertEquals(15 + 0.625 * 2.5, m.forecast(), 1e-12);
    }

    @Test
    void dampedHoltNeverForecastsBelowZero() {
        BuiltinModels.DampedHolt m = new BuiltinModels.DampedHolt(0.9, 0.9, 0.98, 30);
        // Unclamped, level + trend would be about −151 here.
        feed(m, 1000, 500, 100, 10, 0);
        assertEquals(0, m.forecast());
    }

    @Test
    void ridgeStartsAtTheEwmaLevelAndLearnsAConstantRatio() {
        LogRidgeModel m = new LogRidgeModel(1, 1000, 1);
        m.update(8);
        assertEquals(8, m.forecast(), 1e-9, "no window closed yet: the prior is EWMA(0.1)");
        // A path whose next sample is always twice the current level: the ridge learns the factor from the
        // intercept, so the forecast ends well above the plain level.
        double v = 1;
        for (int i = 0; i < 400; i++) {
            m.update(i % 2 == 0 ? v : 2 * v);
            m.windowClosed(i % 2 == 0 ? 2 * v : v);
        }
        assertTrue(Double.isFinite(m.forecast()) && m.forecast() >= 0, "finite, non-negative: " + m.forecast());
    }
}
