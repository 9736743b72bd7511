package io.dwcp.core.config;

import io.dwcp.core.DataSize;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/** Keys of the consensus provider, ACP. */
public final class ConsensusKeys {
    /** One peer: {@code id@host:port}, the id as {@code dwcp.node-id}. */
    private static final Pattern PEER = Pattern.compile("([A-Za-z0-9._-]{1,64})@([A-Za-z0-9.:\\[\\]-]+):(\\d{1,5})");
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final Pattern HOST_PORT = Pattern.compile("[A-Za-z0-9.:\\[\\]-]+:\\d{1,5}");

    private ConsensusKeys() {
    }

    /** Key {@code dwcp.consensus.enabled}: Run the consensus component; when false it creates no threads or sockets. */
    public static final ConfigKey<Boolean> ENABLED = ConfigKey.builder("dwcp.consensus.enabled", ValueType.BOOLEAN)
            .defaultValue(true).description("Run the consensus component; when false it creates no threads or sockets.").build();

    /**
     * Key {@code dwcp.consensus.peers}: Voters of the group, e.g.
     * n1&#64;10.0.0.1:9870,n2&#64;10.0.0.2:9870,n3&#64;10.0.0.3:9870. A node whose dwcp.node-id is listed runs a
     * replica on that port; any other node is a client only.
     */
    public static final ConfigKey<Optional<String>> PEERS = ConfigKey.builder("dwcp.consensus.peers",
                    ValueType.optional(ValueType.STRING, "none"))
            .defaultValue(Optional.empty())
            .rule("none, or a comma-separated list of id@host:port with distinct ids", v -> v.isEmpty() || validPeers(v.get()))
            .description("Voters of the group, e.g. n1@10.0.0.1:9870,n2@10.0.0.2:9870,n3@10.0.0.3:9870. A node whose"
                    + " dwcp.node-id is listed runs a replica on that port; any other node is a client only.").build();

    /**
     * Key {@code dwcp.consensus.group}: Name of the Raft group; every member and client of one group uses the same
     * name.
     */
    public static final ConfigKey<String> GROUP = ConfigKey.builder("dwcp.consensus.group", ValueType.STRING)
            .defaultValue("dwcp-local")
            .rule("1–64 chars [A-Za-z0-9._-]", v -> ID.matcher(v).matches())
            .description("Name of the Raft group; every member and client of one group uses the same name.").build();

    /**
     * Key {@code dwcp.consensus.storage-dir}: Directory of this replica's Raft log and snapshots; required on a node
     * listed in peers. A restarted replica recovers from it.
     */
    public static final ConfigKey<Optional<String>> STORAGE_DIR = ConfigKey.builder("dwcp.consensus.storage-dir",
                    ValueType.optional(ValueType.STRING, "none"))
            .defaultValue(Optional.empty())
            .description("Directory of this replica's Raft log and snapshots; required on a node listed in peers."
                    + " A restarted replica recovers from it.").build();

    /**
     * Key {@code dwcp.consensus.listen}: Address this replica binds to when it differs from the one the others dial
     * (listed in peers), e.g. behind NAT or a proxy; default: its address in peers.
     */
    public static final ConfigKey<Optional<String>> LISTEN = ConfigKey.builder("dwcp.consensus.listen",
                    ValueType.optional(ValueType.STRING, "peers"))
            .defaultValue(Optional.empty())
            .rule("peers, or host:port", v -> v.isEmpty() || HOST_PORT.matcher(v.get()).matches())
            .description("Address this replica binds to when it differs from the one the others dial (listed in peers),"
                    + " e.g. behind NAT or a proxy; default: its address in peers.").build();

    /**
     * Key {@code dwcp.consensus.election.min}: Shortest election timeout; each election waits a random time from min to
     * min(2 × min, max). The leader heartbeats every min ÷ 2.
     */
    public static final ConfigKey<Duration> ELECTION_MIN = Ranges.durations(
            ConfigKey.builder("dwcp.consensus.election.min", ValueType.DURATION)
                    .tierDefaults(Duration.ofMillis(150), Duration.ofMillis(500), Duration.ofSeconds(1)), "10ms", "1m")
            .description("Shortest election timeout; each election waits a random time from min to min(2 × min, max)."
                    + " The leader heartbeats every min ÷ 2.").build();

