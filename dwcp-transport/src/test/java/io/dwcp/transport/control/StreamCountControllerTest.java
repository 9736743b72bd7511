package io.dwcp.transport.control;

import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Scale;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Tag;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Tag("AMST-7")
class StreamCountControllerTest {
    private static final long RTT = 50_000_000L;

    @Example
    void growsWhileGoodputGrowsThenStepsBackAndHolds() {
        StreamCountController c = new StreamCountController(1, 8, 64, 0.05, true);
        assertEquals(16, c.update(170e6, RTT, RTT, Double.NaN, true));
        assertEquals(32, c.update(300e6, RTT, RTT, Double.NaN, true));
        assertEquals(64, c.update(370e6, RTT, RTT, Double.NaN, true));
        // 64 streams gained < 5 %: back to 32, and hold there.
        assertEquals(32, c.update(372e6, RTT, RTT, Double.NaN, true));
        assertEquals(32, c.update(371e6, RTT, RTT, Double.NaN, true));
        // After the hold it probes again; failing again doubles the hold.
        assertEquals(64, c.update(371e6, RTT, RTT, Double.NaN, true));
        assertEquals(32, c.update(360e6, RTT, RTT, Double.NaN, true));
        assertEquals(32, c.update(371e6, RTT, RTT, Double.NaN, true));
        assertEquals(32, c.update(371e6, RTT, RTT, Double.NaN, true));
        assertEquals(64, c.update(371e6, RTT, RTT, Double.NaN, true));
    }

    @Example
    void queueBuildUpStopsGrowth() {
        StreamCountController c = new StreamCountController(1, 4, 64, 0.05, true);
        assertEquals(8, c.update(100e6, RTT, RTT, Double.NaN, true));
        // Goodput rose but the RTT doubled (standing queue): step back.
        assertEquals(4, c.update(150e6, RTT, 2 * RTT, Double.NaN, true));
    }

    @Example
    void applicationLimitedSamplesChangeNothing() {
        StreamCountController c = new StreamCountController(1, 8, 64, 0.05, true);
        for (int i = 0; i < 10; i++) {
            assertEquals(8, c.update(1e6, RTT, RTT, Double.NaN, false));
        }
    }

    @Example
    void mathisFloorAppliesOnlyUnderLossBasedCongestionControl() {
        // 0.05 % loss at 50 ms: ~12.6 Mbit/s per CUBIC stream; 300 Mbit/s needs ~25 streams. Growth stays ≤ ×2.
        StreamCountController cubic = new StreamCountController(1, 8, 64, 0.05, true);
        assertEquals(16, cubic.update(300e6, RTT, RTT, 0.0005, true));
        StreamCountController bbr = new StreamCountController(1, 8, 64, 0.05, false);
        assertEquals(8, bbr.update(250e6, RTT, RTT, 0.3, true), "start-up sample: baseline only");
        assertEquals(16, bbr.update(300e6, RTT, RTT, 0.3, true), "probe");
        assertEquals(8, bbr.update(300e6, RTT, RTT, 0.3, true), "no gain from 16: back to 8 despite the loss");
    }

    @Property
    void ceilingStreamsNeverFallsAsRttRises(@ForAll @LongRange(min = 100_000, max = 1_000_000_000) long rtt,
                                            @ForAll @LongRange(min = 0, max = 1_000_000_000) long extra,
                                            @ForAll @DoubleRange(min = 1e6, max = 1e11) double bitsPerSecond,
                                            @ForAll @DoubleRange(min = 0, max = 0.2) @Scale(7) double loss) {
        int shorter = StreamCountController.ceilingStreams(bitsPerSecond, rtt, loss, 1448, 1, 256);
        int longer = StreamCountController.ceilingStreams(bitsPerSecond, rtt + extra, loss, 1448, 1, 256);
        assertTrue(longer >= shorter, shorter + " streams at " + rtt + " ns but " + longer + " at " + (rtt + extra));
    }

    /** For equal bandwidth and loss, running the controller on the same goodput history with a longer RTT never ends lower. */
    @Property
    void controllerNeverGivesFewerStreamsForALongerRtt(@ForAll @Size(min = 1, max = 12) List<@DoubleRange(min = 1e6, max = 1e9) Double> goodputs,
                                                       @ForAll @LongRange(min = 1_000_000, max = 300_000_000) long rtt,
                                                       @ForAll @LongRange(min = 0, max = 300_000_000) long extra,
                                                       @ForAll @DoubleRange(min = 0.00001, max = 0.05) @Scale(7) double loss,
                                                       @ForAll @IntRange(min = 1, max = 16) int initial) {
        StreamCountController near = new StreamCountController(1, initial, 256, 0.05, true);
        StreamCountController far = new StreamCountController(1, initial, 256, 0.05, true);
        for (double g : goodputs) {
            int a = near.update(g, rtt, rtt, loss, true);
            int b = far.update(g, rtt + extra, rtt + extra, loss, true);
            assertTrue(b >= a, "near " + a + ", far " + b);
        }
    }

