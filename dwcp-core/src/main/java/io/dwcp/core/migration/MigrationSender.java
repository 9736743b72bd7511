package io.dwcp.core.migration;

import io.dwcp.core.DataRate;
import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.Tier;
import io.dwcp.core.spi.BlockCompressor;
import io.dwcp.core.spi.BaselineRef;
import io.dwcp.core.spi.EncodeOptions;
import io.dwcp.core.spi.EncodeResult;
import io.dwcp.core.ProgressListener;
import io.dwcp.core.transport.Session;
import io.dwcp.core.spi.StateCodec;
import io.dwcp.core.transport.Transfer;
import io.dwcp.core.transport.TransferHandler;
import io.dwcp.core.transport.TransferKind;
import io.dwcp.core.transport.TransferRequest;
import io.dwcp.core.transport.TransferResult;
import io.dwcp.core.state.DirtyPages;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.VmState;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The sending side of an iterative pre-copy migration over one transport session. Each
 * {@link #sendRound} is one round: it asks the receiver which baseline it holds (unless the previous round of the key
 * on this session just committed it), encodes the state as a delta against it (or as a keyframe when the receiver
 * holds none or another one — the fallback is automatic and reported, also when the receiver refuses the delta), streams
 * the frames while they are produced, and completes when the receiver has verified and committed the round. Only then
 * does the codec reference the new baseline.
 *
 * <p>Thread-safe. One writer per key: while a round of a key runs on any sender of the same manager, another round
 * of that key fails at once with {@code KEY_BUSY} (the codec's baseline of a key moves with each round, so rounds of
 * one key must be sequential); rounds of different keys may run at the same time. Obtain one from
 * {@code DwcpManager.openMigration}.
 *
 * <p>Internally the sender runs the rounds (the baseline choice, codec rounds and their fallback, progress, the
 * report) and owns their keys and futures; a round's cancellation is its {@code RoundControl}, the requests to the
 * receiver and the routing of its replies are {@code SenderRequests}, the replica-seeded rounds {@code SeededRounds}.
 * {@code nextRound} is guarded by {@code roundLock}, the link rate estimator by its own monitor; the other mutable
 * fields are volatile or concurrent collections.
 */
