package io.dwcp.partition;

import java.util.PriorityQueue;

/*
 * Move-budgeted refinement of a rebalancing plan: spends what the plan saves over the planning horizon on more moves.
 *
 * The anchored partition (PlacementEngine with move cost) finds the plan of greatest net benefit, horizon × saved
 * traffic − move cost. Its moves repay themselves within the horizon, but the saving they leave over is not spent,
 * and every move that repays itself only after the horizon is left out, although the saved traffic goes on after it.
 * This step starts from that plan and makes single-VM moves greedily in order of saved cost-weighted traffic per
 * moved state byte (the cheapest saving first), as long as
 *   - the move lowers cost-weighted cross-site traffic,
 *   - the VM fits where it goes (hard capacities, the CPU balance limit, anti-affinity; pinned VMs never move),
 *   - the whole plan still repays itself within the horizon: horizon × (T(C) − T(P)) > factor × bytes moved, so the
 *     adoption rule holds after every accepted move, and
 *   - at most maxMoves VMs end up away from their current site.
 * A VM moved back to its current site refunds its bytes. Candidates sit in a priority queue with a version per VM;
 * a stale entry (the VM or a neighbour moved since) is recomputed when popped. Pure computation, one call per plan.
 */
final class BudgetedMoves {
    private BudgetedMoves() {
    }

    /**
     * Extends {@code plan} (changed in place) by the moves above.
     *
     * @param current the current site of every VM
     * @param plan a placement satisfying every hard constraint
     * @param horizonSeconds the planning horizon, seconds
     * @param factor move-cost-factor: cost of one moved state byte in saved cross-site bytes
     * @param maxMoves the most VMs that may end away from their current site
     * @param maxImbalance the CPU balance limit
     * @return the number of moves added
     */
    static int extend(PlacementEngine e, int[] current, int[] plan, double horizonSeconds, double factor, int maxMoves,
                      double maxImbalance) {
        int n = e.n;
        PlacementEngine.Limits limits = e.new Limits(maxImbalance);
        PlacementEngine.Loads loads = e.new Loads(plan);
        double saved = horizonSeconds * (e.crossTraffic(current, true) - e.crossTraffic(plan, true));
        double cost = 0;
        int away = 0;
        for (int v = 0; v < n; v++) {
            if (plan[v] != current[v]) {
                cost += factor * e.vms[v].stateBytes();
                away++;
            }
        }
        int[] version = new int[n];
        double[] value = new double[e.k];
        // Entries: {ratio, v, site, version}; highest ratio first, then lowest VM index (deterministic).
        PriorityQueue<double[]> queue = new PriorityQueue<>((a, b) -> a[0] != b[0] ? Double.compare(b[0], a[0])
                : Double.compare(a[1], b[1]));
        for (int v = 0; v < n; v++) {
            offer(e, current, plan, v, version, value, factor, queue);
        }
        int added = 0;
        double[] top;
        while ((top = queue.poll()) != null) {
            int v = (int) top[1];
            if ((int) top[3] != version[v]) {
                continue;
            }
            int to = (int) top[2];
            int from = plan[v];
            double delta = delta(e, plan, v, from, to, value);
            if (delta <= 0) {
                continue;
            }
            double dCost = moveCost(e, current, v, from, to, factor);
            int dAway = (to != current[v] ? 1 : 0) - (from != current[v] ? 1 : 0);
            if (away + dAway > maxMoves || !(saved + horizonSeconds * delta > cost + dCost)
                    || !limits.fits(v, to, loads, true)) {
                continue;
            }
            loads.move(v, plan, to);
            saved += horizonSeconds * delta;
            cost += dCost;
            away += dAway;
            added++;
            version[v]++;
            offer(e, current, plan, v, version, value, factor, queue);
            for (int x = e.xadj[v]; x < e.xadj[v + 1]; x++) {
                int u = e.adj[x];
                version[u]++;
                offer(e, current, plan, u, version, value, factor, queue);
            }
        }
        return added;
    }

    /** Queues the best move of {@code v} (largest saving per moved byte), if it saves anything. */
    private static void offer(PlacementEngine e, int[] current, int[] plan, int v, int[] version, double[] value,
                              double factor, PriorityQueue<double[]> queue) {
        if (e.pin[v] >= 0 || e.xadj[v] == e.xadj[v + 1]) {
            return;
        }
        int own = plan[v];
        values(e, plan, v, value);
        int best = -1;
        double bestRatio = 0;
        for (int s = 0; s < e.k; s++) {
            double delta = value[own] - value[s];
            if (s == own || delta <= 1e-9 * (1 + value[own])) {
                continue;
            }
            double bytes = Math.max(1, moveCost(e, current, v, own, s, factor));
            double ratio = delta / bytes;
            if (ratio > bestRatio) {
                best = s;
                bestRatio = ratio;
            }
        }
        if (best >= 0) {
            queue.add(new double[] {bestRatio, v, best, version[v]});
        }
    }

    /** Cost-weighted traffic of {@code v}'s edges with {@code v} on each site, bytes/s, into {@code value}. */
    private static void values(PlacementEngine e, int[] plan, int v, double[] value) {
        for (int s = 0; s < e.k; s++) {
            double c = 0;
            for (int x = e.xadj[v]; x < e.xadj[v + 1]; x++) {
                int su = plan[e.adj[x]];
                c += e.out[x] * e.cost[s][su] + e.in[x] * e.cost[su][s];
            }
            value[s] = c;
        }
    }

    private static double delta(PlacementEngine e, int[] plan, int v, int from, int to, double[] value) {
        values(e, plan, v, value);
        return value[from] - value[to];
    }

    /** What moving {@code v} from {@code from} to {@code to} adds to the plan's moving cost (negative: a refund). */
    private static double moveCost(PlacementEngine e, int[] current, int v, int from, int to, double factor) {
        double bytes = factor * e.vms[v].stateBytes();
        return (to != current[v] ? bytes : 0) - (from != current[v] ? bytes : 0);
    }
}
