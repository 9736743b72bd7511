package io.dwcp.partition;

import io.dwcp.partition.PlacementEngine.Limits;
import io.dwcp.partition.PlacementEngine.Loads;

import java.util.Arrays;

import static io.dwcp.partition.PlacementEngine.infeasible;

/**
 * What {@link PlacementEngine} does to a strategy's placement: {@link #repair} makes it meet the hard constraints
 * (anti-affinity, then capacities; then, as far as possible, the CPU balance limit), {@link #improve} moves single VMs
 * to the site with the lowest cost-weighted traffic while every constraint holds. Changes only the placement it is
 * given; reads the engine's arrays.
 */
final class PlacementRepair {
    /** The model, read in place (never copied): arrays, totals, constraints. */
    private final PlacementEngine engine;

    /** Repairs and improves placements of the model {@code e} holds. */
    PlacementRepair(PlacementEngine e) {
        this.engine = e;
    }

    /** Traffic (bytes/s, both directions) between {@code v} and each site under {@code site}. */
    private void connections(int v, int[] site, double[] conn) {
        Arrays.fill(conn, 0);
        for (int e = engine.xadj[v]; e < engine.xadj[v + 1]; e++) {
            conn[site[engine.adj[e]]] += engine.out[e] + engine.in[e];
        }
    }

    /** Resolves anti-affinity conflicts, then capacity overflows; INFEASIBLE when that is impossible. */
    void repair(int[] site, Limits limits) {
        Loads loads = engine.new Loads(site);
        double[] conn = new double[engine.k];
        for (int v = 0; v < engine.n; v++) {
            int g = engine.group[v];
            if (g < 0 || loads.groupCount[g][site[v]] <= 1 || engine.pin[v] >= 0) {
                continue;
            }
            connections(v, site, conn);
            int best = -1;
            for (int s = 0; s < engine.k; s++) {
                if (limits.fits(v, s, loads, false) && (best < 0 || conn[s] > conn[best])) {
                    best = s;
                }
            }
            if (best < 0) {
                throw infeasible("anti-affinity group " + engine.groupNames[g] + ": no site without another member has room for VM "
                        + engine.vms[v].id());
            }
            loads.move(v, site, best);
        }
        for (int s = 0; s < engine.k; s++) {
            while (loads.overfull(s)) {
                if (!shedOne(site, loads, limits, s, false, conn)) {
                    boolean cpu = loads.cpu[s] > engine.sites[s].cpuCores() + 1e-9;
                    throw infeasible("site " + engine.sites[s].id() + ": " + (cpu
                            ? String.format("cpu load %.2f > capacity %.2f", loads.cpu[s], engine.sites[s].cpuCores())
                            : "memory load " + loads.mem[s] + " > capacity " + engine.sites[s].memoryBytes())
                            + " and no VM on it can move to a site with room");
                }
            }
        }
        // Best effort: CPU above the balance limit (max-imbalance) is shed where another site has balanced room.
        for (int s = 0; s < engine.k; s++) {
            while (loads.cpu[s] > limits.cpuBalanced[s] + 1e-9 && shedOne(site, loads, limits, s, true, conn)) {
                // each call moves one VM
            }
        }
    }

    /** Moves the VM of site {@code s} whose move loses least traffic to a site with room; false when none can move. */
    private boolean shedOne(int[] site, Loads loads, Limits limits, int s, boolean balanced, double[] conn) {
        int bestV = -1;
        int bestS = -1;
        double bestLoss = Double.POSITIVE_INFINITY;
        for (int v = 0; v < engine.n; v++) {
            if (site[v] != s || engine.pin[v] >= 0) {
                continue;
            }
            connections(v, site, conn);
            for (int t = 0; t < engine.k; t++) {
                if (t != s && limits.fits(v, t, loads, balanced) && conn[s] - conn[t] < bestLoss) {
                    bestLoss = conn[s] - conn[t];
                    bestV = v;
                    bestS = t;
                }
            }
        }
        if (bestV < 0) {
            return false;
        }
        loads.move(bestV, site, bestS);
        return true;
    }

    /**
     * 1-opt: moves single free VMs to the site that lowers cost-weighted cross-site traffic (plus move cost against
     * {@code current}: the anchor weight) most, keeping capacities, the balance limit and anti-affinity. Two sweeps.
     */
    void improve(int[] site, Limits limits, int[] current, double[] anchor) {
        Loads loads = engine.new Loads(site);
        double[] value = new double[engine.k];
        for (int sweep = 0; sweep < 2; sweep++) {
            boolean moved = false;
            for (int v = 0; v < engine.n; v++) {
                if (engine.pin[v] >= 0) {
                    continue;
                }
                for (int s = 0; s < engine.k; s++) {
                    double c = 0;
                    for (int e = engine.xadj[v]; e < engine.xadj[v + 1]; e++) {
                        int su = site[engine.adj[e]];
                        c += engine.out[e] * engine.cost[s][su] + engine.in[e] * engine.cost[su][s];
                    }
                    if (anchor != null && current != null && current[v] >= 0 && current[v] != s) {
                        c += anchor[v];
                    }
                    value[s] = c;
                }
                int own = site[v];
                int best = own;
                for (int s = 0; s < engine.k; s++) {
                    if (s != own && value[s] < value[best] - 1e-9 * (1 + value[own]) && limits.fits(v, s, loads, true)) {
                        best = s;
                    }
                }
                if (best != own) {
                    loads.move(v, site, best);
                    moved = true;
                }
            }
            if (!moved) {
                break;
            }
        }
    }
}
