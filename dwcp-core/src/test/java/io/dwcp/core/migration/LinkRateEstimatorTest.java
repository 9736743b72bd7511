package io.dwcp.core.migration;

import io.dwcp.core.DataRate;
import io.dwcp.core.Tier;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class LinkRateEstimatorTest {
    private static final DataRate GBIT = DataRate.ofMegabitsPerSecond(1000);

    @Test
    void withoutEvidenceItPlansForTheTopOfTheTier() {
        LinkRateEstimator e = new LinkRateEstimator(null);
        assertEquals(GBIT, e.planningRate(Tier.WAN));
        assertEquals(DataRate.ofMegabitsPerSecond(10_000), e.planningRate(Tier.REGIONAL));
        assertEquals(DataRate.ofMegabitsPerSecond(100_000), e.planningRate(Tier.LOCAL));
    }

    @Test
    void aRateCapBoundsThePlan() {
        assertEquals(DataRate.ofMegabitsPerSecond(200), new LinkRateEstimator(DataRate.ofMegabitsPerSecond(200)).planningRate(Tier.WAN));
    }

    @Test
    void aLinkBoundRoundSetsTheEstimateToItsGoodput() {
        LinkRateEstimator e = new LinkRateEstimator(null);
        e.observe(Tier.WAN, 380e6, 0.8);
        assertEquals(DataRate.ofMegabitsPerSecond(380), e.planningRate(Tier.WAN));
    }

    @Test
    void aCodecBoundRoundNeverLowersTheEstimate() {
        // The encoder never waited: 69 Mbit/s measured the codec, not the link (the feedback loop this class avoids).
        LinkRateEstimator e = new LinkRateEstimator(null);
        e.observe(Tier.WAN, 69e6, 0.0);
        assertEquals(GBIT, e.planningRate(Tier.WAN));
        e.observe(Tier.WAN, 380e6, 0.9);
        e.observe(Tier.WAN, 100e6, 0.05);
        assertEquals(DataRate.ofMegabitsPerSecond(380), e.planningRate(Tier.WAN));
        e.observe(Tier.WAN, 500e6, 0.1);
        assertEquals(DataRate.ofMegabitsPerSecond(500), e.planningRate(Tier.WAN), "faster than believed: raise it");
    }

    @Test
    void degenerateSamplesAreIgnored() {
        LinkRateEstimator e = new LinkRateEstimator(null);
        e.observe(Tier.WAN, 0, 1.0);
        e.observe(Tier.WAN, Double.NaN, 1.0);
        assertEquals(GBIT, e.planningRate(Tier.WAN));
    }
}
