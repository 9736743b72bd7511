package io.dwcp.transport.control;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Forecast-advised pacing, period by period (no clock: each call is one controller period). */
class ForecastPacerTest {
    private static final double MBIT = 1e6;
    private static final long MIN_RTT = 60_000_000L;
    /** No standing queue: the smoothed RTT at the minimum. */
    private static final long EMPTY = MIN_RTT;
    /** A standing queue: 1.5 × the minimum RTT. */
    private static final long QUEUE = 90_000_000L;

    private final ForecastPacer pacer = new ForecastPacer(0.05);

    private double tick(double goodputMbit, long srtt, double meanMbit, double p90Mbit) {
        return pacer.update(goodputMbit * MBIT, true, MIN_RTT, srtt, meanMbit * MBIT, p90Mbit * MBIT) / MBIT;
    }

    @Test
    void withoutAdviceThereIsNoPace() {
        for (double g : new double[] {100, 10, 500}) {
            assertEquals(0, pacer.update(g * MBIT, true, MIN_RTT, QUEUE, Double.NaN, Double.NaN));
        }
        // Advice that goes away mid-pace releases at once.
        assertEquals(60, tick(100, QUEUE, 60, 90));
        assertEquals(0, pacer.update(100 * MBIT, true, MIN_RTT, QUEUE, Double.NaN, Double.NaN));
    }

    @Test
    void aForeseenDropStartsAPaceAtTheForecastMeanWhenTheQueueIsLoaded() {
        // A forecast within min-gain of the measurement is no drop.
        assertEquals(0, tick(100, QUEUE, 96, 130));
        assertEquals(0, tick(100, QUEUE, 120, 150));
        assertEquals(0, tick(100, EMPTY, 60, 90), "an empty queue: nothing to overflow (or a rise not yet forecast)");
        assertEquals(60, tick(100, QUEUE, 60, 90));
    }

    @Test
    void aPaceMetWithoutAQueueRisesByProbeStepsAndIsReleasedAtTheForecastsP90() {
        assertEquals(60, tick(100, QUEUE, 60, 90));
        assertEquals(75, tick(60, EMPTY, 60, 90), "delivered with an empty queue: the path has more; one probe step");
        assertEquals(0, tick(75, EMPTY, 60, 90), "93.75 would pass the P90 of 90: released");
        // The path carried 75 with room: no new pace while periods deliver that much.
        assertEquals(0, tick(100, QUEUE, 60, 90));
        assertEquals(0, tick(72, QUEUE, 40, 90), "72 × 1.05 is not below the proven 75");
        // A period below the proven rate makes the proof stale; a foreseen drop paces again.
        assertEquals(0, tick(70, QUEUE, 70, 90), "stale proof, but 70 foreseen is no drop from 70");
        assertEquals(60, tick(80, QUEUE, 60, 90));
    }

    @Test
    void withoutAForecastP90AMetPaceIsReleased() {
        assertEquals(60, tick(100, QUEUE, 60, 90));
        assertEquals(0, pacer.update(60 * MBIT, true, MIN_RTT, EMPTY, 60 * MBIT, Double.NaN));
    }

    @Test
    void withoutRoomThePaceStepsBackTowardsTheForecastMeanAndNeverFollowsACollapsedPeriod() {
        assertEquals(60, tick(100, QUEUE, 60, 120));
        assertEquals(75, tick(60, EMPTY, 60, 120));
        assertEquals(60, tick(70, QUEUE, 60, 120), "a queue after a probe: back one step, not below the mean");
        assertEquals(60, tick(3, QUEUE, 60, 120), "a period of losses (3 Mbit/s) is not the path's rate: held");
        assertEquals(60, tick(30, EMPTY, 60, 120), "not delivered, queue empty (the streams stalled): held");
        assertEquals(60, tick(45, QUEUE, 70, 120), "a rising forecast never raises the pace");
        assertEquals(48, tick(20, QUEUE, 35, 60), "the forecast falls to 35: one step down");
        assertEquals(38.4, tick(20, QUEUE, 35, 60), 1e-9);
        assertEquals(35, tick(20, QUEUE, 35, 60), "at the forecast mean");
    }

