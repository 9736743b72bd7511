package io.dwcp.partition;

import io.dwcp.core.placement.PlacementModel;
import io.dwcp.core.placement.PlacementPlan;
import io.dwcp.core.placement.Site;
import io.dwcp.core.placement.SiteCosts;
import io.dwcp.core.placement.Traffic;
import io.dwcp.core.placement.Vm;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A moved state byte costs what a cross-site byte costs on the link it crosses: the cost matrix prices migrations as it
 * prices traffic. Asymmetric matrix: a byte from s0 to s1 costs 10, from s1 to s0 0.1 (an egress-priced site s0).
 */
class MoveCostTest {
    private static final long GIB = 1L << 30;

    /**
     * a on s0 sends {@code rate} B/s to b on s1 (cost-weighted: 10 × rate). Both have 1 GiB of state and no CPU (no
     * balance limit in the way). Over the 1 h
     * default horizon moving either saves 3,600 × 10 × rate; moving a (s0 → s1) costs 10 GiB, moving b (s1 → s0) 0.1
     * GiB. {@code pinB} pins b to s1, so only a can move.
     */
    private static PlacementModel pair(double rate, boolean pinB) {
        Vm b = Vm.of("b", 0, GIB, GIB);
        return PlacementModel.builder().site(new Site("s0", 8, 64 * GIB)).site(new Site("s1", 8, 64 * GIB))
                .vm(Vm.of("a", 0, GIB, GIB)).vm(pinB ? b.pinnedTo("s1") : b)
                .traffic(new Traffic("a", "b", rate)).currentlyOn("a", "s0").currentlyOn("b", "s1")
                .costs(SiteCosts.of(List.of("s0", "s1"), new double[][] {{0, 10}, {0.1, 0}})).build();
    }

    private static PlacementPlan rebalance(PlacementModel model) {
        return MoveTimeTest.rebalance(null, model);
    }

    @Test
    void theCheapDirectionRepaysWhereTheDearOneDoesNot() {
        // 10 × 1.5e4 B/s × 3,600 s = 5.4e8 saved: more than b's 0.1 GiB (1.1e8) over the cheap link, less than
        // a's 10 GiB over the dear one and less than 1 GiB at one byte per byte.
        PlacementPlan plan = rebalance(pair(1.5e4, false));
        assertEquals(PlacementPlan.Outcome.APPLIED, plan.outcome());
        assertEquals(1, plan.moves().size());
        assertEquals("b", plan.moves().get(0).vm());
        assertEquals(Map.of("a", "s0", "b", "s0"), plan.placement());
    }

    @Test
    void aMoveOverADearLinkMustRepayItsPrice() {
        // b pinned: only a can move, over the dear link. 10 × 1e5 B/s × 3,600 s = 3.6e9 saved: more than 1 GiB of
        // bytes (what a move cost before link prices), less than 10 × 1 GiB.
        PlacementPlan dear = rebalance(pair(1e5, true));
        assertEquals(PlacementPlan.Outcome.NOT_WORTH_IT, dear.outcome());
        assertEquals(0, dear.moves().size());
        // 10 × 4e5 B/s × 3,600 s = 1.4e10 > 10 GiB (1.07e10): worth it.
        PlacementPlan worth = rebalance(pair(4e5, true));
        assertEquals(PlacementPlan.Outcome.APPLIED, worth.outcome());
        assertEquals("a", worth.moves().get(0).vm());
    }

    @Test
    void theMovingCostChargesEachMoveItsLink() {
        PlacementEngine e = new PlacementEngine(pair(1e5, false));
        int a = e.vmIndex.get("a");
        int b = e.vmIndex.get("b");
        int[] current = e.current();
        assertEquals(0, e.moveByteCost(0, 0));
        assertEquals(10, e.moveByteCost(0, 1));
        assertEquals(0.1, e.moveByteCost(1, 0), 1e-12);
        int[] plan = current.clone();
        plan[a] = 1;
        plan[b] = 0;
        assertEquals(2.0 * (10 + 0.1) * GIB, e.movingCost(current, plan, 2.0), 1e-3);
        // Moving a back home refunds its price; moving it on from s1 to s0 would be "back home" too.
        assertEquals(-10.0 * GIB, BudgetedMoves.moveCost(e, current, a, 1, 0, 1.0), 1e-3);
        assertEquals(10.0 * GIB, BudgetedMoves.moveCost(e, current, a, 0, 1, 1.0), 1e-3);
    }
}
