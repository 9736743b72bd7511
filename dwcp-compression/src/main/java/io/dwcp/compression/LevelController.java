package io.dwcp.compression;

import io.dwcp.core.DataRate;
import io.dwcp.core.Tier;
import io.dwcp.core.spi.Forecast;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Chooses the zstd level of a round. The tier gives a ceiling ({@code level.<tier>}). With a link
 * rate the controller takes, among the levels at or below the ceiling that keep the codec faster than the link, the
 * one with the least compress + transfer + decompress time per state byte:
 * <pre>
 *   feasible(l):  speed(l) × threads ≥ linkRate × ratio(l)
 *   cost(l)    =  1 / speed(l)  +  1 / (ratio(l) × linkRate)  +  1 / decodeSpeed(l)
 * </pre>
 * The link carries encoded bytes, so at ratio r the compressor must take in r times the link rate. Here r is the
 * compressor's own ratio (batch payload bytes offered to zstd ÷ encoded bytes), not the state ratio: pages a delta
 * leaves out (unchanged, moved, zero) cost no zstd time, and sizing by the state ratio (hundreds for a quiet round)
 * would pick the fastest, weakest level for exactly the rounds whose few changed pages deserve a good one.
 *
 * <p>Why the cost counts one core's compress time although batches run on {@code threads} workers: a migration's
 * CPU is taken from the guests (sender) or the other end's work (receiver), so a core-second is weighed like a second
 * of link time. The effect is that levels above 2, which buy a few per cent of ratio on memory pages for 1.4–3× the
 * CPU, are chosen only on links slow enough to pay for them (with two threads and the initial estimates: zstd:2
 * from about 150 Mbit/s to 2 Gbit/s, zstd:3 near 100 Mbit/s, zstd:4 near 50 Mbit/s, the ceiling at a few Mbit/s);
 * without a link rate the ceiling is used.
 *
 * <p>The shapes of speed and ratio across levels come from a measurement (below); the controller scales them by two
 * factors learnt from this codec's own batches: measured speed ÷ table speed at the level used (thread CPU time), and
 * measured compressor ratio ÷ table ratio. Scaling every level by one factor, instead of keeping a separate estimate
 * per level, keeps a level measured under CPU contention from looking slower than the untried levels beside it. The
 * choice for a tier is recomputed at most once per {@code adjust-interval}, so the level does not flap within a
 * migration.
 *
 * <p>With a bandwidth forecast of the path ({@code dwcp-prediction}, given as advice: known and confident enough),
 * the plan also looks ahead:
 * <ul>
 *   <li>a <b>rise</b>: when the forecast mean of the next horizon is above the measured link rate, cost and
 *       feasibility (codec faster than the link) are evaluated at the forecast mean, so the codec is ready before
 *       the faster link is measured. (An earlier version tested feasibility at the forecast's P90: a young path's
 *       band is wide, 1.5 times the mean or more, and on a constant-rate link that lowered the level and sent 1 %
 *       more bytes than without forecasts.)</li>
 *   <li>a <b>drop</b>: when even the forecast's P90 is below the measured rate (the path will very probably deliver
 *       less over the next horizon), the cost is evaluated at the forecast mean — a slower link pays for a stronger
 *       level, fewer bytes for more compute — but feasibility stays at the <em>measured</em> rate: the level chosen
 *       still keeps the codec faster than the link as measured now, exactly the guarantee the measurement-driven
 *       choice gives, so a forecast that is wrong cannot make the codec the bottleneck of a link that did not drop.
 *       A forecast mean slightly below the measured rate with a band around it (on a constant-rate link
 *       {@code auto}'s mean sits a little low by design) changes nothing.</li>
 * </ul>
 * Otherwise the choice is exactly the measurement-driven one. With no link rate the forecast alone plans. A
 * forecast-planned rate more than {@value #REPLAN_CHANGE} (relative) away from the one the current choice was made
 * for re-plans at once instead of waiting out {@code adjust-interval}. Without a forecast the controller is exactly
 * the measurement-driven one above.
 *
 * <p>Level words: {@code none} is 0 (stored batches), {@code zstd:N} is N (negative levels are zstd's fast
 * levels). Thread-safe.
 */
final class LevelController {
    static final int MIN_LEVEL = -7;
    static final int MAX_LEVEL = 19;
    /*
     * Per-core encode MB/s, decode MB/s and ratio relative to level 3, for levels -7 … 19 (index = level - MIN_LEVEL;
     * index 7 = level 0, unused). Measured with the zstd 1.5.4 CLI, one thread, 1 MiB blocks, on the first 256 MiB of
     * a real guest RAM snapshot (vmcorpus s0): `zstd -bN -i1 -T1 -B1048576` and `zstd -b1 --fast=N`. Levels -6, -4,
     * 8, 10, 11 and 13-18 are interpolated; 15 and 19 come from a 64 MiB slice. Ratios at level 3: 4.78 (1 is 3.58,
     * 2 is 4.57, 9 is 5.12).
     */
    private static final double[] ENCODE_MBPS = {
        933, 860, 792, 740, 686, 658, 609, 0, 509, 505, 356, 319, 177, 137, 107, 90, 82, 70, 62, 55, 30, 20, 13, 8, 6,
        4.5, 3.7};
    private static final double[] DECODE_MBPS = {
        2536, 2380, 2222, 2090, 1955, 1947, 1849, 0, 1451, 1676, 1655, 1655, 1642, 1730, 1739, 1765, 1792, 1770, 1745,
        1719, 1719, 1719, 1719, 1600, 1500, 1400, 1357};
    private static final double[] RELATIVE_RATIO = {
        0.520, 0.520, 0.519, 0.527, 0.536, 0.577, 0.611, 0, 0.749, 0.956, 1.000, 1.007, 1.039, 1.061, 1.067, 1.069,
        1.071, 1.072, 1.073, 1.076, 1.076, 1.077, 1.077, 1.09, 1.11, 1.14, 1.177};
    /** Bounds of one speed observation relative to the table. */
    static final double MIN_SPEED_FACTOR = 0.25;
    static final double MAX_SPEED_FACTOR = 2.0;
    /** Weight of one observation in the moving averages. */
    private static final double LEARNING_RATE = 0.1;
    /** Relative change of the forecast mean that re-plans a tier's level before {@code adjust-interval} ends. */
    static final double REPLAN_CHANGE = 0.2;

    private final Clock clock;
    private final Duration adjustInterval;
    private final int[] chosen = new int[Tier.values().length];
    private final Instant[] chosenAt = new Instant[Tier.values().length];
    /** Per tier: the rate (bytes per second) the last choice was planned for; NaN before the first. */
    private final double[] plannedFor = {Double.NaN, Double.NaN, Double.NaN};
    private final HdeMetrics metrics;
    /** Measured ÷ table encode speed, over all levels used. */
    private double speedFactor = 1.0;
    /** Compressor ratio at level 3 implied by the measurements (measured ratio ÷ relative ratio of the level used). */
    private double ratioAtLevel3 = 3.0;

    LevelController(Clock clock, Duration adjustInterval, HdeMetrics metrics) {
        this.clock = clock;
        this.adjustInterval = adjustInterval;
        this.metrics = metrics;
    }

    /** Parses a level word; {@code none} → 0. */
    static int parse(String word) {
        if (word.equals("none")) {
            return 0;
        }
        if (word.startsWith("zstd:")) {
            int l = Integer.parseInt(word.substring(5));
            if (l >= MIN_LEVEL && l <= MAX_LEVEL && l != 0) {
                return l;
            }
        }
        throw new IllegalArgumentException("level '" + word + "': expected none or zstd:-7 … zstd:19 (not zstd:0)");
    }

    /** The level for a round on {@code tier}, planned from the link rate alone (no forecast). */
    int choose(Tier tier, String ceilingWord, Optional<DataRate> linkRate, int threads, boolean adaptive) {
        return choose(tier, ceilingWord, linkRate, threads, adaptive, null);
    }

    /**
     * The level for a round on {@code tier}; {@code advice}, when known, plans it from the path's forecast instead of
     * {@code linkRate} (see the class comment). {@code null} or unknown advice: the measurement-driven choice.
     */
    synchronized int choose(Tier tier, String ceilingWord, Optional<DataRate> linkRate, int threads, boolean adaptive,
                            Forecast advice) {
        int ceiling = parse(ceilingWord);
        int level = ceiling;
        boolean forecast = advice != null && advice.isKnown() && advice.meanBitsPerSecond() > 0;
        if (adaptive && ceiling != 0 && (forecast || linkRate.isPresent())) {
            int t = tier.ordinal();
            Instant now = clock.instant();
            Instant at = chosenAt[t];
            double measured = linkRate.isPresent() ? linkRate.get().bytesPerSecond() : Double.NaN;
            // With advice: a foreseen rise plans (cost and feasibility) at the forecast mean; a foreseen drop (P90
            // below the measured rate) prices the link at the forecast mean but keeps the codec faster than the link
            // as measured. Anything else changes nothing: the choice is the measurement-driven one.
            double mean = forecast ? advice.meanBitsPerSecond() / 8 : Double.NaN;
            boolean ahead = forecast && (Double.isNaN(measured) || mean > measured);
            boolean drop = forecast && !ahead && advice.p90BitsPerSecond() / 8 < measured;
            double planned = ahead || drop ? mean : measured;
            double feasibleAt = drop ? measured : planned;
            // A forecast-planned rate re-plans early when it moved away from the rate the choice was made for (a
            // foreseen rise or drop, or the first confident forecast).
            boolean moved = (ahead || drop) && !Double.isNaN(plannedFor[t])
                    && Math.abs(planned - plannedFor[t]) > REPLAN_CHANGE * plannedFor[t];
            if (!moved && at != null && Duration.between(at, now).compareTo(adjustInterval) < 0 && chosen[t] <= ceiling
                    && chosen[t] != 0) {
                level = chosen[t];
            } else {
                level = cheapestFeasible(ceiling, planned / 1e9, feasibleAt / 1e9, threads);
                chosenAt[t] = now;
                plannedFor[t] = planned;
            }
        }
        int previous = metrics.levelByTier.getAndSet(tier.ordinal(), level);
        if (previous != level && chosenAt[tier.ordinal()] != null) {
            metrics.levelChanges.increment();
        }
        chosen[tier.ordinal()] = level;
        return level;
    }

    /**
     * The feasible level at or below {@code ceiling} with the least cost at {@code costBytesPerNano}, where feasible
     * means faster than a link of {@code feasibleBytesPerNano}; the fastest level when none is feasible.
     */
    private int cheapestFeasible(int ceiling, double costBytesPerNano, double feasibleBytesPerNano, int threads) {
        int best = MIN_LEVEL;
        double bestCost = Double.POSITIVE_INFINITY;
        for (int l = MIN_LEVEL; l <= ceiling; l++) {
            if (l == 0) {
                continue;
            }
            double speed = speed(l);
            double ratio = ratio(l);
            if (speed * Math.max(1, threads) < feasibleBytesPerNano * ratio) {
                continue;
            }
            double cost = 1 / speed + 1 / (ratio * costBytesPerNano) + 1 / (DECODE_MBPS[l - MIN_LEVEL] / 1000.0);
            if (cost < bestCost) {
                bestCost = cost;
                best = l;
            }
        }
        return best;
    }

    /** Folds one compressed batch (its input bytes and thread CPU time at {@code level}) into the speed estimate. */
    synchronized void observe(int level, long inputBytes, long cpuNanos) {
        if (level == 0 || cpuNanos <= 0 || inputBytes < 4096) {
            return;
        }
        double measured = (double) inputBytes / cpuNanos;
        double table = ENCODE_MBPS[level - MIN_LEVEL] / 1000.0;
        // Clamped: a batch of XOR deltas (mostly zeros) compresses several times faster than pages, and one such
        // round must not make every level look cheap for the next keyframe.
        double sample = Math.max(MIN_SPEED_FACTOR, Math.min(MAX_SPEED_FACTOR, measured / table));
        speedFactor = (1 - LEARNING_RATE) * speedFactor + LEARNING_RATE * sample;
    }

    /**
     * Folds a finished round's compressor ratio (bytes offered to zstd ÷ encoded bytes) at {@code level} into the
     * ratio estimate.
     */
    synchronized void observeRatio(int level, double ratio) {
        if (level != 0 && Double.isFinite(ratio) && ratio > 0) {
            double atLevel3 = Math.min(ratio, 1000) / RELATIVE_RATIO[level - MIN_LEVEL];
            ratioAtLevel3 = 0.7 * ratioAtLevel3 + 0.3 * atLevel3;
        }
    }

    /** Current encode speed estimate of {@code level} in bytes per nanosecond per thread. */
    synchronized double speed(int level) {
        return ENCODE_MBPS[level - MIN_LEVEL] / 1000.0 * speedFactor;
    }

    /** Current compressor ratio estimate of {@code level}. */
    synchronized double ratio(int level) {
        return ratioAtLevel3 * RELATIVE_RATIO[level - MIN_LEVEL];
    }
}
