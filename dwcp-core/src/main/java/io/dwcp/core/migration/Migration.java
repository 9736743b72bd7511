package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.spi.MigrationPhase;
import io.dwcp.core.spi.VmMetadata;
import io.dwcp.core.state.DirtyPages;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.VmState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;

/**
 * The iterative pre-copy loop of one state, run by the library: round 0 sends the whole state, later rounds what
 * changed since, while the guest keeps running; when the loop stops iterating, it asks the caller to pause the guest
 * and sends a final round of the paused state, which leaves the replica byte-exact (verified by the whole-state
 * digest). Obtain one from {@code DwcpManager.newMigration} or {@link #builder}.
 *
 * <p><b>When the loop stops iterating</b> (checked after every pre-copy round): the loop predicts how long the final
 * round would take if the guest were paused now — a fixed cost (comparing the whole state with the baseline, the round
 * trips, the receiver's verification: the least a delta round took beyond its bytes' time on the link) plus what
 * changed during the round just sent (that round's bytes, scaled by its duration over the one before: a steady dirty
 * rate) at the best goodput seen. It stops as
 * <ol>
 *   <li><i>converged</i> when that prediction fits the downtime budget (after round 0: when round 0 itself did);</li>
 *   <li><i>not-converging</i> when the prediction is at least 90 % of the round just sent: another round would take
 *       about as long and leave about as much for the final round (the fixed costs dominate, or the guest dirties
 *       memory as fast as the link carries it), so it would not shorten the pause;</li>
 *   <li><i>max-rounds</i> when the next round would be the last one allowed ({@code dwcp.migration.max-rounds} counts
 *       every round, the final one included).</li>
 * </ol>
 *
 * <p><b>A live source</b> ({@link LiveFileSource}: guest RAM in a shared file the guest keeps writing) is read while
 * it changes. A page written during a round may be read torn; the codec sends and the receiver verifies the copy that
 * was read, and the next round, which compares the memory with what was sent, sends the page again. Pre-copy rounds are
 * therefore never refused for a changing source; only the final round, read after {@link Source#pause()}, has to be
 * (and is) byte-exact. The receiver may write the replica in place into a file another process maps
 * ({@link InPlaceReplica}).
 *
 * <p><b>Cancel</b> ({@link #cancel()}) aborts the round in flight at both ends and stops the loop; the receiver keeps
 * its replica as of its last verified round, and the guest is not paused (or, when the cancel comes after
 * {@link Source#pause()}, the caller resumes it). The result then fails with {@code CANCELLED}.
 *
 * <p>Thread-safe. The loop runs on a thread of its own ({@code dwcp-migration-KEY}), which also calls the source.
 */
public final class Migration {
    private static final Logger LOG = LoggerFactory.getLogger(Migration.class);
    /** What the loop needs from the caller. Called on the migration's thread only, one call at a time. */
    public interface Source {
        /**
         * The state as it is now, for the next round. For a running guest this is its live memory: pages may change
         * while the round reads them, which later rounds repair. The loop does not close it.
         *
         * @return the state, open until the round that reads it ends
         * @throws Exception when the state cannot be read; the migration fails with it
         */
        VmState<? extends StateRegion> state() throws Exception;

        /**
         * Pages changed since the previous call (the hypervisor's dirty log), or null to let the codec compare every
         * page with the baseline. The default returns null.
         *
         * @return the changed pages, or null
         * @throws Exception when the dirty log cannot be read; the migration fails with it
         */
        default DirtyPages dirtyPages() throws Exception {
            return null;
        }

        /**
         * Pauses the guest: after it returns, the state must not change. The final round follows.
         *
         * @throws Exception when the guest cannot be paused; the migration fails with it
         */
        void pause() throws Exception;
    }

