package io.dwcp.core.migration;

import io.dwcp.core.DataRate;
import io.dwcp.core.Tier;

/**
 * The link rate a migration tells the codec to plan its level for (the codec must never be the bottleneck).
 *
 * <p>Why not simply the last round's goodput: when the codec was the bottleneck, goodput measures the codec, not the
 * link, and feeding it back makes the codec pick an even slower level — a loop that never finds the link's speed. So
 * the estimate moves on evidence of who waited:
 * <ul>
 *   <li>No evidence yet (round 0): the top of the tier's typical bandwidth, or the configured rate cap when lower. Overestimating costs some ratio;
 *       underestimating stalls the link.</li>
 *   <li>The encoder spent a large share of the round blocked on a full pipe: the link was the bottleneck, and the
 *       round's wire goodput is the link rate.</li>
 *   <li>Otherwise the codec (or the CPU) limited the round: the link is at least as fast as measured, so the estimate
 *       never drops below the measurement and rises toward the tier's top.</li>
 * </ul>
 * Not thread-safe; used by one sender between rounds.
 */
final class LinkRateEstimator {
    /** Share of a round the encoder must spend waiting for the link before goodput counts as the link's rate. */
    static final double LINK_BOUND_SHARE = 0.3;

    private final DataRate cap;
    private DataRate estimate;

    /** @param cap the configured rate cap, or null */
    LinkRateEstimator(DataRate cap) {
        this.cap = cap;
    }

    /** The rate to plan the next round for, on a path of {@code tier}. */
    DataRate planningRate(Tier tier) {
        DataRate r = estimate != null ? estimate : tierTop(tier);
        return cap != null && cap.compareTo(r) < 0 ? cap : r;
    }

    /**
     * Folds in one finished round.
     *
     * @param wireBitsPerSecond the round's wire goodput
     * @param encoderBlockedShare share of the round the encoder waited for the link (0–1)
     */
    void observe(Tier tier, double wireBitsPerSecond, double encoderBlockedShare) {
        if (!(wireBitsPerSecond >= 1)) {
            return;
        }
        DataRate measured = DataRate.ofBitsPerSecond((long) wireBitsPerSecond);
        if (encoderBlockedShare >= LINK_BOUND_SHARE) {
            estimate = measured;
        } else {
            DataRate current = planningRate(tier);
            estimate = measured.compareTo(current) > 0 ? measured : current;
        }
    }

    static DataRate tierTop(Tier tier) {
        switch (tier) {
            case LOCAL:
                return DataRate.ofMegabitsPerSecond(100_000);
            case REGIONAL:
                return DataRate.ofMegabitsPerSecond(10_000);
            default:
                return DataRate.ofMegabitsPerSecond(1_000);
        }
    }
}