    @Property
    void targetStaysWithinBounds(@ForAll @Size(max = 20) List<@DoubleRange(min = 0, max = 1e10) Double> goodputs,
                                 @ForAll @IntRange(min = 1, max = 8) int min, @ForAll @IntRange(min = 8, max = 256) int max) {
        StreamCountController c = new StreamCountController(min, 8, max, 0.05, true);
        for (double g : goodputs) {
            int t = c.update(g, RTT, RTT, 0.001, true);
            assertTrue(t >= min && t <= max, "target " + t);
        }
    }

    @Example
    void aForeseenRiseIsNotTakenForAGainedStep() {
        StreamCountController advised = new StreamCountController(1, 4, 64, 0.05, false);
        StreamCountController plain = new StreamCountController(1, 4, 64, 0.05, false);
        for (StreamCountController c : List.of(advised, plain)) {
            assertEquals(4, c.update(100e6, RTT, RTT, Double.NaN, true), "start-up sample: baseline only");
            assertEquals(8, c.update(100e6, RTT, RTT, Double.NaN, true), "probe");
        }
        // The link rises during the step: 110 Mbit/s where 120 were forecast at 4 streams. The step gained nothing.
        assertEquals(4, advised.update(110e6, RTT, RTT, Double.NaN, true, 120e6, Double.NaN));
        assertEquals(16, plain.update(110e6, RTT, RTT, Double.NaN, true), "without advice the rise looks like a gain");
    }

    @Example
    void aForecastBelowThePreviousIntervalNeverCreatesAGain() {
        StreamCountController c = new StreamCountController(1, 4, 64, 0.05, false);
        c.update(100e6, RTT, RTT, Double.NaN, true);
        assertEquals(8, c.update(100e6, RTT, RTT, Double.NaN, true), "probe");
        // 102 Mbit/s after the step: above a low forecast (60) × 1.05, but not above the last interval × 1.05.
        assertEquals(4, c.update(102e6, RTT, RTT, Double.NaN, true, 60e6, Double.NaN));
    }

    @Example
    void noProbeStartsWhileTheForecastSaysThePathFalls() {
        StreamCountController c = new StreamCountController(1, 4, 64, 0.05, false);
        assertEquals(4, c.update(100e6, RTT, RTT, Double.NaN, true));
        assertEquals(4, c.update(100e6, RTT, RTT, Double.NaN, true, Double.NaN, 50e6), "P90 of the next 30 s is half of now");
        assertEquals(8, c.update(60e6, RTT, RTT, Double.NaN, true, Double.NaN, 70e6), "P90 above now ÷ 1.05: the probe starts");
    }

    @Example
    void aKeptStepDoesNotGrowFurtherIntoAForeseenDrop() {
        StreamCountController c = new StreamCountController(1, 4, 64, 0.05, false);
        c.update(100e6, RTT, RTT, Double.NaN, true);
        assertEquals(8, c.update(100e6, RTT, RTT, Double.NaN, true));
        assertEquals(8, c.update(120e6, RTT, RTT, Double.NaN, true, 100e6, 60e6), "kept, but no step to 16");
    }

    /** A CUBIC controller back at 4 streams and holding after a failed probe, on a clean 100 Mbit/s path. */
    private static StreamCountController holdingAtFour() {
        StreamCountController c = new StreamCountController(1, 4, 64, 0.05, true);
        assertEquals(8, c.update(100e6, RTT, RTT, 0, true), "loss-based start-up step");
        assertEquals(4, c.update(100e6, RTT, RTT, 0, true), "no gain: back to 4, hold");
        return c;
    }

    @Example
    void theMathisFloorPlansForTheForecastLossNotOneIntervals() {
        // 0.05 % loss at 50 ms: ~12.6 Mbit/s per CUBIC stream, so 105 Mbit/s needs 9 streams (at most x2 per step: 8).
        assertEquals(8, holdingAtFour().update(100e6, RTT, RTT, 0.0005, true), "one interval's burst raises the floor");
        assertEquals(4, holdingAtFour().update(100e6, RTT, RTT, 0.0005, true, Double.NaN, Double.NaN, 0.000002, 0),
                "a path forecast at 0.0002 % loss keeps its count through the burst");
        assertEquals(4, holdingAtFour().update(100e6, RTT, RTT, 0, true), "a clean interval: no floor");
        assertEquals(8, holdingAtFour().update(100e6, RTT, RTT, 0, true, Double.NaN, Double.NaN, 0.0005, 0),
                "a clean interval on a path forecast to stay lossy keeps the floor");
    }

