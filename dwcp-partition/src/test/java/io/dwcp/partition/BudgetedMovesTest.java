package io.dwcp.partition;

import io.dwcp.core.placement.PlacementModel;
import io.dwcp.core.placement.Site;
import io.dwcp.core.placement.Traffic;
import io.dwcp.core.placement.Vm;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The move-budgeted extension of a rebalancing plan: what it may spend, and the constraints it keeps. */
class BudgetedMovesTest {
    private static final long GIB = 1L << 30;
    private static final double HOUR = 3600;

    /** a saves 1e6 B/s by joining x on s1, b 1e5 B/s by joining y; both move 1 GiB; CPU-free VMs (no balance limit). */
    private static PlacementEngine twoMovers(boolean withA) {
        PlacementModel.Builder m = PlacementModel.builder().site(new Site("s0", 8, 64 * GIB)).site(new Site("s1", 8, 64 * GIB))
                .vm(Vm.of("x", 0, GIB, GIB).pinnedTo("s1")).vm(Vm.of("y", 0, GIB, GIB).pinnedTo("s1"))
                .vm(Vm.of("b", 0, GIB, GIB)).traffic(new Traffic("b", "y", 1e5));
        if (withA) {
            m.vm(Vm.of("a", 0, GIB, GIB)).traffic(new Traffic("a", "x", 1e6));
        }
        return new PlacementEngine(m.build());
    }

    private static int[] onS0ExceptPins(PlacementEngine e) {
        int[] site = new int[e.n];
        for (int v = 0; v < e.n; v++) {
            site[v] = e.pin[v] >= 0 ? e.pin[v] : 0;
        }
        return site;
    }

    @Test
    void spendsTheSurplusOfAWorthwhileMoveOnOneThatWouldNotRepayAlone() {
        // b alone: 1e5 B/s × 1 h = 3.6e8 saved bytes < 1 GiB moved: not worth it, b stays.
        PlacementEngine alone = twoMovers(false);
        int[] current = onS0ExceptPins(alone);
        int[] plan = current.clone();
        assertEquals(0, BudgetedMoves.extend(alone, current, plan, HOUR, 1.0, MoveTime.NONE, 100, 0.05));
        assertEquals(0, plan[alone.vmIndex.get("b")]);
        // With a (3.6e9 saved for 1 GiB), the plan saves 3.96e9 for 2 GiB: both move, cheapest saving per byte first.
        PlacementEngine both = twoMovers(true);
        current = onS0ExceptPins(both);
        plan = current.clone();
        assertEquals(2, BudgetedMoves.extend(both, current, plan, HOUR, 1.0, MoveTime.NONE, 100, 0.05));
        assertEquals(1, plan[both.vmIndex.get("a")]);
        assertEquals(1, plan[both.vmIndex.get("b")]);
        assertEquals(0.0, both.crossTraffic(plan, false));
        // A budget of one move: only a, the better saving per byte.
        plan = current.clone();
        assertEquals(1, BudgetedMoves.extend(both, current, plan, HOUR, 1.0, MoveTime.NONE, 1, 0.05));
        assertEquals(1, plan[both.vmIndex.get("a")]);
        assertEquals(0, plan[both.vmIndex.get("b")]);
    }

    /** Adds g1, g2, g3 (1 GiB each) that send 1e7 B/s to each other in a ring and 1e6 B/s each to x. */
    private static PlacementModel.Builder withGroup(PlacementModel.Builder m) {
        for (String g : new String[] {"g1", "g2", "g3"}) {
            m.vm(Vm.of(g, 0, GIB, GIB)).traffic(new Traffic(g, "x", 1e6));
        }
        return m.traffic(new Traffic("g1", "g2", 1e7)).traffic(new Traffic("g2", "g3", 1e7)).traffic(new Traffic("g3", "g1", 1e7));
    }

