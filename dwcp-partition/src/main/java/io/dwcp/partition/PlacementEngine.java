package io.dwcp.partition;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.placement.PlacementModel;
import io.dwcp.core.placement.Site;
import io.dwcp.core.placement.Traffic;
import io.dwcp.core.placement.Vm;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/*
 * Places the VMs of one model on its sites. Pure computation, no state between calls. This class holds the model as
 * arrays, runs the steps below and measures placements; each step is a class of its own. The engine is the one
 * read-only model that the steps and the move planners share: its fields are set in the constructor and never written
 * after, and everyone reads them in place (no step copies them).
 *
 * 1. Feasibility: hard constraints are checked first and reported as INFEASIBLE naming the tightest one: total demand per resource
 *    against total capacity, pinned demand per site, anti-affinity groups larger than the site count or with two
 *    members pinned to one site.
 * 2. The traffic becomes an undirected graph: edge weight = bytes/s in both directions, scaled to integers (the largest
 *    edge 10^6, the total at most 2^30; every edge with traffic at least 1). Vertex weight = the VM's dominant share,
 *    max(cpu ÷ total CPU capacity, memory ÷ total memory capacity), scaled to integers. Each site's target weight is
 *    its share of the capacity (mean of its CPU and memory shares), its maximum the target × (1 + max-imbalance).
 *    With a move cost (rebalancing), every VM is also tied to a fixed, weightless anchor vertex of its current site by
 *    an edge of move-cost-factor × state bytes ÷ planning horizon, so the cut is cross-site traffic plus the moves'
 *    cost spread over the horizon.
 * 3. Strategy (GraphCut, GreedyPlacement): graph-cut = the multilevel partitioner with pins as fixed vertices; hierarchical = the same on the graph
 *    whose strongly connected traffic components (Tarjan) are condensed into one vertex each, unless a component is
 *    heavier than the smallest site's maximum or holds conflicting pins or two members of one anti-affinity group;
 *    greedy = VMs by descending traffic, each to the site with room it exchanges most traffic with.
 * 4. PlacementRepair, because the partitioner balances one combined weight: anti-affinity violations are resolved, then every
 *    site over a CPU or memory capacity sheds the VMs whose move loses least traffic (nothing movable left →
 *    INFEASIBLE), then, as far as possible, every site over the CPU balance limit. Finally a 1-opt pass moves single VMs to the site with the lowest cost-weighted traffic (the inter-site
 *    cost matrix enters here) while capacities, pins, anti-affinity and the balance limit hold.
 */
final class PlacementEngine {
    /** Integer scale of vertex weights: dominant shares × this. */
    static final double VERTEX_SCALE = 1e8;

    record Settings(String strategy, double maxImbalance, long seed, int refinementPasses, int cycles) {
    }

    final PlacementModel model;
    final int n;
    final int k;
    final Vm[] vms;
    final Site[] sites;
    final Map<String, Integer> vmIndex = new HashMap<>();
    final Map<String, Integer> siteIndex = new HashMap<>();
    final int[] pin;
    final int[] group;
    final String[] groupNames;
    /** Undirected traffic adjacency: out = bytes/s v→u, in = bytes/s u→v. */
    final int[] xadj;
    final int[] adj;
    final double[] out;
    final double[] in;
    final double[][] cost;
    final double totalTraffic;
    final double totalCpu;
    final double totalCapCpu;
    final double totalMem;
    final double totalCapMem;

