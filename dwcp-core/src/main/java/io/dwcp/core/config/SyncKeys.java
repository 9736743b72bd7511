package io.dwcp.core.config;

import io.dwcp.core.DataSize;
import io.dwcp.core.Tier;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** Keys of the metadata-replication provider, ASS ({@code dwcp-sync}). */
public final class SyncKeys {
    private SyncKeys() {
    }

    /** {@code dwcp.sync.enabled}: create the sync component when a provider is present; default false. */
    public static final ConfigKey<Boolean> ENABLED = ConfigKey.builder("dwcp.sync.enabled", ValueType.BOOLEAN)
            .defaultValue(false).description("Create the sync component when a sync provider is on the class path. Off by"
                    + " default, so that a node that only migrates runs no gossip timers; turning it on needs a stable"
                    + " dwcp.node-id.").build();

    /** {@code dwcp.sync.gossip.fanout}: peers a delta or rumour is pushed to, 1 to 16, default 3. */
    public static final ConfigKey<Integer> GOSSIP_FANOUT = Ranges.ints(
            ConfigKey.builder("dwcp.sync.gossip.fanout", ValueType.INT).defaultValue(3), 1, 16)
            .description("Peers each local update's delta is pushed to at once, and each rumour round forwards to.").build();

    /** {@code dwcp.sync.gossip.max-hops}: hops after which a rumour is dropped, 1 to 64, default 10. */
    public static final ConfigKey<Integer> GOSSIP_MAX_HOPS = Ranges.ints(
            ConfigKey.builder("dwcp.sync.gossip.max-hops", ValueType.INT).defaultValue(10), 1, 64)
            .description("Hops after which a rumour is no longer forwarded.").build();

    /** {@code dwcp.sync.gossip.interval}: rumour round period, 100ms to 1m, defaults 1s/5s/5s on the local/regional/wan tiers; ≤ max-staleness. */
    public static final ConfigKey<Duration> GOSSIP_INTERVAL = Ranges.durations(
            ConfigKey.builder("dwcp.sync.gossip.interval", ValueType.DURATION)
                    .tierDefaults(Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofSeconds(5)), "100ms", "1m")
            .description("Rumour round period: recent deltas are forwarded to fanout peers; ≤ max-staleness.").build();

    /** {@code dwcp.sync.gossip.seen-ttl}: how long message ids are remembered, 1s to 1d, default 2m; ≥ max-hops × gossip.interval. */
    public static final ConfigKey<Duration> GOSSIP_SEEN_TTL = Ranges.durations(
            ConfigKey.builder("dwcp.sync.gossip.seen-ttl", ValueType.DURATION).defaultValue(Duration.ofMinutes(2)), "1s", "1d")
            .description("How long a received message id is remembered for de-duplication; ≥ max-hops × gossip.interval.").build();

    /** {@code dwcp.sync.anti-entropy.interval}: period of a digest exchange with one peer, 1s to 1h, default 30s. */
    public static final ConfigKey<Duration> ANTI_ENTROPY_INTERVAL = Ranges.durations(
            ConfigKey.builder("dwcp.sync.anti-entropy.interval", ValueType.DURATION).defaultValue(Duration.ofSeconds(30)), "1s", "1h")
            .description("Period of a Merkle-digest exchange with one peer (least recently synced first).").build();

    /** {@code dwcp.sync.full-reconciliation.interval}: period of a digest exchange with every peer, 1s to 1d, default 300s; ≥ anti-entropy.interval. */
    public static final ConfigKey<Duration> FULL_RECONCILIATION_INTERVAL = Ranges.durations(
            ConfigKey.builder("dwcp.sync.full-reconciliation.interval", ValueType.DURATION).defaultValue(Duration.ofSeconds(300)), "1s", "1d")
            .description("Period of a digest exchange with every peer; ≥ anti-entropy.interval.").build();

    /** {@code dwcp.sync.max-staleness}: longest time a peer goes unsynced, 100ms to 1h, defaults 1s/5s/30s on the local/regional/wan tiers. */
    public static final ConfigKey<Duration> MAX_STALENESS = Ranges.durations(
            ConfigKey.builder("dwcp.sync.max-staleness", ValueType.DURATION)
                    .tierDefaults(Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofSeconds(30)), "100ms", "1h")
            .description("A peer not synced for this long gets an anti-entropy round at once; bound of bounded reads.").build();

    /** {@code dwcp.sync.max-clock-skew}: remote timestamps further ahead raise an alarm, 1ms to 1h, default 1s. */
    public static final ConfigKey<Duration> MAX_CLOCK_SKEW = Ranges.durations(
            ConfigKey.builder("dwcp.sync.max-clock-skew", ValueType.DURATION).defaultValue(Duration.ofSeconds(1)), "1ms", "1h")
            .description("A remote hybrid-clock timestamp further ahead of local time is accepted and counted as an alarm.").build();

    /** {@code dwcp.sync.causal-buffer.max-entries}: deltas held for missing predecessors, 1 to 10 000 000, default 10 000. */
    public static final ConfigKey<Integer> CAUSAL_BUFFER_MAX_ENTRIES = Ranges.ints(
            ConfigKey.builder("dwcp.sync.causal-buffer.max-entries", ValueType.INT).defaultValue(10_000), 1, 10_000_000)
            .description("Deltas held while their causal predecessors are missing; on overflow the key waits for anti-entropy.").build();

