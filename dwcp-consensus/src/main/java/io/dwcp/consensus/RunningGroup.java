package io.dwcp.consensus;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.config.ConsensusKeys;
import io.dwcp.core.config.CoreKeys;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.spi.Consensus;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.storage.RaftStorage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/*
 * Everything a RatisConsensus owns while started, the one place that creates it (open: server, client, completion
 * executor, meters, timer agreement, in that order) and the one place that releases it (release: reverse order of
 * creation). Fields are set by open before RatisConsensus.start publishes the instance through its GroupSlot (a
 * volatile field), and not reassigned afterwards, except `client` (replaced under this object's monitor when Ratis
 * closed its request window: CommandPath.replaceClientIfClosed), `stateMachine` and `electionMinInForce` (a re-opened
 * division: DivisionRetimer) and `lastTimedOut`.
 */
final class RunningGroup {
    private static final Logger LOG = LoggerFactory.getLogger(RunningGroup.class);

    GroupLayout layout;
    RaftServer server;
    /** This voter's state machine; replaced when the division re-opens with new timers (DivisionRetimer). */
    volatile RegisterStateMachine stateMachine;
    /** Leader changes seen by state machines this division replaced (the meter sums them with the current one's). */
    final AtomicLong retiredLeaderChanges = new AtomicLong();
    /** The voter's server properties; the election timers in it are changed live (DivisionRetimer). */
    RaftProperties serverProperties;
    /** The peer id of this voter; null on a client. */
    RaftPeerId self;
    /** Replaced when Ratis closed its request window (CommandPath.replaceClientIfClosed); written under this. */
    volatile RaftClient client;
    /** The RTT measured at start and the proposal timeout from it. */
    RaftTimers timers;
    ExecutorService completions;
    /** A voter's agreement on election timers: measures and commits while it leads; null on a client. */
    TimerAgreement timerAgreement;
    /** The shortest election timeout this voter's Ratis server runs with (agreed or configured); null on a client. */
    volatile Duration electionMinInForce;
    /** Runs completions on {@link #completions}, or inline once it has shut down, so every future completes. */
    Executor completer;
    long maxCommandBytes;
    /** Reads as read-only requests (ReadIndex or lease) rather than log commands. */
    boolean readOnlyReads;
    Duration hardTimeout;
    final List<Meter> meters = new ArrayList<>();
    Counter committed;
    Counter rejected;
    Counter timedOut;
    Timer latency;
    volatile boolean lastTimedOut;

