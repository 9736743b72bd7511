package io.dwcp.consensus;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/*
 * Which layout a switching scope should use, and whether switching to it now is worth it (the choice rule with
 * hysteresis). Pure: every input is passed in, so the rule is tested without a network.
 *
 * A layout is one Raft group; its voters sit in regions (a regional group: all in one; a cross-site group: several).
 * Inputs of one evaluation: the RTT from this node to each region (least over that region's voters, probed), and the
 * scope's committed writes per origin region in the window just ended (counted by the state machine).
 *
 * The choice, in order:
 *   1. a layout spanning several regions whose voters are all within low-latency of here, over at most
 *      max-regions-single-group regions: one Raft group, majority quorums ("raft");
 *   2. else, when one region issued at least locality-threshold of the writes: that region's own group
 *      ("home-region");
 *   3. (a leaderless path is not built: the rule's third branch never applies);
 *   4. else the layout with the least estimated commit latency for the writes' origins ("leader-based").
 * A switch to the chosen layout is made only when the same choice held for switch.stable-evaluations evaluations in a
 * row, switch.min-interval passed since the last switch (also enforced by the fence in the log), and
 *   benefit = (latency(current) - latency(choice)) x writes expected before the next allowed switch
 * beats switch.benefit-margin x cost, cost = the switch's time T x the writes caught by it (rate x T, at least one:
 * each waits about T), T estimated as two commits in each layout (fence and state read in the old one, seed and the
 * first retry in the new one).
 *
 * Latency of a layout for writes from region r: RTT(r, leader region) + the leader's quorum RTT (the RTT to the
 * majority-th nearest voter), the leader region being the one holding most of the layout's voters. RTT between two
 * regions neither of which is this node's is unknown here and taken as the larger of their RTTs from here (exact for
 * two regions).
 *
 * Not thread-safe: the evaluator runs it on one thread.
 */
final class LayoutChoice {
    /** The rule's settings, from the dwcp.consensus keys of the same names. */
    record Settings(Duration lowLatency, int maxRegionsSingleGroup, double localityThreshold, int stableEvaluations,
                    Duration minInterval, double benefitMargin, Duration evaluateInterval) {
        Settings {
            Objects.requireNonNull(lowLatency, "lowLatency");
            if (maxRegionsSingleGroup < 1 || localityThreshold < 0 || localityThreshold > 1 || stableEvaluations < 1
                    || minInterval.isNegative() || benefitMargin <= 1 || evaluateInterval.isNegative() || evaluateInterval.isZero()) {
                throw new IllegalArgumentException("bad layout-choice settings: " + this);
            }
        }
    }

    /**
     * One layout: a group and the region of each of its voters.
     *
     * @param name the layout (group) name
     * @param voterRegions region of each voter
     */
    record Layout(String name, List<String> voterRegions) {
        Layout {
            voterRegions = List.copyOf(voterRegions);
            if (voterRegions.isEmpty()) {
                throw new IllegalArgumentException("layout '" + name + "' has no voters");
            }
        }

        long regions() {
            return voterRegions.stream().distinct().count();
        }

        /** The region holding most voters (first in voter order on a tie). */
        String leaderRegion() {
            Map<String, Integer> n = new LinkedHashMap<>();
            voterRegions.forEach(r -> n.merge(r, 1, Integer::sum));
            return Collections.max(n.entrySet(), Map.Entry.comparingByValue()).getKey();
        }
    }

    /** What one evaluation decided. */
    record Decision(String chosen, String rule, Optional<String> switchTo, String skipped, double locality) {
    }

    private final Settings settings;
    private final Map<String, Layout> layouts = new LinkedHashMap<>();
    private final String localRegion;
    private String lastChoice;
    private int streak;

    LayoutChoice(Settings settings, List<Layout> layouts, String localRegion) {
        this.settings = settings;
        layouts.forEach(l -> this.layouts.put(l.name(), l));
        this.localRegion = localRegion;
    }

