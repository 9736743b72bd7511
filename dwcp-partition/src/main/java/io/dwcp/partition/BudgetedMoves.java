package io.dwcp.partition;

import java.util.PriorityQueue;

/*
 * Move-budgeted refinement of a rebalancing plan: spends what the plan saves over the planning horizon on more moves.
 *
 * The anchored partition (PlacementEngine with move cost) finds the plan of greatest net benefit, horizon × saved
 * traffic − move cost. Its moves repay themselves within the horizon, but the saving they leave over is not spent,
 * and every move that repays itself only after the horizon is left out, although the saved traffic goes on after it.
 * This step starts from that plan and makes moves greedily in order of saved cost-weighted traffic per moved state
 * byte (the cheapest saving first). A move is a single VM, or a group: a VM with the neighbours on its site that also
 * talk to the target site or exchange more traffic with the group than with the rest of their site, grown breadth
 * first (at most GROUP_LIMIT VMs), then peeled: members whose leaving raises the group's saving per moved byte leave
 * (a VM with much state and little traffic with the others costs the group more than it brings). A group keeps its internal traffic on one
 * site, so after a traffic shift a set of VMs that now talks to another site moves together even when each of them
 * alone would save little (a single VM that leaves breaks its edges to the others). Moves are made as long as
 *   - the move lowers cost-weighted cross-site traffic,
 *   - the VM fits where it goes (hard capacities, the CPU balance limit, anti-affinity; pinned VMs never move),
 *   - the whole plan still repays itself within the horizon: horizon × (T(C) − T(P)) > factor × bytes moved (each
 *     byte at the cost of a cross-site byte on the link it crosses) + the saving that waits for the transfers (MoveTime; 0 without links), so the adoption rule holds after every
 *     accepted move (a move whose exact waiting cost, its neighbours' included, breaks the rule is undone), and
 *   - at most maxMoves VMs end up away from their current site.
 * A VM moved back to its current site refunds its bytes. Candidates sit in a priority queue with a version per VM;
 * a stale entry (the VM or a neighbour moved since) is recomputed when popped; a group entry is always recomputed
 * (its members may have changed) and applied only if its ratio is still at least the next entry's, else queued again.
 * Pure computation, one call per plan.
 */
final class BudgetedMoves {
    /** The most VMs a group move takes. */
    static final int GROUP_LIMIT = 64;

    private BudgetedMoves() {
    }