    /**
     * The outcome of a completed migration.
     *
     * @param rounds every round in order, the final one last
     * @param stopReason why iteration stopped: {@code converged}, {@code max-rounds} or {@code not-converging}
     * @param downtime from the return of {@link Source#pause()} to the receiver's verified commit of the final round
     * @param predictedFinalRound how long the loop predicted the final round to take when it stopped iterating (see
     *     the class comment); zero when only one round was sent
     */
    public record Result(List<RoundReport> rounds, String stopReason, Duration downtime, Duration predictedFinalRound) {
        /**
         * Checks the components.
         *
         * @param rounds every round in order, the final one last
         * @param stopReason why iteration stopped: {@code converged}, {@code max-rounds} or {@code not-converging}
         * @param downtime from the return of {@link Source#pause()} to the receiver's verified commit of the final
         *     round
         * @param predictedFinalRound the final round's predicted duration when iteration stopped; zero when only one
         *     round was sent
         */
        public Result {
            rounds = List.copyOf(rounds);
        }

        /**
         * The final round, sent with the guest paused.
         *
         * @return the last of {@link #rounds()}
         */
        public RoundReport finalRound() {
            return rounds.get(rounds.size() - 1);
        }
    }

    private final MigrationSender sender;
    private final Source source;
    private final int maxRounds;
    private final Duration downtimeBudget;
    private final Consumer<RoundReport> onRound;
    private final MigrationRecord record;
    /** The path's forecast (advice) by peer name; answers unknown without a predictor. */
    private final java.util.function.Function<String, io.dwcp.core.spi.Forecast> forecasts;
    private final CompletableFuture<Result> result = new CompletableFuture<>();
    private final List<RoundReport> rounds = new ArrayList<>();
    private final Object lock = new Object();
    /** Guarded by {@link #lock}. */
    private boolean started;
    /** Guarded by {@link #lock}. */
    private boolean cancelled;
    /** Guarded by {@link #lock}: the round in flight. */
    private CompletableFuture<RoundReport> current;

    private Migration(Builder b) {
        this.sender = b.sender;
        this.source = b.source;
        this.maxRounds = b.maxRounds;
        this.downtimeBudget = b.downtimeBudget;
        this.onRound = b.onRound;
        this.record = MigrationRecord.of(b.metadata, b.vmId, b.site, b.node);
        this.forecasts = b.forecasts;
    }

    /**
     * A builder for a migration over {@code sender} of the state {@code source} gives.
     *
     * @param sender the sender, connected to the receiver
     * @param source the state and the caller's pause step
     * @return the builder
     */
    public static Builder builder(MigrationSender sender, Source source) {
        return new Builder(sender, source);
    }

    /**
     * Starts the loop on a thread of its own and returns the migration's result.
     *
     * @return the migration's result, as {@link #result()}
     * @throws DwcpException {@code ILLEGAL_STATE} when called twice
     */
    public CompletableFuture<Result> start() {
        synchronized (lock) {
            if (started) {
                throw new DwcpException(ErrorCode.ILLEGAL_STATE, "this migration was already started");
            }
            started = true;
        }
        Thread t = new Thread(this::run, "dwcp-migration");
        t.setDaemon(true);
        t.start();
        return result;
    }

    /**
     * The migration's result (completes after {@link #start()}).
     *
     * @return the future of the result
     */
    public CompletableFuture<Result> result() {
        return result;
    }

    /**
     * The rounds completed so far.
     *
     * @return a snapshot of the completed rounds, in order
     */
    public List<RoundReport> rounds() {
        synchronized (lock) {
            return List.copyOf(rounds);
        }
    }

    /**
     * Stops the migration: the round in flight is aborted at both ends, no further round starts, and the result fails
     * with {@code CANCELLED}. Returns false when the migration had already ended.
     *
     * @return false when the migration had already ended
     */
    public boolean cancel() {
        CompletableFuture<RoundReport> c;
        synchronized (lock) {
            if (result.isDone()) {
                return false;
            }
            cancelled = true;
            c = current;
        }
        if (c != null) {
            c.cancel(true);
        }
        if (!started) {
            result.completeExceptionally(cancelledError());
        }
        return true;
    }

