package io.dwcp.core.placement;

import io.dwcp.core.migration.Migration;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;

/**
 * Carries out a {@link PlacementPlan}: one migration per move, in the plan's order (the order that keeps every site
 * within its capacities after each step), each reported when it ends. The caller supplies the migration of one move
 * through the migration API, typically:
 *
 * <pre>{@code
 * PlanExecutor.Report report = PlanExecutor.execute(plan, move ->
 *         dwcp.openMigration(receiverOf(move.toSite()))
 *             .thenCompose(sender -> dwcp.migration(sender, sourceOf(move.vm())).build().start()),
 *         r -> log.info("{}", r)).join();
 * }</pre>
 *
 * <p>Moves run one at a time: the next starts when the previous one has completed. When a migration fails (its future
 * completes exceptionally, or the call throws), the moves after it are not started — their capacity guarantee assumed
 * the failed one — and are reported {@link Status#SKIPPED}. Thread-safe; no threads of its own (continuations run on
 * the threads that complete the migrations' futures).
 */
public final class PlanExecutor {
    private PlanExecutor() {
    }

    /** The migration of one move through the migration API: one call per move. */
    @FunctionalInterface
    public interface MoveMigration {
        /**
         * Starts migrating {@code move.vm()} from {@code move.fromSite()} to {@code move.toSite()}.
         *
         * @param move the move
         * @return the migration's result, completed when it has ended
         */
        CompletableFuture<Migration.Result> migrate(Move move);
    }

    /** What happened to a move. */
    public enum Status {
        /** The migration completed. */
        MIGRATED,
        /** The migration failed; the moves after it were skipped. */
        FAILED,
        /** Not started, because an earlier move failed. */
        SKIPPED
    }

    /**
     * The report of one move.
     *
     * @param index the move's position in the plan, from 0
     * @param move the move
     * @param status what happened
     * @param elapsed from the call to the end of the migration (zero when skipped)
     * @param result the migration's result when migrated
     * @param error the failure's message when failed, else empty
     */
    public record MoveReport(int index, Move move, Status status, Duration elapsed, Optional<Migration.Result> result,
                             String error) {
        /**
         * Checks the fields.
         *
         * @param index the move's position in the plan
         * @param move the move
         * @param status what happened
         * @param elapsed time the migration took
         * @param result the migration's result, or empty
         * @param error the failure's message, or empty
         */
        public MoveReport {
            Objects.requireNonNull(move, "move");
            Objects.requireNonNull(status, "status");
            Objects.requireNonNull(elapsed, "elapsed");
            Objects.requireNonNull(result, "result");
            Objects.requireNonNull(error, "error");
        }
    }

    /**
     * The report of a whole plan.
     *
     * @param moves one report per move of the plan, in plan order
     */
    public record Report(List<MoveReport> moves) {
        /**
         * Copies the list.
         *
         * @param moves one report per move, in plan order
         */
        public Report {
            moves = List.copyOf(moves);
        }

        /**
         * Counts the moves that ended with one status.
         *
         * @param status the status to count
         * @return the number of moves with {@code status}
         */
        public long count(Status status) {
            return moves.stream().filter(m -> m.status() == status).count();
        }

        /** {@return whether every move migrated} */
        public boolean complete() {
            return count(Status.MIGRATED) == moves.size();
        }

        /** {@return the state bytes of the migrated moves} */
        public long bytesMigrated() {
            return moves.stream().filter(m -> m.status() == Status.MIGRATED).mapToLong(m -> m.move().stateBytes()).sum();
        }
    }

    /**
     * Executes {@code plan}'s moves in order, one {@code migration} call per move.
     *
     * @param plan the plan
     * @param migration the migration of one move
     * @param onMove called with each move's report as it ends (also for skipped moves); may be a no-op
     * @return the report, completed when every move has migrated, failed or been skipped; never exceptionally
     */
    public static CompletableFuture<Report> execute(PlacementPlan plan, MoveMigration migration, Consumer<MoveReport> onMove) {
        Objects.requireNonNull(plan, "plan");
        Objects.requireNonNull(migration, "migration");
        Objects.requireNonNull(onMove, "onMove");
        List<MoveReport> reports = Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<Boolean> chain = CompletableFuture.completedFuture(true);
        List<Move> moves = plan.moves();
        for (int i = 0; i < moves.size(); i++) {
            int index = i;
            Move move = moves.get(i);
            chain = chain.thenCompose(ok -> ok ? step(index, move, migration, reports, onMove)
                    : record(new MoveReport(index, move, Status.SKIPPED, Duration.ZERO, Optional.empty(), ""), reports,
                            onMove, false));
        }
        return chain.thenApply(ok -> new Report(reports));
    }

    private static CompletableFuture<Boolean> step(int index, Move move, MoveMigration migration, List<MoveReport> reports,
                                                   Consumer<MoveReport> onMove) {
        long t0 = System.nanoTime();
        CompletableFuture<Migration.Result> f;
        try {
            f = Objects.requireNonNull(migration.migrate(move), "the migration of a move returned null");
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        }
        return f.handle((result, error) -> {
            Duration elapsed = Duration.ofNanos(System.nanoTime() - t0);
            if (error == null) {
                return new MoveReport(index, move, Status.MIGRATED, elapsed, Optional.ofNullable(result), "");
            }
            Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            return new MoveReport(index, move, Status.FAILED, elapsed, Optional.empty(), String.valueOf(cause.getMessage()));
        }).thenCompose(r -> record(r, reports, onMove, r.status() == Status.MIGRATED));
    }

    private static CompletableFuture<Boolean> record(MoveReport r, List<MoveReport> reports, Consumer<MoveReport> onMove,
                                                     boolean ok) {
        reports.add(r);
        onMove.accept(r);
        return CompletableFuture.completedFuture(ok);
    }
}
