package io.dwcp.consensus;

import io.dwcp.core.spi.Consensus.CasResult;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PlacementPlansTest {
    private final InMemoryRegisters registers = new InMemoryRegisters();
    private final PlacementPlans plans = new PlacementPlans(registers, "eu");

    @Test
    void onlyAPlannerThatSawThePlanInForceAdoptsAndEpochsGrow() throws Exception {
        assertFalse(plans.current().get().isPresent());
        CasResult first = plans.adopt(null, "plan-1").get();
        assertTrue(first.applied());
        // Two planners both started from plan-1: one wins, the other learns the winner.
        CasResult winner = plans.adopt("plan-1", "plan-2a").get();
        CasResult loser = plans.adopt("plan-1", "plan-2b").get();
        assertTrue(winner.applied());
        assertFalse(loser.applied());
        assertEquals("plan-2a", loser.current().value());
        assertTrue(winner.current().version() > first.current().version());
        assertEquals(winner.current(), plans.current().get());
        assertFalse(plans.adopt(null, "plan-3").get().applied(), "a planner that saw no plan cannot replace one");
    }

    @Test
    void scopesAreIndependentRegisters() throws Exception {
        PlacementPlans us = new PlacementPlans(registers, "us");
        assertTrue(plans.adopt(null, "p1").get().applied());
        assertFalse(us.current().get().isPresent());
        assertEquals("plan/us/current", us.key());
    }

    @Test
    void badIdsAndScopesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new PlacementPlans(registers, "a/b"));
        assertThrows(IllegalArgumentException.class, () -> plans.adopt(null, ""));
        assertThrows(IllegalArgumentException.class, () -> plans.adopt(null, "has space"));
        assertThrows(IllegalArgumentException.class, () -> plans.adopt("p", "p"));
    }
}