    @Example
    void theMathisFloorUsesTheForecastRttWhenAboveTheMinimum() {
        // 0.01 % loss: ~28 Mbit/s per stream at 50 ms (4 streams for 105 Mbit/s), ~7 Mbit/s at 200 ms (15, capped at 8).
        assertEquals(4, holdingAtFour().update(100e6, RTT, RTT, 0.0001, true));
        assertEquals(8, holdingAtFour().update(100e6, RTT, RTT, 0.0001, true, Double.NaN, Double.NaN, Double.NaN, 4 * RTT),
                "flows forecast to see a 200 ms RTT carry less each");
        assertEquals(4, holdingAtFour().update(100e6, RTT, RTT, 0.0001, true, Double.NaN, Double.NaN, Double.NaN, RTT / 5),
                "a forecast below the minimum RTT is not used");
    }

    /** Without advice (NaN forecasts) the controller decides exactly as the measurement-only one. */
    @Property
    void withoutAdviceTheDecisionsAreUnchanged(@ForAll @Size(max = 20) List<@DoubleRange(min = 0, max = 1e10) Double> goodputs,
                                               @ForAll @IntRange(min = 1, max = 16) int initial,
                                               @ForAll @DoubleRange(min = 0, max = 0.05) double loss, @ForAll boolean lossBased) {
        StreamCountController a = new StreamCountController(1, initial, 256, 0.05, lossBased);
        StreamCountController b = new StreamCountController(1, initial, 256, 0.05, lossBased);
        for (double g : goodputs) {
            assertEquals(a.update(g, RTT, RTT * 2 / 3 + (long) (g % 3) * RTT / 2, loss, true),
                    b.update(g, RTT, RTT * 2 / 3 + (long) (g % 3) * RTT / 2, loss, true, Double.NaN, Double.NaN));
        }
    }

    /** The RTT property holds with advice too: both controllers get the same forecasts. */
    @Property
    void adviceNeverGivesFewerStreamsForALongerRtt(@ForAll @Size(min = 1, max = 12) List<@DoubleRange(min = 1e6, max = 1e9) Double> goodputs,
                                                   @ForAll @Size(min = 12, max = 12) List<@DoubleRange(min = 1e6, max = 1e9) Double> forecasts,
                                                   @ForAll @LongRange(min = 1_000_000, max = 300_000_000) long rtt,
                                                   @ForAll @LongRange(min = 0, max = 300_000_000) long extra,
                                                   @ForAll @DoubleRange(min = 0.00001, max = 0.05) @Scale(7) double loss) {
        StreamCountController near = new StreamCountController(1, 4, 256, 0.05, true);
        StreamCountController far = new StreamCountController(1, 4, 256, 0.05, true);
        for (int i = 0; i < goodputs.size(); i++) {
            double g = goodputs.get(i);
            double f = forecasts.get(i);
            int a = near.update(g, rtt, rtt, loss, true, f, 1.5 * f);
            int b = far.update(g, rtt + extra, rtt + extra, loss, true, f, 1.5 * f);
            assertTrue(b >= a && a >= 1 && b <= 256, "near " + a + ", far " + b);
        }
    }

    /** The RTT property holds with the loss and RTT forecasts too: both controllers get the same ones. */
    @Property
    void lossAndRttAdviceNeverGiveFewerStreamsForALongerRtt(
            @ForAll @Size(min = 1, max = 12) List<@DoubleRange(min = 1e6, max = 1e9) Double> goodputs,
            @ForAll @LongRange(min = 1_000_000, max = 300_000_000) long rtt,
            @ForAll @LongRange(min = 0, max = 300_000_000) long extra,
            @ForAll @LongRange(min = 0, max = 600_000_000) long foreseenRtt,
            @ForAll @DoubleRange(min = 0, max = 0.05) @Scale(7) double loss,
            @ForAll @DoubleRange(min = 0, max = 0.05) @Scale(7) double foreseenLoss) {
        StreamCountController near = new StreamCountController(1, 4, 256, 0.05, true);
        StreamCountController far = new StreamCountController(1, 4, 256, 0.05, true);
        for (double g : goodputs) {
            int a = near.update(g, rtt, rtt, loss, true, Double.NaN, Double.NaN, foreseenLoss, foreseenRtt);
            int b = far.update(g, rtt + extra, rtt + extra, loss, true, Double.NaN, Double.NaN, foreseenLoss, foreseenRtt);
            assertTrue(b >= a && a >= 1 && b <= 256, "near " + a + ", far " + b);
        }
    }
}