    /**
     * Extends {@code plan} (changed in place) by the moves above.
     *
     * @param current the current site of every VM
     * @param plan a placement satisfying every hard constraint
     * @param horizonSeconds the planning horizon, seconds
     * @param factor move-cost-factor: cost of one moved state byte in saved cross-site bytes
     * @param time the transfer times of the moves
     * @param maxMoves the most VMs that may end away from their current site
     * @param maxImbalance the CPU balance limit
     * @return the number of moves added
     */
    static int extend(PlacementEngine e, int[] current, int[] plan, double horizonSeconds, double factor,
                      MoveTime time, int maxMoves, double maxImbalance) {
        int n = e.n;
        PlacementEngine.Limits limits = e.new Limits(maxImbalance);
        PlacementEngine.Loads loads = e.new Loads(plan);
        double saved = horizonSeconds * (e.crossTraffic(current, true) - e.crossTraffic(plan, true));
        double cost = e.movingCost(current, plan, factor);
        int away = 0;
        MoveWaits waits = new MoveWaits(e, current, plan, time);
        for (int v = 0; v < n; v++) {
            if (plan[v] != current[v]) {
                away++;
            }
        }
        cost += waits.total;
        int[] version = new int[n];
        double[] value = new double[e.k];
        MoveGroups groups = new MoveGroups(e, n);
        // Entries: {ratio, v, site, version, kind (0 single, 1 group)}; highest ratio first, then lowest VM index, then
        // single before group (deterministic).
        PriorityQueue<double[]> queue = new PriorityQueue<>((a, b) -> a[0] != b[0] ? Double.compare(b[0], a[0])
                : a[1] != b[1] ? Double.compare(a[1], b[1]) : Double.compare(a[4], b[4]));
        for (int v = 0; v < n; v++) {
            offer(e, current, plan, v, version, value, factor, time, queue, groups);
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
            if (top[4] == 1) {
                // A group: recompute it as the plan is now; apply only while it is still among the best candidates.
                int size = groups.peel(current, plan, groups.collect(plan, v, to), to, factor);
                double delta = groups.delta(plan, size, to);
                double dCost = 0;
                int dAway = 0;
                for (int i = 0; i < size; i++) {
                    int u = groups.members[i];
                    dCost += moveCost(e, current, u, from, to, factor);
                    dAway += (to != current[u] ? 1 : 0) - (from != current[u] ? 1 : 0);
                }
                if (size < 2 || delta <= 0) {
                    continue;
                }
                double ratio = delta / Math.max(1, dCost + groups.waitEstimate(current, size, to, delta, time));
                double[] next = queue.peek();
                if (next != null && dCost > 0 && ratio < next[0] && ratio < top[0]) {
                    queue.add(new double[] {ratio, v, to, version[v], 1});
                    continue;
                }
                if (away + dAway > maxMoves || !(saved + horizonSeconds * delta > cost + dCost)
                        || !groups.fits(plan, size, to, limits, loads)) {
                    continue;
                }
                for (int i = 0; i < size; i++) {
                    loads.move(groups.members[i], plan, to);
                }
                double dWait = waits.update(plan, groups.members, size);
                if (!(saved + horizonSeconds * delta > cost + dCost + dWait)) {
                    // The exact waiting cost (the members' and their neighbours') breaks the rule: undo.
                    for (int i = 0; i < size; i++) {
                        loads.move(groups.members[i], plan, from);
                    }
                    waits.update(plan, groups.members, size);
                    continue;
                }
                saved += horizonSeconds * delta;
                cost += dCost + dWait;
                away += dAway;
                added += size;
                for (int i = 0; i < size; i++) {
                    touch(e, current, plan, groups.members[i], version, value, factor, time, queue, groups);
                }
                continue;
            }
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
            waits.members[0] = v;
            double dWait = waits.update(plan, waits.members, 1);
            if (!(saved + horizonSeconds * delta > cost + dCost + dWait)) {
                loads.move(v, plan, from);
                waits.members[0] = v;
                waits.update(plan, waits.members, 1);
                continue;
            }
            saved += horizonSeconds * delta;
            cost += dCost + dWait;
            away += dAway;
            added++;
            touch(e, current, plan, v, version, value, factor, time, queue, groups);
        }
        return added;
    }

    /**
     * Undoes moves of {@code plan} (changed in place), the least saving per moved byte first, until the whole plan
     * repays itself within the horizon: horizon × (T(C) − T(P)) > factor × bytes moved × link cost. A VM goes back to its current
     * site only where it fits (capacities, the CPU balance limit, anti-affinity); pinned VMs are left alone.
     *
     * Moving a VM back also refunds the saving that waited for its transfer (MoveTime).
     *
     * @return the number of moves undone
     */
    static int trim(PlacementEngine e, int[] current, int[] plan, double horizonSeconds, double factor, MoveTime time,
                    double maxImbalance) {
        int n = e.n;
        PlacementEngine.Limits limits = e.new Limits(maxImbalance);
        PlacementEngine.Loads loads = e.new Loads(plan);
        double saved = horizonSeconds * (e.crossTraffic(current, true) - e.crossTraffic(plan, true));
        double cost = e.movingCost(current, plan, factor);
        MoveWaits waits = new MoveWaits(e, current, plan, time);
        cost += waits.total;
        int[] version = new int[n];
        double[] value = new double[e.k];
        // Entries: {lost saving per refunded byte, v, version}; lowest first, then lowest VM index.
        PriorityQueue<double[]> queue = new PriorityQueue<>((a, b) -> a[0] != b[0] ? Double.compare(a[0], b[0])
                : Double.compare(a[1], b[1]));
        for (int v = 0; v < n; v++) {
            offerBack(e, current, plan, v, version, value, factor, waits, queue);
        }
        int undone = 0;
        double[] top;
        while (!(saved > cost) && (top = queue.poll()) != null) {
            int v = (int) top[1];
            if ((int) top[2] != version[v] || plan[v] == current[v]) {
                continue;
            }
            if (!limits.fits(v, current[v], loads, true)) {
                continue;
            }
            double lost = -delta(e, plan, v, plan[v], current[v], value);
            cost -= factor * e.vms[v].stateBytes() * e.moveByteCost(current[v], plan[v]);
            loads.move(v, plan, current[v]);
            saved -= horizonSeconds * lost;
            waits.members[0] = v;
            cost += waits.update(plan, waits.members, 1);
            undone++;
            version[v]++;
            for (int x = e.xadj[v]; x < e.xadj[v + 1]; x++) {
                int u = e.adj[x];
                version[u]++;
                offerBack(e, current, plan, u, version, value, factor, waits, queue);
            }
        }
        return undone;
    }

