package io.dwcp.partition;

import io.dwcp.core.placement.Site;
import io.dwcp.core.placement.Vm;
import io.dwcp.partition.PlacementEngine.Limits;
import io.dwcp.partition.PlacementEngine.Loads;

import java.util.Arrays;

import static io.dwcp.partition.PlacementEngine.infeasible;

/**
 * The greedy strategy of {@link PlacementEngine} (also the baseline the others are measured against): VMs by
 * descending traffic, each to the site with room it exchanges the most traffic with. Reads the engine's arrays only.
 */
final class GreedyPlacement {
    private final PlacementEngine engine;
    private final int n;
    private final int k;
    private final Vm[] vms;
    private final Site[] sites;
    private final int[] pin;
    private final int[] xadj;
    private final int[] adj;
    private final double[] out;
    private final double[] in;

    /** Greedy placement of the model {@code e} holds. */
    GreedyPlacement(PlacementEngine e) {
        this.engine = e;
        this.n = e.n;
        this.k = e.k;
        this.vms = e.vms;
        this.sites = e.sites;
        this.pin = e.pin;
        this.xadj = e.xadj;
        this.adj = e.adj;
        this.out = e.out;
        this.in = e.in;
    }

    /** Greedy baseline: VMs by descending traffic, each to the site with room it exchanges the most traffic with. */
    int[] greedy(Limits limits) {
        int[] site = new int[n];
        Arrays.fill(site, -1);
        Loads loads = engine.new Loads(site);
        for (int v = 0; v < n; v++) {
            if (pin[v] >= 0) {
                loads.move(v, site, pin[v]);
            }
        }
        Integer[] order = new Integer[n];
        double[] traffic = new double[n];
        for (int v = 0; v < n; v++) {
            order[v] = v;
            for (int e = xadj[v]; e < xadj[v + 1]; e++) {
                traffic[v] += out[e] + in[e];
            }
        }
        Arrays.sort(order, (a, b) -> traffic[a] != traffic[b] ? Double.compare(traffic[b], traffic[a]) : Integer.compare(a, b));
        double[] conn = new double[k];
        for (int v : order) {
            if (site[v] >= 0) {
                continue;
            }
            Arrays.fill(conn, 0);
            for (int e = xadj[v]; e < xadj[v + 1]; e++) {
                if (site[adj[e]] >= 0) {
                    conn[site[adj[e]]] += out[e] + in[e];
                }
            }
            int best = -1;
            for (int balanced = 1; balanced >= 0 && best < 0; balanced--) {
                for (int s = 0; s < k; s++) {
                    if (limits.fits(v, s, loads, balanced == 1) && (best < 0 || conn[s] > conn[best] || (conn[s] == conn[best]
                            && loads.cpu[s] / Math.max(1e-9, sites[s].cpuCores()) < loads.cpu[best] / Math.max(1e-9, sites[best].cpuCores())))) {
                        best = s;
                    }
                }
            }
            if (best < 0) {
                throw infeasible("greedy placement: no site has room for VM " + vms[v].id() + " (" + vms[v].cpuCores()
                        + " cores, " + vms[v].memoryBytes() + " bytes) without breaking a capacity or anti-affinity");
            }
            loads.move(v, site, best);
        }
        return site;
    }
}