    /** {@code dwcp.sync.max-message}: largest sync message, 4 KiB to 256 MiB, default 4 MiB. */
    public static final ConfigKey<DataSize> MAX_MESSAGE = Ranges.sizes(
            ConfigKey.builder("dwcp.sync.max-message", ValueType.SIZE).defaultValue(DataSize.ofMebibytes(4)), "4KiB", "256MiB", 1)
            .description("Largest sync message sent or accepted; larger batches are split, larger single states refused.").build();

    /** {@code dwcp.sync.request-timeout}: how long a request waits for its response, 100ms to 5m, default 5s. */
    public static final ConfigKey<Duration> REQUEST_TIMEOUT = Ranges.durations(
            ConfigKey.builder("dwcp.sync.request-timeout", ValueType.DURATION).defaultValue(Duration.ofSeconds(5)), "100ms", "5m")
            .description("Time a sync request waits for its response.").build();

    /** {@code dwcp.sync.push-mode}: delta (default), entry-state or full-state (the latter two are benchmark baselines). */
    public static final ConfigKey<String> PUSH_MODE = ConfigKey.builder("dwcp.sync.push-mode", ValueType.STRING)
            .defaultValue("delta")
            .rule("delta, entry-state or full-state", v -> List.of("delta", "entry-state", "full-state").contains(v))
            .description("What replication ships: each update's delta (default); or, as baselines for comparison benchmarks, "
                    + "each updated key's whole entry (entry-state) or the whole store every gossip interval (full-state).").build();

    /**
     * {@code dwcp.sync.data-dir}: directory where the replica keeps its store across restarts (a snapshot and a journal
     * of local updates); default none (in memory only: a restarted replica starts empty and loses the updates no peer
     * had received).
     */
    public static final ConfigKey<java.util.Optional<String>> DATA_DIR = ConfigKey.builder("dwcp.sync.data-dir",
                    ValueType.optional(ValueType.STRING, "none"))
            .defaultValue(java.util.Optional.empty())
            .description("Directory where this replica keeps its store across restarts: every local update is journaled"
                    + " before it returns, and the whole store is snapshotted at stop and when the journal grows; a"
                    + " restarted replica reloads both. None: in memory only.").build();

    /** {@code dwcp.sync.gc-interval}: period of the garbage collection of causally stable tombstones, 1s to 1d, default 10m. */
    public static final ConfigKey<Duration> GC_INTERVAL = Ranges.durations(
            ConfigKey.builder("dwcp.sync.gc-interval", ValueType.DURATION).defaultValue(Duration.ofMinutes(10)), "1s", "1d")
            .description("Period of garbage collection: removed keys whose removal every live member holds (causally"
                    + " stable) drop their values, keeping only their causal context; members silent past"
                    + " replica-retirement are retired then.").build();

    /** {@code dwcp.sync.replica-retirement}: silence after which a member is retired, 1m to 30d, default 24h. */
    public static final ConfigKey<Duration> REPLICA_RETIREMENT = Ranges.durations(
            ConfigKey.builder("dwcp.sync.replica-retirement", ValueType.DURATION).defaultValue(Duration.ofHours(24)), "1m", "30d")
            .description("A member this replica has not heard from for this long is retired from membership (so it no"
                    + " longer holds back garbage collection, and its later messages are refused), provided this"
                    + " replica heard from a majority of the members within that time. Retirement is final.").build();

    static final List<ConfigKey<?>> KEYS = List.of(ENABLED, GOSSIP_FANOUT, GOSSIP_MAX_HOPS, GOSSIP_INTERVAL,
            GOSSIP_SEEN_TTL, ANTI_ENTROPY_INTERVAL, FULL_RECONCILIATION_INTERVAL, MAX_STALENESS, MAX_CLOCK_SKEW,
            CAUSAL_BUFFER_MAX_ENTRIES, MAX_MESSAGE, REQUEST_TIMEOUT, PUSH_MODE, DATA_DIR, GC_INTERVAL, REPLICA_RETIREMENT);

    /** Violations of the sync rules that span keys, for one tier's effective values. */
    static List<String> crossKeyViolations(Function<ConfigKey<?>, Object> value, Tier tier) {
        List<String> out = new ArrayList<>();
        Duration gossip = (Duration) value.apply(GOSSIP_INTERVAL);
        Duration staleness = (Duration) value.apply(MAX_STALENESS);
        if (gossip.compareTo(staleness) > 0) {
            out.add("dwcp.sync.gossip.interval (" + ValueType.formatDuration(gossip) + ") must be ≤ max-staleness ("
                    + ValueType.formatDuration(staleness) + ") on the " + tier.word() + " tier");
        }
        int hops = (Integer) value.apply(GOSSIP_MAX_HOPS);
        Duration ttl = (Duration) value.apply(GOSSIP_SEEN_TTL);
        if (ttl.compareTo(gossip.multipliedBy(hops)) < 0) {
            out.add("dwcp.sync.gossip.seen-ttl (" + ValueType.formatDuration(ttl) + ") must be ≥ max-hops × gossip.interval ("
                    + hops + " × " + ValueType.formatDuration(gossip) + ") on the " + tier.word() + " tier");
        }
        Duration ae = (Duration) value.apply(ANTI_ENTROPY_INTERVAL);
        Duration full = (Duration) value.apply(FULL_RECONCILIATION_INTERVAL);
        if (full.compareTo(ae) < 0) {
            out.add("dwcp.sync.full-reconciliation.interval (" + ValueType.formatDuration(full)
                    + ") must be ≥ anti-entropy.interval (" + ValueType.formatDuration(ae) + ")");
        }
        return out;
    }
}