    /** Queues moving {@code v} back to its current site, if it is away and not pinned. */
    private static void offerBack(PlacementEngine e, int[] current, int[] plan, int v, int[] version, double[] value,
                                  double factor, MoveWaits waits, PriorityQueue<double[]> queue) {
        if (plan[v] == current[v] || e.pin[v] >= 0) {
            return;
        }
        double lost = -delta(e, plan, v, plan[v], current[v], value);
        double refund = factor * e.vms[v].stateBytes() * e.moveByteCost(current[v], plan[v]) + waits.wait[v];
        queue.add(new double[] {lost / Math.max(1, refund), v, version[v]});
    }

    /** After {@code v} moved: new candidates for it and its neighbours (their old entries become stale). */
    private static void touch(PlacementEngine e, int[] current, int[] plan, int v, int[] version, double[] value,
                              double factor, MoveTime time, PriorityQueue<double[]> queue, MoveGroups groups) {
        version[v]++;
        offer(e, current, plan, v, version, value, factor, time, queue, groups);
        for (int x = e.xadj[v]; x < e.xadj[v + 1]; x++) {
            int u = e.adj[x];
            version[u]++;
            offer(e, current, plan, u, version, value, factor, time, queue, groups);
        }
    }

    /**
     * Queues the best single move of {@code v} (largest saving per moved byte), if it saves anything, and the group
     * move of {@code v} towards the site it is most strongly connected to, if that group saves more per byte. The cost of
     * a move is its moved bytes × factor plus the saving that waits for its transfer.
     */
    private static void offer(PlacementEngine e, int[] current, int[] plan, int v, int[] version, double[] value,
                              double factor, MoveTime time, PriorityQueue<double[]> queue, MoveGroups groups) {
        if (e.pin[v] >= 0 || e.xadj[v] == e.xadj[v + 1]) {
            return;
        }
        int own = plan[v];
        values(e, plan, v, value);
        int best = -1;
        double bestRatio = 0;
        int pull = -1;
        for (int s = 0; s < e.k; s++) {
            double delta = value[own] - value[s];
            if (s != own && (pull < 0 || delta > value[own] - value[pull])) {
                pull = s;
            }
            if (s == own || delta <= 1e-9 * (1 + value[own])) {
                continue;
            }
            double bytes = Math.max(1, moveCost(e, current, v, own, s, factor)
                    + time.seconds(e.vms[v].stateBytes(), current[v], s) * delta);
            double ratio = delta / bytes;
            if (ratio > bestRatio) {
                best = s;
                bestRatio = ratio;
            }
        }
        if (best >= 0) {
            queue.add(new double[] {bestRatio, v, best, version[v], 0});
        }
        if (pull >= 0 && value[own] > 0) {
            int size = groups.peel(current, plan, groups.collect(plan, v, pull), pull, factor);
            if (size >= 2) {
                double delta = groups.delta(plan, size, pull);
                double bytes = 0;
                for (int i = 0; i < size; i++) {
                    bytes += moveCost(e, current, groups.members[i], own, pull, factor);
                }
                bytes += groups.waitEstimate(current, size, pull, delta, time);
                double ratio = delta / Math.max(1, bytes);
                if (delta > 0 && ratio > bestRatio) {
                    queue.add(new double[] {ratio, v, pull, version[v], 1});
                }
            }
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

    /**
     * What moving {@code v} from {@code from} to {@code to} adds to the plan's moving cost (negative: a refund): its
     * state bytes × factor × the cost of a byte on the link from its current site (0 back home).
     */
    static double moveCost(PlacementEngine e, int[] current, int v, int from, int to, double factor) {
        double bytes = factor * e.vms[v].stateBytes();
        return bytes * (e.moveByteCost(current[v], to) - e.moveByteCost(current[v], from));
    }
}
