package io.dwcp.transport.control;

/*
 * Adaptive stream count.
 *
 * Idea: one TCP flow on a long, lossy path is capped by its congestion control (Mathis: rate ≈ MSS/RTT × 1.22/√p),
 * so the aggregate grows with the number of flows until the bottleneck is full. The controller hill-climbs on the
 * measured aggregate goodput: every adjust interval it looks at the goodput of the interval just ended and
 *   - after a growth step, keeps it when goodput rose by ≥ min-gain and the smoothed RTT stayed under 1.5 × the
 *     minimum RTT (no standing queue), and then grows again (at most ×2 per step);
 *   - otherwise steps back to the previous count and holds there for a number of intervals that doubles after
 *     each failed probe (1, 2, 4, 8): hysteresis, so it does not oscillate around the knee;
 *   - never goes below the Mathis floor under loss-based congestion control (CUBIC, Reno): when the loss rate is
 *     known (TCP_INFO), ceil(goodput needed ÷ per-stream ceiling) streams are required just to carry what was
 *     measured plus min-gain (still at most ×2 per step). BBR does not back off on loss, so there the floor is off.
 * Samples from application-limited intervals (nothing waiting to be sent) are ignored: they say nothing about the
 * path. The result is clamped to [min, max].
 *
 * With forecasts of the path (dwcp-prediction, as advice; measurement stays the authority) three things change:
 *   - a growth step must gain over both the previous interval and what the path was forecast to deliver in the
 *     interval at the old stream count (the short-horizon forecast made at the previous tick): on a moving link the
 *     previous interval confounds the step with the link's own change, and a step taken while the link rose looked
 *     like a success. The forecast can only veto such a success, never create one: a false success doubles the
 *     streams (more queue and loss on the bottleneck, measured: 8 -> 64 streams in a closed-loop run when a step was
 *     judged against the forecast alone, whose mean is deliberately low), a false failure only costs a hold;
 *   - no growth step is started while the long-horizon forecast's P90 is below what the interval delivered ÷
 *     (1 + min-gain): the path will very probably deliver less than now, so more streams cannot show a gain and a
 *     probe would only be misjudged. The count is held; the floor below still applies.
 *   - with the path's RTT and loss forecasts (the mean of the recent measured values over the horizon), the Mathis
 *     floor plans for the loss the flows are forecast to see over the horizon instead of this one interval's, and for
 *     their forecast RTT when it is above the minimum RTT: one interval's burst of retransmissions no longer doubles
 *     the streams, a clean interval on a path that stays lossy no longer drops the floor, and flows that run with a
 *     standing queue are not credited with the per-stream rate of the empty path.
 * Without a forecast (NaN arguments) every decision is the one described above, unchanged.
 *
 * The original design lowered the stream count as RTT rose; that is backwards under loss-based congestion control.
 * Here a longer RTT lowers the per-stream ceiling and so can only raise the floor: ceilingStreams() is monotone
 * non-decreasing in RTT (property-tested).
 *
 * Threading: confined to the caller (the session's controller tick); no locks.
 */

/** Decides the data stream count of one session from measured goodput, RTT and loss. Not thread-safe. */
public final class StreamCountController {
    /** Default TCP payload per segment for the Mathis model when TCP_INFO has none, bytes. */
    public static final int DEFAULT_MSS_BYTES = 1448;
    private static final double MATHIS_C = 1.22;
    private static final double MAX_RTT_INFLATION = 1.5;
    private static final int MAX_HOLD_TICKS = 8;

    private final int min;
    private final int max;
    private final double minGain;
    private final boolean lossBased;

    /** The hill climber's own count. */
    private int target;
    /** What was last returned: max(climber, floor). */
    private int applied;
    private int previous;
    private double previousGoodput = -1;
    private int holdTicks;
    private int nextHold = 1;
    /** The count whose last probe failed; succeeding there again (noise) does not reset the hold. */
    private int lastFailed = -1;