    /** g1, g2, g3 talk hard to each other and each a little to x on s1: no single move saves, the group does. */
    @Test
    void movesAGroupWhenNoSingleMemberGainsAlone() {
        PlacementModel.Builder m = PlacementModel.builder().site(new Site("s0", 8, 64 * GIB)).site(new Site("s1", 8, 64 * GIB))
                .vm(Vm.of("x", 0, GIB, GIB).pinnedTo("s1")).vm(Vm.of("other", 0, GIB, GIB).pinnedTo("s0"));
        PlacementEngine e = new PlacementEngine(withGroup(m).build());
        int[] current = onS0ExceptPins(e);
        int[] plan = current.clone();
        // Alone, g1 would gain 1e6 B/s and lose 2e7: only the three together save (3e6 B/s × 1 h > 3 GiB).
        assertEquals(3, BudgetedMoves.extend(e, current, plan, HOUR, 1.0, MoveTime.NONE, 100, 0.05));
        for (String g : new String[] {"g1", "g2", "g3"}) {
            assertEquals(1, plan[e.vmIndex.get(g)], g);
        }
        assertEquals(0.0, e.crossTraffic(plan, false));
        // Over 15 minutes the group does not repay its 3 GiB (3e6 × 900 s = 2.7e9 bytes): nothing moves.
        plan = current.clone();
        assertEquals(0, BudgetedMoves.extend(e, current, plan, 900, 1.0, MoveTime.NONE, 100, 0.05));
    }

    /** As above, plus g4 with 64 GiB of state and weak ties to g1 and x: the group leaves it behind and still moves. */
    @Test
    void aGroupLeavesBehindAMemberThatCostsMoreThanItBrings() {
        PlacementModel.Builder m = PlacementModel.builder().site(new Site("s0", 8, 256 * GIB)).site(new Site("s1", 8, 256 * GIB))
                .vm(Vm.of("x", 0, GIB, GIB).pinnedTo("s1")).vm(Vm.of("other", 0, GIB, GIB).pinnedTo("s0"))
                .vm(Vm.of("g4", 0, 64 * GIB, 64 * GIB)).traffic(new Traffic("g4", "x", 1e4)).traffic(new Traffic("g4", "g1", 1e4));
        PlacementEngine e = new PlacementEngine(withGroup(m).build());
        int[] current = onS0ExceptPins(e);
        int[] plan = current.clone();
        // With g4 the group would move 67 GiB for 3.01e6 B/s × 1 h = 1.1e10 bytes: not worth it; without, 3 GiB.
        assertEquals(3, BudgetedMoves.extend(e, current, plan, HOUR, 1.0, MoveTime.NONE, 100, 0.05));
        for (String g : new String[] {"g1", "g2", "g3"}) {
            assertEquals(1, plan[e.vmIndex.get(g)], g);
        }
        assertEquals(0, plan[e.vmIndex.get("g4")]);
    }

    @Property(tries = 60)
    void extensionKeepsEveryHardConstraintAndStillRepaysItsMoves(@ForAll long seed,
                                                                 @ForAll @IntRange(min = 1, max = 20) int maxMoves) {
        PlacementEngine e = new PlacementEngine(PlacementPropertiesTest.randomModel(seed));
        int[] current = feasible(e, new SplittableRandom(seed));
        if (current == null) {
            return;
        }
        int[] plan = current.clone();
        BudgetedMoves.extend(e, current, plan, HOUR, 1.0, MoveTime.NONE, maxMoves, 0.05);
        assertNull(e.violation(plan));
        // Every moved byte costs what a cross-site byte costs on the link it crosses.
        double movedBytes = 0;
        int away = 0;
        for (int v = 0; v < e.n; v++) {
            if (plan[v] != current[v]) {
                assertTrue(e.pin[v] < 0, "a pinned VM moved");
                movedBytes += e.vms[v].stateBytes() * e.cost[current[v]][plan[v]];
                away++;
            }
        }
        assertTrue(away <= maxMoves, away + " moves for a budget of " + maxMoves);
        double saved = HOUR * (e.crossTraffic(current, true) - e.crossTraffic(plan, true));
        assertTrue(away == 0 || saved > movedBytes, "saves " + saved + " for " + movedBytes + " moved bytes");
    }

    /** A random placement that keeps pins and every capacity (unbalanced on purpose), or null. */
    static int[] feasible(PlacementEngine e, SplittableRandom r) {
        for (int attempt = 0; attempt < 50; attempt++) {
            int[] site = new int[e.n];
            for (int v = 0; v < e.n; v++) {
                site[v] = e.pin[v] >= 0 ? e.pin[v] : r.nextInt(e.k);
            }
            if (e.violation(site) == null) {
                return site;
            }
        }
        return null;
    }
}
