package io.dwcp.partition;

import io.dwcp.core.placement.PlacementModel;
import io.dwcp.core.placement.PlacementPlan;
import io.dwcp.core.placement.Site;
import io.dwcp.core.placement.SiteLink;
import io.dwcp.core.placement.Traffic;
import io.dwcp.core.placement.Vm;
import io.dwcp.core.spi.BandwidthPredictor;
import io.dwcp.core.spi.Forecast;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The transfer time of moves, from the links' nominal or forecast bandwidth, in the rebalancer's move cost. */
class MoveTimeTest {
    private static final long GIB = 1L << 30;
    private static final double HOUR = 3600;

    /** a (1 GiB of state) on s0 sends 1e6 B/s to x, pinned on s1; one link s0–s1 of 10 Gbit/s, peer "slow". */
    private static PlacementModel oneMover() {
        return PlacementModel.builder().site(new Site("s0", 8, 64 * GIB)).site(new Site("s1", 8, 64 * GIB))
                .vm(Vm.of("x", 0, GIB, GIB).pinnedTo("s1")).vm(Vm.of("a", 0, GIB, GIB))
                .traffic(new Traffic("a", "x", 1e6)).currentlyOn("x", "s1").currentlyOn("a", "s0")
                .link(new SiteLink("s0", "s1", Duration.ofMillis(20), 1e10, 0.05, "slow")).build();
    }

    /** A rebalance by a started placer whose context has {@code predictor} (none when null). */
    static PlacementPlan rebalance(BandwidthPredictor predictor, PlacementModel model) {
        ItpPlacer p = (ItpPlacer) new ItpPlacementProvider().create(LinksAndNodesTest.context(predictor));
        p.start();
        try {
            return p.rebalance(model);
        } finally {
            p.stop();
        }
    }

    @Test
    void secondsComeFromTheForecastWhenThereIsOneElseFromTheNominalBandwidth() {
        PlacementEngine e = new PlacementEngine(oneMover());
        MoveTime nominal = MoveTime.of(e, peer -> Forecast.unknown(Duration.ofMinutes(5), 0));
        assertEquals(8.0 * GIB / 1e10, nominal.seconds(GIB, 0, 1), 1e-9);
        assertEquals(8.0 * GIB / 1e10, nominal.seconds(GIB, 1, 0), 1e-9, "the opposite direction's link");
        assertEquals(0, nominal.seconds(GIB, 1, 1));
        MoveTime forecast = MoveTime.of(e, LinksAndNodesTest.slowPeer(1e6)::advice);
        assertEquals(8.0 * GIB / 1e6, forecast.seconds(GIB, 0, 1), 1e-6);
        // Without links nothing is charged.
        PlacementEngine bare = new PlacementEngine(PlacementModel.builder().site(new Site("s0", 8, 64 * GIB))
                .site(new Site("s1", 8, 64 * GIB)).vm(Vm.of("a", 0, GIB, GIB)).build());
        assertTrue(!MoveTime.of(bare, peer -> null).known());
        assertEquals(0, MoveTime.NONE.seconds(GIB, 0, 1));
    }

    @Test
    void aMoveWhoseTransferAtTheForecastBandwidthEatsTheHorizonIsNotWorthIt() {
        // Bytes alone: 1e6 B/s × 1 h = 3.6e9 saved > 1 GiB moved. At the nominal 10 Gbit/s the transfer takes 0.9 s.
        PlacementPlan fast = rebalance(null, oneMover());
        assertEquals(PlacementPlan.Outcome.APPLIED, fast.outcome());
        assertEquals(1, fast.moves().size());
        // Forecast 2.5 Mbit/s: 3,436 s to move, the saving starts after it: (3600 − 3436) × 1e6 = 1.6e8 < 1 GiB.
        PlacementPlan slow = rebalance(LinksAndNodesTest.slowPeer(2.5e6), oneMover());
        assertEquals(PlacementPlan.Outcome.NOT_WORTH_IT, slow.outcome());
        assertEquals(0, slow.moves().size());
        // Forecast 5 Mbit/s: 1,718 s, (3600 − 1718) × 1e6 = 1.9e9 > 1 GiB: worth it again.
        PlacementPlan medium = rebalance(LinksAndNodesTest.slowPeer(5e6), oneMover());
        assertEquals(PlacementPlan.Outcome.APPLIED, medium.outcome());
        assertEquals(1, medium.moves().size());
    }

    @Property(tries = 60)
    void budgetedMovesRepayBytesAndWaitingWithinTheHorizon(@ForAll long seed,
                                                           @ForAll @IntRange(min = 1, max = 20) int maxMoves) {
        PlacementModel base = PlacementPropertiesTest.randomModel(seed);
        SplittableRandom r = new SplittableRandom(seed);
        PlacementModel.Builder b = PlacementModel.builder();
        base.sites().forEach(b::site);
        base.vms().forEach(b::vm);
        base.traffic().forEach(b::traffic);
        for (int i = 0; i < base.sites().size(); i++) {
            for (int j = i + 1; j < base.sites().size(); j++) {
                // 1 Mbit/s to 10 Gbit/s: from transfers of a fraction of a second to longer than the horizon.
                b.link(new SiteLink(base.sites().get(i).id(), base.sites().get(j).id(), Duration.ofMillis(10),
                        Math.pow(10, 6 + 4 * r.nextDouble()), 0.01, ""));
            }
        }
        PlacementEngine e = new PlacementEngine(b.build());
        int[] current = BudgetedMovesTest.feasible(e, r);
        if (current == null) {
            return;
        }
        MoveTime time = MoveTime.of(e, peer -> null);
        int[] plan = current.clone();
        BudgetedMoves.extend(e, current, plan, HOUR, 1.0, time, maxMoves, 0.05);
        assertNull(e.violation(plan));
        // Every moved byte costs what a cross-site byte costs on the link it crosses.
        double movedBytes = 0;
        int away = 0;
        for (int v = 0; v < e.n; v++) {
            if (plan[v] != current[v]) {
                movedBytes += e.vms[v].stateBytes() * e.cost[current[v]][plan[v]];
                away++;
            }
        }
        assertTrue(away <= maxMoves);
        double saved = HOUR * (e.crossTraffic(current, true) - e.crossTraffic(plan, true));
        double waiting = time.waitingCost(e, current, plan);
        assertTrue(away == 0 || saved > movedBytes + waiting * (1 - 1e-9),
                "saves " + saved + " for " + movedBytes + " moved bytes and " + waiting + " waiting");
    }
}
