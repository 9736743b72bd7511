package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.Tier;
import io.dwcp.core.spi.BaselineRef;
import io.dwcp.core.spi.BlockCompressor;
import io.dwcp.core.spi.StateCodec;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.VmState;
import io.dwcp.core.transport.Session;
import io.dwcp.core.transport.Transfer;
import io.dwcp.core.transport.TransferKind;
import io.dwcp.core.transport.TransferRequest;
import io.dwcp.core.transport.TransferResult;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A migration sender's replica-seeded rounds: whether to try one ({@link #wanted}), and the round itself
 * ({@link #round}): a {@link SeedPlanner} on a thread of its own hashes the state, runs the description exchange
 * through {@link SenderRequests#askSeed} and streams the frames into the round's transfer, which it opens; then the
 * round completes with the receiver's commit. When the receiver has no seed, most pages differ or the receiver refuses
 * the round, it calls back {@link MigrationSender#runRound} to send the round in full. One per {@link MigrationSender},
 * which calls it from {@code sendRoundOfFreeKey} for a round whose receiver confirms no baseline of its codec.
 *
 * <p>Thread-safe: {@code hashBytesPerSecond} is volatile (written by each round's planning thread, read when judging
 * the next round); the shared {@code linkRate} is guarded by its own monitor, as in the sender; the rest is final.
 */
final class SeededRounds {
    /** The sender's logger: these lines belong to the sender's round log. */
    private static final Logger LOG = LoggerFactory.getLogger(MigrationSender.class);
    /** Literal pages past this share of the state make a planned seeded round a full one. */
    private static final double MAX_LITERAL_SHARE = 0.5;
    /** What a full round is assumed to compress the state by, when judging whether to try the seed exchange. */
    private static final double ASSUMED_FULL_RATIO = 1.5;
    /**
     * How fast a receiver is assumed to describe its seed at least (bytes per second), for the first reply's timeout:
     * a receiver without a cached description hashes its whole seed first, on a machine that may be busy.
     */
    private static final double MIN_DESCRIBE_RATE = 10e6;

    private final MigrationSender sender;
    private final SenderRequests requests;
    private final StateCodec codec;
    /** The configured tier pin, or null to use the tier the transport measured for the session. */
    private final Tier pinnedTier;
    private final Duration replyTimeout;
    private final MeterRegistry registry;
    /** Offered for the literal pages of seeded rounds besides DEFLATE; null: DEFLATE only. */
    private final BlockCompressor compressor;
    /** The sender's link rate estimator; guarded by its own monitor. */
    private final LinkRateEstimator linkRate;
    /** How fast this side hashed states for seeded rounds (bytes per second), measured; a cautious start. */
    private volatile double hashBytesPerSecond = 400e6;

    SeededRounds(MigrationSender sender, SenderRequests requests, StateCodec codec, Tier pinnedTier,
                 Duration replyTimeout, MeterRegistry registry, BlockCompressor compressor, LinkRateEstimator linkRate) {
        this.sender = sender;
        this.requests = requests;
        this.codec = codec;
        this.pinnedTier = pinnedTier;
        this.replyTimeout = replyTimeout;
        this.registry = registry;
        this.compressor = compressor;
        this.linkRate = linkRate;
    }

    /**
     * Whether to try the seed exchange: always or never when so configured; else when hashing the state here and
     * fetching the chunk hashes are expected to take less time than sending the state compressed at the planned link
     * rate.
     */
    boolean wanted(SeedMode mode, Session s, VmState<? extends StateRegion> state) {
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
    CompletableFuture<RoundReport> round(Session s, VmState<? extends StateRegion> state, int round, long start,
                                         RoundControl control) {
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
                MigrationSender.PIPE_CAPACITY_BYTES);
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
            outcome = planner.run(request -> requests.askSeed(s, state.key(), request, control), describeMillis,
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
            return sender.runRound(s, full, round, null, null, false, start, control).thenApply(r -> withSeedBytes(r, exchange));
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
            Throwable cause = failure != null ? MigrationSender.unwrap(failure) : null;
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
                return sender.runRound(s, full, round, null, null, true, start, control).thenApply(r -> withSeedBytes(r, exchange));
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
        sender.record(report);
        return report;
    }

    private static RoundReport withSeedBytes(RoundReport r, long exchange) {
        return new RoundReport(r.key(), r.round(), r.keyframe(), r.fallback(), r.inputBytes(), r.encodedBytes(),
                r.wireBytes() + exchange, r.duration(), r.streams(), r.pagesByClass(), r.mode(), exchange,
                r.encodeDuration());
    }}
