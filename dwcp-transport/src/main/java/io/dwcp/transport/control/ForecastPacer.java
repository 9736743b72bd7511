package io.dwcp.transport.control;

/*
 * Forecast-advised pacing of a session's aggregate send rate.
 *
 * Why: the bottleneck of a moving link (cellular backhaul, a shared WAN, a provider's rate limiter) has a drop-tail
 * queue of about one bandwidth-delay product. When its rate falls, flows that still send at the old rate fill that
 * queue within a few round trips and lose a burst of segments; with many streams some of them lose their whole
 * window and wait out a retransmission timeout. Congestion controls that estimate the rate from a recent maximum (BBR
 * keeps the highest delivery rate of the last ten round trips) do this at every dip of a link whose rate moves from
 * second to second. When the path's forecast (advice: confidence at least min-confidence) says the path will deliver
 * clearly less than it just did, and the RTT shows the queue loaded (smoothed RTT above 1.25 x the minimum; with an
 * empty queue a drop overflows nothing, and a forecast below a period's goodput is as often a rise the forecast has
 * not caught up with), the session's streams together are paced at the forecast mean instead of at whatever their
 * congestion controls still believe.
 *
 * Measurement stays the authority. Every controller period while pacing:
 *   - the streams delivered the pace and the RTT shows no standing queue (smoothed RTT within 1.25 x the minimum):
 *     the path carries more than the pace. The pace rises by one probe step (x 1.25, the gain BBR probes with); once
 *     it would pass the forecast's P90 the forecast no longer foresees less than that, and pacing is released. The
 *     released rate is remembered as proven: no new pacing starts until a period delivers less than it (the proof is
 *     then stale). Without a measured RTT there is no proof of a queue either, so a met pace rises;
 *   - otherwise (a standing queue, or less than the pace delivered) the pace steps back towards the forecast mean, by
 *     at most one probe step per period, and never rises. It does not follow the period's goodput down: on a path that
 *     overflows its queue, one period's goodput collapses (a burst of losses, a stream in a retransmission timeout)
 *     far below what the path carries (measured: periods of 2-3 Mbit/s at 36 % retransmitted segments on a 45 Mbit/s
 *     link), and a pace cut to it would hold the streams below the path once they recover. The forecast, which learns
 *     from those periods among the others, moves by what they say about the path.
 * A period in which nothing waited to be sent says nothing about the path (the pace is held). Without advice there is
 * no pacing.
 *
 * Why the mean and not P10: pacing at P10 would waste the capacity between P10 and the mean on most periods, and the
 * queue absorbs the path's swings around its mean. Why probe up rather than release as soon as the queue is empty: on
 * a link that moves every second the queue empties whenever the link is above its mean, and released streams refill
 * it at their own (maximum-based) rate at the next dip; probing keeps the aggregate below what the path has shown it
 * carries while still reaching the forecast's upper band (released there) within a few periods. A pace caps the very
 * goodput the forecast learns from, which is why it rises whenever the path shows room and ends at the band's top.
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
    /** One probe step: the pace's factor per period while the path shows room (BBR's probing gain). */
    public static final double PROBE_GAIN = 1.25;

    private final double minGain;
    /** The pace, bits/s; 0 when not pacing. */
    private double pace;
    /** The pace at which the path last showed room up to the forecast's band, bits/s; 0 when none (or stale). */
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
     * @param forecastHigh its high quantile (P90), or NaN: a pace that would rise past it is released
     * @return the pace in bits per second, 0 for none
     */
    public double update(double goodputBitsPerSecond, boolean busy, long minRttNanos, long smoothedRttNanos,
                         double forecastMean, double forecastHigh) {
        if (!(forecastMean > 0) || Double.isInfinite(forecastMean)) {
            // No advice: measurement alone, no pace (the default behaviour).
            pace = 0;
            proven = 0;
            return pace;
        }
        if (!busy || !(goodputBitsPerSecond > 0) || Double.isInfinite(goodputBitsPerSecond)) {
            return pace;
        }
        boolean rttKnown = minRttNanos > 0 && minRttNanos != Long.MAX_VALUE && smoothedRttNanos > 0;
        boolean queue = rttKnown && smoothedRttNanos > QUEUE_RTT_FACTOR * minRttNanos;
        if (pace == 0) {
            if (proven > 0 && goodputBitsPerSecond * (1 + minGain) < proven) {
                proven = 0;
            }
            boolean dropForeseen = forecastMean * (1 + minGain) < goodputBitsPerSecond;
            if (dropForeseen && proven == 0 && (queue || !rttKnown)) {
                pace = forecastMean;
            }
            return pace;
        }
        boolean delivered = goodputBitsPerSecond * (1 + minGain) >= pace;
        if (delivered && !queue) {
            // The pace was delivered without a standing queue: the path has more. Probe; past the band, release.
            double next = pace * PROBE_GAIN;
            if (!(next < forecastHigh)) {
                proven = pace;
                pace = 0;
            } else {
                pace = next;
            }
            return pace;
        }
        // No room shown: back towards the forecast mean, one probe step at most, never up.
        pace = Math.min(pace, Math.max(forecastMean, pace / PROBE_GAIN));
        return pace;
    }
}