    /** The forecast mean rate of the path to the receiver in bytes per second when it is advice, else NaN. */
    private double forecastBytesPerSecond() {
        String peer = sender.peerName();
        if (peer == null) {
            return Double.NaN;
        }
        try {
            io.dwcp.core.spi.Forecast f = forecasts.apply(peer);
            return f != null && f.isKnown() ? f.meanBitsPerSecond() / 8 : Double.NaN;
        } catch (RuntimeException e) {
            LOG.debug("migration: forecast for {} unavailable", peer, e);
            return Double.NaN;
        }
    }

    private static DwcpException cancelledError() {
        return new DwcpException(ErrorCode.CANCELLED, "migration cancelled by the caller");
    }

    private void run() {
        try {
            StopRule rule = new StopRule(downtimeBudget, maxRounds);
            String stop = rule.beforeFirstRound();
            record.phase(MigrationPhase.PRECOPY);
            int sent = 0;
            while (stop == null) {
                RoundReport r = round(fromSource("state()", source::state), sent == 0 ? null : fromSource("dirtyPages()", source::dirtyPages), true);
                sent++;
                stop = rule.afterRound(r, forecastBytesPerSecond());
            }
            checkCancelled();
            LOG.info("migration: iteration stopped ({}) after {} round(s), final round predicted at {} ms; pausing the"
                    + " guest for it", stop, sent, Math.round(rule.predictedFinalSeconds() * 1000));
            record.phase(MigrationPhase.STOP_AND_COPY);
            fromSource("pause()", () -> {
                source.pause();
                return null;
            });
            long paused = System.nanoTime();
            round(fromSource("state()", source::state), sent == 0 ? null : fromSource("dirtyPages()", source::dirtyPages), false);
            Duration downtime = Duration.ofNanos(System.nanoTime() - paused);
            record.completed();
            result.complete(new Result(rounds(), stop, downtime,
                    Duration.ofNanos((long) (Math.max(0, rule.predictedFinalSeconds()) * 1e9))));
        } catch (Throwable t) {
            Throwable cause = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
            boolean cancel = cause instanceof CancellationException || cancelledNow();
            record.phase(cancel ? MigrationPhase.CANCELLED : MigrationPhase.FAILED);
            if (cancel) {
                result.completeExceptionally(cancelledError());
            } else {
                result.completeExceptionally(DwcpException.local("migration", cause));
            }
        }
    }

    /** A call into the caller's source; its failure is the caller's, not a defect of ours, and says which call failed. */
    private static <T> T fromSource(String call, java.util.concurrent.Callable<T> c) {
        try {
            return c.call();
        } catch (DwcpException e) {
            throw e;
        } catch (Exception e) {
            throw new DwcpException(e instanceof java.io.IOException ? ErrorCode.IO_ERROR : ErrorCode.ILLEGAL_STATE,
                    "the migration source's " + call + " failed: " + e, e);
        }
    }

    private boolean cancelledNow() {
        synchronized (lock) {
            return cancelled;
        }
    }

    private void checkCancelled() {
        if (cancelledNow()) {
            throw new CancellationException();
        }
    }

    private RoundReport round(VmState<? extends StateRegion> state, DirtyPages dirty, boolean changing) {
        CompletableFuture<RoundReport> f;
        synchronized (lock) {
            if (cancelled) {
                throw new CancellationException();
            }
            f = sender.sendRoundAsync(state, dirty, changing);
            current = f;
        }
        RoundReport r = f.join();
        synchronized (lock) {
            current = null;
            rounds.add(r);
        }
        record.baseline(sender.baseline(r.key()));
        try {
            onRound.accept(r);
        } catch (RuntimeException e) {
            LOG.warn("round listener failed; ignored", e);
        }
        return r;
    }

    /** Settings of one migration; defaults from the manager's configuration. */
    public static final class Builder {
        private final MigrationSender sender;
        private final Source source;
        private int maxRounds = 30;
        private Duration downtimeBudget = Duration.ofMillis(300);
        private Consumer<RoundReport> onRound = r -> { };
        private VmMetadata metadata;
        private String vmId;
        private String site;
        private String node;
        private java.util.function.Function<String, io.dwcp.core.spi.Forecast> forecasts =
                peer -> io.dwcp.core.spi.Forecast.unknown(Duration.ZERO, 0);

