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
 * Places the VMs of one model on its sites. Pure computation, no state between calls.
 *
 * 1. Hard constraints are checked first and reported as INFEASIBLE naming the tightest one: total demand per resource
 *    against total capacity, pinned demand per site, anti-affinity groups larger than the site count or with two
 *    members pinned to one site.
 * 2. The traffic becomes an undirected graph: edge weight = bytes/s in both directions, scaled to integers (the largest
 *    edge 10^6, the total at most 2^30; every edge with traffic at least 1). Vertex weight = the VM's dominant share,
 *    max(cpu ÷ total CPU capacity, memory ÷ total memory capacity), scaled to integers. Each site's target weight is
 *    its share of the capacity (mean of its CPU and memory shares), its maximum the target × (1 + max-imbalance).
 *    With a move cost (rebalancing), every VM is also tied to a fixed, weightless anchor vertex of its current site by
 *    an edge of move-cost-factor × state bytes ÷ planning horizon, so the cut is cross-site traffic plus the moves'
 *    cost spread over the horizon.
 * 3. Strategy: graph-cut = the multilevel partitioner with pins as fixed vertices; hierarchical = the same on the graph
 *    whose strongly connected traffic components (Tarjan) are condensed into one vertex each, unless a component is
 *    heavier than the smallest site's maximum or holds conflicting pins or two members of one anti-affinity group;
 *    greedy = VMs by descending traffic, each to the site with room it exchanges most traffic with.
 * 4. Repair, because the partitioner balances one combined weight: anti-affinity violations are resolved, then every
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
            site = greedy(limits);
        } else {
            site = partition(settings, current, anchor, settings.strategy().equals("hierarchical"));
        }
        repair(site, limits);
        improve(site, limits, current, anchor);
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

    private int[] partition(Settings settings, int[] current, double[] anchor, boolean condense) {
        boolean anchors = current != null && anchor != null;
        int total = n + (anchors ? k : 0);
        // Integer edge weights: largest 10^6, sum at most 2^30.
        double maxW = 0;
        double sumW = 0;
        for (int e = 0; e < adj.length; e++) {
            double w = out[e] + in[e];
            maxW = Math.max(maxW, w);
            sumW += w;
        }
        double[] anchorW = new double[n];
        if (anchors) {
            for (int v = 0; v < n; v++) {
                if (current[v] >= 0 && anchor[v] > 0) {
                    anchorW[v] = anchor[v];
                    maxW = Math.max(maxW, anchorW[v]);
                    sumW += 2 * anchorW[v];
                }
            }
        }
        double scale = maxW == 0 ? 1 : Math.min(1e6 / maxW, (1 << 30) / sumW);
        List<int[]> edges = new ArrayList<>();
        for (int v = 0; v < n; v++) {
            for (int e = xadj[v]; e < xadj[v + 1]; e++) {
                double w = out[e] + in[e];
                if (adj[e] > v && w > 0) {
                    edges.add(new int[] {v, adj[e], (int) Math.max(1, Math.round(w * scale))});
                }
            }
            if (anchors && anchorW[v] > 0) {
                edges.add(new int[] {v, n + current[v], (int) Math.max(1, Math.round(anchorW[v] * scale))});
            }
        }
        int[] vw = new int[total];
        for (int v = 0; v < n; v++) {
            double share = Math.max(totalCapCpu == 0 ? 0 : vms[v].cpuCores() / totalCapCpu,
                    totalCapMem == 0 ? 0 : vms[v].memoryBytes() / totalCapMem);
            vw[v] = (int) Math.max(1, Math.round(share * VERTEX_SCALE));
        }
        int[] fixed = new int[total];
        System.arraycopy(pin, 0, fixed, 0, n);
        for (int a = 0; a < total - n; a++) {
            fixed[n + a] = a;
        }
        int[][] columns = Graph.edgeColumns(edges);
        int[] from = columns[0];
        int[] to = columns[1];
        int[] w = columns[2];
        Graph g = Graph.fromEdges(vw, from, to, w);
        long totalVw = g.totalVertexWeight;
        long[] target = new long[k];
        long[] max = new long[k];
        long smallestMax = Long.MAX_VALUE;
        for (int s = 0; s < k; s++) {
            double share = ((totalCapCpu == 0 ? 0 : sites[s].cpuCores() / totalCapCpu)
                    + (totalCapMem == 0 ? 0 : sites[s].memoryBytes() / totalCapMem)) / 2;
            target[s] = Math.round(totalVw * share);
            max[s] = Math.max(target[s], (long) Math.floor(target[s] * (1 + settings.maxImbalance())));
            smallestMax = Math.min(smallestMax, max[s]);
        }
        MultilevelPartitioner.Options options = new MultilevelPartitioner.Options(k, settings.maxImbalance(), settings.seed(),
                settings.refinementPasses(), 8, settings.cycles());
        int[] map = condense ? condensation(total, vw, fixed, smallestMax) : null;
        int[] initial = null;
        if (anchors) {
            // Rebalancing starts from the current placement: the plan is never worse than staying put.
            initial = new int[total];
            for (int v = 0; v < total; v++) {
                initial[v] = v < n ? (current[v] >= 0 ? current[v] : 0) : v - n;
            }
        }
        int[] parts;
        if (map == null) {
            parts = MultilevelPartitioner.partition(g, k, target, max, fixed, options, initial);
        } else {
            int nc = 0;
            for (int x : map) {
                nc = Math.max(nc, x + 1);
            }
            int[] cvw = new int[nc];
            int[] cfixed = new int[nc];
            Arrays.fill(cfixed, -1);
            for (int v = 0; v < total; v++) {
                cvw[map[v]] += vw[v];
                if (fixed[v] >= 0) {
                    cfixed[map[v]] = fixed[v];
                }
            }
            int m = 0;
            for (int i = 0; i < from.length; i++) {
                if (map[from[i]] != map[to[i]]) {
                    from[m] = map[from[i]];
                    to[m] = map[to[i]];
                    w[m++] = w[i];
                }
            }
            Graph cg = Graph.fromEdges(cvw, Arrays.copyOf(from, m), Arrays.copyOf(to, m), Arrays.copyOf(w, m));
            int[] cinitial = null;
            if (initial != null) {
                cinitial = new int[nc];
                for (int v = total - 1; v >= 0; v--) {
                    cinitial[map[v]] = initial[v];
                }
            }
            int[] cparts = MultilevelPartitioner.partition(cg, k, target, max, cfixed, options, cinitial);
            parts = new int[total];
            for (int v = 0; v < total; v++) {
                parts[v] = cparts[map[v]];
            }
        }
        return Arrays.copyOf(parts, n);
    }

    /**
     * Condensed vertex of each graph vertex: one per strongly connected component of the directed traffic graph that
     * may stay together, else one per vertex; {@code null} when nothing condenses.
     */
    private int[] condensation(int total, int[] vw, int[] fixed, long smallestMax) {
        int[] dx = new int[n + 1];
        for (int v = 0; v < n; v++) {
            int d = 0;
            for (int e = xadj[v]; e < xadj[v + 1]; e++) {
                if (out[e] > 0) {
                    d++;
                }
            }
            dx[v + 1] = dx[v] + d;
        }
        int[] dadj = new int[dx[n]];
        for (int v = 0, i = 0; v < n; v++) {
            for (int e = xadj[v]; e < xadj[v + 1]; e++) {
                if (out[e] > 0) {
                    dadj[i++] = adj[e];
                }
            }
        }
        int[] comp = Tarjan.components(n, dx, dadj);
        int nc = 0;
        for (int c : comp) {
            nc = Math.max(nc, c + 1);
        }
        long[] weight = new long[nc];
        int[] size = new int[nc];
        int[] cpin = new int[nc];
        Arrays.fill(cpin, -1);
        boolean[] split = new boolean[nc];
        Map<Long, Boolean> groupSeen = new HashMap<>();
        for (int v = 0; v < n; v++) {
            int c = comp[v];
            weight[c] += vw[v];
            size[c]++;
            if (pin[v] >= 0) {
                if (cpin[c] >= 0 && cpin[c] != pin[v]) {
                    split[c] = true;
                }
                cpin[c] = pin[v];
            }
            if (group[v] >= 0 && groupSeen.put(((long) group[v] << 32) | c, Boolean.TRUE) != null) {
                split[c] = true;
            }
        }
        int[] map = new int[total];
        int[] id = new int[nc];
        Arrays.fill(id, -1);
        int next = 0;
        boolean any = false;
        for (int v = 0; v < total; v++) {
            if (v < n) {
                int c = comp[v];
                boolean keep = size[c] > 1 && !split[c] && weight[c] <= smallestMax;
                if (keep) {
                    any = true;
                    if (id[c] < 0) {
                        id[c] = next++;
                    }
                    map[v] = id[c];
                    continue;
                }
            }
            map[v] = next++;
        }
        return any ? map : null;
    }

    /** Greedy baseline: VMs by descending traffic, each to the site with room it exchanges the most traffic with. */
    private int[] greedy(Limits limits) {
        int[] site = new int[n];
        Arrays.fill(site, -1);
        Loads loads = new Loads(site);
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

    /** Traffic (bytes/s, both directions) between {@code v} and each site under {@code site}. */
    private void connections(int v, int[] site, double[] conn) {
        Arrays.fill(conn, 0);
        for (int e = xadj[v]; e < xadj[v + 1]; e++) {
            conn[site[adj[e]]] += out[e] + in[e];
        }
    }

    /** Resolves anti-affinity conflicts, then capacity overflows; INFEASIBLE when that is impossible. */
    private void repair(int[] site, Limits limits) {
        Loads loads = new Loads(site);
        double[] conn = new double[k];
        for (int v = 0; v < n; v++) {
            int g = group[v];
            if (g < 0 || loads.groupCount[g][site[v]] <= 1 || pin[v] >= 0) {
                continue;
            }
            connections(v, site, conn);
            int best = -1;
            for (int s = 0; s < k; s++) {
                if (limits.fits(v, s, loads, false) && (best < 0 || conn[s] > conn[best])) {
                    best = s;
                }
            }
            if (best < 0) {
                throw infeasible("anti-affinity group " + groupNames[g] + ": no site without another member has room for VM "
                        + vms[v].id());
            }
            loads.move(v, site, best);
        }
        for (int s = 0; s < k; s++) {
            while (loads.overfull(s)) {
                if (!shedOne(site, loads, limits, s, false, conn)) {
                    boolean cpu = loads.cpu[s] > sites[s].cpuCores() + 1e-9;
                    throw infeasible("site " + sites[s].id() + ": " + (cpu
                            ? String.format("cpu load %.2f > capacity %.2f", loads.cpu[s], sites[s].cpuCores())
                            : "memory load " + loads.mem[s] + " > capacity " + sites[s].memoryBytes())
                            + " and no VM on it can move to a site with room");
                }
            }
        }
        // Best effort: CPU above the balance limit (max-imbalance) is shed where another site has balanced room.
        for (int s = 0; s < k; s++) {
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
        for (int v = 0; v < n; v++) {
            if (site[v] != s || pin[v] >= 0) {
                continue;
            }
            connections(v, site, conn);
            for (int t = 0; t < k; t++) {
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
    private void improve(int[] site, Limits limits, int[] current, double[] anchor) {
        Loads loads = new Loads(site);
        double[] value = new double[k];
        for (int sweep = 0; sweep < 2; sweep++) {
            boolean moved = false;
            for (int v = 0; v < n; v++) {
                if (pin[v] >= 0) {
                    continue;
                }
                for (int s = 0; s < k; s++) {
                    double c = 0;
                    for (int e = xadj[v]; e < xadj[v + 1]; e++) {
                        int su = site[adj[e]];
                        c += out[e] * cost[s][su] + in[e] * cost[su][s];
                    }
                    if (anchor != null && current != null && current[v] >= 0 && current[v] != s) {
                        c += anchor[v];
                    }
                    value[s] = c;
                }
                int own = site[v];
                int best = own;
                for (int s = 0; s < k; s++) {
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
