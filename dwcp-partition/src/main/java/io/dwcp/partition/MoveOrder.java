package io.dwcp.partition;

import io.dwcp.core.placement.Move;

import java.util.ArrayList;
import java.util.List;

/*
 * Orders the migrations from one placement to another so that every site stays within its CPU and memory capacity
 * and no anti-affinity group shares a site after every single step. Repeatedly makes every pending move
 * whose destination has room now. When none can (a cycle of full sites, e.g. a swap), one VM is staged through a third
 * site with room and moves on from there later (at most one staging per original move); when no site can stage any pending VM, INFEASIBLE names the blocked
 * move. VMs without a current site (new ones) are not moves. Deterministic: pending moves are tried in VM order.
 */
final class MoveOrder {
    private MoveOrder() {
    }

    static List<Move> order(PlacementEngine e, int[] from, int[] to) {
        int[] cur = from.clone();
        PlacementEngine.Loads loads = e.new Loads(cur);
        List<Integer> pending = new ArrayList<>();
        for (int v = 0; v < e.n; v++) {
            if (cur[v] >= 0 && cur[v] != to[v]) {
                pending.add(v);
            }
        }
        List<Move> moves = new ArrayList<>();
        int stagingLeft = pending.size();
        while (!pending.isEmpty()) {
            boolean progress = false;
            List<Integer> still = new ArrayList<>();
            for (int v : pending) {
                if (loads.fitsHard(v, to[v])) {
                    move(e, loads, v, cur, to[v], moves);
                    progress = true;
                } else {
                    still.add(v);
                }
            }
            pending = still;
            if (!progress && !pending.isEmpty()) {
                boolean staged = false;
                for (int v : stagingLeft-- > 0 ? pending : List.<Integer>of()) {
                    for (int s = 0; s < e.k && !staged; s++) {
                        if (s != cur[v] && s != to[v] && e.pin[v] < 0 && loads.fitsHard(v, s)) {
                            move(e, loads, v, cur, s, moves);
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

    private static void move(PlacementEngine e, PlacementEngine.Loads loads, int v, int[] cur, int s, List<Move> moves) {
        int f = cur[v];
        loads.move(v, cur, s);
        moves.add(new Move(e.vms[v].id(), e.sites[f].id(), e.sites[s].id(), e.vms[v].stateBytes()));
    }
}