    /**
     * Creates and starts everything a started component owns: this node's replica when it is a voter of
     * {@code peers}, the client, the completion executor, the meters and (on a voter) the timer agreement. On failure
     * releases what it created and rethrows.
     *
     * @param owner the component these operations belong to (the timer agreement commits through it)
     * @param slot where the owner publishes the group; a re-opening scheduled for a group no longer there is dropped
     */
    static RunningGroup open(ComponentContext context, String peers, ClientId clientId, Consensus owner,
                             DivisionRetimer retimer, GroupSlot slot) throws IOException {
        DwcpConfig config = context.config();
        RunningGroup r = new RunningGroup();
        r.layout = GroupLayout.parse(config.get(ConsensusKeys.GROUP), peers);
        r.maxCommandBytes = config.get(ConsensusKeys.MAX_COMMAND).bytes();
        r.readOnlyReads = !config.get(ConsensusKeys.READ).equals("log");
        Optional<String> nodeId = config.get(CoreKeys.NODE_ID);
        Optional<RaftPeer> self = nodeId.flatMap(r.layout::peer);
        // Only client-only nodes probe at start; a voter's election timers are the agreed or configured ones
        // (startServer), and its leader measures the voter RTT periodically (TimerAgreement).
        r.timers = self.isPresent()
                ? RaftTimers.derive(Optional.empty(), config.get(ConsensusKeys.ELECTION_RTT_MULTIPLE),
                        config.get(ConsensusKeys.ELECTION_MIN), config.get(ConsensusKeys.ELECTION_MAX),
                        config.get(ConsensusKeys.PROPOSAL_TIMEOUT))
                : RatisSettings.measureTimers(config, r.layout, self);
        Duration proposalTimeout = r.timers.proposalTimeout();
        // The Ratis retry policy gives up after the proposal timeout; this bound only catches a client that never answers.
        r.hardTimeout = proposalTimeout.multipliedBy(2).plus(config.get(ConsensusKeys.ELECTION_MAX));
        try {
            if (self.isPresent()) {
                startServer(r, config, self.get(), retimer, slot);
            }
            r.client = RatisSettings.newClient(config, r.layout, r.timers, clientId);
            AtomicInteger n = new AtomicInteger();
            int threads = Math.max(1, Math.min(4, context.workerThreads()));
            r.completions = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), t -> {
                Thread th = new Thread(t, "dwcp-acp-complete-" + n.incrementAndGet());
                th.setDaemon(true);
                return th;
            });
            ExecutorService pool = r.completions;
            r.completer = task -> {
                try {
                    pool.execute(task);
                } catch (RejectedExecutionException e) {
                    task.run(); // stopping: a late reply still completes its caller's future
                }
            };
            registerMeters(r, context.meterRegistry());
            if (self.isPresent()) {
                List<String> others = new ArrayList<>();
                for (RaftPeer peer : r.layout.peers()) {
                    if (!peer.getId().equals(self.get().getId())) {
                        others.add(peer.getAddress());
                    }
                }
                r.timerAgreement = new TimerAgreement(owner, config, r.layout.name(), others,
                        () -> r.division().map(DivisionInfo::isLeader).orElse(false), r.hardTimeout);
                r.timerAgreement.start();
            }
        } catch (IOException | RuntimeException | Error e) {
            r.release(context.meterRegistry(), config.get(CoreKeys.SHUTDOWN_TIMEOUT), e);
            throw e;
        }
        return r;
    }

    private static void startServer(RunningGroup r, DwcpConfig config, RaftPeer self, DivisionRetimer retimer,
                                    GroupSlot slot) throws IOException {
        String dir = config.get(ConsensusKeys.STORAGE_DIR).filter(s -> !s.isBlank()).orElseThrow(() -> new DwcpException(
                ErrorCode.INVALID_CONFIG, "dwcp.consensus.storage-dir is required on node '" + self.getId()
                + "', a voter of dwcp.consensus.peers; set it to a directory for the Raft log"));
        Path storage = Files.createDirectories(Path.of(dir));
        String address = config.get(ConsensusKeys.LISTEN).orElse(self.getAddress());
        // One value for all voters: the agreed timeout (committed by the group from its leader's RTT measurement, kept
        // beside the log when this replica applied it), else the configured one (see RatisSettings.serverProperties).
        Path agreedFile = storage.resolve(RegisterStateMachine.AGREED_TIMERS_FILE);
        Duration min = RaftTimers.startingElectionMin(RegisterStateMachine.readAgreed(agreedFile),
                config.get(ConsensusKeys.ELECTION_MIN), config.get(ConsensusKeys.ELECTION_MAX));
        r.electionMinInForce = min;
        RaftProperties p = RatisSettings.serverProperties(config, storage, address, min);
        r.serverProperties = p;
        r.self = self.getId();
        File groupDir = storage.resolve(r.layout.groupId().getUuid().toString()).toFile();
        RaftStorage.StartupOption option = groupDir.exists() ? RaftStorage.StartupOption.RECOVER : RaftStorage.StartupOption.FORMAT;
        // A new state machine each time the division opens: at start, and again when it re-opens with agreed timers.
        r.server = RaftServer.newBuilder().setServerId(self.getId()).setGroup(r.layout.group()).setProperties(p)
                .setStateMachineRegistry(groupId -> {
                    RegisterStateMachine old = r.stateMachine;
                    if (old != null) {
                        r.retiredLeaderChanges.addAndGet(old.leaderChanges());
                    }
                    RegisterStateMachine sm = new RegisterStateMachine(config.get(ConsensusKeys.DEDUP_WINDOW),
                            config.get(ConsensusKeys.DEDUP_MAX_CLIENTS), r.maxCommandBytes, agreedFile);
                    sm.onAgreed(agreed -> retimer.later(r, agreed, () -> slot.running == r));
                    r.stateMachine = sm;
                    return sm;
                }).setOption(option).build();
        r.server.start();
        LOG.info("replica {} started ({}) on {} with storage {}, election timeout {}", self.getId(), option, address,
                storage, min);
    }

    private static void registerMeters(RunningGroup r, MeterRegistry reg) {
        // Tagged by group: a node of several groups (ScopedConsensus: one per region) has one set of meters per group.
        String group = r.layout.name();
        r.committed = Counter.builder("dwcp.acp.proposals").tag("outcome", "committed").tag("group", group)
                .description("Commands committed").register(reg);
        r.rejected = Counter.builder("dwcp.acp.proposals").tag("outcome", "rejected").tag("group", group)
                .description("Commands refused or failed").register(reg);
        r.timedOut = Counter.builder("dwcp.acp.proposals").tag("outcome", "timeout").tag("group", group)
                .description("Commands without a quorum in time").register(reg);
        r.latency = Timer.builder("dwcp.acp.commit.latency").tag("group", group).publishPercentiles(0.5, 0.99)
                .description("From submit to the committed reply").register(reg);
        r.meters.addAll(List.of(r.committed, r.rejected, r.timedOut, r.latency));
        if (r.server != null) {
            r.meters.add(FunctionCounter.builder("dwcp.acp.leader.changes", r, x -> x.retiredLeaderChanges.get()
                            + x.stateMachine.leaderChanges())
                    .tag("group", group).description("Leader changes seen by this replica").register(reg));
            r.meters.add(Gauge.builder("dwcp.acp.term", r, x -> x.division().map(DivisionInfo::getCurrentTerm).orElse(-1L))
                    .tag("group", group).description("Current Raft term of this replica (-1: unknown)").register(reg));
            r.meters.add(Gauge.builder("dwcp.acp.apply.index", r, x -> x.stateMachine.getLastAppliedTermIndex() == null ? -1
                    : x.stateMachine.getLastAppliedTermIndex().getIndex()).tag("group", group)
                    .description("Last log index applied to the state machine").register(reg));
            r.meters.add(Gauge.builder("dwcp.acp.election.min", r, x -> x.electionMinInForce.toMillis()).tag("group", group)
                    .baseUnit("milliseconds").description("Shortest election timeout this replica runs with now").register(reg));
        }
    }

    /** This replica's division of the group; empty on a client or while the division is not open. */
    Optional<DivisionInfo> division() {
        if (server == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(server.getDivision(layout.groupId()).getInfo());
        } catch (IOException e) {
            return Optional.empty(); // the division is not open (starting or closing): no term to report
        }
    }

    /**
     * Closes in reverse order of creation: meters, the timer agreement, the client, the server, then the completion
     * executor (waiting up to {@code shutdownTimeout} for queued completions).
     *
     * @return the failures as one {@code IO_ERROR}, or null when there were none or they were added to {@code primary}
     */
    DwcpException release(MeterRegistry registry, Duration shutdownTimeout, Throwable primary) {
        List<Exception> failures = new ArrayList<>();
        for (Meter m : meters) {
            registry.remove(m);
        }
        meters.clear();
        if (timerAgreement != null) {
            timerAgreement.close();
        }
        // The client goes first: closing it fails its pending calls, whose completions still need the executor.
        // Read under this lock: a replacement (replaceClientIfClosed) either happened before or sees `running` cleared.
        RaftClient c;
        synchronized (this) {
            c = client;
        }
        if (c != null) {
            try {
                c.close();
            } catch (IOException | RuntimeException e) {
                failures.add(e);
            }
        }
        if (server != null) {
            try {
                server.close();
            } catch (IOException | RuntimeException e) {
                failures.add(e);
            }
        }
        if (completions != null) {
            completions.shutdown();
            try {
                if (!completions.awaitTermination(shutdownTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    completions.shutdownNow();
                }
            } catch (InterruptedException e) {
                completions.shutdownNow();
                Thread.currentThread().interrupt();
            }
        }
        if (failures.isEmpty()) {
            return null;
        }
        if (primary != null) {
            failures.forEach(primary::addSuppressed);
            return null;
        }
        DwcpException d = new DwcpException(ErrorCode.IO_ERROR, "consensus failed to stop cleanly: " + failures.get(0).getMessage(),
                failures.get(0));
        failures.subList(1, failures.size()).forEach(d::addSuppressed);
        return d;
    }
}
