package io.dwcp.partition;

import io.dwcp.core.placement.Node;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/*
 * Placement of the VMs of each site onto the site's nodes (hosts), after the site-level plan. Per site that has nodes:
 *   1. the traffic graph induced by the site's VMs (edge weight = both directions' bytes/s, scaled to integers as the
 *      site-level partition does; vertex weight = the VM's larger share of the nodes' total CPU or memory),
 *   2. a multilevel partition into one block per node with block targets in proportion to the nodes' capacities and
 *      each block allowed up to its node's capacity — its initial partition is a recursive bisection
 *      (RecursiveBisection) of the coarsest graph, refined by k-way FM on every level — so VMs that talk share a node,
 *   3. repair of the hard capacities: while a node is over its CPU or memory, of its VMs and the nodes with room for
 *      them, the move that loses least traffic is made (the first on ties); when no VM can go anywhere the site is
 *      INFEASIBLE, naming the node and resource.
 * Sites without nodes in the model get no node placement. Deterministic for a seed.
 */
final class NodePlacer {
    private NodePlacer() {
    }

    /**
     * VM id → node id for every VM on a site that has nodes.
     *
     * @param site the site index of every VM (the plan)
     * @throws io.dwcp.core.DwcpException INFEASIBLE when a site's VMs do not fit on its nodes
     */
    static Map<String, String> place(PlacementEngine e, int[] site, long seed, double imbalance) {
        Map<String, List<Node>> bySite = new LinkedHashMap<>();
        for (Node node : e.model.nodes()) {
            bySite.computeIfAbsent(node.site(), x -> new ArrayList<>()).add(node);
        }
        Map<String, String> out = new HashMap<>();
        for (Map.Entry<String, List<Node>> entry : bySite.entrySet()) {
            int s = e.siteIndex.get(entry.getKey());
            List<Node> nodes = entry.getValue();
            int[] members = members(e, site, s);
            int[] parts = placeSite(e, members, nodes, seed, imbalance, entry.getKey());
            for (int i = 0; i < members.length; i++) {
                out.put(e.vms[members[i]].id(), nodes.get(parts[i]).id());
            }
        }
        return out;
    }

    private static int[] members(PlacementEngine e, int[] site, int s) {
        int count = 0;
        for (int v = 0; v < e.n; v++) {
            if (site[v] == s) {
                count++;
            }
        }
        int[] m = new int[count];
        int i = 0;
        for (int v = 0; v < e.n; v++) {
            if (site[v] == s) {
                m[i++] = v;
            }
        }
        return m;
    }

    private static int[] placeSite(PlacementEngine e, int[] members, List<Node> nodes, long seed, double imbalance,
                                   String siteId) {
        int m = members.length;
        int k = nodes.size();
        double capCpu = 0;
        double capMem = 0;
        for (Node node : nodes) {
            capCpu += node.cpuCores();
            capMem += node.memoryBytes();
        }
        double cpu = 0;
        double mem = 0;
        for (int v : members) {
            cpu += e.vms[v].cpuCores();
            mem += e.vms[v].memoryBytes();
        }
        if (cpu > capCpu + 1e-9 || mem > capMem) {
            throw PlacementEngine.infeasible("site " + siteId + ": its VMs need " + (cpu > capCpu + 1e-9
                    ? cpu + " CPU cores, its nodes have " + capCpu : mem + " memory bytes, its nodes have " + (long) capMem));
        }
        if (m == 0) {
            return new int[0];
        }
        // Induced traffic graph, integer weights as the site-level partition scales them.
        Map<Integer, Integer> local = new HashMap<>();
        for (int i = 0; i < m; i++) {
            local.put(members[i], i);
        }
        double maxW = 0;
        double sumW = 0;
        for (int v : members) {
            for (int x = e.xadj[v]; x < e.xadj[v + 1]; x++) {
                if (local.containsKey(e.adj[x])) {
                    maxW = Math.max(maxW, e.out[x] + e.in[x]);
                    sumW += e.out[x] + e.in[x];
                }
            }
        }
        double scale = maxW == 0 ? 1 : Math.min(1e6 / maxW, (1 << 30) / sumW);
        List<int[]> edges = new ArrayList<>();
        for (int i = 0; i < m; i++) {
            int v = members[i];
            for (int x = e.xadj[v]; x < e.xadj[v + 1]; x++) {
                Integer j = local.get(e.adj[x]);
                double w = e.out[x] + e.in[x];
                if (j != null && j > i && w > 0) {
                    edges.add(new int[] {i, j, (int) Math.max(1, Math.round(w * scale))});
                }
            }
        }
        int[] vw = new int[m];
        for (int i = 0; i < m; i++) {
            double share = Math.max(capCpu == 0 ? 0 : e.vms[members[i]].cpuCores() / capCpu,
                    capMem == 0 ? 0 : e.vms[members[i]].memoryBytes() / capMem);
            vw[i] = (int) Math.max(1, Math.round(share * PlacementEngine.VERTEX_SCALE));
        }
        Graph g = Graph.fromEdgeTriples(vw, edges);
        int[] parts;
        if (k == 1) {
            parts = new int[m];
        } else {
            long[] target = new long[k];
            long[] max = new long[k];
            for (int p = 0; p < k; p++) {
                Node node = nodes.get(p);
                double share = ((capCpu == 0 ? 0 : node.cpuCores() / capCpu) + (capMem == 0 ? 0 : node.memoryBytes() / capMem)) / 2;
                target[p] = Math.round(g.totalVertexWeight * share);
                // A node may fill up to its capacity (in the vertex weights' unit), not only to its share: VMs that
                // talk may share a node while it has room. The repair below enforces the exact capacities.
                double room = Math.min(capCpu == 0 ? 1 : node.cpuCores() / capCpu, capMem == 0 ? 1 : node.memoryBytes() / capMem);
                max[p] = Math.max((long) Math.floor(target[p] * (1 + imbalance)),
                        (long) Math.floor(room * PlacementEngine.VERTEX_SCALE));
            }
            MultilevelPartitioner.Options options = MultilevelPartitioner.Options.of(k).withSeed(seed).withImbalance(imbalance);
            parts = MultilevelPartitioner.partition(g, k, target, max, null, options, null);
        }
        repair(e, g, members, nodes, parts, siteId);
        return parts;
    }

