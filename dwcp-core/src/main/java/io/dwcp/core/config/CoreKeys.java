package io.dwcp.core.config;

import io.dwcp.core.DataSize;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/** Keys of {@code dwcp-core}. */
public final class CoreKeys {
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    private CoreKeys() {
    }

    /** Key {@code dwcp.node-id}: Stable replica identity; random (and logged) when not set. */
    public static final ConfigKey<Optional<String>> NODE_ID = ConfigKey.builder("dwcp.node-id", ValueType.optional(ValueType.STRING, "random"))
            .defaultValue(Optional.empty())
            .rule("random, or 1–64 chars [A-Za-z0-9._-]", v -> v.isEmpty() || ID.matcher(v.get()).matches())
            .description("Stable replica identity; random (and logged) when not set.").build();


    /** Key {@code dwcp.tier.pin}: Force the tier of every peer instead of classifying it from RTT and loss. */
    public static final ConfigKey<String> TIER_PIN = ConfigKey.builder("dwcp.tier.pin", ValueType.STRING)
            .defaultValue("auto")
            .rule("auto, local, regional or wan", v -> List.of("auto", "local", "regional", "wan").contains(v))
            .dynamic()
            .description("Force the tier of every peer instead of classifying it from RTT and loss.").build();

    /** Key {@code dwcp.tier.local-max-rtt}: RTT below which a path is LOCAL. */
    public static final ConfigKey<Duration> TIER_LOCAL_MAX_RTT = Ranges.durations(
            ConfigKey.builder("dwcp.tier.local-max-rtt", ValueType.DURATION).defaultValue(Duration.ofMillis(10)), "1ms", "100ms")
            .description("RTT below which a path is LOCAL.").build();

    /** Key {@code dwcp.tier.regional-max-rtt}: RTT below which a path is REGIONAL; must exceed tier.local-max-rtt. */
    public static final ConfigKey<Duration> TIER_REGIONAL_MAX_RTT = Ranges.durations(
            ConfigKey.builder("dwcp.tier.regional-max-rtt", ValueType.DURATION).defaultValue(Duration.ofMillis(50)), "1ms", "1s")
            .description("RTT below which a path is REGIONAL; must exceed tier.local-max-rtt.").build();



    /** Key {@code dwcp.cpu.max-threads}: Worker threads for all modules. */
    public static final ConfigKey<Integer> CPU_MAX_THREADS = Ranges.ints(
            ConfigKey.builder("dwcp.cpu.max-threads", ValueType.INT)
                    .defaultValue(Math.max(1, Runtime.getRuntime().availableProcessors() / 2)), 1, 1024)
            .defaultText("cores ÷ 2, at least 1")
            .description("Worker threads for all modules.").build();

    /** Key {@code dwcp.migration.downtime-budget}: Pre-copy stops when the estimated final round fits this budget. */
    public static final ConfigKey<Duration> MIGRATION_DOWNTIME_BUDGET = Ranges.durations(
            ConfigKey.builder("dwcp.migration.downtime-budget", ValueType.DURATION).defaultValue(Duration.ofMillis(300)), "10ms", "60s")
            .description("Pre-copy stops when the estimated final round fits this budget.").build();

    /** Key {@code dwcp.migration.max-rounds}: Pre-copy round limit. */
    public static final ConfigKey<Integer> MIGRATION_MAX_ROUNDS = Ranges.ints(
            ConfigKey.builder("dwcp.migration.max-rounds", ValueType.INT).defaultValue(30), 1, 1000)
            .description("Pre-copy round limit.").build();

    /**
     * Key {@code dwcp.migration.receive-buffer}: Memory a receiver may hold for codec frames that arrive split across
     * transport buffers, over all rounds at once; a round that would need more fails with LIMIT_EXCEEDED, so a hostile
     * or broken sender cannot fill the heap. Also the largest frame a sender may announce.
     */
    public static final ConfigKey<DataSize> MIGRATION_RECEIVE_BUFFER = Ranges.sizes(
            ConfigKey.builder("dwcp.migration.receive-buffer", ValueType.SIZE).defaultValue(DataSize.ofMebibytes(256)), "1MiB", "16GiB", 1)
            .description("Memory a receiver may hold for codec frames that arrive split across transport buffers, over"
                    + " all rounds at once; a round that would need more fails with LIMIT_EXCEEDED, so a hostile or broken"
                    + " sender cannot fill the heap. Also the largest frame a sender may announce.").build();

    /**
     * Key {@code dwcp.migration.receive-buffer-per-peer}: The part of {@code dwcp.migration.receive-buffer} the rounds
     * of one peer (one sender address) may hold at once; a round past it fails with LIMIT_EXCEEDED, so one peer cannot
     * take the frame buffer of the others. Capped at {@code receive-buffer}; also the largest frame a sender may
     * announce.
     */
    public static final ConfigKey<DataSize> MIGRATION_RECEIVE_BUFFER_PER_PEER = Ranges.sizes(
            ConfigKey.builder("dwcp.migration.receive-buffer-per-peer", ValueType.SIZE).defaultValue(DataSize.ofMebibytes(128)),
                    "1MiB", "16GiB", 1)
            .description("The part of dwcp.migration.receive-buffer the rounds of one peer (one sender address) may hold"
                    + " at once; a round past it fails with LIMIT_EXCEEDED, so one peer cannot take the frame buffer of"
                    + " the others. Capped at receive-buffer; also the largest frame a sender may announce.").build();



    /**
     * Key {@code dwcp.recovery.max-attempts}: Restarts of a component that failed at run time before it stays FAILED.
     */
    public static final ConfigKey<Integer> RECOVERY_MAX_ATTEMPTS = Ranges.ints(
            ConfigKey.builder("dwcp.recovery.max-attempts", ValueType.INT).defaultValue(3), 0, 10)
            .description("Restarts of a component that failed at run time before it stays FAILED.").build();

    /** Key {@code dwcp.recovery.initial-backoff}: Delay before the first restart; doubles on each further attempt. */
    public static final ConfigKey<Duration> RECOVERY_INITIAL_BACKOFF = Ranges.durations(
            ConfigKey.builder("dwcp.recovery.initial-backoff", ValueType.DURATION).defaultValue(Duration.ofSeconds(1)), "100ms", "1m")
            .description("Delay before the first restart; doubles on each further attempt.").build();

    /** Key {@code dwcp.shutdown.timeout}: Graceful stop limit per component. */
    public static final ConfigKey<Duration> SHUTDOWN_TIMEOUT = Ranges.durations(
            ConfigKey.builder("dwcp.shutdown.timeout", ValueType.DURATION).defaultValue(Duration.ofSeconds(30)), "1s", "10m")
            .description("Graceful stop limit per component.").build();

    static final List<ConfigKey<?>> KEYS = List.of(NODE_ID, TIER_PIN, TIER_LOCAL_MAX_RTT, TIER_REGIONAL_MAX_RTT,
            CPU_MAX_THREADS, MIGRATION_DOWNTIME_BUDGET, MIGRATION_MAX_ROUNDS,
            MIGRATION_RECEIVE_BUFFER, MIGRATION_RECEIVE_BUFFER_PER_PEER, RECOVERY_MAX_ATTEMPTS, RECOVERY_INITIAL_BACKOFF, SHUTDOWN_TIMEOUT);
}
