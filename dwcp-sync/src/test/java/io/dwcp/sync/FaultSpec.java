package io.dwcp.sync;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * The faults of one {@link SyncScenario} run, parsed from the {@code --faults SPEC} of {@code dwcp sync-bench}.
 *
 * <pre>
 * SPEC  := "none" | "default" | ITEM ("," ITEM)*
 * ITEM  := "partition=" NODES ("/" NODES)*   each group cut off from every other node (both directions)
 *        | "kill=" NODES                     kill -9 during the partition, right after the node's writes; restart
 *                                            with its data directory
 *        | "delay=" N "ms"                   each proxied read held back 0..N ms
 *        | "reset=" P                        probability that a proxied read resets its connection
 *        | "drop=" P                         probability that a message is lost after the sender handed it over
 *        | "dup=" P                          probability that a message is sent twice
 *        | "reorder=" P                      probability that a message is held back 1–50 ms (later ones overtake it)
 * NODES := N ("+" N)*                        replica indexes, 0-based
 * </pre>
 *
 * {@code default} is {@code partition=<last>,kill=0,delay=5ms,reset=0.01,drop=0.01,dup=0.05,reorder=0.10}; items not
 * given are off. Every fault ends at the heal. Immutable.
 *
 * @param partition groups cut off from the rest during the partition phase (empty: no partition)
 * @param kill replicas killed and restarted during the partition phase
 * @param delayMillis largest delay per proxied read
 * @param resetProbability connection reset per proxied read
 * @param dropProbability message lost
 * @param duplicateProbability message sent twice
 * @param reorderProbability message held back
 */
public record FaultSpec(List<Set<Integer>> partition, Set<Integer> kill, int delayMillis, double resetProbability,
                        double dropProbability, double duplicateProbability, double reorderProbability) {

    /** No faults. */
    public static final FaultSpec NONE = new FaultSpec(List.of(), Set.of(), 0, 0, 0, 0, 0);

    public FaultSpec {
        partition = List.copyOf(partition);
        kill = Set.copyOf(kill);
    }

    /** Whether any message-boundary fault is on. */
    boolean messageFaults() {
        return dropProbability + duplicateProbability + reorderProbability > 0;
    }

    /**
     * Parses {@code spec} for a cluster of {@code nodes} replicas.
     *
     * @throws IllegalArgumentException naming the offending item and what is allowed
     */
    public static FaultSpec parse(String spec, int nodes) {
        String s = spec.trim().toLowerCase(Locale.ROOT);
        if (s.equals("none") || s.equals("off")) {
            return NONE;
        }
        if (s.equals("default") || s.equals("on")) {
            s = "partition=" + (nodes - 1) + (nodes > 2 ? ",kill=0" : "") + ",delay=5ms,reset=0.01,drop=0.01,dup=0.05,reorder=0.10";
        }
        List<Set<Integer>> partition = List.of();
        Set<Integer> kill = Set.of();
        int delay = 0;
        double reset = 0;
        double drop = 0;
        double dup = 0;
        double reorder = 0;
        for (String item : s.split(",")) {
            int eq = item.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException("fault item '" + item + "' has no '=': expected e.g. partition=4, kill=0,"
                        + " delay=5ms, reset=0.01, drop=0.01, dup=0.05, reorder=0.1, or the whole spec 'none' or 'default'");
            }
            String key = item.substring(0, eq).trim();
            String value = item.substring(eq + 1).trim();
            switch (key) {
                case "partition" -> {
                    List<Set<Integer>> groups = new ArrayList<>();
                    Set<Integer> all = new TreeSet<>();
                    for (String g : value.split("/")) {
                        Set<Integer> group = nodes(g, nodes, item);
                        for (int n : group) {
                            if (!all.add(n)) {
                                throw new IllegalArgumentException("fault item '" + item + "': node " + n + " is in two groups");
                            }
                        }
                        groups.add(group);
                    }
                    if (all.size() == nodes && groups.size() == 1) {
                        throw new IllegalArgumentException("fault item '" + item + "': a partition must leave some node outside the group");
                    }
                    partition = groups;
                }
                case "kill" -> kill = nodes(value, nodes, item);
                case "delay" -> {
                    String v = value.endsWith("ms") ? value.substring(0, value.length() - 2) : value;
                    delay = (int) number(v, 0, 10_000, item);
                }
                case "reset" -> reset = number(value, 0, 1, item);
                case "drop" -> drop = number(value, 0, 1, item);
                case "dup" -> dup = number(value, 0, 1, item);
                case "reorder" -> reorder = number(value, 0, 1, item);
                default -> throw new IllegalArgumentException("unknown fault '" + key + "' in '" + item
                        + "': expected partition, kill, delay, reset, drop, dup or reorder");
            }
        }
        if (drop + dup + reorder > 1) {
            throw new IllegalArgumentException("drop + dup + reorder must be <= 1 in '" + spec + "'");
        }
        return new FaultSpec(partition, kill, delay, reset, drop, dup, reorder);
    }

    private static Set<Integer> nodes(String value, int nodes, String item) {
        Set<Integer> out = new TreeSet<>();
        for (String n : value.split("\\+")) {
            int i = (int) number(n, 0, nodes - 1, item);
            out.add(i);
        }
        return out;
    }

    private static double number(String v, double min, double max, String item) {
        double d;
        try {
            d = Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("fault item '" + item + "': '" + v + "' is not a number", e);
        }
        if (!(d >= min && d <= max)) {
            throw new IllegalArgumentException("fault item '" + item + "': " + v + " is outside " + min + "–" + max);
        }
        return d;
    }
}