    /** Moves VMs off nodes over a hard capacity (see the class comment). */
    private static void repair(PlacementEngine e, Graph g, int[] members, List<Node> nodes, int[] parts, String siteId) {
        int k = nodes.size();
        int m = members.length;
        double[] cpu = new double[k];
        long[] mem = new long[k];
        for (int i = 0; i < m; i++) {
            cpu[parts[i]] += e.vms[members[i]].cpuCores();
            mem[parts[i]] += e.vms[members[i]].memoryBytes();
        }
        long[] conn = new long[k];
        for (int p = 0; p < k; p++) {
            while (cpu[p] > nodes.get(p).cpuCores() + 1e-9 || mem[p] > nodes.get(p).memoryBytes()) {
                // The VM of p and the node with room for it that lose the least traffic.
                int bestVm = -1;
                int bestTo = -1;
                long bestLoss = Long.MAX_VALUE;
                for (int i = 0; i < m; i++) {
                    if (parts[i] != p) {
                        continue;
                    }
                    java.util.Arrays.fill(conn, 0);
                    for (int x = g.xadj[i]; x < g.xadj[i + 1]; x++) {
                        conn[parts[g.adj[x]]] += g.ewgt[x];
                    }
                    double vc = e.vms[members[i]].cpuCores();
                    long vm = e.vms[members[i]].memoryBytes();
                    for (int q = 0; q < k; q++) {
                        if (q == p || cpu[q] + vc > nodes.get(q).cpuCores() + 1e-9 || mem[q] + vm > nodes.get(q).memoryBytes()) {
                            continue;
                        }
                        long loss = conn[p] - conn[q];
                        if (loss < bestLoss) {
                            bestLoss = loss;
                            bestVm = i;
                            bestTo = q;
                        }
                    }
                }
                if (bestVm < 0) {
                    Node node = nodes.get(p);
                    boolean cpuOver = cpu[p] > node.cpuCores() + 1e-9;
                    throw PlacementEngine.infeasible("site " + siteId + ": node " + node.id() + " holds "
                            + (cpuOver ? cpu[p] + " CPU cores of its " + node.cpuCores() : mem[p] + " memory bytes of its "
                            + node.memoryBytes()) + " and none of its VMs fits on another node of the site");
                }
                cpu[p] -= e.vms[members[bestVm]].cpuCores();
                mem[p] -= e.vms[members[bestVm]].memoryBytes();
                cpu[bestTo] += e.vms[members[bestVm]].cpuCores();
                mem[bestTo] += e.vms[members[bestVm]].memoryBytes();
                parts[bestVm] = bestTo;
            }
        }
    }
}
