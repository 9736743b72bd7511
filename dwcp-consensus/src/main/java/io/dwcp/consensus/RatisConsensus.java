package io.dwcp.consensus;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.config.ConsensusKeys;
import io.dwcp.core.config.CoreKeys;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.spi.Consensus;
import io.dwcp.core.Health;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.DivisionInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
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
 * Structure: this class is the component (start/stop, health, the API); RunningGroup owns what a started component
 * holds (created in order by RunningGroup.open, released in reverse by RunningGroup.release); CommandPath sends
 * commands and admin calls to the group and maps their replies.
 *
 * Threading: start/stop are serialised by the manager (and by `lock`), and only they write the GroupSlot; operations
 * are thread-safe, read the slot without the lock, and complete on the component's own executor
 * (dwcp-acp-complete-N), never on Ratis' gRPC threads.
 */
final class RatisConsensus implements Consensus, ConsensusAdmin {
    private static final Logger LOG = LoggerFactory.getLogger(RatisConsensus.class);

    private final ComponentContext context;
    private final DwcpConfig config;
    private final UUID clientUuid = UUID.randomUUID();
    private final AtomicLong sequence = new AtomicLong();
    private final Object lock = new Object();

    /** The running group and why there is none; written under {@code lock} only (see GroupSlot). */
    private final GroupSlot slot = new GroupSlot();
    /** Re-opens this voter's division when the group agreed on new election timers. */
    private final DivisionRetimer retimer;
    private final CommandPath commands;

    RatisConsensus(ComponentContext context) {
        this.context = context;
        this.config = context.config();
        this.retimer = new DivisionRetimer(config);
        this.commands = new CommandPath(config, slot);
    }

    @Override
    public String name() {
        return "consensus";
    }

    @Override
    public void start() throws IOException {
        synchronized (lock) {
            if (slot.running != null) {
                return;
            }
            if (!config.get(ConsensusKeys.ENABLED)) {
                slot.inactiveReason = "disabled (dwcp.consensus.enabled=false)";
                LOG.info("consensus {}", slot.inactiveReason);
                return;
            }
            Optional<String> peers = config.get(ConsensusKeys.PEERS);
            if (peers.isEmpty()) {
                slot.inactiveReason = "no group configured (set dwcp.consensus.peers)";
                LOG.info("consensus inactive: {}", slot.inactiveReason);
                return;
            }
            RunningGroup r = RunningGroup.open(context, peers.get(), ClientId.valueOf(clientUuid), this, retimer, slot);
            slot.running = r;
            LOG.info("consensus running: group '{}' of {} voters, this node {}", r.layout.name(), r.layout.peers().size(),
                    r.server != null ? "a voter" : "a client only");
        }
    }

    /**
     * Commits the next agreed election timeout for a measured largest voter RTT (a voter only; see
     * {@link TimerAgreement#agree}).
     *
     * @return the committed value, or empty when nothing needed committing
     */
    CompletableFuture<Optional<Duration>> agreeTimers(Duration maxVoterRtt) {
        RunningGroup r = slot.running;
        if (r == null || r.timerAgreement == null) {
            return CompletableFuture.failedFuture(new DwcpException(ErrorCode.ILLEGAL_STATE, "not a running voter"));
        }
        return r.timerAgreement.agree(maxVoterRtt);
    }

    /** The shortest election timeout this voter's server runs with (agreed or configured); empty on a client. */
    Optional<Duration> electionMinInForce() {
        RunningGroup r = slot.running;
        return r == null ? Optional.empty() : Optional.ofNullable(r.electionMinInForce);
    }

    /** The timers in use while running (tests, tools), else empty. */
    Optional<RaftTimers> timers() {
        RunningGroup r = slot.running;
        return r == null ? Optional.empty() : Optional.of(r.timers);
    }

    /**
     * Waits until this voter runs with {@code expected} as its shortest election timeout (tests, tools).
     *
     * @return whether it does before {@code timeout}
     */
    boolean awaitElectionMin(Duration expected, Duration timeout) throws InterruptedException {
        return retimer.await(() -> {
            RunningGroup r = slot.running;
            return r != null && expected.equals(r.electionMinInForce);
        }, timeout);
    }

