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
 *   - the whole plan still repays itself within the horizon: horizon × (T(C) − T(P)) > factor × bytes moved + the
 *     saving that waits for the transfers (MoveTime; 0 without links), so the adoption rule holds after every
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
        double cost = 0;
        int away = 0;
        Waits waits = new Waits(e, current, plan, time);
        for (int v = 0; v < n; v++) {
            if (plan[v] != current[v]) {
                cost += factor * e.vms[v].stateBytes();
                away++;
            }
        }
        cost += waits.total;
        int[] version = new int[n];
        double[] value = new double[e.k];
        Groups groups = new Groups(e, n);
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
     * repays itself within the horizon: horizon × (T(C) − T(P)) > factor × bytes moved. A VM goes back to its current
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
        double cost = 0;
        Waits waits = new Waits(e, current, plan, time);
        for (int v = 0; v < n; v++) {
            if (plan[v] != current[v]) {
                cost += factor * e.vms[v].stateBytes();
            }
        }
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
            loads.move(v, plan, current[v]);
            saved -= horizonSeconds * lost;
            cost -= factor * e.vms[v].stateBytes();
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
                                  double factor, Waits waits, PriorityQueue<double[]> queue) {
        if (plan[v] == current[v] || e.pin[v] >= 0) {
            return;
        }
        double lost = -delta(e, plan, v, plan[v], current[v], value);
        double refund = factor * e.vms[v].stateBytes() + waits.wait[v];
        queue.add(new double[] {lost / Math.max(1, refund), v, version[v]});
    }

    /** After {@code v} moved: new candidates for it and its neighbours (their old entries become stale). */
    private static void touch(PlacementEngine e, int[] current, int[] plan, int v, int[] version, double[] value,
                              double factor, MoveTime time, PriorityQueue<double[]> queue, Groups groups) {
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
                              double factor, MoveTime time, PriorityQueue<double[]> queue, Groups groups) {
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

    /**
     * Group moves: the VMs reached breadth first from a seed VM through edges to free (unpinned) VMs on the same site
     * that also have traffic with the target site or more with the group than with the rest of their site, at most
     * GROUP_LIMIT, then peeled (see peel). Scratch arrays reused between calls.
     */
    private static final class Groups {
        private final PlacementEngine e;
        final int[] members = new int[GROUP_LIMIT];
        private final int[] mark;
        private int stamp;

        Groups(PlacementEngine e, int n) {
            this.e = e;
            this.mark = new int[n];
        }

        /** Collects the group of {@code seed} towards {@code to} into {@link #members}; returns its size. */
        int collect(int[] plan, int seed, int to) {
            int own = plan[seed];
            stamp++;
            int size = 0;
            members[size++] = seed;
            mark[seed] = stamp;
            for (int head = 0; head < size && size < GROUP_LIMIT; head++) {
                int x = members[head];
                for (int i = e.xadj[x]; i < e.xadj[x + 1] && size < GROUP_LIMIT; i++) {
                    int u = e.adj[i];
                    if (mark[u] != stamp && plan[u] == own && e.pin[u] < 0
                            && (talksTo(plan, u, to) || drawnToGroup(plan, u, own))) {
                        mark[u] = stamp;
                        members[size++] = u;
                    }
                }
            }
            return size;
        }

        /**
         * Drops from the collected group, one at a time, the member (never the seed) whose leaving raises the group's
         * saving per moved byte most, while that raises it: a member with much state and little traffic with the
         * others and the target costs the group more than it brings. Returns the new size (at least 2 unless the group
         * was smaller).
         */
        int peel(int[] current, int[] plan, int size, int to, double factor) {
            if (size <= 2) {
                return size;
            }
            int own = plan[members[0]];
            double delta = delta(plan, size, to);
            double bytes = 0;
            for (int i = 0; i < size; i++) {
                bytes += moveCost(e, current, members[i], own, to, factor);
            }
            while (size > 2 && delta > 0 && bytes > 0) {
                int worst = -1;
                double bestRatio = delta / bytes;
                double bestDelta = 0;
                double bestBytes = 0;
                for (int m = 1; m < size; m++) {
                    int y = members[m];
                    double change = 0;
                    for (int i = e.xadj[y]; i < e.xadj[y + 1]; i++) {
                        int u = e.adj[i];
                        if (mark[u] == stamp) {
                            change += e.out[i] * e.cost[own][to] + e.in[i] * e.cost[to][own];
                        } else {
                            int su = plan[u];
                            change += e.out[i] * (e.cost[own][su] - e.cost[to][su])
                                    + e.in[i] * (e.cost[su][own] - e.cost[su][to]);
                        }
                    }
                    double d = delta - change;
                    double b = bytes - moveCost(e, current, y, own, to, factor);
                    if (d > 0 && b > 0 && d / b > bestRatio * (1 + 1e-9)) {
                        worst = m;
                        bestRatio = d / b;
                        bestDelta = d;
                        bestBytes = b;
                    }
                }
                if (worst < 0) {
                    break;
                }
                mark[members[worst]] = 0;
                members[worst] = members[--size];
                delta = bestDelta;
                bytes = bestBytes;
            }
            return size;
        }

        /** Whether {@code u} exchanges more traffic with the group so far than with the rest of its site. */
        private boolean drawnToGroup(int[] plan, int u, int own) {
            double group = 0;
            double rest = 0;
            for (int i = e.xadj[u]; i < e.xadj[u + 1]; i++) {
                int x = e.adj[i];
                double w = e.out[i] + e.in[i];
                if (mark[x] == stamp) {
                    group += w;
                } else if (plan[x] == own) {
                    rest += w;
                }
            }
            return group > rest;
        }

        private boolean talksTo(int[] plan, int u, int to) {
            for (int i = e.xadj[u]; i < e.xadj[u + 1]; i++) {
                if (plan[e.adj[i]] == to) {
                    return true;
                }
            }
            return false;
        }

        /** Saved cost-weighted traffic, bytes/s, if the collected group moves to {@code to}; edges inside it stay. */
        double delta(int[] plan, int size, int to) {
            double before = 0;
            double after = 0;
            for (int m = 0; m < size; m++) {
                int x = members[m];
                int sx = plan[x];
                for (int i = e.xadj[x]; i < e.xadj[x + 1]; i++) {
                    int u = e.adj[i];
                    if (mark[u] == stamp) {
                        continue; // inside the group: on one site before and after
                    }
                    int su = plan[u];
                    before += e.out[i] * e.cost[sx][su] + e.in[i] * e.cost[su][sx];
                    after += e.out[i] * e.cost[to][su] + e.in[i] * e.cost[su][to];
                }
            }
            return before - after;
        }

        /**
         * Estimated saving that waits for the group's transfers: its saving {@code delta} × the mean transfer time of
         * its members (an ordering estimate; the rule is checked with the exact waiting cost).
         */
        double waitEstimate(int[] current, int size, int to, double delta, MoveTime time) {
            if (!time.known()) {
                return 0;
            }
            double t = 0;
            for (int i = 0; i < size; i++) {
                int u = members[i];
                t += time.seconds(e.vms[u].stateBytes(), current[u], to);
            }
            return delta * t / size;
        }

        /** Whether the whole group fits on {@code to} (capacities, balance limit, anti-affinity); loads unchanged. */
        boolean fits(int[] plan, int size, int to, PlacementEngine.Limits limits, PlacementEngine.Loads loads) {
            int from = plan[members[0]];
            int done = 0;
            boolean ok = true;
            for (; done < size; done++) {
                if (!limits.fits(members[done], to, loads, true)) {
                    ok = false;
                    break;
                }
                loads.move(members[done], plan, to);
            }
            for (int i = 0; i < done; i++) {
                loads.move(members[i], plan, from);
            }
            return ok;
        }
    }

    /**
     * The exact saving that waits for the transfers of a plan (MoveTime.waiting per VM), kept up to date as VMs move:
     * a VM's share depends on where its neighbours are, so a move changes its own share and its neighbours'.
     */
    private static final class Waits {
        private final PlacementEngine e;
        private final int[] current;
        private final MoveTime time;
        final double[] wait;
        final int[] members = new int[1];
        double total;

        Waits(PlacementEngine e, int[] current, int[] plan, MoveTime time) {
            this.e = e;
            this.current = current;
            this.time = time;
            this.wait = new double[e.n];
            if (time.known()) {
                for (int v = 0; v < e.n; v++) {
                    wait[v] = time.waiting(e, current, plan, v);
                    total += wait[v];
                }
            }
        }

        /** After {@code vs[0..size)} moved in {@code plan}: recomputes their shares and their neighbours'; the change. */
        double update(int[] plan, int[] vs, int size) {
            if (!time.known()) {
                return 0;
            }
            double before = total;
            for (int i = 0; i < size; i++) {
                int v = vs[i];
                refresh(plan, v);
                for (int x = e.xadj[v]; x < e.xadj[v + 1]; x++) {
                    refresh(plan, e.adj[x]);
                }
            }
            return total - before;
        }

        private void refresh(int[] plan, int v) {
            double w = time.waiting(e, current, plan, v);
            total += w - wait[v];
            wait[v] = w;
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
