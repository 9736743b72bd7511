package io.dwcp.partition;

import io.dwcp.core.placement.PlacementModel;
import io.dwcp.core.placement.SiteLink;
import io.dwcp.core.spi.Forecast;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;

/*
 * The time part of a move's cost: how long a VM's state takes to cross from one site to another, and the saving that
 * waits for it.
 *
 * Bandwidth of a site pair: the bandwidth predictor's forecast (its mean) for the link's peer when that is advice,
 * else the link's nominal bandwidth; a pair without a link of its own uses the opposite direction's. A model without
 * links has no bandwidth: every time is 0 and the move cost is state bytes × move-cost-factor alone.
 *
 * Time of a move of v from site a to b: t = 8 × state bytes ÷ bandwidth(a, b) seconds. Its cost, in the unit of the
 * saving (cost-weighted cross-site bytes): the saving of the move only starts when the state has arrived, so it loses
 * t × g, where g is the cost-weighted traffic the move saves (v's edges with v at a minus with v at b, its neighbours
 * where the plan puts them; never below 0). So a move repays itself within the horizon H when
 *   (H − t) × g > move-cost-factor × state bytes.
 * Each move counts its own transfer time (moves run one after another, so a late move's saving waits for the earlier
 * ones too; that wait is not charged: it depends on the order, which is chosen after the plan).
 * Immutable after construction.
 */
final class MoveTime {
    /** Bits per second from site a to site b; null when the model has no links. */
    private final double[][] bitsPerSecond;
    /** Per site, the mean bandwidth of its links to the other sites (the anchors' estimate); null without links. */
    private final double[] meanOut;

    private MoveTime(double[][] bitsPerSecond) {
        this.bitsPerSecond = bitsPerSecond;
        if (bitsPerSecond == null) {
            meanOut = null;
            return;
        }
        int k = bitsPerSecond.length;
        meanOut = new double[k];
        for (int a = 0; a < k; a++) {
            double sum = 0;
            for (int b = 0; b < k; b++) {
                sum += a == b ? 0 : bitsPerSecond[a][b];
            }
            meanOut[a] = k > 1 ? sum / (k - 1) : 0;
        }
    }

    /** No transfer times: the move cost is state bytes × factor alone. */
    static final MoveTime NONE = new MoveTime(null);

    /**
     * The transfer times of {@code e}'s model: from its links, each link's bandwidth replaced by {@code forecasts}' known
     * forecast for the link's peer; {@link #NONE} when the model has no links.
     */
    static MoveTime of(PlacementEngine e, Function<String, Forecast> forecasts) {
        PlacementModel model = e.model;
        if (model.links().isEmpty() || e.k < 2) {
            return NONE;
        }
        Map<String, SiteLink> byPair = new HashMap<>();
        for (SiteLink l : model.links()) {
            byPair.put(l.from() + "\n" + l.to(), l);
        }
        double[][] bw = new double[e.k][e.k];
        for (int a = 0; a < e.k; a++) {
            for (int b = 0; b < e.k; b++) {
                if (a == b) {
                    continue;
                }
                SiteLink l = byPair.get(e.sites[a].id() + "\n" + e.sites[b].id());
                if (l == null) {
                    l = byPair.get(e.sites[b].id() + "\n" + e.sites[a].id());
                }
                if (l == null) {
                    // A model with links but not for this pair has an explicit cost matrix (links are otherwise
                    // required for every pair): no bandwidth known, no transfer time charged.
                    return NONE;
                }
                Forecast f = l.peer().isEmpty() ? null : forecasts.apply(l.peer());
                bw[a][b] = f != null && f.isKnown() && f.meanBitsPerSecond() > 0 ? f.meanBitsPerSecond()
                        : l.bandwidthBitsPerSecond();
            }
        }
        return new MoveTime(bw);
    }

    /** Whether any transfer time is charged. */
    boolean known() {
        return bitsPerSecond != null;
    }

    /** Seconds to move {@code stateBytes} from site {@code from} to site {@code to}; 0 on one site or without links. */
    double seconds(long stateBytes, int from, int to) {
        if (bitsPerSecond == null || from == to || from < 0 || to < 0) {
            return 0;
        }
        return 8.0 * stateBytes / bitsPerSecond[from][to];
    }

    /**
     * Anchor weights of the rebalancing partition: per VM, scale × factor × state bytes × c ÷ (H − t), with c the mean
     * cost of a byte on the links out of its current site (an anchor edge cannot tell destinations apart; the exact
     * cost of each move is charged by the steps after the partition), t its state's transfer time at the mean
     * bandwidth out of its current site and H − t at least H ÷ 10 (a move whose saving waits most of the horizon is
     * tied harder to its site). Without links or cost matrix this is scale × factor × state bytes ÷ H.
     */
    double[] anchors(PlacementEngine e, int[] current, double scale, double factor, double horizonSeconds) {
        double[] w = new double[e.n];
        for (int v = 0; v < e.n; v++) {
            if (current[v] < 0) {
                continue;
            }
            long bytes = e.vms[v].stateBytes();
            double t = meanOut == null || meanOut[current[v]] <= 0 ? 0 : 8.0 * bytes / meanOut[current[v]];
            w[v] = scale * factor * bytes * e.meanMoveByteCost(current[v])
                    / Math.max(horizonSeconds - t, horizonSeconds / 10);
        }
        return w;
    }

    /**
     * The saving that waits for the moves of {@code plan} (away from {@code current}): the sum over moved VMs of
     * transfer time × the cost-weighted traffic the VM's move saves, in the unit of the saving. 0 without links.
     */
    double waitingCost(PlacementEngine e, int[] current, int[] plan) {
        if (bitsPerSecond == null) {
            return 0;
        }
        double sum = 0;
        for (int v = 0; v < e.n; v++) {
            sum += waiting(e, current, plan, v);
        }
        return sum;
    }

    /** One VM's share of {@link #waitingCost}: 0 unless it is away from its current site. */
    double waiting(PlacementEngine e, int[] current, int[] plan, int v) {
        if (bitsPerSecond == null || plan[v] == current[v]) {
            return 0;
        }
        double here = 0;
        double there = 0;
        int a = current[v];
        int b = plan[v];
        for (int x = e.xadj[v]; x < e.xadj[v + 1]; x++) {
            int su = plan[e.adj[x]];
            here += e.out[x] * e.cost[a][su] + e.in[x] * e.cost[su][a];
            there += e.out[x] * e.cost[b][su] + e.in[x] * e.cost[su][b];
        }
        return seconds(e.vms[v].stateBytes(), a, b) * Math.max(0, here - there);
    }
}