    @Override
    public void stop() {
        synchronized (lock) {
            RunningGroup r = slot.running;
            slot.running = null;
            if (r != null) {
                slot.inactiveReason = "stopped";
                DwcpException failure = r.release(context.meterRegistry(), config.get(CoreKeys.SHUTDOWN_TIMEOUT), null);
                if (failure != null) {
                    throw failure;
                }
            }
        }
    }

    @Override
    public Health health() {
        RunningGroup r = slot.running;
        if (r == null) {
            return Health.unknown(slot.inactiveReason);
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
        RunningGroup r = slot.running;
        if (r == null || !r.readOnlyReads) {
            return commands.submit(c, Reply::current);
        }
        return commands.readOnly(r, c.encode(), null, Reply::current);
    }

    /**
     * Sends a command built by the caller (a {@link SwitchingConsensus}: its own client id and sequence, a layout
     * guard) and answers its reply as is, FENCED and REFUSED included; a READ goes the configured read path.
     */
    CompletableFuture<Reply> send(Command c) {
        RunningGroup r = slot.running;
        if (c.type() == Command.Type.READ && r != null && r.readOnlyReads) {
            return commands.readOnly(r, c.encode(), null, CommandPath.LAYOUT_AWARE);
        }
        return commands.submit(c, CommandPath.LAYOUT_AWARE);
    }

    /** A read-only read sent to one replica, whatever the client believes about the leader (tests: a stale leader). */
    CompletableFuture<Versioned> readAt(String key, String peerId) {
        Command c = new Command(Command.Type.READ, high(), low(), 0, key, null, null);
        RunningGroup r = slot.running;
        return r == null ? commands.submitBytes(c.encode(), true, null, Reply::current)
                : commands.readOnly(r, c.encode(), RaftPeerId.valueOf(peerId), Reply::current);
    }

    @Override
    public CompletableFuture<Versioned> write(String key, String value) {
        requireValue(value, "value");
        return commands.submit(new Command(Command.Type.WRITE, high(), low(), sequence.incrementAndGet(), key, null, value), Reply::current);
    }

    @Override
    public CompletableFuture<CasResult> compareAndSet(String key, String expected, String newValue) {
        requireValue(newValue, "newValue");
        return commands.submit(new Command(Command.Type.CAS, high(), low(), sequence.incrementAndGet(), key, expected, newValue),
                reply -> new CasResult(reply.status() == Reply.Status.OK, reply.current()));
    }

    /** Re-submits a command under an explicit sequence (for de-duplication tests and tools that persist sequences). */
    CompletableFuture<CasResult> compareAndSet(String key, String expected, String newValue, long explicitSequence) {
        return commands.submit(new Command(Command.Type.CAS, high(), low(), explicitSequence, key, expected, newValue),
                reply -> new CasResult(reply.status() == Reply.Status.OK, reply.current()));
    }

    /** Sends raw bytes as a command (for bad-input tests: the state machine must refuse them). */
    CompletableFuture<Reply> sendRaw(byte[] command) {
        return commands.submitBytes(command, false, null, Function.identity());
    }

    /** Sends raw bytes as a read-only request (for bad-input tests: the state machine's query must refuse them). */
    CompletableFuture<Reply> sendRawReadOnly(byte[] command) {
        return commands.submitBytes(command, true, null, Function.identity());
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

    @Override
    public CompletableFuture<Void> transferLeadership(String peerId, Duration timeout) {
        RunningGroup r = slot.running;
        if (r != null && r.layout.peer(peerId).isEmpty()) {
            throw new IllegalArgumentException("'" + peerId + "' is not a voter of group '" + r.layout.name() + "'");
        }
        return commands.transferLeadership(r, peerId, timeout);
    }

    @Override
    public CompletableFuture<Void> setVoters(String peerList) {
        RunningGroup r = slot.running;
        List<RaftPeer> peers = GroupLayout.parse(r == null ? "" : r.layout.name(), peerList).peers();
        return commands.admin(r, client -> client.admin().setConfiguration(peers));
    }

    @Override
    public Optional<String> leaderHint() {
        RunningGroup r = slot.running;
        RaftPeerId leader = r == null ? null : r.client.getLeaderId();
        return leader == null ? Optional.empty() : Optional.of(leader.toString());
    }

    /** This node's replica state machine while running as a voter (tests), else empty. */
    Optional<RegisterStateMachine> stateMachine() {
        RunningGroup r = slot.running;
        return r == null ? Optional.empty() : Optional.ofNullable(r.stateMachine);
    }
}
