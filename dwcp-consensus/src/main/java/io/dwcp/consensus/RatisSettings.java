package io.dwcp.consensus;

import io.dwcp.core.config.ConsensusKeys;
import io.dwcp.core.config.DwcpConfig;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.client.retry.RequestTypeDependentRetryPolicy;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.proto.RaftProtos.RaftClientRequestProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/*
 * How DWCP configures Ratis: the properties of a replica's RaftServer, the RaftClient every node talks to its group
 * with, and the RTT probe of a client-only node. Stateless; RunningGroup owns what these build (lifecycle, locking).
 * Every Ratis setting the module changes from Ratis' defaults is here, with its reason.
 */
final class RatisSettings {
    private static final Logger LOG = LoggerFactory.getLogger(RatisSettings.class);
    /** Upper bound of one RTT probe: an RTT above it is no WAN a Raft group should span. */
    private static final Duration RTT_PROBE_TIMEOUT = Duration.ofSeconds(2);
    /** Sleep-deviation threshold of the replicas, in upper bounds of the election timeout (see serverProperties). */
    static final int SLEEP_DEVIATION_TIMEOUTS = 5;

    private RatisSettings() {
    }

    /**
     * A replica's server properties.
     *
     * @param storage     the replica's storage directory (dwcp.consensus.storage-dir)
     * @param address     host:port its gRPC server listens on
     * @param electionMin the election timeout it starts with: the agreed one, else the configured one. Not this
     *                    voter's own RTT measurement: Ratis' leader heartbeats every half of ITS OWN minimum timeout,
     *                    so voters whose probes measured different RTTs (a starved host inflates a probe) would expect
     *                    heartbeats sooner than the leader sends them and depose it again and again; every voter that
     *                    applied the same agreed entry starts with the same value.
     */
    static RaftProperties serverProperties(DwcpConfig config, Path storage, String address, Duration electionMin) {
        RaftProperties p = new RaftProperties();
        RaftServerConfigKeys.setStorageDir(p, List.of(storage.toFile()));
        GrpcConfigKeys.Server.setHost(p, address.substring(0, address.lastIndexOf(':')));
        GrpcConfigKeys.Server.setPort(p, Integer.parseInt(address.substring(address.lastIndexOf(':') + 1)));
        setElectionTimers(p, config, electionMin);
        RaftServerConfigKeys.LeaderElection.setPreVote(p, true);
        // Read-only requests: ReadIndex (a heartbeat round confirms leadership, then the leader waits until it applied
        // up to its commit index) and, with read=lease, the leader lease instead of the round while it holds. Always
        // LINEARIZABLE on a voter: Ratis' DEFAULT would answer from whatever the contacted server has applied.
        RaftServerConfigKeys.Read.setOption(p, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
        RaftServerConfigKeys.Read.ReadIndex.setType(p, RaftServerConfigKeys.Read.ReadIndex.Type.COMMIT_INDEX);
        RaftServerConfigKeys.Read.setLeaderLeaseEnabled(p, config.get(ConsensusKeys.READ).equals("lease"));
        // fsync=true: the log worker forces each batch to disk before the entry counts as persisted.
        RaftServerConfigKeys.Log.setUnsafeFlushEnabled(p, !config.get(ConsensusKeys.FSYNC));
        RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
        RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, config.get(ConsensusKeys.SNAPSHOT_ENTRIES));
        return p;
    }

    /**
     * Sets the election timers of a replica: [min, min(2 × min, election.max)], and the sleep-deviation threshold that
     * goes with them. Called at start and again when the group agreed on a new timeout (the division then re-opens
     * with these properties: DivisionRetimer).
     */
    static void setElectionTimers(RaftProperties p, DwcpConfig config, Duration electionMin) {
        Duration max = config.get(ConsensusKeys.ELECTION_MAX);
        Duration upper = electionMin.multipliedBy(2).compareTo(max) < 0 ? electionMin.multipliedBy(2) : max;
        RaftServerConfigKeys.Rpc.setTimeoutMin(p, TimeDuration.valueOf(electionMin.toMillis(), TimeUnit.MILLISECONDS));
        RaftServerConfigKeys.Rpc.setTimeoutMax(p, TimeDuration.valueOf(upper.toMillis(), TimeUnit.MILLISECONDS));
        // Ratis skips a follower's election when the follower's timer overslept by more than the sleep-deviation
        // threshold (300 ms by default), blaming its own pause rather than the leader. On a CPU-starved host every
        // timer oversleeps by 0.3-4 s, so no follower stands and the group stays leaderless (likely the checker
        // campaign's "no leader within 120 s", whose replicas logged 0.4-4 s pauses). Pre-vote already keeps a
        // follower that only paused from deposing a live leader, so the threshold is raised to several election timeouts.
        RaftServerConfigKeys.setSleepDeviationThreshold(p, TimeDuration.valueOf(
                Math.max(300, SLEEP_DEVIATION_TIMEOUTS * upper.toMillis()), TimeUnit.MILLISECONDS));
    }