    PlacementEngine(PlacementModel model) {
        this.model = model;
        this.vms = model.vms().toArray(new Vm[0]);
        this.sites = model.sites().toArray(new Site[0]);
        this.n = vms.length;
        this.k = sites.length;
        for (int i = 0; i < k; i++) {
            siteIndex.put(sites[i].id(), i);
        }
        pin = new int[n];
        group = new int[n];
        Map<String, Integer> groups = new HashMap<>();
        List<String> names = new ArrayList<>();
        double cpu = 0;
        double mem = 0;
        for (int v = 0; v < n; v++) {
            vmIndex.put(vms[v].id(), v);
            pin[v] = vms[v].pinnedSite().map(siteIndex::get).orElse(-1);
            group[v] = vms[v].antiAffinityGroup().map(g -> groups.computeIfAbsent(g, x -> {
                names.add(x);
                return names.size() - 1;
            })).orElse(-1);
            cpu += vms[v].cpuCores();
            mem += vms[v].memoryBytes();
        }
        groupNames = names.toArray(new String[0]);
        totalCpu = cpu;
        totalMem = mem;
        double capCpu = 0;
        double capMem = 0;
        for (Site s : sites) {
            capCpu += s.cpuCores();
            capMem += s.memoryBytes();
        }
        totalCapCpu = capCpu;
        totalCapMem = capMem;
        cost = new double[k][k];
        for (int a = 0; a < k; a++) {
            for (int b = 0; b < k; b++) {
                cost[a][b] = model.cost(sites[a].id(), sites[b].id());
            }
        }
        // Undirected adjacency with both directions' rates, parallel edges merged.
        Map<Long, double[]> pairs = new HashMap<>();
        double total = 0;
        for (Traffic t : model.traffic()) {
            int a = vmIndex.get(t.from());
            int b = vmIndex.get(t.to());
            long key = a < b ? ((long) a << 32) | b : ((long) b << 32) | a;
            double[] w = pairs.computeIfAbsent(key, x -> new double[2]);
            w[a < b ? 0 : 1] += t.bytesPerSecond();
            total += t.bytesPerSecond();
        }
        totalTraffic = total;
        int[] deg = new int[n + 1];
        for (long key : pairs.keySet()) {
            deg[(int) (key >>> 32) + 1]++;
            deg[(int) key + 1]++;
        }
        for (int v = 0; v < n; v++) {
            deg[v + 1] += deg[v];
        }
        xadj = deg;
        adj = new int[deg[n]];
        out = new double[deg[n]];
        in = new double[deg[n]];
        int[] pos = Arrays.copyOf(deg, n);
        List<Long> keys = new ArrayList<>(pairs.keySet());
        keys.sort(null); // deterministic adjacency order, whatever the hash order
        for (long key : keys) {
            int a = (int) (key >>> 32);
            int b = (int) key;
            double[] w = pairs.get(key);
            adj[pos[a]] = b;
            out[pos[a]] = w[0];
            in[pos[a]++] = w[1];
            adj[pos[b]] = a;
            out[pos[b]] = w[1];
            in[pos[b]++] = w[0];
        }
    }

    static DwcpException infeasible(String message) {
        return new DwcpException(ErrorCode.INFEASIBLE, message);
    }

    /** Checks the hard constraints that need no placement; throws INFEASIBLE naming the tightest one. */
    void checkFeasible() {
        new Feasibility(this).check();
    }

    /**
     * A placement (site index per VM) satisfying every hard constraint.
     *
     * @param current the current site of each VM (-1 for none), or {@code null}
     * @param anchor per VM, the weight of the edge that ties it to its current site (its move cost spread over the
     *     planning horizon), in the same bytes/s unit as traffic; {@code null} for a placement from scratch
     * @throws DwcpException INFEASIBLE naming the constraint that could not be met
     */
    int[] place(Settings settings, int[] current, double[] anchor) {
        checkFeasible();
        if (n == 0) {
            return new int[0];
        }
        Limits limits = new Limits(settings.maxImbalance());
        int[] site;
        if (settings.strategy().equals("greedy")) {
            site = new GreedyPlacement(this).greedy(limits);
        } else {
            site = new GraphCut(this).partition(settings, current, anchor, settings.strategy().equals("hierarchical"));
        }
        PlacementRepair repair = new PlacementRepair(this);
        repair.repair(site, limits);
        repair.improve(site, limits, current, anchor);
        return site;
    }

    /** Per-site limits: hard capacities and the balance limit on CPU. */
    final class Limits {
        final double[] cpuBalanced = new double[k];

        Limits(double maxImbalance) {
            double util = totalCapCpu == 0 ? 0 : totalCpu / totalCapCpu;
            for (int s = 0; s < k; s++) {
                cpuBalanced[s] = Math.min(sites[s].cpuCores(), sites[s].cpuCores() * util * (1 + maxImbalance));
            }
        }

        /** Whether {@code v} fits on {@code s} (capacities, with {@code balanced} the CPU balance limit, and anti-affinity). */
        boolean fits(int v, int s, Loads loads, boolean balanced) {
            double cap = balanced ? cpuBalanced[s] : sites[s].cpuCores();
            return loads.cpu[s] + vms[v].cpuCores() <= cap + 1e-9 && loads.fitsHard(v, s);
        }
    }

    /** CPU, memory and anti-affinity-group counts per site of a placement (-1 = not placed), updated by moves. */
    final class Loads {
        final double[] cpu = new double[k];
        final long[] mem = new long[k];
        final int[][] groupCount = new int[groupNames.length][k];

        Loads(int[] site) {
            for (int v = 0; v < n; v++) {
                if (site[v] >= 0) {
                    add(v, site[v], 1);
                }
            }
        }

        private void add(int v, int s, int sign) {
            cpu[s] += sign * vms[v].cpuCores();
            mem[s] += sign * vms[v].memoryBytes();
            if (group[v] >= 0) {
                groupCount[group[v]][s] += sign;
            }
        }