    @Test
    void atCapacityThePaceIsHeld() {
        assertEquals(60, tick(100, QUEUE, 60, 90));
        assertEquals(60, tick(60, QUEUE, 60, 90));
        assertEquals(60, tick(61, QUEUE, 60, 90));
    }

    @Test
    void anIdlePeriodChangesNothing() {
        assertEquals(60, tick(100, QUEUE, 60, 90));
        assertEquals(60, pacer.update(1 * MBIT, false, MIN_RTT, EMPTY, 60 * MBIT, 90 * MBIT) / MBIT);
        assertEquals(60, pacer.update(0, true, MIN_RTT, EMPTY, 60 * MBIT, 90 * MBIT) / MBIT);
        assertEquals(60, pacer.paceBitsPerSecond() / MBIT);
    }

    @Test
    void withoutAMeasuredRttAMetPaceRises() {
        assertEquals(60, pacer.update(100 * MBIT, true, Long.MAX_VALUE, 0, 60 * MBIT, 90 * MBIT) / MBIT);
        assertEquals(75, pacer.update(60 * MBIT, true, Long.MAX_VALUE, 0, 60 * MBIT, 90 * MBIT) / MBIT);
        assertEquals(0, pacer.update(75 * MBIT, true, Long.MAX_VALUE, 0, 60 * MBIT, 90 * MBIT));
    }

    @Test
    void minGainOutsideItsRangeIsRefusedWithTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ForecastPacer(-0.1));
        assertTrue(e.getMessage().contains("-0.1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new ForecastPacer(Double.NaN));
    }

    /**
     * The pace on the session's token bucket, on simulated time: 8 greedy streams that would send 100 Mbit/s are held
     * to the forecast pace of 40 Mbit/s over every second, within the bucket's ±5 %.
     */
    @Test
    void theBucketHoldsTheStreamsAggregateAtThePace() {
        double pace = pacer.update(100 * MBIT, true, MIN_RTT, QUEUE, 40 * MBIT, 60 * MBIT);
        long bytesPerSecond = (long) (pace / 8);
        long[] windows = TokenBucketTest.run(bytesPerSecond, 32 * 1024, 8, 1_000);
        for (int i = 1; i < windows.length; i++) {
            double ratio = windows[i] / (double) bytesPerSecond;
            assertTrue(ratio >= 0.95 && ratio <= 1.05, "second " + i + ": " + windows[i] + " bytes at " + bytesPerSecond);
        }
    }

    /**
     * Invariants over any sequence of periods: never negative or NaN; a pace starts below what was measured and rises
     * only by one probe step over a delivered period, so it stays within (1 + min-gain) × 1.25 of the highest goodput
     * measured, and below the forecast's P90 once it has risen; zero without advice.
     */
    @Property(tries = 300)
    void thePaceStaysNearWhatWasMeasuredAndIsZeroWithoutAdvice(
            @ForAll @Size(min = 1, max = 60) List<@DoubleRange(min = 0, max = 1000) Double> goodputs,
            @ForAll @Size(min = 1, max = 60) List<@DoubleRange(min = 0, max = 1000) Double> means,
            @ForAll @IntRange(min = 0, max = 3) int noAdviceEvery) {
        ForecastPacer p = new ForecastPacer(0.05);
        double highest = 0;
        double before = 0;
        for (int i = 0; i < goodputs.size(); i++) {
            double g = goodputs.get(i) * MBIT;
            double mean = means.get(i % means.size()) * MBIT;
            double high = mean * 1.5;
            boolean advice = noAdviceEvery == 0 || i % (noAdviceEvery + 1) != 0;
            long srtt = i % 3 == 0 ? EMPTY : QUEUE;
            highest = Math.max(highest, g);
            double pace = p.update(g, i % 7 != 6, MIN_RTT, srtt, advice ? mean : Double.NaN, advice ? high : Double.NaN);
            assertFalse(Double.isNaN(pace));
            assertTrue(pace >= 0);
            assertTrue(pace <= highest * 1.05 * ForecastPacer.PROBE_GAIN + 1e-6,
                    "pace " + pace + " too far above every goodput measured (" + highest + ")");
            if (pace > before && before > 0) {
                assertTrue(pace < high, "a pace rose to " + pace + ", not below the P90 " + high);
            }
            if (!advice) {
                assertEquals(0, pace);
            }
            before = pace;
        }
    }
}