    /**
     * A client of {@code layout}'s group: each attempt times out after half the proposal timeout (100 ms to 3 s), and a
     * command is retried (same call id) every election.min / 4 (10 ms to 1 s) until the proposal timeout.
     */
    static RaftClient newClient(DwcpConfig config, GroupLayout layout, RaftTimers timers, ClientId id) {
        Duration proposalTimeout = timers.proposalTimeout();
        RaftProperties p = new RaftProperties();
        long attemptMillis = Math.max(100, Math.min(3000, proposalTimeout.toMillis() / 2));
        RaftClientConfigKeys.Rpc.setRequestTimeout(p, TimeDuration.valueOf(attemptMillis, TimeUnit.MILLISECONDS));
        long sleepMillis = Math.max(10, Math.min(1000, config.get(ConsensusKeys.ELECTION_MIN).toMillis() / 4));
        RequestTypeDependentRetryPolicy.Builder policy = RequestTypeDependentRetryPolicy.newBuilder();
        for (RaftClientRequestProto.TypeCase type : List.of(RaftClientRequestProto.TypeCase.WRITE, RaftClientRequestProto.TypeCase.READ)) {
            policy.setRetryPolicy(type, RetryPolicies.retryForeverWithSleep(TimeDuration.valueOf(sleepMillis, TimeUnit.MILLISECONDS)))
                    .setTimeout(type, TimeDuration.valueOf(proposalTimeout.toMillis(), TimeUnit.MILLISECONDS));
        }
        return RaftClient.newBuilder().setProperties(p).setRaftGroup(layout.group()).setClientId(id)
                .setRetryPolicy(policy.build()).build();
    }

    /**
     * The timers from the RTT to the other voters (see {@link RaftTimers}), measured now; logged, since they decide how
     * fast a leader failure is noticed.
     */
    static RaftTimers measureTimers(DwcpConfig config, GroupLayout layout, Optional<RaftPeer> self) {
        List<String> others = new ArrayList<>();
        for (RaftPeer peer : layout.peers()) {
            if (self.isEmpty() || !peer.getId().equals(self.get().getId())) {
                others.add(peer.getAddress());
            }
        }
        Duration max = config.get(ConsensusKeys.ELECTION_MAX);
        Duration probeTimeout = max.compareTo(RTT_PROBE_TIMEOUT) < 0 ? max : RTT_PROBE_TIMEOUT;
        RaftTimers t = RaftTimers.derive(RaftTimers.measureMaxRtt(others, probeTimeout),
                config.get(ConsensusKeys.ELECTION_RTT_MULTIPLE), config.get(ConsensusKeys.ELECTION_MIN), max,
                config.get(ConsensusKeys.PROPOSAL_TIMEOUT));
        LOG.info("group '{}': largest RTT to another voter {}; proposal timeout {}", layout.name(),
                t.maxVoterRtt().map(Duration::toString).orElse("not measured"), t.proposalTimeout());
        if (t.electionMin().compareTo(config.get(ConsensusKeys.ELECTION_MIN)) > 0) {
            LOG.warn("group '{}': the RTT measured to a voter ({}) x dwcp.consensus.election.rtt-multiple asks for"
                    + " an election timeout of {}, above dwcp.consensus.election.min ({}); set election.min to at least"
                    + " that on every voter", layout.name(), t.maxVoterRtt().orElseThrow(), t.electionMin(),
                    config.get(ConsensusKeys.ELECTION_MIN));
        }
        return t;
    }
}
