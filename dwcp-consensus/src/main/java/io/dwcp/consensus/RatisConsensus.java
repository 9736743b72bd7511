package io.dwcp.consensus;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.config.ConsensusKeys;
import io.dwcp.core.config.CoreKeys;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.spi.Consensus;
import io.dwcp.core.Health;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.apache.ratis.protocol.exceptions.GroupMismatchException;
import org.apache.ratis.protocol.exceptions.LeaderNotReadyException;
import org.apache.ratis.protocol.exceptions.RaftRetryFailureException;
import org.apache.ratis.protocol.exceptions.ReadException;
import org.apache.ratis.protocol.exceptions.ReadIndexException;
import org.apache.ratis.protocol.exceptions.ServerNotReadyException;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
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
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/*
 * ACP's LOCAL scope on Apache Ratis: one Raft group whose voters are dwcp.consensus.peers. A node listed there runs a
 * replica (RaftServer + RegisterStateMachine, log and snapshots under dwcp.consensus.storage-dir); every node, listed
 * or not, talks to the group through one RaftClient.
 *
 * Writes and compare-and-sets are commands in the Raft log. Reads (dwcp.consensus.read) are either commands in the
 * log too (`log`: ordered with the writes, answered at their commit; one log entry per read), or read-only requests
 * that Ratis serves linearizably without a log entry: `read-index` (the leader confirms it still leads with a
 * heartbeat round to a majority, then answers from its state machine once it applied up to its commit index) or
 * `lease` (no round while a majority acknowledged a heartbeat sent within 0.9 × the minimum election timeout). Voters
 * always set Ratis' read option to LINEARIZABLE, so a read-only request is never answered from a stale state whatever
 * the client's setting. The Ratis client follows leader changes and retries (same call id, so Ratis' retry cache
 * answers a retry that already committed); the state machine additionally de-duplicates by (client id, sequence).
 *
 * Timing: Ratis waits a random election timeout in [election.min, min(2 × election.min, election.max)] and the
 * leader heartbeats every election.min / 2. A client-only node measures its RTT to the voters at start (RaftTimers): a
 * command is retried for max(proposal-timeout, 20 × RTT), then its future fails with QUORUM_UNAVAILABLE (the command
 * may still commit later: callers treat it as indeterminate); when election.rtt-multiple × RTT exceeds election.min a
 * warning says so. Voters start with the agreed election timeout when the group committed one (see RaftTimers:
 * the leader measures its RTT to the other voters every evaluate-interval and commits the next value through the log,
 * so every voter that applied it holds the same), else with the configured one; Ratis keeps a server's timers for
 * its lifetime, so an agreed value takes effect at each voter's next start.
 *
 * Threading: start/stop are serialised by the manager (and by `lock`); operations are thread-safe and complete on the
 * component's own executor (dwcp-acp-complete-N), never on Ratis' gRPC threads.
 */
final class RatisConsensus implements Consensus, ConsensusAdmin {
    private static final Logger LOG = LoggerFactory.getLogger(RatisConsensus.class);

    private final ComponentContext context;
    private final DwcpConfig config;
    private final UUID clientUuid = UUID.randomUUID();
    private final AtomicLong sequence = new AtomicLong();
    private final Object lock = new Object();

    private volatile RunningGroup running;
    /** Re-opens this voter's division when the group agreed on new election timers. */
    private final DivisionRetimer retimer;
    private volatile String inactiveReason = "not started";

    RatisConsensus(ComponentContext context) {
        this.context = context;
        this.config = context.config();
        this.retimer = new DivisionRetimer(config);
    }

    @Override
    public String name() {
        return "consensus";
    }