    /**
     * Key {@code dwcp.consensus.election.rtt-multiple}: The wanted election timeout is this multiple of the largest
     * voter RTT, clamped to [election.min, election.max]: the leader measures it every evaluate-interval and commits
     * it as the agreed timeout (steps of at most 1.5×), which each voter takes at its next start. A client-only node
     * warns when election.min is below this multiple of the RTT it measured, and retries a command for at least 20 ×
     * that RTT.
     */
    public static final ConfigKey<Integer> ELECTION_RTT_MULTIPLE = Ranges.ints(
            ConfigKey.builder("dwcp.consensus.election.rtt-multiple", ValueType.INT).defaultValue(10), 3, 50)
            .description("The wanted election timeout is this multiple of the largest voter RTT, clamped to"
                    + " [election.min, election.max]: the leader measures it every evaluate-interval and commits it as"
                    + " the agreed timeout (steps of at most 1.5×), which each voter takes at its next start. A client-only"
                    + " node warns when election.min is below this multiple of the RTT it measured, and retries a command"
                    + " for at least 20 × that RTT.").build();

    /** Key {@code dwcp.consensus.election.max}: Longest election timeout; must exceed election.min. */
    public static final ConfigKey<Duration> ELECTION_MAX = Ranges.durations(
            ConfigKey.builder("dwcp.consensus.election.max", ValueType.DURATION).defaultValue(Duration.ofSeconds(10)), "20ms", "10m")
            .description("Longest election timeout; must exceed election.min.").build();

    /**
     * Key {@code dwcp.consensus.proposal-timeout}: How long a client retries a command (following leader changes)
     * before failing it with QUORUM_UNAVAILABLE.
     */
    public static final ConfigKey<Duration> PROPOSAL_TIMEOUT = Ranges.durations(
            ConfigKey.builder("dwcp.consensus.proposal-timeout", ValueType.DURATION).defaultValue(Duration.ofSeconds(5)), "100ms", "10m")
            .description("How long a client retries a command (following leader changes) before failing it with"
                    + " QUORUM_UNAVAILABLE.").build();

    /**
     * Key {@code dwcp.consensus.max-command}: Largest encoded command; larger ones fail with LIMIT_EXCEEDED before they
     * are sent.
     */
    public static final ConfigKey<DataSize> MAX_COMMAND = Ranges.sizes(
            ConfigKey.builder("dwcp.consensus.max-command", ValueType.SIZE).defaultValue(DataSize.ofMebibytes(1)), "1KiB", "64MiB", 1)
            .description("Largest encoded command; larger ones fail with LIMIT_EXCEEDED before they are sent.").build();

    /**
     * Key {@code dwcp.consensus.fsync}: Persist (fsync) log entries before acknowledging them; false acknowledges
     * before the disk flush completes (faster, loses acknowledged entries if a majority crashes at once).
     */
    public static final ConfigKey<Boolean> FSYNC = ConfigKey.builder("dwcp.consensus.fsync", ValueType.BOOLEAN)
            .defaultValue(true)
            .description("Persist (fsync) log entries before acknowledging them; false acknowledges before the disk"
                    + " flush completes (faster, loses acknowledged entries if a majority crashes at once).").build();

    /**
     * Key {@code dwcp.consensus.read}: How a linearizable read is served: log (a command in the Raft log, one commit
     * per read), read-index (the leader confirms its leadership with a heartbeat round to a majority, then answers
     * once it has applied up to its commit index; nothing is written) or lease (the leader answers without that round
     * while a majority acknowledged a heartbeat sent within 0.9 × election.min, which assumes the voters' clocks run at
     * nearly the same rate; otherwise as read-index). Set on clients and voters; voters always serve read-only
     * requests linearizably.
     */
    public static final ConfigKey<String> READ = ConfigKey.builder("dwcp.consensus.read", ValueType.STRING)
            .defaultValue("read-index")
            .rule("log, read-index or lease", v -> v.equals("log") || v.equals("read-index") || v.equals("lease"))
            .description("How a linearizable read is served: log (a command in the Raft log, one commit per read),"
                    + " read-index (the leader confirms its leadership with a heartbeat round to a majority, then answers"
                    + " once it has applied up to its commit index; nothing is written) or lease (the leader answers"
                    + " without that round while a majority acknowledged a heartbeat sent within 0.9 × election.min,"
                    + " which assumes the voters' clocks run at nearly the same rate; otherwise as read-index). Set on"
                    + " clients and voters; voters always serve read-only requests linearizably.").build();