    /**
     * @param min the fewest streams
     * @param initial the streams to start with
     * @param max the most streams (at most 256)
     * @param minGain the relative goodput gain a step must bring to be kept (0.05 = 5 %)
     * @param lossBased whether the host's congestion control backs off on loss (CUBIC, Reno): only then does the
     *     Mathis floor apply; BBR's rate does not follow the loss rate
     */
    public StreamCountController(int min, int initial, int max, double minGain, boolean lossBased) {
        if (min < 1 || min > initial || initial > max || max > 256) {
            throw new IllegalArgumentException("need 1 <= min <= initial <= max <= 256, got " + min + "/" + initial + "/" + max);
        }
        this.min = min;
        this.max = max;
        this.minGain = minGain;
        this.lossBased = lossBased;
        this.target = initial;
        this.applied = initial;
        this.previous = initial;
    }

    /**
     * The current target count.
     *
     * @return the streams the session should run
     */
    public int target() {
        return applied;
    }

    /**
     * Feeds one adjust interval and returns the new target.
     *
     * @param goodputBitsPerSecond aggregate payload goodput of the interval
     * @param minRttNanos minimum RTT seen on the session
     * @param smoothedRttNanos smoothed RTT of the interval
     * @param lossRate retransmitted ÷ sent segments from TCP_INFO, or NaN when unknown
     * @param busy whether data was waiting to be sent for the whole interval (else the sample is ignored)
     * @return the new target stream count
     */
    public int update(double goodputBitsPerSecond, long minRttNanos, long smoothedRttNanos, double lossRate, boolean busy) {
        return update(goodputBitsPerSecond, minRttNanos, smoothedRttNanos, lossRate, busy, Double.NaN, Double.NaN);
    }

    /**
     * Feeds one adjust interval with the path's forecasts as advice, and returns the new target. With both forecasts
     * NaN this is {@link #update(double, long, long, double, boolean)}.
     *
     * @param goodputBitsPerSecond aggregate payload goodput of the interval
     * @param minRttNanos minimum RTT seen on the session
     * @param smoothedRttNanos smoothed RTT of the interval
     * @param lossRate retransmitted ÷ sent segments from TCP_INFO, or NaN when unknown
     * @param busy whether data was waiting to be sent for the whole interval (else the sample is ignored)
     * @param expectedBitsPerSecond the mean goodput forecast for this interval before it began (short horizon), or
     *     NaN when there was no advice: a growth step must also gain over it
     * @param foreseenHighBitsPerSecond P90 of the long-horizon forecast made now, or NaN when there is no advice: no
     *     growth step starts while it is below this interval's goodput ÷ (1 + min-gain)
     * @return the new target stream count
     */
    public int update(double goodputBitsPerSecond, long minRttNanos, long smoothedRttNanos, double lossRate, boolean busy,
                      double expectedBitsPerSecond, double foreseenHighBitsPerSecond) {
        return update(goodputBitsPerSecond, minRttNanos, smoothedRttNanos, lossRate, busy, expectedBitsPerSecond,
                foreseenHighBitsPerSecond, Double.NaN, 0);
    }

    /**
     * Feeds one adjust interval with the path's bandwidth, loss and RTT forecasts as advice, and returns the new target.
     * With NaN loss and a zero RTT forecast this is {@link #update(double, long, long, double, boolean, double, double)}.
     *
     * @param goodputBitsPerSecond aggregate payload goodput of the interval
     * @param minRttNanos minimum RTT seen on the session
     * @param smoothedRttNanos smoothed RTT of the interval
     * @param lossRate retransmitted ÷ sent segments from TCP_INFO, or NaN when unknown
     * @param busy whether data was waiting to be sent for the whole interval (else the sample is ignored)
     * @param expectedBitsPerSecond the mean goodput forecast for this interval before it began (short horizon), or NaN
     * @param foreseenHighBitsPerSecond P90 of the long-horizon forecast made now, or NaN
     * @param foreseenLossRate mean loss ratio forecast over the horizon, or NaN when there is no advice: the Mathis
     *     floor uses it instead of {@code lossRate}
     * @param foreseenRttNanos mean RTT forecast over the horizon, or 0 when there is no advice: the Mathis floor uses it
     *     when it is above {@code minRttNanos}
     * @return the new target stream count
     */
    public int update(double goodputBitsPerSecond, long minRttNanos, long smoothedRttNanos, double lossRate, boolean busy,
                      double expectedBitsPerSecond, double foreseenHighBitsPerSecond, double foreseenLossRate,
                      long foreseenRttNanos) {
        if (!busy) {
            return applied;
        }
        boolean inflated = minRttNanos > 0 && smoothedRttNanos > MAX_RTT_INFLATION * minRttNanos;
        int hill = climb(goodputBitsPerSecond, inflated, expectedBitsPerSecond > 0 ? expectedBitsPerSecond : Double.NaN,
                foreseenHighBitsPerSecond >= 0 && foreseenHighBitsPerSecond * (1 + minGain) < goodputBitsPerSecond);
        // The floor is kept apart from the hill-climbing state: the climb depends only on goodput and RTT inflation,
        // the floor is monotone in RTT, so the result never falls as RTT rises (a tested property).
        // With advice the floor plans for the loss and RTT forecast over the horizon; max(min RTT, forecast) keeps the
        // floor monotone in the minimum RTT.
        double floorLoss = foreseenLossRate >= 0 ? foreseenLossRate : lossRate;
        long floorRtt = Math.max(minRttNanos, foreseenRttNanos);
        int floor = Double.isNaN(floorLoss) || !lossBased ? min
                : Math.min(grow(applied), ceilingStreams(goodputBitsPerSecond * (1 + minGain), floorRtt, floorLoss,
                DEFAULT_MSS_BYTES, min, max));
        applied = Math.max(hill, floor);
        return applied;
    }

