package io.dwcp.prediction;

import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.config.PredictionKeys;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Arbitrary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Laws of the per-path engine: exactness on constant paths, calibrated bands, invariants, plug-in bypass. */
class PathForecasterTest {
    static PredictionSettings settings(String predictor) {
        return PredictionSettings.from(DwcpConfig.builder().set(PredictionKeys.PREDICTOR, predictor)
                .set(PredictionKeys.SAMPLE_INTERVAL, java.time.Duration.ofSeconds(1)).build());
    }

    @ParameterizedTest
    @ValueSource(strings = {"auto", "last", "ewma", "ewma-short", "harmonic", "harmonic-5", "holt", "ridge"})
    void aConstantPathIsForecastExactlyWithAZeroWidthBandAndFullConfidence(String predictor) {
        PathForecaster f = new PathForecaster(settings(predictor), 30, null);
        for (int i = 0; i < 200; i++) {
            f.update(4e8);
        }
        assertTrue(f.known());
        assertEquals(4e8, f.mean(), 1e-3);
        assertEquals(4e8, f.low(), 1e-3);
        assertEquals(4e8, f.high(), 1e-3);
        assertEquals(1.0, f.confidence());
        assertEquals(1.0, f.accuracy(), 1e-12);
    }

    @Test
    void unknownBeforeMinSamplesAndNoConfidenceBeforeMinMatched() {
        PathForecaster f = new PathForecaster(settings("auto"), 30, null);
        for (int i = 0; i < 9; i++) {
            f.update(1e6);
        }
        assertFalse(f.known(), "min-samples is 10");
        f.update(1e6);
        assertTrue(f.known());
        assertEquals(0, f.confidence(), "no forecast matched yet");
    }

    /**
     * The band's calibration: after the path's variability quadruples, the share of windows inside the band returns
     * towards 80 % instead of staying at what the old residuals imply, and the miss rates stay balanced.
     */
    @Test
    void theBandRecalibratesAfterTheVariabilityOfThePathChanges() {
        Random r = new Random(3);
        double[] x = new double[9000];
        for (int i = 0; i < x.length; i++) {
            x[i] = 1e7 * Math.exp((i < 3000 ? 0.1 : 0.8) * r.nextGaussian());
        }
        double[] misses = missRates("ewma", x, 5, 6000);
        double coverage = 1 - misses[0] - misses[1];
        assertTrue(coverage > 0.74 && coverage < 0.86, "coverage " + coverage);
        assertTrue(misses[0] > 0.05 && misses[0] < 0.15, "below P10 " + misses[0]);
    }

    /** A stationary path (i.i.d. log-normal seconds): the 10–90 % band covers about 80 % of the window means. */
    @ParameterizedTest
    @ValueSource(strings = {"auto", "ewma"})
    void theBandCoversAboutEightyPercentOfWindowsOnAStationaryPath(String predictor) {
        Random r = new Random(42);
        double[] x = new double[4000];
        for (int i = 0; i < x.length; i++) {
            x[i] = 1e7 * Math.exp(0.6 * r.nextGaussian());
        }
        double[] misses = missRates(predictor, x, 5, 1000);
        double coverage = 1 - misses[0] - misses[1];
        assertTrue(coverage > 0.72 && coverage < 0.88, "coverage " + coverage);
    }

    /**
     * Replays {@code x} through a forecaster of horizon {@code h} and returns the shares of the windows starting at
     * {@code from} or later whose mean fell below the band made before their first sample, and above it.
     */
    private static double[] missRates(String predictor, double[] x, int h, int from) {
        int n = x.length;
        PathForecaster f = new PathForecaster(settings(predictor), h, null);
        double[] lo = new double[n];
        double[] hi = new double[n];
        for (int i = 0; i < n; i++) {
            // The forecast made before sample i, of the mean of samples i … i+h−1.
            lo[i] = f.low();
            hi[i] = f.high();
            f.update(x[i]);
        }
        int below = 0;
        int above = 0;
        int points = 0;
        for (int i = from; i + h <= n; i++) {
            double a = 0;
            for (int k = 0; k < h; k++) {
                a += x[i + k];
            }
            a /= h;
            points++;
            below += a < lo[i] ? 1 : 0;
            above += a > hi[i] ? 1 : 0;
        }
        return new double[] {(double) below / points, (double) above / points};
    }

    @Property(tries = 200)
    void bandOrderedFiniteAndDeterministicForAnyNonNegativeSeries(@ForAll("series") List<Double> series) {
        PathForecaster a = new PathForecaster(settings("auto"), 5, null);
        PathForecaster b = new PathForecaster(settings("auto"), 5, null);
        for (double v : series) {
            a.update(v);
            b.update(v);
            if (a.known()) {
                assertTrue(Double.isFinite(a.mean()) && Double.isFinite(a.low()) && Double.isFinite(a.high()));
                assertTrue(0 <= a.low() && a.low() <= a.mean() && a.mean() <= a.high(),
                        a.low() + " <= " + a.mean() + " <= " + a.high());
                assertTrue(a.confidence() >= 0 && a.confidence() <= 1);
            }
            assertEquals(a.mean(), b.mean(), 0.0);
            assertEquals(a.low(), b.low(), 0.0);
            assertEquals(a.high(), b.high(), 0.0);
        }
    }