        private Builder(MigrationSender sender, Source source) {
            this.sender = Objects.requireNonNull(sender, "sender");
            this.source = Objects.requireNonNull(source, "source");
        }

        /**
         * Rounds at most, the final one included: 1 to 1000 (1 = pause at once and send everything). Default 30.
         *
         * @param rounds the most rounds
         * @return this builder
         * @throws IllegalArgumentException when out of range
         */
        public Builder maxRounds(int rounds) {
            if (rounds < 1 || rounds > 1000) {
                throw new IllegalArgumentException("maxRounds must be 1 to 1000, got " + rounds);
            }
            this.maxRounds = rounds;
            return this;
        }

        /**
         * The pause the caller accepts for the final round. 10 ms to 60 s; default 300 ms.
         *
         * @param budget the accepted pause
         * @return this builder
         * @throws IllegalArgumentException when out of range
         */
        public Builder downtimeBudget(Duration budget) {
            Objects.requireNonNull(budget, "budget");
            if (budget.compareTo(Duration.ofMillis(10)) < 0 || budget.compareTo(Duration.ofSeconds(60)) > 0) {
                throw new IllegalArgumentException("downtimeBudget must be 10ms to 60s, got " + budget);
            }
            this.downtimeBudget = budget;
            return this;
        }

        /**
         * Called after every verified round, on the migration's thread; must not block.
         *
         * @param listener the listener, not {@code null}
         * @return this builder
         */
        public Builder onRound(Consumer<RoundReport> listener) {
            this.onRound = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /**
         * Where the migration records its VM's phases, baseline version and new placement ({@code DwcpManager.migration}
         * sets the manager's {@link io.dwcp.core.DwcpManager#vmMetadata()}). Nothing is recorded unless {@link #vm}
         * names the VM.
         *
         * @param metadata the cluster's VM metadata, not {@code null}
         * @return this builder
         */
        public Builder metadata(VmMetadata metadata) {
            this.metadata = Objects.requireNonNull(metadata, "metadata");
            return this;
        }

        /**
         * Names the VM this migration moves and its destination, for the cluster metadata: the loop records the phases
         * ({@link MigrationPhase}) and the baseline version after every verified round under {@code vmId}, and on
         * success the VM's placement as {@code site}/{@code node}. A failed or cancelled migration leaves the placement
         * as it was.
         *
         * @param vmId the VM id
         * @param site the destination site
         * @param node the destination node
         * @return this builder
         * @throws IllegalArgumentException when an id is blank
         */
        public Builder vm(String vmId, String site, String node) {
            for (String v : new String[]{vmId, site, node}) {
                if (Objects.requireNonNull(v, "vm, site and node must not be null").isBlank()) {
                    throw new IllegalArgumentException("vm, site and node must not be blank, got '" + vmId + "', '"
                            + site + "', '" + node + "'");
                }
            }
            this.vmId = vmId;
            this.site = site;
            this.node = node;
            return this;
        }

        /**
         * Where the stop rule reads the forecast of the path to the receiver, by the peer's name as the path monitor
         * knows it; it must answer only advice (a known forecast confident enough to act on, as
         * {@link io.dwcp.core.spi.BandwidthPredictor#advice}) and never block. A forecast below the best measured
         * round rate plans the final round's transfer at the forecast. Default: none (measurement alone); the
         * manager's {@code migration(...)} sets its predictor's advice when one runs.
         *
         * @param advice the advice by peer name, not {@code null}
         * @return this builder
         */
        public Builder forecasts(java.util.function.Function<String, io.dwcp.core.spi.Forecast> advice) {
            this.forecasts = Objects.requireNonNull(advice, "advice");
            return this;
        }

        /**
         * The migration, not started; {@link Migration#start()} runs it.
         *
         * @return the migration
         */
        public Migration build() {
            return new Migration(this);
        }
    }
}
