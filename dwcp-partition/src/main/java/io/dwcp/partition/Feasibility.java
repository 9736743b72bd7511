package io.dwcp.partition;


import java.util.HashMap;
import java.util.Map;

import static io.dwcp.partition.PlacementEngine.infeasible;

/**
 * The hard constraints of a model that need no placement ({@link PlacementEngine#checkFeasible}): total demand per
 * resource against total capacity, pinned demand per site, anti-affinity groups larger than the site count or with two
 * members pinned to one site. Reads the engine's arrays only.
 */
final class Feasibility {
    /** The model, read in place (never copied): arrays, totals, constraints. */
    private final PlacementEngine engine;

    /** The feasibility checks of the model {@code e} holds. */
    Feasibility(PlacementEngine e) {
        this.engine = e;
    }

    /** Checks the hard constraints that need no placement; throws INFEASIBLE naming the tightest one. */
    void check() {
        if (engine.n > 0 && engine.k == 0) {
            throw infeasible(engine.n + " VMs but no site");
        }
        double cpuRatio = engine.totalCapCpu == 0 ? (engine.totalCpu > 0 ? Double.POSITIVE_INFINITY : 0)
                : engine.totalCpu / engine.totalCapCpu;
        double memRatio = engine.totalCapMem == 0 ? (engine.totalMem > 0 ? Double.POSITIVE_INFINITY : 0)
                : engine.totalMem / engine.totalCapMem;
        if (cpuRatio > 1 || memRatio > 1) {
            throw infeasible(cpuRatio >= memRatio
                    ? String.format("cpu: the VMs need %.2f cores, all sites together hold %.2f", engine.totalCpu, engine.totalCapCpu)
                    : String.format("memory: the VMs need %d bytes, all sites together hold %d", (long) engine.totalMem, (long) engine.totalCapMem));
        }
        double[] pinCpu = new double[engine.k];
        long[] pinMem = new long[engine.k];
        for (int v = 0; v < engine.n; v++) {
            if (engine.pin[v] >= 0) {
                pinCpu[engine.pin[v]] += engine.vms[v].cpuCores();
                pinMem[engine.pin[v]] += engine.vms[v].memoryBytes();
            }
        }
        for (int s = 0; s < engine.k; s++) {
            if (pinCpu[s] > engine.sites[s].cpuCores() + 1e-9) {
                throw infeasible(String.format("site %s: VMs pinned to it need %.2f cores, it holds %.2f", engine.sites[s].id(),
                        pinCpu[s], engine.sites[s].cpuCores()));
            }
            if (pinMem[s] > engine.sites[s].memoryBytes()) {
                throw infeasible("site " + engine.sites[s].id() + ": VMs pinned to it need " + pinMem[s]
                        + " bytes of memory, it holds " + engine.sites[s].memoryBytes());
            }
        }
        int[] size = new int[engine.groupNames.length];
        Map<Long, Integer> pinnedMember = new HashMap<>();
        for (int v = 0; v < engine.n; v++) {
            if (engine.group[v] < 0) {
                continue;
            }
            size[engine.group[v]]++;
            if (engine.pin[v] >= 0) {
                Integer other = pinnedMember.put(((long) engine.group[v] << 32) | engine.pin[v], v);
                if (other != null) {
                    throw infeasible("anti-affinity group " + engine.groupNames[engine.group[v]] + ": VMs "
                            + engine.vms[other].id() + " and "
                            + engine.vms[v].id() + " are both pinned to site " + engine.sites[engine.pin[v]].id());
                }
            }
        }
        for (int g = 0; g < size.length; g++) {
            if (size[g] > engine.k) {
                throw infeasible("anti-affinity group " + engine.groupNames[g] + " has " + size[g] + " VMs for " + engine.k + " sites");
            }
        }
    }
}