    /**
     * One evaluation.
     *
     * @param current the layout in force
     * @param writesPerRegion committed writes per origin region in the window just ended
     * @param rttToRegion RTT from this node to each region's nearest voter (regions not measured are absent)
     * @param nowMillis this node's wall clock
     * @param lastSwitchMillis the clock of the proposer of the last switch (0: none)
     */
    Decision evaluate(String current, Map<String, Long> writesPerRegion, Map<String, Duration> rttToRegion, long nowMillis,
                      long lastSwitchMillis) {
        long total = writesPerRegion.values().stream().mapToLong(Long::longValue).sum();
        String busiest = total == 0 ? localRegion
                : Collections.max(writesPerRegion.entrySet(), Map.Entry.comparingByValue()).getKey();
        double locality = total == 0 ? 0 : (double) writesPerRegion.get(busiest) / total;
        Map<String, Long> weights = total == 0 ? Map.of(localRegion, 1L) : writesPerRegion;
        String chosen = null;
        String rule = null;
        for (Layout l : layouts.values()) {
            if (l.regions() > 1 && l.regions() <= settings.maxRegionsSingleGroup() && allNear(l, rttToRegion)
                    && (chosen == null || latency(l, weights, rttToRegion) < latency(layouts.get(chosen), weights, rttToRegion))) {
                chosen = l.name();
                rule = "raft";
            }
        }
        if (chosen == null && total > 0 && locality >= settings.localityThreshold()) {
            for (Layout l : layouts.values()) {
                if (l.regions() == 1 && l.voterRegions().get(0).equals(busiest)) {
                    chosen = l.name();
                    rule = "home-region";
                    break;
                }
            }
        }
        if (chosen == null) {
            for (Layout l : layouts.values()) {
                if (chosen == null || latency(l, weights, rttToRegion) < latency(layouts.get(chosen), weights, rttToRegion)) {
                    chosen = l.name();
                }
            }
            rule = "leader-based";
        }
        streak = chosen.equals(lastChoice) ? streak + 1 : 1;
        lastChoice = chosen;
        if (chosen.equals(current) || !layouts.containsKey(current)) {
            return new Decision(chosen, rule, Optional.empty(), chosen.equals(current) ? "" : "current layout unknown", locality);
        }
        if (streak < settings.stableEvaluations()) {
            return new Decision(chosen, rule, Optional.empty(), "unstable", locality);
        }
        if (lastSwitchMillis != 0 && nowMillis - lastSwitchMillis < settings.minInterval().toMillis()) {
            return new Decision(chosen, rule, Optional.empty(), "min-interval", locality);
        }
        double now = latency(layouts.get(current), weights, rttToRegion);
        double then = latency(layouts.get(chosen), weights, rttToRegion);
        double window = settings.evaluateInterval().toNanos();
        double rate = total / window; // writes per nanosecond
        double expected = rate * Math.max(settings.minInterval().toNanos(), window);
        double benefit = (now - then) * expected;
        double switchTime = 2 * (now + then);
        double cost = switchTime * Math.max(1, rate * switchTime);
        if (!(benefit > settings.benefitMargin() * cost)) {
            return new Decision(chosen, rule, Optional.empty(), "benefit", locality);
        }
        streak = 0;
        return new Decision(chosen, rule, Optional.of(chosen), "", locality);
    }

    private boolean allNear(Layout l, Map<String, Duration> rtt) {
        for (String r : l.voterRegions()) {
            Duration d = rtt.get(r);
            if (d == null || d.compareTo(settings.lowLatency()) >= 0) {
                return false;
            }
        }
        return true;
    }

    /** Estimated commit latency (nanoseconds) of a layout for writes weighted by origin region. */
    double latency(Layout l, Map<String, Long> weights, Map<String, Duration> rtt) {
        String leader = l.leaderRegion();
        List<Double> toVoters = new ArrayList<>();
        for (String v : l.voterRegions()) {
            toVoters.add(between(leader, v, rtt));
        }
        Collections.sort(toVoters);
        // The leader's own vote is free; the quorum waits for the (majority - 1)-th nearest other voter.
        int majority = l.voterRegions().size() / 2 + 1;
        toVoters.remove(Double.valueOf(between(leader, leader, rtt))); // one of the voters is the leader itself
        double quorum = majority - 1 == 0 ? 0 : toVoters.get(Math.min(toVoters.size() - 1, majority - 2));
        double sum = 0;
        long n = 0;
        for (Map.Entry<String, Long> w : weights.entrySet()) {
            sum += w.getValue() * (between(w.getKey(), leader, rtt) + quorum);
            n += w.getValue();
        }
        return n == 0 ? quorum : sum / n;
    }

    /** RTT between two regions as known from here (nanoseconds); unknown pairs: see the class comment. */
    private double between(String x, String y, Map<String, Duration> rtt) {
        Map<String, Double> r = new HashMap<>();
        rtt.forEach((k, v) -> r.put(k, (double) v.toNanos()));
        double unknown = r.values().stream().mapToDouble(Double::doubleValue).max().orElse(0);
        if (x.equals(y)) {
            return x.equals(localRegion) ? r.getOrDefault(x, 0.0) : r.getOrDefault(localRegion, 0.0);
        }
        if (x.equals(localRegion)) {
            return r.getOrDefault(y, unknown);
        }
        if (y.equals(localRegion)) {
            return r.getOrDefault(x, unknown);
        }
        return Math.max(r.getOrDefault(x, unknown), r.getOrDefault(y, unknown));
    }
}
