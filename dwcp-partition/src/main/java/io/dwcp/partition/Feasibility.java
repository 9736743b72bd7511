package io.dwcp.partition;

import io.dwcp.core.placement.Site;
import io.dwcp.core.placement.Vm;

import java.util.HashMap;
import java.util.Map;

import static io.dwcp.partition.PlacementEngine.infeasible;

/**
 * The hard constraints of a model that need no placement ({@link PlacementEngine#checkFeasible}): total demand per
 * resource against total capacity, pinned demand per site, anti-affinity groups larger than the site count or with two
 * members pinned to one site. Reads the engine's arrays only.
 */
final class Feasibility {
    private final int n;
    private final int k;
    private final Vm[] vms;
    private final Site[] sites;
    private final int[] pin;
    private final int[] group;
    private final String[] groupNames;
    private final double totalCpu;
    private final double totalCapCpu;
    private final double totalMem;
    private final double totalCapMem;

    /** The feasibility checks of the model {@code e} holds. */
    Feasibility(PlacementEngine e) {
        this.n = e.n;
        this.k = e.k;
        this.vms = e.vms;
        this.sites = e.sites;
        this.pin = e.pin;
        this.group = e.group;
        this.groupNames = e.groupNames;
        this.totalCpu = e.totalCpu;
        this.totalCapCpu = e.totalCapCpu;
        this.totalMem = e.totalMem;
        this.totalCapMem = e.totalCapMem;
    }

    /** Checks the hard constraints that need no placement; throws INFEASIBLE naming the tightest one. */
    void check() {
        if (n > 0 && k == 0) {
            throw infeasible(n + " VMs but no site");
        }
        double cpuRatio = totalCapCpu == 0 ? (totalCpu > 0 ? Double.POSITIVE_INFINITY : 0) : totalCpu / totalCapCpu;
        double memRatio = totalCapMem == 0 ? (totalMem > 0 ? Double.POSITIVE_INFINITY : 0) : totalMem / totalCapMem;
        if (cpuRatio > 1 || memRatio > 1) {
            throw infeasible(cpuRatio >= memRatio
                    ? String.format("cpu: the VMs need %.2f cores, all sites together hold %.2f", totalCpu, totalCapCpu)
                    : String.format("memory: the VMs need %d bytes, all sites together hold %d", (long) totalMem, (long) totalCapMem));
        }
        double[] pinCpu = new double[k];
        long[] pinMem = new long[k];
        for (int v = 0; v < n; v++) {
            if (pin[v] >= 0) {
                pinCpu[pin[v]] += vms[v].cpuCores();
                pinMem[pin[v]] += vms[v].memoryBytes();
            }
        }
        for (int s = 0; s < k; s++) {
            if (pinCpu[s] > sites[s].cpuCores() + 1e-9) {
                throw infeasible(String.format("site %s: VMs pinned to it need %.2f cores, it holds %.2f", sites[s].id(),
                        pinCpu[s], sites[s].cpuCores()));
            }
            if (pinMem[s] > sites[s].memoryBytes()) {
                throw infeasible("site " + sites[s].id() + ": VMs pinned to it need " + pinMem[s]
                        + " bytes of memory, it holds " + sites[s].memoryBytes());
            }
        }
        int[] size = new int[groupNames.length];
        Map<Long, Integer> pinnedMember = new HashMap<>();
        for (int v = 0; v < n; v++) {
            if (group[v] < 0) {
                continue;
            }
            size[group[v]]++;
            if (pin[v] >= 0) {
                Integer other = pinnedMember.put(((long) group[v] << 32) | pin[v], v);
                if (other != null) {
                    throw infeasible("anti-affinity group " + groupNames[group[v]] + ": VMs " + vms[other].id() + " and "
                            + vms[v].id() + " are both pinned to site " + sites[pin[v]].id());
                }
            }
        }
        for (int g = 0; g < size.length; g++) {
            if (size[g] > k) {
                throw infeasible("anti-affinity group " + groupNames[g] + " has " + size[g] + " VMs for " + k + " sites");
            }
        }
    }
}
