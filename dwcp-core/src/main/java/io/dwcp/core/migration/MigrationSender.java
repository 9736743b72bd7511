package io.dwcp.core.migration;

import io.dwcp.core.DataRate;
import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.Tier;
import io.dwcp.core.spi.BlockCompressor;
import io.dwcp.core.spi.BaselineRef;
import io.dwcp.core.spi.EncodeOptions;
import io.dwcp.core.spi.EncodeResult;
import io.dwcp.core.transport.InboundTransfer;
import io.dwcp.core.transport.PayloadSource;
import io.dwcp.core.ProgressListener;
import io.dwcp.core.transport.Session;
import io.dwcp.core.spi.StateCodec;
import io.dwcp.core.transport.Transfer;
import io.dwcp.core.transport.TransferHandler;
import io.dwcp.core.transport.TransferKind;
import io.dwcp.core.transport.TransferRequest;
import io.dwcp.core.transport.TransferResult;
import io.dwcp.core.transport.TransferSink;
import io.dwcp.core.state.DirtyPages;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.VmState;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
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
import java.util.concurrent.atomic.AtomicReference;
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
 */
public final class MigrationSender implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MigrationSender.class);
    /** Encoded bytes buffered between the codec and the transport (pipelining without unbounded memory). */
    private static final long PIPE_CAPACITY_BYTES = 32L << 20;
    static final long PROGRESS_INTERVAL_MS = 100;

    private final StateCodec codec;
    /** The configured tier pin, or null to use the tier the transport measured for the session. */
    private final Tier pinnedTier;
    private final Duration replyTimeout;
    private final MeterRegistry registry;
    private final Map<Long, CompletableFuture<MigrationWire.Control>> pendingQueries = new ConcurrentHashMap<>();
    /** Seed requests waiting for the receiver's reply, by request id. */
    private final Map<Long, CompletableFuture<ByteBuffer>> pendingSeed = new ConcurrentHashMap<>();
    private volatile SeedMode seedMode = SeedMode.AUTO;
    /** Offered for the literal pages of seeded rounds besides DEFLATE; null: DEFLATE only. */
    private final BlockCompressor compressor;
    /** How fast this side hashed states for seeded rounds (bytes per second), measured; a cautious start. */
    private volatile double hashBytesPerSecond = 400e6;
    /** Per key: the baseline the receiver committed in the last round of this session (its completion confirmed it). */
    private final Map<String, Confirmed> confirmed = new ConcurrentHashMap<>();
    private final AtomicLong requestIds = new AtomicLong();
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
        this.compressor = compressor;
        this.scheduler = scheduler;
        this.keysInFlight = keysInFlight;
        this.pinnedTier = pinnedTier;
        this.linkRate = new LinkRateEstimator(rateCap);
        this.replyTimeout = replyTimeout;
        this.registry = registry;
        // While the caller connects: a new process's first seeded round then hashes with compiled code.
        SeedStateHasher.warmUpInBackground();
    }

    /** The handler for transfers the receiver sends back on the session (baseline replies). */
    TransferHandler replyHandler() {
        return (s, transfer) -> new ReplySink(transfer);
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

    /**
     * The future of a round: {@link #cancel} really stops it. The round's transfer is aborted at both ends (the
     * receiver discards what it got: its replica and baseline stay as they were) and its encoder stops.
     */
    private static final class RoundFuture extends CompletableFuture<RoundReport> {
        final RoundControl control = new RoundControl();

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            boolean cancelled = super.cancel(mayInterruptIfRunning);
            if (cancelled) {
                control.cancel();
            }
            return cancelled;
        }
    }

    /** What a cancel must stop: the round's current transfer and the pipe its encoder writes into. */
    private static final class RoundControl {
        private volatile boolean cancelled;
        /** The state may change while the round reads it (set before the round starts). */
        private volatile boolean changing;
        /** Guarded by this. */
        private Transfer transfer;
        /** Guarded by this. */
        private FramePipe pipe;

        boolean cancelled() {
            return cancelled;
        }

        /** Registers the round's (next) transfer; aborts it at once when the round was cancelled meanwhile. */
        synchronized void attach(Transfer t, FramePipe p) {
            transfer = t;
            pipe = p;
            if (cancelled) {
                abort();
            }
        }

        synchronized void cancel() {
            cancelled = true;
            if (transfer != null) {
                abort();
            }
        }

        private void abort() {
            pipe.fail(new DwcpException(ErrorCode.CANCELLED, "round cancelled by the caller"));
            transfer.cancel();
        }
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
                ? CompletableFuture.completedFuture(held) : queryBaseline(state.key());
        return receiverHolds.thenCompose(peer -> {
            BaselineRef mine = codec.baseline(state.key()).orElse(null);
            boolean delta = peer != null && peer.equals(mine);
            // A fallback: this side could reference a baseline, but the receiver does not hold it (restart, eviction).
            boolean fallback = mine != null && !delta;
            if (!delta && seedWanted(s, state)) {
                return seededRound(s, state, round, start, control);
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

    /** Literal pages past this share of the state make a planned seeded round a full one. */
    private static final double MAX_LITERAL_SHARE = 0.5;
    /** What a full round is assumed to compress the state by, when judging whether to try the seed exchange. */
    private static final double ASSUMED_FULL_RATIO = 1.5;
    /**
     * How fast a receiver is assumed to describe its seed at least (bytes per second), for the first reply's timeout:
     * a receiver without a cached description hashes its whole seed first, on a machine that may be busy.
     */
    private static final double MIN_DESCRIBE_RATE = 10e6;

    /**
     * Whether to try the seed exchange: always or never when so configured; else when hashing the state here and
     * fetching the chunk hashes are expected to take less time than sending the state compressed at the planned link
     * rate.
     */
    private boolean seedWanted(Session s, VmState<? extends StateRegion> state) {
        SeedMode mode = seedMode;
        if (mode == SeedMode.NEVER || !SeedPlanner.eligible(state)) {
            return false;
        }
        if (mode == SeedMode.ALWAYS) {
            return true;
        }
        double size = state.region(0).sizeBytes();
        Tier tier = pinnedTier != null ? pinnedTier : s.tier();
        double rate;
        synchronized (linkRate) {
            rate = Math.max(1, linkRate.planningRate(tier).bytesPerSecond());
        }
        double describeBytes = size / state.pageSizeBytes() / SeedHashes.CHUNK_PAGES * SeedHashes.HASH_BYTES;
        return size / hashBytesPerSecond + describeBytes / rate < size / ASSUMED_FULL_RATIO / rate;
    }

    /**
     * A replica-seeded round: plans on a thread of its own (hashing, description exchange, blocking writes into the
     * pipe), then completes with the receiver's commit; when the receiver has no seed, most pages differ, or the
     * receiver refuses the round (its seed changed: {@code BASELINE_MISSING}, or the result's digest did not match:
     * {@code CHECKSUM_MISMATCH}), the round is sent in full instead, and its report counts the exchange.
     */
    private CompletableFuture<RoundReport> seededRound(Session s, VmState<? extends StateRegion> state, int round,
                                                      long start, RoundControl control) {
        CompletableFuture<CompletableFuture<RoundReport>> planned = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                if (!control.changing) {
                    planned.complete(planAndSend(s, state, round, start, control, state));
                    return;
                }
                // A running guest: the round hashes, sends and adopts one copy of each piece, taken at its first read.
                VmState<LiveSnapshot> snapshot = LiveSnapshot.of(state);
                CompletableFuture<RoundReport> f;
                try {
                    f = planAndSend(s, snapshot, round, start, control, state);
                } catch (Throwable e) {
                    FileReplicas.closeQuietly(snapshot.region(0));
                    throw e;
                }
                f.whenComplete((r, e) -> FileReplicas.closeQuietly(snapshot.region(0)));
                planned.complete(f);
            } catch (Throwable e) {
                planned.completeExceptionally(e);
            }
        }, "dwcp-migration-seed");
        t.setDaemon(true);
        t.start();
        return planned.thenCompose(f -> f);
    }

    /** {@code full}: the state a round sent in full instead reads (the live state itself, not its snapshot). */
    private CompletableFuture<RoundReport> planAndSend(Session s, VmState<? extends StateRegion> state, int round,
                                                       long start, RoundControl control,
                                                       VmState<? extends StateRegion> full) throws Exception {
        registry.counter("dwcp.migration.seed.exchanges").increment();
        Tier tier = pinnedTier != null ? pinnedTier : s.tier();
        // Over a path with round trips worth saving, the round's first literal pages leave without waiting for the
        // block-level exchange.
        SeedPlanner planner = new SeedPlanner(state, MAX_LITERAL_SHARE, compressor,
                tier == Tier.LOCAL ? 0 : SeedBlockLevel.LEAD_WHOLE_PAGES);
        // The round's transfer, opened by the planner once it knows the round goes seeded (while it still hashes and
        // asks): its frames stream while the rest of the state is described.
        List<ReplicaFactory.RegionLayout> layout = List.of(new ReplicaFactory.RegionLayout(state.region(0).name(), planner.stateBytes()));
        FramePipe pipe = new FramePipe(MigrationWire.roundHeader(round, state.pageSizeBytes(), layout, MigrationWire.FLAG_SEEDED),
                PIPE_CAPACITY_BYTES);
        AtomicReference<Transfer> opened = new AtomicReference<>();
        SeedPlanner.RoundOpener opener = () -> {
            Transfer transfer = s.send(TransferRequest.of(TransferKind.MEMORY, state.key(), pipe));
            opened.set(transfer);
            control.attach(transfer, pipe);
            transfer.completion().whenComplete((r, e) -> {
                if (e != null) {
                    pipe.fail(e);
                }
            });
            return pipe;
        };
        SeedPlanner.Outcome outcome;
        try {
            long describeMillis = replyTimeout.toMillis() + (long) (planner.stateBytes() / MIN_DESCRIBE_RATE * 1000);
            outcome = planner.run(request -> askSeed(s, state.key(), request, control), describeMillis,
                    replyTimeout.toMillis(), opener);
        } catch (Exception e) {
            DwcpException d = DwcpException.find(e);
            Transfer begun = opened.get();
            if (begun != null) {
                pipe.fail(e);
                begun.cancel();
            }
            if (control.cancelled() || d == null || d.code() == ErrorCode.IO_ERROR && d.getCause() != null) {
                throw e;
            }
            // The receiver could not describe its seed (an older receiver, a malformed or oversized description):
            // the round goes in full.
            LOG.info("round {} of {}: the seed exchange failed ({}); sending the round in full", round, state.key(), d.getMessage());
            outcome = SeedPlanner.Outcome.NO_SEED;
            opened.set(null);
        }
        if (planner.hashNanos() > 0) {
            hashBytesPerSecond = 0.5 * hashBytesPerSecond + 0.5 * (planner.stateBytes() * 1e9 / planner.hashNanos());
        }
        long exchange = planner.exchangeBytes();
        Transfer transfer = opened.get();
        if (outcome != SeedPlanner.Outcome.SEEDED) {
            if (transfer != null) {
                // Stopped after its frames had started (most pages turned out to differ, or the seed changed).
                DwcpException stop = new DwcpException(ErrorCode.CANCELLED, "seeded round stopped by its sender: "
                        + outcome);
                pipe.fail(stop);
                transfer.cancel();
            }
            LOG.info("round {} of {}: {} after a seed exchange of {} bytes; sending the round in full", round, state.key(),
                    outcome == SeedPlanner.Outcome.NO_SEED ? "the receiver holds no seed of this size (or it changed)"
                            : "more than half of the pages differ", exchange);
            return runRound(s, full, round, null, null, false, start, control).thenApply(r -> withSeedBytes(r, exchange));
        }
        pipe.finish();
        long written = System.nanoTime();
        // While the frames drain and the receiver verifies: the state sent becomes this side's codec baseline.
        BaselineRef adoptedRef = adoptSent(state, planner.chainId(), round);
        LOG.info("seeded round {} of {}: transfer opened after {} ms, first batch after {} ms, the state hashed after {} ms,"
                        + " all frames written after {} ms ({} B of description exchange; pages {}); codec baseline adopted"
                        + " in {} ms; exchange steps (ms): {}", round, state.key(), planner.openedAfterNanos() / 1_000_000,
                planner.firstBatchAfterNanos() / 1_000_000, planner.hashNanos() / 1_000_000,
                (written - start) / 1_000_000, exchange, planner.pagesByClass(), (System.nanoTime() - written) / 1_000_000,
                planner.exchangeSteps());
        return transfer.completion().handle((tr, failure) -> {
            Throwable cause = failure != null ? unwrap(failure) : null;
            if (cause == null) {
                if (adoptedRef != null) {
                    codec.acknowledge(adoptedRef);
                }
                return CompletableFuture.completedFuture(onSeededCommit(s, state, round, tier, start, planner,
                        planner.frameBytes(), exchange, written, tr));
            }
            DwcpException d = DwcpException.find(cause);
            if (d != null && !control.cancelled()
                    && (d.code() == ErrorCode.BASELINE_MISSING || d.code() == ErrorCode.CHECKSUM_MISMATCH)) {
                LOG.info("round {} of {}: the receiver refused the seeded round ({}); resending it in full", round,
                        state.key(), d.getMessage());
                return runRound(s, full, round, null, null, true, start, control).thenApply(r -> withSeedBytes(r, exchange));
            }
            return CompletableFuture.<RoundReport>failedFuture(cause);
        }).thenCompose(f -> f);
    }

    /**
     * Makes the state just sent the codec's baseline under the chain id the receiver derives from the same verified
     * digest, so the next round of the key is a delta (after a baseline query confirms both ends agree: a state that
     * changed since it was hashed gives another digest, and the next round is seeded again). A failure only costs the
     * delta. Returns the adopted baseline, acknowledged once the receiver committed the round.
     */
    private BaselineRef adoptSent(VmState<? extends StateRegion> state, long chainId, int round) {
        try {
            return codec.adoptSent(state, chainId).orElse(null);
        } catch (RuntimeException e) {
            LOG.warn("round {} of {}: the codec could not adopt the state as its baseline; the next round is seeded or"
                    + " full: {}", round, state.key(), e.toString());
            return null;
        }
    }

    private RoundReport onSeededCommit(Session s, VmState<? extends StateRegion> state, int round, Tier tier, long startNanos,
                                       SeedPlanner planner, long encodedBytes, long exchange, long encodedAtNanos,
                                       TransferResult tr) {
        long transferNanos = tr.duration().toNanos();
        if (transferNanos > 0) {
            synchronized (linkRate) {
                linkRate.observe(tier, tr.wireBytes() * 8e9 / transferNanos, 0);
            }
        }
        RoundReport report = new RoundReport(state.key(), round, false, false, planner.stateBytes(), encodedBytes,
                tr.wireBytes() + exchange, Duration.ofNanos(System.nanoTime() - startNanos), tr.streams(),
                planner.pagesByClass(), RoundReport.Mode.SEEDED, exchange, Duration.ofNanos(encodedAtNanos - startNanos));
        registry.counter("dwcp.migration.seeded").increment();
        record(report);
        return report;
    }

    private static RoundReport withSeedBytes(RoundReport r, long exchange) {
        return new RoundReport(r.key(), r.round(), r.keyframe(), r.fallback(), r.inputBytes(), r.encodedBytes(),
                r.wireBytes() + exchange, r.duration(), r.streams(), r.pagesByClass(), r.mode(), exchange,
                r.encodeDuration());
    }

    /**
     * Sends one seed message on {@code s}; the future completes with the reply's payload (the planner waits for it
     * with its own timeout, and cancels it when it gives up, which forgets the request).
     */
    private CompletableFuture<ByteBuffer> askSeed(Session s, String key, ByteBuffer request, RoundControl control) {
        if (control.cancelled()) {
            return CompletableFuture.failedFuture(new DwcpException(ErrorCode.CANCELLED, "round cancelled by the caller"));
        }
        long id = requestIds.incrementAndGet();
        request.putLong(8, id);
        CompletableFuture<ByteBuffer> reply = new CompletableFuture<>();
        pendingSeed.put(id, reply);
        reply.whenComplete((r, e) -> pendingSeed.remove(id));
        try {
            Transfer t = s.send(TransferRequest.of(TransferKind.METADATA, key, PayloadSource.of(request)));
            t.completion().whenComplete((r, e) -> {
                if (e != null) {
                    DwcpException d = DwcpException.find(e);
                    reply.completeExceptionally(d != null ? d
                            : new DwcpException(ErrorCode.IO_ERROR, "seed request failed: " + e, e));
                }
            });
        } catch (RuntimeException e) {
            reply.completeExceptionally(e);
        }
        return reply;
    }

    private CompletableFuture<RoundReport> runRound(Session s, VmState<? extends StateRegion> state, int round,
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

    private static Throwable unwrap(Throwable t) {
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

    private void record(RoundReport r) {
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

    private CompletableFuture<BaselineRef> queryBaseline(String key) {
        registry.counter("dwcp.migration.baseline.queries").increment();
        long id = requestIds.incrementAndGet();
        CompletableFuture<MigrationWire.Control> reply = new CompletableFuture<>();
        pendingQueries.put(id, reply);
        Transfer t = session.send(TransferRequest.of(TransferKind.METADATA, key,
                PayloadSource.of(MigrationWire.control(MigrationWire.TYPE_BASELINE_QUERY, id, null))));
        t.completion().whenComplete((r, e) -> {
            if (e != null) {
                reply.completeExceptionally(e);
            }
        });
        return reply.orTimeout(replyTimeout.toMillis(), TimeUnit.MILLISECONDS)
                .whenComplete((r, e) -> pendingQueries.remove(id))
                .thenApply(c -> c.baseline(key));
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
        for (CompletableFuture<MigrationWire.Control> f : pendingQueries.values()) {
            f.completeExceptionally(new DwcpException(ErrorCode.CANCELLED, "migration sender closed"));
        }
        for (CompletableFuture<ByteBuffer> f : pendingSeed.values()) {
            f.completeExceptionally(new DwcpException(ErrorCode.CANCELLED, "migration sender closed"));
        }
    }

    /** Collects one reply transfer (a baseline reply or a seed reply) and completes the matching request. */
    private final class ReplySink implements TransferSink {
        private final InboundTransfer transfer;
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream(MigrationWire.CONTROL_LENGTH);
        /** The first 4 bytes: which kind of reply this is. */
        private final ByteBuffer magic = ByteBuffer.allocate(4);

        ReplySink(InboundTransfer transfer) {
            this.transfer = transfer;
            if (transfer.kind() != TransferKind.METADATA) {
                throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "migration sender accepts only control replies, got " + transfer.kind());
            }
        }

        @Override
        public void write(ByteBuffer data) {
            if (magic.hasRemaining()) {
                ByteBuffer d = data.duplicate();
                while (magic.hasRemaining() && d.hasRemaining()) {
                    magic.put(d.get());
                }
            }
            boolean seed = !magic.hasRemaining() && magic.getInt(0) == SeedWire.MAGIC;
            long max = seed ? SeedWire.MAX_MESSAGE_BYTES : MigrationWire.CONTROL_LENGTH;
            if (bytes.size() + data.remaining() > max) {
                DwcpException e = new DwcpException(ErrorCode.LIMIT_EXCEEDED, (seed ? "seed" : "control") + " reply for "
                        + transfer.key() + " longer than " + max + " bytes");
                if (seed) {
                    // Oversized description: the round waiting for it fails now (and goes in full) instead of timing out.
                    for (CompletableFuture<ByteBuffer> f : pendingSeed.values()) {
                        f.completeExceptionally(e);
                    }
                }
                throw e;
            }
            byte[] b = new byte[data.remaining()];
            data.get(b);
            bytes.writeBytes(b);
        }

        @Override
        public void complete() {
            ByteBuffer all = ByteBuffer.wrap(bytes.toByteArray());
            if (all.remaining() >= 4 && all.getInt(0) == SeedWire.MAGIC) {
                SeedWire.Header h = SeedWire.header(all.duplicate());
                CompletableFuture<ByteBuffer> f = pendingSeed.get(h.requestId());
                if (f != null) {
                    f.complete(all);
                } else {
                    LOG.debug("seed reply {} for {} matched no pending request (timed out?)", h.requestId(), transfer.key());
                }
                return;
            }
            MigrationWire.Control c = MigrationWire.parseControl(all);
            if (c.type() != MigrationWire.TYPE_BASELINE_STATE) {
                throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "expected a baseline reply, got type " + c.type());
            }
            CompletableFuture<MigrationWire.Control> f = pendingQueries.get(c.requestId());
            if (f != null) {
                f.complete(c);
            } else {
                LOG.debug("reply {} for {} matched no pending query (timed out?)", c.requestId(), transfer.key());
            }
        }

        @Override
        public void fail(Throwable cause) {
            LOG.debug("control reply for {} failed", transfer.key(), cause);
        }
    }
}
