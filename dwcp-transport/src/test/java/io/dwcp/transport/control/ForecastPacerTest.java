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

    private double tick(double goodputMbit, long srtt, double meanMbit) {
        return pacer.update(goodputMbit * MBIT, true, MIN_RTT, srtt, meanMbit * MBIT) / MBIT;
    }

    @Test
    void withoutAdviceThereIsNoPace() {
        for (double g : new double[] {100, 10, 500}) {
            assertEquals(0, pacer.update(g * MBIT, true, MIN_RTT, QUEUE, Double.NaN));
        }
        // Advice that goes away mid-pace releases at once.
        assertEquals(60, tick(100, EMPTY, 60));
        assertEquals(0, pacer.update(100 * MBIT, true, MIN_RTT, QUEUE, Double.NaN));
    }

    @Test
    void aForeseenDropStartsAPaceAtTheForecastMean() {
        // A forecast within min-gain of the measurement is no drop.
        assertEquals(0, tick(100, QUEUE, 96));
        assertEquals(0, tick(100, QUEUE, 120));
        assertEquals(60, tick(100, QUEUE, 60));
    }

    @Test
    void aPaceMetWithoutAQueueIsReleasedAndNotStartedAgainAtTheProvenRate() {
        assertEquals(60, tick(100, EMPTY, 60));
        assertEquals(0, tick(60, EMPTY, 60), "the path carried 60 with an empty queue: it has more");
        // The same forecast again: 60 was proven, no pace at or above it.
        assertEquals(0, tick(100, EMPTY, 60));
        assertEquals(0, tick(100, EMPTY, 58), "58 × 1.05 is not below the proven 60");
        // A forecast clearly below the proven rate starts a pace again.
        assertEquals(50, tick(100, EMPTY, 50));
    }

    @Test
    void theProofGoesStaleAndAPaceStartsAgain() {
        assertEquals(60, tick(100, EMPTY, 60));
        assertEquals(0, tick(60, EMPTY, 60));
        assertEquals(0, tick(50, QUEUE, 60), "stale proof; 60 is above the 50 delivered: no drop foreseen");
        assertEquals(60, tick(80, QUEUE, 60), "80 delivered, 60 foreseen: a pace again");
    }

    @Test
    void aPeriodThatDeliversLessThanThePaceHoldsItAndOnlyTheForecastLowersIt() {
        assertEquals(60, tick(100, QUEUE, 60));
        assertEquals(60, tick(3, QUEUE, 60), "a period of losses (3 Mbit/s) is not the path's rate: held");
        assertEquals(60, tick(30, EMPTY, 60), "not delivered, queue empty (the streams stalled): held, not released");
        assertEquals(60, tick(45, QUEUE, 70), "a rising forecast never raises the pace");
        assertEquals(35, tick(20, QUEUE, 35), "the forecast falls: the pace follows it");
        assertEquals(35, tick(34, QUEUE, 35), "34 × 1.05 meets the pace of 35 with a queue: at capacity, held");
    }

    @Test
    void atCapacityThePaceIsHeldAndFollowsAFallingForecast() {
        assertEquals(60, tick(100, QUEUE, 60));
        assertEquals(60, tick(60, QUEUE, 60));
        assertEquals(60, tick(61, QUEUE, 70), "a rising forecast never raises the pace");
        assertEquals(50, tick(60, QUEUE, 50));
        assertEquals(0, tick(50, EMPTY, 50), "the queue is gone: released");
    }

    @Test
    void anIdlePeriodChangesNothing() {
        assertEquals(60, tick(100, QUEUE, 60));
        assertEquals(60, pacer.update(1 * MBIT, false, MIN_RTT, EMPTY, 60 * MBIT) / MBIT);
        assertEquals(60, pacer.update(0, true, MIN_RTT, EMPTY, 60 * MBIT) / MBIT);
        assertEquals(60, pacer.paceBitsPerSecond() / MBIT);
    }

    @Test
    void withoutAMeasuredRttAMetPaceIsReleased() {
        assertEquals(60, pacer.update(100 * MBIT, true, Long.MAX_VALUE, 0, 60 * MBIT) / MBIT);
        assertEquals(0, pacer.update(60 * MBIT, true, Long.MAX_VALUE, 0, 60 * MBIT));
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
        double pace = pacer.update(100 * MBIT, true, MIN_RTT, QUEUE, 40 * MBIT);
        long bytesPerSecond = (long) (pace / 8);
        long[] windows = TokenBucketTest.run(bytesPerSecond, 32 * 1024, 8, 1_000);
        for (int i = 1; i < windows.length; i++) {
            double ratio = windows[i] / (double) bytesPerSecond;
            assertTrue(ratio >= 0.95 && ratio <= 1.05, "second " + i + ": " + windows[i] + " bytes at " + bytesPerSecond);
        }
    }

    /** Invariants over any sequence of periods: never negative or NaN, never above what the path was measured to deliver. */
    @Property(tries = 300)
    void thePaceIsNeverAboveTheHighestMeasuredGoodputAndZeroWithoutAdvice(
            @ForAll @Size(min = 1, max = 60) List<@DoubleRange(min = 0, max = 1000) Double> goodputs,
            @ForAll @Size(min = 1, max = 60) List<@DoubleRange(min = 0, max = 1000) Double> means,
            @ForAll @IntRange(min = 0, max = 3) int noAdviceEvery) {
        ForecastPacer p = new ForecastPacer(0.05);
        double highest = 0;
        for (int i = 0; i < goodputs.size(); i++) {
            double g = goodputs.get(i) * MBIT;
            double mean = means.get(i % means.size()) * MBIT;
            boolean advice = noAdviceEvery == 0 || i % (noAdviceEvery + 1) != 0;
            long srtt = i % 3 == 0 ? EMPTY : QUEUE;
            highest = Math.max(highest, g);
            double pace = p.update(g, i % 7 != 6, MIN_RTT, srtt, advice ? mean : Double.NaN);
            assertFalse(Double.isNaN(pace));
            assertTrue(pace >= 0);
            assertTrue(pace <= highest, "pace " + pace + " above every goodput measured (" + highest + ")");
            if (!advice) {
                assertEquals(0, pace);
            }
        }
    }
}