    /**
     * Key {@code dwcp.consensus.snapshot.entries}: Log entries applied between two automatic state-machine snapshots;
     * the log before a snapshot may then be purged.
     */
    public static final ConfigKey<Long> SNAPSHOT_ENTRIES = ConfigKey.builder("dwcp.consensus.snapshot.entries", ValueType.LONG)
            .defaultValue(10_000L)
            .rule("100–1000000000", v -> v >= 100 && v <= 1_000_000_000L)
            .description("Log entries applied between two automatic state-machine snapshots; the log before a snapshot"
                    + " may then be purged.").build();

    /**
     * Key {@code dwcp.consensus.dedup.window}: Results remembered per client for de-duplication: a retry of one of the
     * client's last window commands gets the original result, an older one fails with STALE.
     */
    public static final ConfigKey<Integer> DEDUP_WINDOW = Ranges.ints(
            ConfigKey.builder("dwcp.consensus.dedup.window", ValueType.INT).defaultValue(256), 1, 65_536)
            .description("Results remembered per client for de-duplication: a retry of one of the client's last"
                    + " window commands gets the original result, an older one fails with STALE.").build();

    /**
     * Key {@code dwcp.consensus.dedup.max-clients}: Clients remembered for de-duplication; the least recently active
     * one is forgotten first.
     */
    public static final ConfigKey<Integer> DEDUP_MAX_CLIENTS = Ranges.ints(
            ConfigKey.builder("dwcp.consensus.dedup.max-clients", ValueType.INT).defaultValue(4096), 1, 1_000_000)
            .description("Clients remembered for de-duplication; the least recently active one is forgotten first.").build();

    /**
     * Key {@code dwcp.consensus.home.auto-move}: Move a global key's home to this node's region when the key is used
     * mostly from here (see locality-threshold and the switch.* keys); false: homes move only when asked.
     */
    public static final ConfigKey<Boolean> HOME_AUTO_MOVE = ConfigKey.builder("dwcp.consensus.home.auto-move", ValueType.BOOLEAN)
            .defaultValue(true)
            .description("Move a global key's home to this node's region when the key is used mostly from here (see"
                    + " locality-threshold and the switch.* keys); false: homes move only when asked.").build();

    /**
     * Key {@code dwcp.consensus.evaluate-interval}: How often the locality of global keys and the layout of a
     * switching scope are judged, and how often a leader measures the voter RTT for the agreed election timeout.
     */
    public static final ConfigKey<Duration> EVALUATE_INTERVAL = Ranges.durations(
            ConfigKey.builder("dwcp.consensus.evaluate-interval", ValueType.DURATION).defaultValue(Duration.ofSeconds(30)), "1s", "1h")
            .description("How often the locality of global keys and the layout of a switching scope are judged, and how"
                    + " often a leader measures the voter RTT for the agreed election timeout.").build();

    /**
     * Key {@code dwcp.consensus.locality-threshold}: Least share of a global key's operations that must come from this
     * region, without another region's writes in between, for its home to move here; and least share of a switching
     * scope's writes from one region for its layout to become that region's group.
     */
    public static final ConfigKey<Double> LOCALITY_THRESHOLD = Ranges.doubles(
            ConfigKey.builder("dwcp.consensus.locality-threshold", ValueType.DOUBLE).defaultValue(0.7), 0, 1)
            .description("Least share of a global key's operations that must come from this region, without another"
                    + " region's writes in between, for its home to move here; and least share of a switching scope's"
                    + " writes from one region for its layout to become that region's group.").build();

    /** Key {@code dwcp.consensus.switch.min-interval}: Least time between two home moves of one key, or two layout switches of one scope. */
    public static final ConfigKey<Duration> SWITCH_MIN_INTERVAL = Ranges.durations(
            ConfigKey.builder("dwcp.consensus.switch.min-interval", ValueType.DURATION).defaultValue(Duration.ofMinutes(5)), "0s", "24h")
            .description("Least time between two home moves of one key, or two layout switches of one scope.").build();

    /**
     * Key {@code dwcp.consensus.switch.stable-evaluations}: Evaluations in a row that must favour a home move (or a layout
     * switch) before it is made.
     */
    public static final ConfigKey<Integer> SWITCH_STABLE_EVALUATIONS = Ranges.ints(
            ConfigKey.builder("dwcp.consensus.switch.stable-evaluations", ValueType.INT).defaultValue(3), 1, 100)
            .description("Evaluations in a row that must favour a home move (or a layout switch) before it is made.").build();

