package io.dwcp.partition;

import io.dwcp.partition.PlacementEngine.Limits;
import io.dwcp.partition.PlacementEngine.Loads;

import java.util.Arrays;

import static io.dwcp.partition.PlacementEngine.infeasible;

/**
 * The greedy strategy of {@link PlacementEngine} (also the baseline the others are measured against): VMs by
 * descending traffic, each to the site with room it exchanges the most traffic with. Reads the engine's arrays only.
 */
final class GreedyPlacement {
    /** The model, read in place (never copied): arrays, totals, constraints. */
    private final PlacementEngine engine;

    /** Greedy placement of the model {@code e} holds. */
    GreedyPlacement(PlacementEngine e) {
        this.engine = e;
    }

    /** Greedy baseline: VMs by descending traffic, each to the site with room it exchanges the most traffic with. */
    int[] greedy(Limits limits) {
        int[] site = new int[engine.n];
        Arrays.fill(site, -1);
        Loads loads = engine.new Loads(site);
        for (int v = 0; v < engine.n; v++) {
            if (engine.pin[v] >= 0) {
                loads.move(v, site, engine.pin[v]);
            }
        }
        Integer[] order = new Integer[engine.n];
        double[] traffic = new double[engine.n];
        for (int v = 0; v < engine.n; v++) {
            order[v] = v;
            for (int e = engine.xadj[v]; e < engine.xadj[v + 1]; e++) {
                traffic[v] += engine.out[e] + engine.in[e];
            }
        }
        Arrays.sort(order, (a, b) -> traffic[a] != traffic[b] ? Double.compare(traffic[b], traffic[a]) : Integer.compare(a, b));
        double[] conn = new double[engine.k];
        for (int v : order) {
            if (site[v] >= 0) {
                continue;
            }
            Arrays.fill(conn, 0);
            for (int e = engine.xadj[v]; e < engine.xadj[v + 1]; e++) {
                if (site[engine.adj[e]] >= 0) {
                    conn[site[engine.adj[e]]] += engine.out[e] + engine.in[e];
                }
            }
            int best = -1;
            for (int balanced = 1; balanced >= 0 && best < 0; balanced--) {
                for (int s = 0; s < engine.k; s++) {
                    if (limits.fits(v, s, loads, balanced == 1) && (best < 0 || conn[s] > conn[best] || (conn[s] == conn[best]
                            && loads.cpu[s] / Math.max(1e-9, engine.sites[s].cpuCores()) < loads.cpu[best] / Math.max(1e-9, engine.sites[best].cpuCores())))) {
                        best = s;
                    }
                }
            }
            if (best < 0) {
                throw infeasible("greedy placement: no site has room for VM " + engine.vms[v].id() + " (" + engine.vms[v].cpuCores()
                        + " cores, " + engine.vms[v].memoryBytes() + " bytes) without breaking a capacity or anti-affinity");
            }
            loads.move(v, site, best);
        }
        return site;
    }
}