        /** Moves (or places, when {@code site[v]} is -1) {@code v} to {@code to}. */
        void move(int v, int[] site, int to) {
            if (site[v] >= 0) {
                add(v, site[v], -1);
            }
            add(v, to, 1);
            site[v] = to;
        }

        /** Whether {@code v} fits on {@code s} within the hard CPU and memory capacities and anti-affinity. */
        boolean fitsHard(int v, int s) {
            return cpu[s] + vms[v].cpuCores() <= sites[s].cpuCores() + 1e-9
                    && mem[s] + vms[v].memoryBytes() <= sites[s].memoryBytes()
                    && (group[v] < 0 || groupCount[group[v]][s] == 0);
        }

        boolean overfull(int s) {
            return cpu[s] > sites[s].cpuCores() + 1e-9 || mem[s] > sites[s].memoryBytes();
        }
    }

    /**
     * The cost of one state byte moved from site {@code a} to site {@code b}, in the unit of cost-weighted traffic: a
     * migration's bytes cross the same link as the traffic from {@code a} to {@code b}, so they cost what a cross-site
     * byte costs there (the cost matrix; 1 without one), and nothing on one site.
     */
    double moveByteCost(int a, int b) {
        return a == b ? 0 : cost[a][b];
    }

    /** The mean of {@link #moveByteCost} from site {@code a} to the other sites (1 with a single site). */
    double meanMoveByteCost(int a) {
        if (k < 2) {
            return 1;
        }
        double sum = 0;
        for (int b = 0; b < k; b++) {
            sum += moveByteCost(a, b);
        }
        return sum / (k - 1);
    }

    /**
     * The moving cost of {@code plan} against {@code current}: factor × the state bytes of every moved VM × the cost
     * of a byte on the link it crosses.
     */
    double movingCost(int[] current, int[] plan, double factor) {
        double c = 0;
        for (int v = 0; v < n; v++) {
            if (plan[v] != current[v]) {
                c += factor * vms[v].stateBytes() * moveByteCost(current[v], plan[v]);
            }
        }
        return c;
    }

    /** Cross-site traffic in bytes/s under {@code site}; with {@code weighted}, weighted by the cost matrix. */
    double crossTraffic(int[] site, boolean weighted) {
        double sum = 0;
        for (int v = 0; v < n; v++) {
            for (int e = xadj[v]; e < xadj[v + 1]; e++) {
                int u = adj[e];
                if (site[u] != site[v] && out[e] > 0) {
                    sum += weighted ? out[e] * cost[site[v]][site[u]] : out[e];
                }
            }
        }
        return sum;
    }

    /** Largest site CPU utilisation ÷ overall CPU utilisation − 1 (0 without CPU demand). */
    double imbalance(int[] site) {
        double[] load = new double[k];
        for (int v = 0; v < n; v++) {
            load[site[v]] += vms[v].cpuCores();
        }
        double util = totalCapCpu == 0 ? 0 : totalCpu / totalCapCpu;
        if (util == 0) {
            return 0;
        }
        double max = 0;
        for (int s = 0; s < k; s++) {
            if (sites[s].cpuCores() > 0) {
                max = Math.max(max, load[s] / sites[s].cpuCores());
            }
        }
        return max / util - 1;
    }

    /** The first hard constraint {@code site} breaks (capacity, pin, anti-affinity), or {@code null}. */
    String violation(int[] site) {
        Loads loads = new Loads(site);
        Map<Long, Integer> members = new HashMap<>();
        for (int v = 0; v < n; v++) {
            if (pin[v] >= 0 && site[v] != pin[v]) {
                return "VM " + vms[v].id() + " is pinned to " + sites[pin[v]].id() + " but on " + sites[site[v]].id();
            }
            if (group[v] >= 0) {
                Integer other = members.put(((long) group[v] << 32) | site[v], v);
                if (other != null) {
                    return "anti-affinity group " + groupNames[group[v]] + ": VMs " + vms[other].id() + " and " + vms[v].id()
                            + " both on " + sites[site[v]].id();
                }
            }
        }
        for (int s = 0; s < k; s++) {
            if (loads.cpu[s] > sites[s].cpuCores() + 1e-9) {
                return String.format("site %s: cpu load %.2f > capacity %.2f", sites[s].id(), loads.cpu[s], sites[s].cpuCores());
            }
            if (loads.mem[s] > sites[s].memoryBytes()) {
                return "site " + sites[s].id() + ": memory load " + loads.mem[s] + " > capacity " + sites[s].memoryBytes();
            }
        }
        return null;
    }

    /** The current site of each VM from the model, -1 where it has none. */
    int[] current() {
        int[] c = new int[n];
        for (int v = 0; v < n; v++) {
            String s = model.currentPlacement().get(vms[v].id());
            c[v] = s == null ? -1 : siteIndex.get(s);
        }
        return c;
    }
}