public final class MigrationSender implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MigrationSender.class);
    /** Encoded bytes buffered between the codec and the transport (pipelining without unbounded memory). */
    static final long PIPE_CAPACITY_BYTES = 32L << 20;
    static final long PROGRESS_INTERVAL_MS = 100;

    private final StateCodec codec;
    /** The configured tier pin, or null to use the tier the transport measured for the session. */
    private final Tier pinnedTier;
    private final Duration replyTimeout;
    private final MeterRegistry registry;
    private volatile SeedMode seedMode = SeedMode.AUTO;
    /** Per key: the baseline the receiver committed in the last round of this session (its completion confirmed it). */
    private final Map<String, Confirmed> confirmed = new ConcurrentHashMap<>();
    /** The baseline queries and seed messages to the receiver, and the routing of its replies. */
    private final SenderRequests requests;
    /** The replica-seeded rounds. */
    private final SeededRounds seeded;
    private final Object roundLock = new Object();
    /** Shared with the other senders of the manager: keys with a round running. */
    private final Set<String> keysInFlight;
    /** This sender's rounds whose work has not stopped: the internal futures, and what the callers hold. */
    private final Set<CompletableFuture<RoundReport>> running = ConcurrentHashMap.newKeySet();
    private final Set<RoundFuture> rounds = ConcurrentHashMap.newKeySet();
    /** The manager's scheduler: progress ticks. */
    private final ScheduledExecutorService scheduler;
    private volatile Session session;
    private final LinkRateEstimator linkRate;
    private volatile ProgressListener progress = ProgressListener.NONE;
    private int nextRound;

    MigrationSender(StateCodec codec, Tier pinnedTier, DataRate rateCap, Duration replyTimeout, MeterRegistry registry,
                    Set<String> keysInFlight, ScheduledExecutorService scheduler, BlockCompressor compressor) {
        this.codec = codec;
        this.scheduler = scheduler;
        this.keysInFlight = keysInFlight;
        this.pinnedTier = pinnedTier;
        this.linkRate = new LinkRateEstimator(rateCap);
        this.replyTimeout = replyTimeout;
        this.registry = registry;
        this.requests = new SenderRequests(replyTimeout, registry);
        this.seeded = new SeededRounds(this, requests, codec, pinnedTier, replyTimeout, registry, compressor, linkRate);
        // While the caller connects: a new process's first seeded round then hashes with compiled code.
        SeedStateHasher.warmUpInBackground();
    }

    /** The handler for transfers the receiver sends back on the session (baseline replies). */
    TransferHandler replyHandler() {
        return requests.replyHandler();
    }

    void bind(Session session) {
        this.session = session;
    }

    /** The receiver's name in the path monitor ({@code host:port}), or null before {@link #bind} or without an address. */
    String peerName() {
        Session s = session;
        return s == null || s.remoteAddress() == null ? null : io.dwcp.core.path.PathSample.peerName(s.remoteAddress());
    }

    /**
     * Receives progress of each round as the receiver acknowledges it, about every {@value #PROGRESS_INTERVAL_MS} ms
     * while the round runs: the round transfer's bytes the receiver acknowledged so far, and its total length once the
     * encoder has produced all of it (-1 before: a round is streamed while it is encoded). The last call of a committed
     * round has {@code doneBytes == totalBytes}. Called on the manager's scheduler thread; must not block.
     *
     * @param listener the listener, not {@code null}; replaces the previous one
     */
    public void progress(ProgressListener listener) {
        this.progress = Objects.requireNonNull(listener, "listener");
    }

    /**
     * When to try a replica-seeded round (see {@link SeedMode}): a round whose receiver confirms no baseline of this
     * sender's codec asks the receiver for a description of the replica it holds under the key (or of its seed
     * image) and sends only the pages it does not have. Default {@link SeedMode#AUTO}.
     *
     * @param mode the mode, not {@code null}
     */
    public void seeding(SeedMode mode) {
        this.seedMode = Objects.requireNonNull(mode, "mode");
    }

    /** {@return the session this sender uses} */
    public Session session() {
        return session;
    }

    /**
     * Runs one round and blocks until the receiver committed it.
     *
     * @param state the state now (read during the call; the caller keeps it open)
     * @param dirtyPages pages changed since the previous round, or null to compare every page with the baseline
     * @return the report of the committed round
     * @throws DwcpException with the transport's or codec's code when the round failed
     */
    public RoundReport sendRound(VmState<? extends StateRegion> state, DirtyPages dirtyPages) {
        try {
            return sendRoundAsync(state, dirtyPages).join();
        } catch (CompletionException e) {
            DwcpException d = DwcpException.find(e);
            throw d != null ? d : new DwcpException(ErrorCode.IO_ERROR, "round failed: " + e.getCause(), e.getCause());
        }
    }

    /**
     * Runs one round asynchronously; the future completes with the report once the receiver has verified and
     * committed it. It fails at once with {@code KEY_BUSY} when a round of the same key is still running on a sender
     * of this manager.
     *
     * <p>{@code cancel(…)} on the returned future stops the round: its transfer is aborted at both ends, so the
     * receiver keeps its replica and baseline as they were, and the encoder stops. The key stays busy until that work
     * has stopped ({@link #idle()}). A round the receiver had already committed when the cancel came stays committed
     * there; this side then does not reference it, and the next round finds out by asking the receiver.
     *
     * @param state the state now (read while the round runs; the caller keeps it open)
     * @param dirtyPages pages changed since the previous round, or null to compare every page with the baseline
     * @return the future report of the committed round
     */
    public CompletableFuture<RoundReport> sendRoundAsync(VmState<? extends StateRegion> state, DirtyPages dirtyPages) {
        return sendRoundAsync(state, dirtyPages, false);
    }

    /**
     * As {@link #sendRoundAsync(VmState, DirtyPages)}; {@code changing}: the state may change while the round reads it
     * (a pre-copy round of a running guest), so a replica-seeded round reads it through a {@link LiveSnapshot}.
     */
    CompletableFuture<RoundReport> sendRoundAsync(VmState<? extends StateRegion> state, DirtyPages dirtyPages,
                                                  boolean changing) {
        Objects.requireNonNull(state, "state");
        Session s = session;
        if (s == null || !s.isOpen()) {
            return CompletableFuture.failedFuture(new DwcpException(ErrorCode.ILLEGAL_STATE, "migration session is not open"));
        }
        String key = state.key();
        if (!keysInFlight.add(key)) {
            return CompletableFuture.failedFuture(new DwcpException(ErrorCode.KEY_BUSY, "a round of '" + key
                    + "' is already running on this node; rounds of one key run one at a time"));
        }
        RoundFuture result = new RoundFuture();
        result.control.changing = changing;
        CompletableFuture<RoundReport> work;
        try {
            work = sendRoundOfFreeKey(s, state, dirtyPages, result.control);
        } catch (RuntimeException | Error e) {
            keysInFlight.remove(key);
            throw e;
        }
        running.add(work);
        rounds.add(result);
        // The key is free again only when the round's work has stopped (encoder and transfer), also after a cancel.
        work.whenComplete((r, e) -> {
            keysInFlight.remove(key);
            running.remove(work);
            rounds.remove(result);
            if (e != null) {
                result.completeExceptionally(e);
            } else {
                result.complete(r);
            }
        });
        return result;
    }

    /**
     * Completes when no round of this sender is running any more: after a {@code cancel}, the round's future is
     * cancelled at once, but its encoder and transfer take a moment to stop, and until then its key is busy.
     *
     * @return a future that completes when no round is running
     */
    public CompletableFuture<Void> idle() {
        return CompletableFuture.allOf(running.toArray(new CompletableFuture<?>[0])).handle((r, e) -> null);
    }

    private CompletableFuture<RoundReport> sendRoundOfFreeKey(Session s, VmState<? extends StateRegion> state,
                                                              DirtyPages dirtyPages, RoundControl control) {
        int round;
        synchronized (roundLock) {
            round = nextRound++;
        }
        long start = System.nanoTime();
        BaselineRef held = codec.baseline(state.key()).orElse(null);
        Confirmed last = confirmed.remove(state.key());    // put back only when this round succeeds
        // The previous round's completion already told which baseline the receiver holds: no query round trip. If the
        // receiver lost it since (eviction), it refuses the delta and the round is resent full below, as after a query.
        // Nor when this side holds no baseline of the key (a new sender): no reply could make the round a delta, and a
        // seeded round starts its own exchange one round trip earlier.
        CompletableFuture<BaselineRef> receiverHolds = held == null ? CompletableFuture.completedFuture(null)
                : last != null && last.session == s && last.baseline.equals(held)
                ? CompletableFuture.completedFuture(held) : requests.queryBaseline(session, state.key());
        return receiverHolds.thenCompose(peer -> {
            BaselineRef mine = codec.baseline(state.key()).orElse(null);
            boolean delta = peer != null && peer.equals(mine);
            // A fallback: this side could reference a baseline, but the receiver does not hold it (restart, eviction).
            boolean fallback = mine != null && !delta;
            if (!delta && seeded.wanted(seedMode, s, state)) {
                return seeded.round(s, state, round, start, control);
            }
            if (fallback) {
                LOG.info("round {} of {}: receiver holds {} but this side can reference {}; sending a keyframe",
                        round, state.key(), peer, mine);
            }
            return runRound(s, state, round, delta ? peer : null, dirtyPages, fallback, start, control)
                    .handle((report, failure) -> {
                        DwcpException d = failure == null ? null : DwcpException.find(failure);
                        if (d != null && delta && !control.cancelled()
                                && (d.code() == ErrorCode.BASELINE_MISSING || d.code() == ErrorCode.CHECKSUM_MISMATCH)) {
                            // BASELINE_MISSING: the receiver lost or replaced its baseline between the query and the
                            // frames. CHECKSUM_MISMATCH with every frame's CRC intact: the receiver's baseline
                            // no longer holds the agreed state (its replica file, whose pages it may share, was written
                            // by someone else). A keyframe depends on neither.
                            LOG.info("round {} of {}: receiver refused the delta ({}); resending as a keyframe", round, state.key(), d.getMessage());
                            return runRound(s, state, round, null, null, true, start, control);
                        }
                        return failure == null ? CompletableFuture.completedFuture(report) : CompletableFuture.<RoundReport>failedFuture(failure);
                    }).thenCompose(f -> f);
        });
    }

    /**
     * Sends one round through the codec: a delta against {@code against}, or a keyframe when it is null. Also the full
     * round {@link SeededRounds} falls back to.
     */
    CompletableFuture<RoundReport> runRound(Session s, VmState<? extends StateRegion> state, int round,
                                                    BaselineRef against, DirtyPages dirty, boolean fallback, long startNanos,
                                                    RoundControl control) {
        if (control.cancelled()) {
            return CompletableFuture.failedFuture(new DwcpException(ErrorCode.CANCELLED, "round cancelled by the caller"));
        }
        List<ReplicaFactory.RegionLayout> layout = new ArrayList<>();
        for (StateRegion r : state.regions()) {
            layout.add(new ReplicaFactory.RegionLayout(r.name(), r.sizeBytes()));
        }
        // A forced keyframe is flagged so the receiver can decode it straight into a staging replica.
        FramePipe pipe = new FramePipe(MigrationWire.roundHeader(round, state.pageSizeBytes(), layout, against == null),
                PIPE_CAPACITY_BYTES);
        Tier tier = pinnedTier != null ? pinnedTier : s.tier();
        DataRate planned;
        synchronized (linkRate) {
            planned = linkRate.planningRate(tier);
        }
        // The peer lets the codec read the path's forecast (when a predictor runs) to plan its level.
        EncodeOptions.Builder opts = EncodeOptions.builder().tier(tier).linkRate(planned)
                .peer(s.remoteAddress() == null ? null : io.dwcp.core.path.PathSample.peerName(s.remoteAddress()));
        if (against != null) {
            opts.peerBaseline(against).dirtyPages(dirty);
        } else {
            opts.forceKeyframe(true);
        }
        Transfer transfer = s.send(TransferRequest.of(TransferKind.MEMORY, state.key(), pipe));
        control.attach(transfer, pipe);
        ProgressListener listener = progress;
        ScheduledFuture<?> ticks = listener == ProgressListener.NONE ? null : scheduler.scheduleWithFixedDelay(
                () -> report(listener, transfer.acknowledgedBytes(), pipe.finishedLength()),
                PROGRESS_INTERVAL_MS, PROGRESS_INTERVAL_MS, TimeUnit.MILLISECONDS);
        // The time the last frame was produced, taken before anything that waits for the encoder sees it done.
        AtomicLong encodedAt = new AtomicLong();
        CompletableFuture<EncodeResult> encoded = codec.encode(state, opts.build(), pipe)
                .whenComplete((r, e) -> encodedAt.set(System.nanoTime()));
        encoded.whenComplete((r, e) -> {
            if (e != null) {
                pipe.fail(e);
                transfer.cancel();
            } else {
                pipe.finish();
            }
        });
        transfer.completion().whenComplete((r, e) -> {
            if (e != null) {
                pipe.fail(e);
            }
        });
        return CompletableFuture.allOf(encoded, transfer.completion()).handle((ignored, failure) -> {
            if (ticks != null) {
                ticks.cancel(false);
            }
            if (failure == null && ticks != null) {
                long length = pipe.finishedLength();
                report(listener, length, length);
            }
            if (failure != null) {
                throw new CompletionException(cause(failureOf(encoded), failureOf(transfer.completion()), failure));
            }
            return onCommitted(s, state, round, tier, pipe, fallback, startNanos, encodedAt.get(), encoded.join(),
                    transfer.completion().join());
        });
    }

    /**
     * The failure a round reports when its encoder, its transfer or both failed. When the transport failed with a code
     * of its own (the receiver's abort: BASELINE_MISSING, LIMIT_EXCEEDED, ...), that is the cause, and the encoder's
     * CANCELLED is only its consequence (the aborted transfer closes the pipe the encoder writes into, in either
     * order). Otherwise the encoder's failure is the cause, and the transfer's CANCELLED (this side cancelled it) the
     * consequence.
     */
    private static Throwable cause(Throwable encoder, Throwable transfer, Throwable any) {
        DwcpException t = transfer == null ? null : DwcpException.find(transfer);
        if (t != null && t.code() != ErrorCode.CANCELLED) {
            return transfer;
        }
        if (encoder != null) {
            return encoder;
        }
        return transfer != null ? transfer : unwrap(any);
    }

    private static Throwable failureOf(CompletableFuture<?> f) {
        try {
            f.join();
            return null;
        } catch (CompletionException e) {
            return unwrap(e);
        } catch (java.util.concurrent.CancellationException e) {
            return e;
        }
    }

    private static void report(ProgressListener listener, long done, long total) {
        try {
            listener.onProgress(done, total);
        } catch (RuntimeException e) {
            LOG.warn("progress listener failed; ignored", e);
        }
    }

    static Throwable unwrap(Throwable t) {
        return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    }

    private RoundReport onCommitted(Session s, VmState<? extends StateRegion> state, int round, Tier tier, FramePipe pipe,
                                    boolean fallback, long startNanos, long encodedAtNanos, EncodeResult er,
                                    TransferResult tr) {
        // The transfer completes only after the receiver's decoder verified and committed (TransferSink.complete).
        codec.acknowledge(er.produced());
        confirmed.put(state.key(), new Confirmed(s, er.produced()));
        Duration d = Duration.ofNanos(System.nanoTime() - startNanos);
        long transferNanos = tr.duration().toNanos();
        if (transferNanos > 0) {
            synchronized (linkRate) {
                linkRate.observe(tier, tr.wireBytes() * 8e9 / transferNanos, (double) pipe.encoderBlockedNanos() / transferNanos);
            }
        }
        RoundReport report = new RoundReport(state.key(), round, er.keyframe(), fallback, er.inputBytes(),
                er.encodedBytes(), tr.wireBytes(), d, tr.streams(), er.pagesByClass(),
                Duration.ofNanos(encodedAtNanos - startNanos));
        record(report);
        return report;
    }

    /** Counts a committed round in the registry (also a seeded one, for {@link SeededRounds}). */
    void record(RoundReport r) {
        registry.counter("dwcp.migration.rounds").increment();
        registry.timer("dwcp.migration.round.duration").record(r.duration());
        Counter.builder("dwcp.migration.bytes").tag("kind", "input").baseUnit("bytes").register(registry).increment(r.inputBytes());
        Counter.builder("dwcp.migration.bytes").tag("kind", "wire").baseUnit("bytes").register(registry).increment(r.wireBytes());
        if (r.fallback()) {
            registry.counter("dwcp.migration.fallbacks").increment();
        }
    }

    private record Confirmed(Session session, BaselineRef baseline) {
    }

    /** The baseline this side holds for {@code key} (adopted once the receiver verified a round); for the metadata. */
    java.util.Optional<io.dwcp.core.spi.BaselineRef> baseline(String key) {
        return codec.baseline(key);
    }

    /** Cancels the rounds still running (see {@link #sendRoundAsync}), then closes the session. Idempotent. */
    @Override
    public void close() {
        for (RoundFuture f : rounds) {
            f.cancel(false);
        }
        Session s = session;
        if (s != null) {
            s.close();
        }
        requests.closeAll();
    }
}