    /**
     * @param expected the forecast goodput of this interval at the old count, or NaN (judge against the last interval
     *     alone)
     * @param dropForeseen whether the forecast says the path will deliver clearly less than now (no growth step)
     */
    private int climb(double goodputBitsPerSecond, boolean inflated, double expected, boolean dropForeseen) {
        if (holdTicks > 0) {
            holdTicks--;
            previousGoodput = goodputBitsPerSecond;
            previous = target;
            return target;
        }
        if (previousGoodput < 0) {
            // First busy sample: it includes the flows' start-up, so it is a poor baseline to judge a step by. Under
            // loss-based congestion control a long path needs more streams anyway (Mathis), so grow at once; under
            // BBR take the next, steady sample as the baseline first.
            previousGoodput = goodputBitsPerSecond;
            previous = target;
            return lossBased ? (target = grow(target)) : target;
        }
        if (target > previous) {
            double reference = Double.isNaN(expected) ? previousGoodput : Math.max(previousGoodput, expected);
            boolean gained = goodputBitsPerSecond >= reference * (1 + minGain);
            if (gained && !inflated) {
                if (target != lastFailed) {
                    nextHold = 1;
                }
                previousGoodput = goodputBitsPerSecond;
                previous = target;
                return target = dropForeseen ? target : grow(target);
            }
            // The step gained too little or built a queue: step back and hold (hysteresis).
            int back = previous;
            lastFailed = target;
            previous = target;
            holdTicks = nextHold;
            nextHold = Math.min(nextHold * 2, MAX_HOLD_TICKS);
            previousGoodput = goodputBitsPerSecond;
            return target = Math.max(back, min);
        }
        // Steady after a hold: probe upwards again (unless the link is forecast to fall: the probe could not gain).
        previousGoodput = goodputBitsPerSecond;
        previous = target;
        return target = dropForeseen ? target : grow(target);
    }

    private int grow(int n) {
        return Math.min(max, Math.max(n + 1, n * 2));
    }

    /**
     * Streams needed to carry {@code bitsPerSecond} when each flow is capped by the Mathis model at the given RTT and
     * loss: {@code ceil(bitsPerSecond ÷ (MSS·8/RTT × 1.22/√p))}, clamped to [min, max]. Non-decreasing in RTT and in
     * loss. With no loss the model has no ceiling and the answer is {@code min}.
     *
     * @param bitsPerSecond the rate to carry
     * @param rttNanos the round-trip time
     * @param lossRate the loss rate (0 to 1)
     * @param mssBytes the segment size
     * @param min the fewest streams to answer
     * @param max the most streams to answer
     * @return the stream count
     */
    public static int ceilingStreams(double bitsPerSecond, long rttNanos, double lossRate, int mssBytes, int min, int max) {
        if (!(lossRate > 0) || rttNanos <= 0 || !(bitsPerSecond > 0)) {
            return min;
        }
        double perStream = mssBytes * 8.0 / (rttNanos / 1e9) * MATHIS_C / Math.sqrt(lossRate);
        double n = Math.ceil(bitsPerSecond / perStream);
        return (int) Math.max(min, Math.min(max, n));
    }
}
