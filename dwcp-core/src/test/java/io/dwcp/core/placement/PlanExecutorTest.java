package io.dwcp.core.placement;

import io.dwcp.core.migration.Migration;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PlanExecutorTest {
    private static final Migration.Result DONE = new Migration.Result(List.of(), "converged", Duration.ZERO, Duration.ZERO);

    private static PlacementPlan plan(Move... moves) {
        return new PlacementPlan(Map.of(), 0, 0, 0, 0, List.of(moves), PlacementPlan.Outcome.APPLIED);
    }

    @Test
    void oneMigrationPerMoveInPlanOrderEachReported() {
        PlacementPlan p = plan(new Move("a", "s0", "s1", 10), new Move("b", "s1", "s0", 20), new Move("c", "s0", "s2", 30));
        List<String> calls = new ArrayList<>();
        List<PlanExecutor.MoveReport> seen = new ArrayList<>();
        // The second migration completes later than its call returns: the third must wait for it.
        CompletableFuture<Migration.Result> slow = new CompletableFuture<>();
        CompletableFuture<PlanExecutor.Report> f = PlanExecutor.execute(p, m -> {
            calls.add(m.vm());
            return m.vm().equals("b") ? slow : CompletableFuture.completedFuture(DONE);
        }, seen::add);
        assertEquals(List.of("a", "b"), calls);
        assertFalse(f.isDone());
        slow.complete(DONE);
        PlanExecutor.Report r = f.join();
        assertEquals(List.of("a", "b", "c"), calls);
        assertTrue(r.complete());
        assertEquals(60, r.bytesMigrated());
        assertEquals(3, seen.size());
        assertEquals(List.of(0, 1, 2), r.moves().stream().map(PlanExecutor.MoveReport::index).toList());
        assertEquals(DONE, r.moves().get(0).result().orElseThrow());
    }

    @Test
    void aFailedMigrationStopsTheRestWhichAreReportedSkipped() {
        PlacementPlan p = plan(new Move("a", "s0", "s1", 10), new Move("b", "s1", "s0", 20), new Move("c", "s0", "s2", 30));
        List<String> calls = new ArrayList<>();
        PlanExecutor.Report r = PlanExecutor.execute(p, m -> {
            calls.add(m.vm());
            if (m.vm().equals("b")) {
                throw new IllegalStateException("receiver refused");
            }
            return CompletableFuture.completedFuture(DONE);
        }, x -> { }).join();
        assertEquals(List.of("a", "b"), calls);
        assertEquals(List.of(PlanExecutor.Status.MIGRATED, PlanExecutor.Status.FAILED, PlanExecutor.Status.SKIPPED),
                r.moves().stream().map(PlanExecutor.MoveReport::status).toList());
        assertEquals("receiver refused", r.moves().get(1).error());
        assertEquals(1, r.count(PlanExecutor.Status.SKIPPED));
        assertEquals(10, r.bytesMigrated());
        assertFalse(r.complete());

        PlanExecutor.Report async = PlanExecutor.execute(p, m -> m.vm().equals("a")
                ? CompletableFuture.failedFuture(new java.io.IOException("link down"))
                : CompletableFuture.completedFuture(DONE), x -> { }).join();
        assertEquals("link down", async.moves().get(0).error());
        assertEquals(2, async.count(PlanExecutor.Status.SKIPPED));
    }
}
