package io.dwcp.partition;

import io.dwcp.core.placement.Move;

import java.util.ArrayList;
import java.util.List;

/*
 * Orders the migrations from one placement to another so that every site stays within its CPU and memory capacity
 * and no anti-affinity group shares a site after every single step (SPEC ITP-5). Repeatedly makes every pending move
 * whose destination has room now. When none can (a cycle of full sites, e.g. a swap), one VM is staged through a third
 * site with room and moves on from there later (at most one staging per original move); when no site can stage any pending VM, INFEASIBLE names the blocked
 * move. VMs without a current site (new ones) are not moves. Deterministic: pending moves are tried in VM order.
 */
final class MoveOrder {
    private MoveOrder() {
    }

    static List<Move> order(PlacementEngine e, int[] from, int[] to) {
        int n = e.n;
        int k = e.k;
        double[] cpuLoad = new double[k];
        long[] memLoad = new long[k];
        int[][] groupCount = new int[e.groupNames.length][k];
        int[] cur = from.clone();
        List<Integer> pending = new ArrayList<>();
        for (int v = 0; v < n; v++) {
            if (cur[v] < 0) {
                continue;
            }
            cpuLoad[cur[v]] += e.vms[v].cpuCores();
            memLoad[cur[v]] += e.vms[v].memoryBytes();
            if (e.group[v] >= 0) {
                groupCount[e.group[v]][cur[v]]++;
            }
            if (cur[v] != to[v]) {
                pending.add(v);
            }
        }
        List<Move> moves = new ArrayList<>();
        int stagingLeft = pending.size();
        while (!pending.isEmpty()) {
            boolean progress = false;
            List<Integer> still = new ArrayList<>();
            for (int v : pending) {
                if (fits(e, v, to[v], cpuLoad, memLoad, groupCount)) {
                    move(e, v, cur, to[v], cpuLoad, memLoad, groupCount, moves);
                    progress = true;
                } else {
                    still.add(v);
                }
            }
            pending = still;
            if (!progress && !pending.isEmpty()) {
                boolean staged = false;
                for (int v : stagingLeft-- > 0 ? pending : List.<Integer>of()) {
                    for (int s = 0; s < k && !staged; s++) {
                        if (s != cur[v] && s != to[v] && e.pin[v] < 0 && fits(e, v, s, cpuLoad, memLoad, groupCount)) {
                            move(e, v, cur, s, cpuLoad, memLoad, groupCount, moves);
                            staged = true;
                        }
                    }
                    if (staged) {
                        break;
                    }
                }
                if (!staged) {
                    int v = pending.get(0);
                    throw PlacementEngine.infeasible("move order: none of the " + pending.size() + " remaining moves fits "
                            + "without overfilling a site or breaking anti-affinity, and no site has room to stage one "
                            + "(or staging would not end; first blocked: VM " + e.vms[v].id() + " to site " + e.sites[to[v]].id() + ")");
                }
            }
        }
        return moves;
    }

    private static boolean fits(PlacementEngine e, int v, int s, double[] cpuLoad, long[] memLoad, int[][] groupCount) {
        return cpuLoad[s] + e.vms[v].cpuCores() <= e.sites[s].cpuCores() + 1e-9
                && memLoad[s] + e.vms[v].memoryBytes() <= e.sites[s].memoryBytes()
                && (e.group[v] < 0 || groupCount[e.group[v]][s] == 0);
    }

    private static void move(PlacementEngine e, int v, int[] cur, int s, double[] cpuLoad, long[] memLoad,
                             int[][] groupCount, List<Move> moves) {
        int f = cur[v];
        cpuLoad[f] -= e.vms[v].cpuCores();
        memLoad[f] -= e.vms[v].memoryBytes();
        cpuLoad[s] += e.vms[v].cpuCores();
        memLoad[s] += e.vms[v].memoryBytes();
        if (e.group[v] >= 0) {
            groupCount[e.group[v]][f]--;
            groupCount[e.group[v]][s]++;
        }
        cur[v] = s;
        moves.add(new Move(e.vms[v].id(), e.sites[f].id(), e.sites[s].id(), e.vms[v].stateBytes()));
    }
}