    /**
     * Key {@code dwcp.consensus.switch.benefit-margin}: A home move (or layout switch) is made only when the latency
     * it saves until the next allowed one exceeds this multiple of what it costs.
     */
    public static final ConfigKey<Double> SWITCH_BENEFIT_MARGIN = ConfigKey.builder("dwcp.consensus.switch.benefit-margin", ValueType.DOUBLE)
            .defaultValue(1.5)
            .rule("above 1, at most 100", v -> v > 1 && v <= 100)
            .description("A home move (or layout switch) is made only when the latency it saves until the next allowed"
                    + " one exceeds this multiple of what it costs.").build();

    /**
     * Key {@code dwcp.consensus.switch.auto}: A switching scope chooses its layout every evaluate-interval from the
     * measured RTTs and the regions its writes come from, and switches when the choice holds; false: the layout is
     * pinned and changes only when asked.
     */
    public static final ConfigKey<Boolean> SWITCH_AUTO = ConfigKey.builder("dwcp.consensus.switch.auto", ValueType.BOOLEAN)
            .defaultValue(true)
            .description("A switching scope chooses its layout every evaluate-interval from the measured RTTs and the"
                    + " regions its writes come from, and switches when the choice holds; false: the layout is pinned"
                    + " and changes only when asked.").build();

    /**
     * Key {@code dwcp.consensus.switch.drain-timeout}: Longest time one layout switch (fence, hand-over of the state,
     * seed) may take before it is reported failed; a switch stopped after its fence is completed by the next client.
     */
    public static final ConfigKey<Duration> SWITCH_DRAIN_TIMEOUT = Ranges.durations(
            ConfigKey.builder("dwcp.consensus.switch.drain-timeout", ValueType.DURATION).defaultValue(Duration.ofSeconds(30)), "1s", "10m")
            .description("Longest time one layout switch (fence, hand-over of the state, seed) may take before it is"
                    + " reported failed; a switch stopped after its fence is completed by the next client.").build();

    /**
     * Key {@code dwcp.consensus.low-latency}: A layout whose voters are all within this RTT of each other (and span at
     * most max-regions-single-group regions) is chosen as one Raft group with majority quorums.
     */
    public static final ConfigKey<Duration> LOW_LATENCY = Ranges.durations(
            ConfigKey.builder("dwcp.consensus.low-latency", ValueType.DURATION).defaultValue(Duration.ofMillis(50)), "0ms", "10s")
            .description("A layout whose voters are all within this RTT of each other (and span at most"
                    + " max-regions-single-group regions) is chosen as one Raft group with majority quorums.").build();

    /** Key {@code dwcp.consensus.max-regions-single-group}: Most regions one Raft group of a chosen layout may span. */
    public static final ConfigKey<Integer> MAX_REGIONS_SINGLE_GROUP = Ranges.ints(
            ConfigKey.builder("dwcp.consensus.max-regions-single-group", ValueType.INT).defaultValue(3), 1, 100)
            .description("Most regions one Raft group of a chosen layout may span.").build();

    static final List<ConfigKey<?>> KEYS = List.of(ENABLED, PEERS, GROUP, STORAGE_DIR, LISTEN, ELECTION_MIN, ELECTION_RTT_MULTIPLE, ELECTION_MAX,
            PROPOSAL_TIMEOUT, MAX_COMMAND, FSYNC, READ, SNAPSHOT_ENTRIES, DEDUP_WINDOW, DEDUP_MAX_CLIENTS, HOME_AUTO_MOVE,
            EVALUATE_INTERVAL, LOCALITY_THRESHOLD, SWITCH_MIN_INTERVAL, SWITCH_STABLE_EVALUATIONS, SWITCH_BENEFIT_MARGIN,
            SWITCH_AUTO, SWITCH_DRAIN_TIMEOUT, LOW_LATENCY, MAX_REGIONS_SINGLE_GROUP);

    private static boolean validPeers(String text) {
        Set<String> ids = new HashSet<>();
        for (String part : text.split(",", -1)) {
            var m = PEER.matcher(part.trim());
            if (!m.matches() || !ids.add(m.group(1))) {
                return false;
            }
            int port = Integer.parseInt(m.group(3));
            if (port < 1 || port > 65_535) {
                return false;
            }
        }
        return true;
    }
}
