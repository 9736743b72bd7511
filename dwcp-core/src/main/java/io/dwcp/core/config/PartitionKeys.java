package io.dwcp.core.config;

import java.time.Duration;
import java.util.List;

/** Keys of the placement provider, ITP in {@code dwcp-partition}. */
public final class PartitionKeys {
    private PartitionKeys() {
    }

    /** {@code dwcp.partition.strategy}: hierarchical (default), graph-cut or greedy. */
    public static final ConfigKey<String> STRATEGY = ConfigKey.builder("dwcp.partition.strategy", ValueType.STRING)
            .defaultValue("hierarchical")
            .rule("hierarchical, graph-cut or greedy", v -> List.of("hierarchical", "graph-cut", "greedy").contains(v))
            .description("hierarchical = strongly connected traffic groups condensed, then multilevel k-way; graph-cut = "
                    + "multilevel k-way on the VMs; greedy = each VM in turn to the site it talks to most (baseline).").build();

    /** {@code dwcp.partition.max-imbalance}: allowed CPU-load imbalance factor, 0 to 1, default 0.05. */
    public static final ConfigKey<Double> MAX_IMBALANCE = Ranges.doubles(
            ConfigKey.builder("dwcp.partition.max-imbalance", ValueType.DOUBLE).defaultValue(0.05), 0, 1)
            .description("Allowed CPU-load imbalance: a site's share of the load may exceed its share of the CPU capacity "
                    + "by this factor (capacities are hard limits in any case).").build();

    /** {@code dwcp.partition.rebalance-threshold}: cross-site traffic share above which a rebalance plans anew, 0 to 1, default 0.15. */
    public static final ConfigKey<Double> REBALANCE_THRESHOLD = Ranges.doubles(
            ConfigKey.builder("dwcp.partition.rebalance-threshold", ValueType.DOUBLE).defaultValue(0.15), 0, 1)
            .description("Observed cross-site traffic share above which a rebalance plans anew.").build();

    /** {@code dwcp.partition.planning-horizon}: window in which a move must repay its bytes, 1m to 7d, default 1h. */
    public static final ConfigKey<Duration> PLANNING_HORIZON = Ranges.durations(
            ConfigKey.builder("dwcp.partition.planning-horizon", ValueType.DURATION).defaultValue(Duration.ofHours(1)), "1m", "7d")
            .description("Window in which the cross-site bytes a move saves must repay the bytes it moves.").build();

    /** {@code dwcp.partition.move-cost-factor}: cost of one moved state byte against one saved cross-site byte, ≥ 0, default 1.0. */
    public static final ConfigKey<Double> MOVE_COST_FACTOR = ConfigKey.builder("dwcp.partition.move-cost-factor", ValueType.DOUBLE)
            .defaultValue(1.0).rule("≥ 0", v -> v >= 0)
            .description("Cost of one moved state byte against one saved cross-site byte on the link it crosses.").build();

    /** {@code dwcp.partition.max-moves}: migrations per rebalance, 1 to 10000, default 16. */
    public static final ConfigKey<Integer> MAX_MOVES = Ranges.ints(
            ConfigKey.builder("dwcp.partition.max-moves", ValueType.INT).defaultValue(16), 1, 10000)
            .description("Migrations per rebalance; the most valuable ones are kept.").build();

    /** {@code dwcp.partition.refinement-passes}: FM refinement passes per level, 1 to 100, default 8. */
    public static final ConfigKey<Integer> REFINEMENT_PASSES = Ranges.ints(
            ConfigKey.builder("dwcp.partition.refinement-passes", ValueType.INT).defaultValue(8), 1, 100)
            .description("FM refinement passes per level of the multilevel partitioner (effort).").build();

    /** {@code dwcp.partition.seed}: random seed of the partitioner, default 1. */
    public static final ConfigKey<Long> SEED = ConfigKey.builder("dwcp.partition.seed", ValueType.LONG).defaultValue(1L)
            .rule("any long", v -> true).description("Random seed; same model and seed give the same plan.").build();

    static final List<ConfigKey<?>> KEYS = List.of(STRATEGY, MAX_IMBALANCE, REBALANCE_THRESHOLD, PLANNING_HORIZON,
            MOVE_COST_FACTOR, MAX_MOVES, REFINEMENT_PASSES, SEED);
}
