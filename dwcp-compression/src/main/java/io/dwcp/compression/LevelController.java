package io.dwcp.compression;

import io.dwcp.core.DataRate;
import io.dwcp.core.Tier;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Chooses the zstd level of a round (HDE-6, HDE-7b). The tier gives a ceiling ({@code level.<tier>}); with a link
 * rate the controller takes the highest level at or below the ceiling whose expected encode throughput keeps the
 * codec faster than the link: {@code speed(level) × threads ≥ linkRate × ratio}, where the link carries encoded
 * bytes, so at ratio r the encoder must take in r times the link rate. Without a link rate the ceiling is used.
 *
 * <p>Speeds start from a table of zstd's per-core speeds on memory-like data and are replaced by measurements: each
 * compressed batch reports its input bytes and thread CPU time, folded into a per-level moving average. The choice
 * for a tier is recomputed at most once per {@code adjust-interval}, so the level does not flap within a migration.
 *
 * <p>Level words: {@code none} is 0 (stored batches), {@code lz4} maps to zstd level -1 (no LZ4 library is bundled;
 * zstd's fast levels are in LZ4's speed class), {@code zstd:N} is N. Thread-safe.
 */
final class LevelController {
    static final int MIN_LEVEL = -7;
    static final int MAX_LEVEL = 19;
    /** Initial per-core encode speeds in MB/s for levels -7 … 19 (index = level - MIN_LEVEL; index 7 = level 0 unused). */
    private static final double[] INITIAL_MBPS = {
        1100, 1000, 950, 900, 850, 800, 700, 0, 500, 420, 330, 260, 160, 120, 100, 80, 60, 45, 38, 30, 24, 18, 12, 8, 6, 4, 3};

    private final Clock clock;
    private final Duration adjustInterval;
    private final double[] bytesPerNano = new double[INITIAL_MBPS.length];
    private final int[] chosen = new int[Tier.values().length];
    private final Instant[] chosenAt = new Instant[Tier.values().length];
    private final HdeMetrics metrics;
    private double ratioEstimate = 3.0;

    LevelController(Clock clock, Duration adjustInterval, HdeMetrics metrics) {
        this.clock = clock;
        this.adjustInterval = adjustInterval;
        this.metrics = metrics;
        for (int i = 0; i < INITIAL_MBPS.length; i++) {
            bytesPerNano[i] = INITIAL_MBPS[i] / 1000.0;
        }
    }

    /** Parses a level word; {@code none} → 0. */
    static int parse(String word) {
        if (word.equals("none")) {
            return 0;
        }
        if (word.equals("lz4")) {
            return -1;
        }
        if (word.startsWith("zstd:")) {
            int l = Integer.parseInt(word.substring(5));
            if (l >= MIN_LEVEL && l <= MAX_LEVEL && l != 0) {
                return l;
            }
        }
        throw new IllegalArgumentException("level '" + word + "': expected none, lz4 or zstd:-7 … zstd:19 (not zstd:0)");
    }

    /** The level for a round on {@code tier}. */
    synchronized int choose(Tier tier, String ceilingWord, Optional<DataRate> linkRate, int threads, boolean adaptive) {
        int ceiling = parse(ceilingWord);
        int level = ceiling;
        if (adaptive && ceiling != 0 && linkRate.isPresent()) {
            Instant now = clock.instant();
            Instant at = chosenAt[tier.ordinal()];
            if (at != null && Duration.between(at, now).compareTo(adjustInterval) < 0 && chosen[tier.ordinal()] <= ceiling
                    && chosen[tier.ordinal()] != 0) {
                level = chosen[tier.ordinal()];
            } else {
                double needBytesPerNano = linkRate.get().bytesPerSecond() * Math.max(1.0, ratioEstimate) / 1e9;
                level = MIN_LEVEL;
                for (int l = ceiling; l >= MIN_LEVEL; l--) {
                    if (l == 0) {
                        continue;
                    }
                    if (bytesPerNano[l - MIN_LEVEL] * Math.max(1, threads) >= needBytesPerNano) {
                        level = l;
                        break;
                    }
                }
                chosenAt[tier.ordinal()] = now;
            }
        }
        int previous = metrics.levelByTier.getAndSet(tier.ordinal(), level);
        if (previous != level && chosenAt[tier.ordinal()] != null) {
            metrics.levelChanges.increment();
        }
        chosen[tier.ordinal()] = level;
        return level;
    }

    /** Folds one compressed batch into the speed estimate of {@code level}. */
    synchronized void observe(int level, long inputBytes, long cpuNanos) {
        if (level == 0 || cpuNanos <= 0 || inputBytes < 4096) {
            return;
        }
        int i = level - MIN_LEVEL;
        double sample = (double) inputBytes / cpuNanos;
        bytesPerNano[i] = 0.9 * bytesPerNano[i] + 0.1 * sample;
    }

    /** Folds the ratio of a finished round into the estimate used to size the level. */
    synchronized void observeRatio(double ratio) {
        if (Double.isFinite(ratio) && ratio > 0) {
            ratioEstimate = 0.7 * ratioEstimate + 0.3 * Math.min(ratio, 1000);
        }
    }

    /** Current speed estimate in bytes per nanosecond per thread (tests, diagnostics). */
    synchronized double speed(int level) {
        return bytesPerNano[level - MIN_LEVEL];
    }
}