    @Provide
    Arbitrary<List<Double>> series() {
        Arbitrary<Double> value = Arbitraries.oneOf(
                Arbitraries.just(0.0),
                Arbitraries.doubles().between(0, 1e-6).ofScale(12),
                Arbitraries.doubles().between(0, 1e12));
        return value.list().ofMinSize(1).ofMaxSize(120);
    }

    /**
     * A path that starts idle and then carries about 1 Mbit/s: the ridge once learned from the idle windows and then
     * extrapolated from the first busy second to forecasts of 10⁶× the rate. No forecast may exceed the largest of
     * the last 30 samples.
     */
    @ParameterizedTest
    @ValueSource(strings = {"ridge", "auto"})
    void aPathThatWakesUpFromIdleIsNeverForecastAboveItsRecentMaximum(String predictor) {
        PathForecaster f = new PathForecaster(settings(predictor), 30, null);
        Random r = new Random(11);
        double[] x = new double[200];
        for (int i = 25; i < x.length; i++) {
            x[i] = 1e6 * (0.75 + 0.5 * r.nextDouble());
        }
        for (int i = 0; i < x.length; i++) {
            f.update(x[i]);
            double max = 0;
            for (int k = Math.max(0, i - 29); k <= i; k++) {
                max = Math.max(max, x[k]);
            }
            if (f.known()) {
                assertTrue(f.mean() <= max * (1 + 1e-9), "sample " + i + ": forecast " + f.mean() + " > " + max);
            }
        }
    }

    /** Before any forecast has been matched, auto follows the error prior: the slow EWMA leads, not a tie. */
    @Test
    void aYoungPathFollowsTheErrorPrior() {
        PathForecaster f = new PathForecaster(settings("auto"), 30, null);
        Random r = new Random(5);
        for (int i = 0; i < 20; i++) {
            f.update(1e7 * (1 + r.nextDouble()));
        }
        assertEquals("auto/ewma", f.predictorName());
    }

    /** A young path that varies gets at least the prior band above its forecast (e^0.4 of the blend). */
    @Test
    void aYoungVaryingPathHasAtLeastThePriorBand() {
        PathForecaster f = new PathForecaster(settings("ewma"), 30, null);
        for (int i = 0; i < 40; i++) {
            f.update(i % 2 == 0 ? 1.0e7 : 1.01e7);
        }
        assertTrue(f.high() >= f.mean() * Math.exp(0.4) * (1 - 1e-9), f.high() + " vs " + f.mean());
        assertTrue(f.low() <= f.mean() * Math.exp(-0.3) * (1 + 1e-9), f.low() + " vs " + f.mean());
    }

    @Test
    void aPluginThatThrowsOrReturnsNaNIsBypassedForTheBlendAndCounted() {
        ForecastModel broken = new ForecastModel() {
            private int calls;

            @Override
            public void update(double value) {
                if (++calls % 2 == 0) {
                    throw new IllegalStateException("model bug");
                }
            }

            @Override
            public double forecast() {
                return Double.NaN;
            }
        };
        PathForecaster f = new PathForecaster(settings("plugin"), 5, broken);
        for (int i = 0; i < 50; i++) {
            f.update(2e6);
        }
        assertTrue(f.known());
        assertEquals(2e6, f.mean(), 1e-6, "the built-in blend stands in");
        assertTrue(f.pluginFailures() >= 50, "failures " + f.pluginFailures());
    }

    @Test
    void aWorkingPluginIsTheOutput() {
        ForecastModel fixed = new ForecastModel() {
            @Override
            public void update(double value) {
            }

            @Override
            public double forecast() {
                return 123;
            }
        };
        PathForecaster f = new PathForecaster(settings("plugin"), 5, fixed);
        for (int i = 0; i < 20; i++) {
            f.update(2e6);
        }
        assertEquals(123, f.mean());
        assertEquals("plugin", f.predictorName());
        assertEquals(0, f.pluginFailures());
    }

    @Test
    void updatesAllocateNothingAfterWarmUp() {
        com.sun.management.ThreadMXBean bean = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        PathForecaster f = new PathForecaster(settings("auto"), 30, null);
        Random r = new Random(7);
        for (int i = 0; i < 2000; i++) {
            f.update(1e7 * (1 + r.nextDouble()));
        }
        long tid = Thread.currentThread().getId();
        long before = bean.getThreadAllocatedBytes(tid);
        for (int i = 0; i < 5000; i++) {
            f.update(1e7 * (1 + (i % 7) / 7.0));
        }
        long allocated = bean.getThreadAllocatedBytes(tid) - before;
        // The measurement itself may allocate a little; 5000 updates that allocated would take far more.
        assertTrue(allocated < 5000, "allocated " + allocated + " bytes over 5000 updates");
    }
}