    @Override
    public void start() throws IOException {
        synchronized (lock) {
            if (running != null) {
                return;
            }
            if (!config.get(ConsensusKeys.ENABLED)) {
                inactiveReason = "disabled (dwcp.consensus.enabled=false)";
                LOG.info("consensus {}", inactiveReason);
                return;
            }
            Optional<String> peers = config.get(ConsensusKeys.PEERS);
            if (peers.isEmpty()) {
                inactiveReason = "no group configured (set dwcp.consensus.peers)";
                LOG.info("consensus inactive: {}", inactiveReason);
                return;
            }
            RunningGroup r = new RunningGroup();
            r.layout = GroupLayout.parse(config.get(ConsensusKeys.GROUP), peers.get());
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
                    startServer(r, self.get());
                }
                r.client = RatisSettings.newClient(config, r.layout, r.timers, ClientId.valueOf(clientUuid));
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
                registerMeters(r);
                if (self.isPresent()) {
                    List<String> others = new ArrayList<>();
                    for (RaftPeer peer : r.layout.peers()) {
                        if (!peer.getId().equals(self.get().getId())) {
                            others.add(peer.getAddress());
                        }
                    }
                    r.timerAgreement = new TimerAgreement(this, config, r.layout.name(), others,
                            () -> r.division().map(DivisionInfo::isLeader).orElse(false), r.hardTimeout);
                    r.timerAgreement.start();
                }
            } catch (IOException | RuntimeException | Error e) {
                r.release(context.meterRegistry(), config.get(CoreKeys.SHUTDOWN_TIMEOUT), e);
                throw e;
            }
            running = r;
            LOG.info("consensus running: group '{}' of {} voters, this node {}", r.layout.name(), r.layout.peers().size(),
                    r.server != null ? "a voter" : "a client only");
        }
    }

    private void startServer(RunningGroup r, RaftPeer self) throws IOException {
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
                    sm.onAgreed(agreed -> retimer.later(r, agreed, () -> running == r));
                    r.stateMachine = sm;
                    return sm;
                }).setOption(option).build();
        r.server.start();
        LOG.info("replica {} started ({}) on {} with storage {}, election timeout {}", self.getId(), option, address,
                storage, min);
    }

    /**
     * Commits the next agreed election timeout for a measured largest voter RTT (a voter only; see
     * {@link TimerAgreement#agree}).
     *
     * @return the committed value, or empty when nothing needed committing
     */
    CompletableFuture<Optional<Duration>> agreeTimers(Duration maxVoterRtt) {
        RunningGroup r = running;
        if (r == null || r.timerAgreement == null) {
            return CompletableFuture.failedFuture(new DwcpException(ErrorCode.ILLEGAL_STATE, "not a running voter"));
        }
        return r.timerAgreement.agree(maxVoterRtt);
    }

    /** The shortest election timeout this voter's server runs with (agreed or configured); empty on a client. */
    Optional<Duration> electionMinInForce() {
        RunningGroup r = running;
        return r == null ? Optional.empty() : Optional.ofNullable(r.electionMinInForce);
    }

    /** The timers in use while running (tests, tools), else empty. */
    Optional<RaftTimers> timers() {
        RunningGroup r = running;
        return r == null ? Optional.empty() : Optional.of(r.timers);
    }

    private void registerMeters(RunningGroup r) {
        MeterRegistry reg = context.meterRegistry();
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

    /**
     * Waits until this voter runs with {@code expected} as its shortest election timeout (tests, tools).
     *
     * @return whether it does before {@code timeout}
     */
    boolean awaitElectionMin(Duration expected, Duration timeout) throws InterruptedException {
        return retimer.await(() -> {
            RunningGroup r = running;
            return r != null && expected.equals(r.electionMinInForce);
        }, timeout);
    }

    @Override
    public void stop() {
        synchronized (lock) {
            RunningGroup r = running;
            running = null;
            if (r != null) {
                inactiveReason = "stopped";
                DwcpException failure = r.release(context.meterRegistry(), config.get(CoreKeys.SHUTDOWN_TIMEOUT), null);
                if (failure != null) {
                    throw failure;
                }
            }
        }
    }

    @Override
    public Health health() {
        RunningGroup r = running;
        if (r == null) {
            return Health.unknown(inactiveReason);
        }
        if (r.server == null) {
            return r.lastTimedOut ? Health.degraded("client of group '" + r.layout.name() + "': last command found no quorum in time")
                    : Health.healthy("client of group '" + r.layout.name() + "'");
        }
        Optional<DivisionInfo> info = r.division();
        if (info.isEmpty()) {
            return Health.unhealthy("replica of group '" + r.layout.name() + "' is not open");
        }
        DivisionInfo d = info.get();
        if (d.isLeader()) {
            return Health.healthy("leader, term " + d.getCurrentTerm());
        }
        RaftPeerId leader = d.getLeaderId();
        return leader != null ? Health.healthy(d.getCurrentRole() + " of leader " + leader + ", term " + d.getCurrentTerm())
                : Health.degraded("no leader known, term " + d.getCurrentTerm());
    }

    @Override
    public CompletableFuture<Versioned> read(String key) {
        Command c = new Command(Command.Type.READ, high(), low(), 0, key, null, null);
        RunningGroup r = running;
        if (r == null || !r.readOnlyReads) {
            return submit(c, Reply::current);
        }
        return readOnly(r, c.encode(), null, Reply::current);
    }

    /**
     * Sends a command built by the caller (a {@link SwitchingConsensus}: its own client id and sequence, a layout
     * guard) and answers its reply as is, FENCED and REFUSED included; a READ goes the configured read path.
     */
    CompletableFuture<Reply> send(Command c) {
        RunningGroup r = running;
        if (c.type() == Command.Type.READ && r != null && r.readOnlyReads) {
            return readOnly(r, c.encode(), null, LAYOUT_AWARE);
        }
        return submit(c, LAYOUT_AWARE);
    }

    /** Marks a caller that handles FENCED and REFUSED replies itself (see {@link #send}). */
    private static final Function<Reply, Reply> LAYOUT_AWARE = x -> x;

    /** A read-only read sent to one replica, whatever the client believes about the leader (tests: a stale leader). */
    CompletableFuture<Versioned> readAt(String key, String peerId) {
        Command c = new Command(Command.Type.READ, high(), low(), 0, key, null, null);
        RunningGroup r = running;
        return r == null ? submitBytes(c.encode(), true, null, Reply::current)
                : readOnly(r, c.encode(), RaftPeerId.valueOf(peerId), Reply::current);
    }

    /**
     * A read-only request, tried again while it fails only because the contacted replica could not serve it yet (a
     * follower whose leader has no read index yet — a new leader before its first commit —, a replica not ready or not
     * the leader) and the proposal timeout has not passed. A read changes nothing, so trying again is always safe;
     * Ratis' client does not retry these failures itself.
     */
    private <T> CompletableFuture<T> readOnly(RunningGroup r, byte[] bytes, RaftPeerId target, Function<Reply, T> map) {
        CompletableFuture<T> result = new CompletableFuture<>();
        attemptRead(r, bytes, target, System.nanoTime() + r.timers.proposalTimeout().toNanos(), map, result);
        return result;
    }

    private <T> void attemptRead(RunningGroup r, byte[] bytes, RaftPeerId target, long deadline, Function<Reply, T> map,
                                 CompletableFuture<T> result) {
        submitBytes(bytes, true, target, map).whenComplete((v, e) -> {
            if (e == null) {
                result.complete(v);
            } else if (running == r && System.nanoTime() < deadline && notServedYet(e)) {
                long backoff = Math.max(10, Math.min(1000, config.get(ConsensusKeys.ELECTION_MIN).toMillis() / 4));
                CompletableFuture.delayedExecutor(backoff, TimeUnit.MILLISECONDS, r.completer)
                        .execute(() -> attemptRead(r, bytes, target, deadline, map, result));
            } else {
                result.completeExceptionally(e);
            }
        });
    }

    /** Whether a read-only request failed because the contacted replica could not serve it yet (see readOnly). */
    private static boolean notServedYet(Throwable e) {
        return RatisErrors.find(e, ReadIndexException.class) != null || RatisErrors.find(e, ReadException.class) != null
                || RatisErrors.find(e, GroupMismatchException.class) != null
                || RatisErrors.find(e, LeaderNotReadyException.class) != null
                || RatisErrors.find(e, ServerNotReadyException.class) != null;
    }

    @Override
    public CompletableFuture<Versioned> write(String key, String value) {
        requireValue(value, "value");
        return submit(new Command(Command.Type.WRITE, high(), low(), sequence.incrementAndGet(), key, null, value), Reply::current);
    }

    @Override
    public CompletableFuture<CasResult> compareAndSet(String key, String expected, String newValue) {
        requireValue(newValue, "newValue");
        return submit(new Command(Command.Type.CAS, high(), low(), sequence.incrementAndGet(), key, expected, newValue),
                reply -> new CasResult(reply.status() == Reply.Status.OK, reply.current()));
    }

    /** Re-submits a command under an explicit sequence (for de-duplication tests and tools that persist sequences). */
    CompletableFuture<CasResult> compareAndSet(String key, String expected, String newValue, long explicitSequence) {
        return submit(new Command(Command.Type.CAS, high(), low(), explicitSequence, key, expected, newValue),
                reply -> new CasResult(reply.status() == Reply.Status.OK, reply.current()));
    }

    /** Sends raw bytes as a command (for bad-input tests: the state machine must refuse them). */
    CompletableFuture<Reply> sendRaw(byte[] command) {
        return submitBytes(command, false, null, Function.identity());
    }

    /** Sends raw bytes as a read-only request (for bad-input tests: the state machine's query must refuse them). */
    CompletableFuture<Reply> sendRawReadOnly(byte[] command) {
        return submitBytes(command, true, null, Function.identity());
    }

    private long high() {
        return clientUuid.getMostSignificantBits();
    }

    private long low() {
        return clientUuid.getLeastSignificantBits();
    }

    private static void requireValue(String v, String name) {
        if (v == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
    }

    /**
     * Sends a command into the log; tried again while the replica asked has no open division of the group (it is
     * re-opening with agreed timers: Ratis answers GroupMismatchException, which its client does not retry) and the
     * proposal timeout has not passed. Nothing was appended then; a retry that did commit twice would be answered
     * from the de-duplication table.
     */
    private <T> CompletableFuture<T> submit(Command c, Function<Reply, T> map) {
        byte[] bytes = c.encode();
        RunningGroup r = running;
        if (r == null) {
            return submitBytes(bytes, false, null, map);
        }
        CompletableFuture<T> result = new CompletableFuture<>();
        attemptSubmit(r, bytes, System.nanoTime() + r.timers.proposalTimeout().toNanos(), map, result);
        return result;
    }

    private <T> void attemptSubmit(RunningGroup r, byte[] bytes, long deadline, Function<Reply, T> map, CompletableFuture<T> result) {
        submitBytes(bytes, false, null, map).whenComplete((v, e) -> {
            if (e == null) {
                result.complete(v);
            } else if (running == r && System.nanoTime() < deadline && RatisErrors.find(e, GroupMismatchException.class) != null) {
                CompletableFuture.delayedExecutor(retryBackoffMillis(), TimeUnit.MILLISECONDS, r.completer)
                        .execute(() -> attemptSubmit(r, bytes, deadline, map, result));
            } else {
                result.completeExceptionally(e);
            }
        });
    }

    private long retryBackoffMillis() {
        return Math.max(10, Math.min(1000, config.get(ConsensusKeys.ELECTION_MIN).toMillis() / 4));
    }

    /** Sends a command: into the log, or ({@code readOnly}) as a read-only request answered by the state machine's query. */
    private <T> CompletableFuture<T> submitBytes(byte[] bytes, boolean readOnly, RaftPeerId target, Function<Reply, T> map) {
        RunningGroup r = running;
        if (r == null) {
            return CompletableFuture.failedFuture(new DwcpException(ErrorCode.ILLEGAL_STATE, "consensus is " + inactiveReason));
        }
        if (bytes.length > r.maxCommandBytes) {
            r.rejected.increment();
            return CompletableFuture.failedFuture(new DwcpException(ErrorCode.LIMIT_EXCEEDED, "command of " + bytes.length
                    + " bytes exceeds dwcp.consensus.max-command (" + r.maxCommandBytes + " bytes); nothing was sent"));
        }
        long t0 = System.nanoTime();
        RaftClient client = r.client;
        CompletableFuture<RaftClientReply> sent;
        try {
            Message message = Message.valueOf(ByteString.copyFrom(bytes));
            sent = !readOnly ? client.async().send(message)
                    : target == null ? client.async().sendReadOnly(message) : client.async().sendReadOnly(message, target);
        } catch (RuntimeException e) {
            replaceClientIfClosed(r, client, e);
            return CompletableFuture.failedFuture(translate(e, r));
        }
        return sent.orTimeout(r.hardTimeout.toMillis(), TimeUnit.MILLISECONDS).handleAsync((reply, error) -> {
            if (error != null) {
                replaceClientIfClosed(r, client, error);
                throw translate(error, r);
            }
            if (!reply.isSuccess()) {
                throw translate(reply.getException(), r);
            }
            Reply decoded = Reply.decode(reply.getMessage().getContent().asReadOnlyByteBuffer());
            r.lastTimedOut = false;
            r.latency.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
            switch (decoded.status()) {
                case MALFORMED -> {
                    r.rejected.increment();
                    throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "malformed command, nothing applied: " + decoded.error());
                }
                case STALE -> {
                    r.rejected.increment();
                    throw new DwcpException(ErrorCode.STALE, decoded.error());
                }
                case FENCED, REFUSED -> {
                    r.rejected.increment();
                    if (map == LAYOUT_AWARE) {
                        return map.apply(decoded);
                    }
                    throw new DwcpException(ErrorCode.ILLEGAL_STATE, "group '" + r.layout.name() + "' " + (decoded.status()
                            == Reply.Status.FENCED ? "was switched away from by a layout switch (epoch|layout: "
                            + decoded.error() + "); use the switching scope" : "refused: " + decoded.error()));
                }
                default -> {
                    r.committed.increment();
                    return map.apply(decoded);
                }
            }
        }, r.completer);
    }

    /**
     * Ratis' ordered asynchronous client closes its request window for good when a request exhausts its retries
     * ({@code RaftRetryFailureException}); every later request on that client then fails at once with
     * {@code AlreadyClosedException}. So after such a failure, while this component runs, the client is replaced by a
     * new one (a new Ratis client id; de-duplication in the state machine uses this component's own id, which stays).
     */
    private void replaceClientIfClosed(RunningGroup r, RaftClient failed, Throwable error) {
        if (RatisErrors.find(error, RaftRetryFailureException.class) == null
                && RatisErrors.find(error, AlreadyClosedException.class) == null) {
            return;
        }
        RaftClient fresh;
        synchronized (r) {
            if (running != r || r.client != failed) {
                return; // stopping, or already replaced
            }
            fresh = RatisSettings.newClient(config, r.layout, r.timers, ClientId.randomId());
            r.client = fresh;
        }
        LOG.warn("consensus client of group '{}' replaced: Ratis closed its request window after {}", r.layout.name(),
                error.toString());
        r.completer.execute(() -> {
            try {
                failed.close();
            } catch (IOException | RuntimeException e) {
                LOG.debug("closing the replaced consensus client failed", e);
            }
        });
    }

    /** Maps a failure to the contract's codes (see {@link RatisErrors}) and counts it. */
    private DwcpException translate(Throwable error, RunningGroup r) {
        DwcpException d = running == r && RatisErrors.find(error, AlreadyClosedException.class) != null
                // Not a stop: the client's request window had closed (it is being replaced); the command may have
                // been sent before it closed, so its outcome is unknown, as after a proposal timeout.
                ? new DwcpException(ErrorCode.QUORUM_UNAVAILABLE, "the consensus client of group '" + r.layout.name()
                        + "' gave up after an earlier command exhausted its retries; this command may still commit", error)
                : RatisErrors.translate(error, r.layout.name(), r.hardTimeout);
        if (d.code() == ErrorCode.QUORUM_UNAVAILABLE || d.code() == ErrorCode.TIMEOUT) {
            r.timedOut.increment();
            r.lastTimedOut = true;
        } else {
            r.rejected.increment();
        }
        return d;
    }

    @Override
    public CompletableFuture<Void> transferLeadership(String peerId, Duration timeout) {
        RunningGroup r = running;
        if (r != null && r.layout.peer(peerId).isEmpty()) {
            throw new IllegalArgumentException("'" + peerId + "' is not a voter of group '" + r.layout.name() + "'");
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        return admin(r, client -> {
            // An election can overtake the transfer (a loaded machine, a leader that missed heartbeats): Ratis then
            // fails it with DIFFERENT_LEADER. The caller asked for a leader, so ask the new leader again, in time.
            while (true) {
                long leftMillis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
                try {
                    RaftClientReply reply = client.admin().transferLeadership(RaftPeerId.valueOf(peerId), leftMillis);
                    if (reply.isSuccess() || !overtaken(reply.getException()) || System.nanoTime() >= deadline) {
                        return reply;
                    }
                } catch (IOException e) {
                    if (!overtaken(e) || System.nanoTime() >= deadline) {
                        throw e;
                    }
                }
            }
        });
    }

    /** Whether a leader transfer failed because an election chose another leader meanwhile. */
    private static boolean overtaken(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (String.valueOf(c.getMessage()).contains("DIFFERENT_LEADER")) {
                return true;
            }
        }
        return false;
    }

    @Override
    public CompletableFuture<Void> setVoters(String peerList) {
        RunningGroup r = running;
        List<RaftPeer> peers = GroupLayout.parse(r == null ? "" : r.layout.name(), peerList).peers();
        return admin(r, client -> client.admin().setConfiguration(peers));
    }

    /** One blocking Ratis admin call. */
    @FunctionalInterface
    private interface AdminCall {
        RaftClientReply call(RaftClient client) throws IOException;
    }

    /** Runs a blocking admin call on the component's executor and maps its failure. */
    private CompletableFuture<Void> admin(RunningGroup r, AdminCall call) {
        if (r == null) {
            return CompletableFuture.failedFuture(new DwcpException(ErrorCode.ILLEGAL_STATE, "consensus is " + inactiveReason));
        }
        return CompletableFuture.runAsync(() -> {
            try {
                RaftClientReply reply = call.call(r.client);
                if (!reply.isSuccess()) {
                    throw translate(reply.getException(), r);
                }
            } catch (IOException e) {
                throw translate(e, r);
            }
        }, r.completer);
    }

    @Override
    public Optional<String> leaderHint() {
        RunningGroup r = running;
        RaftPeerId leader = r == null ? null : r.client.getLeaderId();
        return leader == null ? Optional.empty() : Optional.of(leader.toString());
    }

    /** This node's replica state machine while running as a voter (tests), else empty. */
    Optional<RegisterStateMachine> stateMachine() {
        RunningGroup r = running;
        return r == null ? Optional.empty() : Optional.ofNullable(r.stateMachine);
    }
}
