package io.dwcp.transport.control;

/*
 * Forecast-advised pacing of a session's aggregate send rate.
 *
 * Why: the bottleneck of a moving link (cellular backhaul, a shared WAN, a provider's rate limiter) has a drop-tail
 * queue of about one bandwidth-delay product. When its rate falls, flows that still send at the old rate fill that
 * queue within a few round trips and lose a burst of segments; with many streams some of them lose their whole
 * window and wait out a retransmission timeout. When the path's short-horizon forecast (advice: confidence at least
 * min-confidence) says the path will deliver clearly less than it just did, the session's streams together are paced
 * at the forecast mean instead of at whatever their congestion controls still believe.
 *
 * Measurement stays the authority. Every controller period while pacing:
 *   - the streams delivered less than the pace: the pace is held, and follows the forecast mean if that falls. It
 *     does not follow the period's goodput down: on a path that overflows its queue, one period's goodput collapses
 *     (a burst of losses, a stream in a retransmission timeout) far below what the path carries, and a pace cut to
 *     it then holds the streams below the path once they recover (measured: a 45 Mbit/s link, periods of 2-3 Mbit/s
 *     at 36 % retransmitted segments). The forecast, which learns from those periods among the others, moves by
 *     what they say about the path;
 *   - they delivered the pace and the RTT shows no standing queue (smoothed RTT within 1.25 x the minimum): the path
 *     carries more than the pace, so pacing is released at once. The released rate is remembered as proven: no new
 *     pacing starts at or above it until a period delivers less than it (the proof is then stale). Without a measured
 *     RTT there is no proof of a queue either, so pacing is released as soon as the pace is met;
 *   - they delivered the pace with a standing queue: the path is at its capacity; the pace is held, and follows the
 *     forecast mean if that falls further.
 * A period in which nothing waited to be sent says nothing about the path (the pace is held). Without advice there
 * is no pacing. The pace never rises above what the path has been measured to deliver: it only starts below the
 * measured goodput, and moves only down (with the forecast) until released.
 *
 * Why the mean and not P10: pacing at P10 would waste the capacity between P10 and the mean on most periods, and the
 * queue absorbs the path's swings around its mean. Why not keep pacing while the pace is
 * met without a queue and raise it step by step: a pace caps the very goodput the forecast learns from, so a pace kept
 * while the path has more would teach the forecast the pace; releasing hands the measurement back to the path.
 *
 * Threading: confined to the caller (the session's controller tick); no locks.
 */

/**
 * Decides a session's forecast-advised pace from each controller period's goodput and RTT and the path's
 * short-horizon forecast. Rates are bits per second; 0 means no pace. Not thread-safe.
 */
public final class ForecastPacer {
    /** A smoothed RTT above this multiple of the minimum RTT is a standing queue at the bottleneck. */
    public static final double QUEUE_RTT_FACTOR = 1.25;

    private final double minGain;
    /** The pace, bits/s; 0 when not pacing. */
    private double pace;
    /** A rate the path carried without a standing queue while paced, bits/s; 0 when none (or stale). */
    private double proven;

    /**
     * @param minGain the relative difference that counts as a change (the stream controller's {@code min-gain}, e.g.
     *     0.05): pacing starts only when the forecast mean is below the measured goodput ÷ (1 + min-gain), and a
     *     period counts as delivering the pace when its goodput is at least pace ÷ (1 + min-gain)
     * @throws IllegalArgumentException when {@code minGain} is not in [0, 1]
     */
    public ForecastPacer(double minGain) {
        if (!(minGain >= 0 && minGain <= 1)) {
            throw new IllegalArgumentException("min-gain must be in [0, 1], got " + minGain);
        }
        this.minGain = minGain;
    }

    /**
     * The current pace.
     *
     * @return bits per second, 0 when not pacing
     */
    public double paceBitsPerSecond() {
        return pace;
    }

    /**
     * Feeds one controller period and returns the pace for the next.
     *
     * @param goodputBitsPerSecond the session's outbound payload goodput over the period
     * @param busy whether data was waiting to be sent over the whole period (else the period is ignored)
     * @param minRttNanos the minimum RTT of the session, or 0 / {@link Long#MAX_VALUE} when unknown
     * @param smoothedRttNanos the smoothed RTT of the period, or 0 when unknown
     * @param forecastMean the mean of the path's short-horizon forecast as advice, or NaN when there is no advice
     * @return the pace in bits per second, 0 for none
     */
    public double update(double goodputBitsPerSecond, boolean busy, long minRttNanos, long smoothedRttNanos,
                         double forecastMean) {
        if (!(forecastMean > 0) || Double.isInfinite(forecastMean)) {
            // No advice: measurement alone, no pace (the default behaviour).
            pace = 0;
            proven = 0;
            return pace;
        }
        if (!busy || !(goodputBitsPerSecond > 0) || Double.isInfinite(goodputBitsPerSecond)) {
            return pace;
        }
        if (pace == 0) {
            if (proven > 0 && goodputBitsPerSecond * (1 + minGain) < proven) {
                proven = 0;
            }
            boolean dropForeseen = forecastMean * (1 + minGain) < goodputBitsPerSecond;
            boolean belowProven = proven == 0 || forecastMean * (1 + minGain) < proven;
            if (dropForeseen && belowProven) {
                pace = forecastMean;
            }
            return pace;
        }
        if (goodputBitsPerSecond * (1 + minGain) < pace) {
            // Less than the pace delivered: held, following a falling forecast (not the period's goodput).
            pace = Math.min(pace, forecastMean);
            return pace;
        }
        boolean rttKnown = minRttNanos > 0 && minRttNanos != Long.MAX_VALUE && smoothedRttNanos > 0;
        boolean queue = rttKnown && smoothedRttNanos > QUEUE_RTT_FACTOR * minRttNanos;
        if (!queue) {
            // The pace was delivered without a standing queue: the path has more; hand it back to measurement.
            proven = pace;
            pace = 0;
            return pace;
        }
        // At capacity: hold, and follow a forecast that falls further.
        pace = Math.min(pace, forecastMean);
        return pace;
    }
}
