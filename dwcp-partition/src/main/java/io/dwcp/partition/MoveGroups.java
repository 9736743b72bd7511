package io.dwcp.partition;

/*
 * Group moves: the VMs reached breadth first from a seed VM through edges to free (unpinned) VMs on the same site
 * that also have traffic with the target site or more with the group than with the rest of their site, at most
 * GROUP_LIMIT, then peeled (see peel). Scratch arrays reused between calls. Part of BudgetedMoves; not thread-safe.
 */
final class MoveGroups {
    private final PlacementEngine e;
    final int[] members = new int[BudgetedMoves.GROUP_LIMIT];
    private final int[] mark;
    private int stamp;

    MoveGroups(PlacementEngine e, int n) {
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
        for (int head = 0; head < size && size < BudgetedMoves.GROUP_LIMIT; head++) {
            int x = members[head];
            for (int i = e.xadj[x]; i < e.xadj[x + 1] && size < BudgetedMoves.GROUP_LIMIT; i++) {
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
            bytes += BudgetedMoves.moveCost(e, current, members[i], own, to, factor);
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
                double b = bytes - BudgetedMoves.moveCost(e, current, y, own, to, factor);
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
