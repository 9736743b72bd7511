package io.dwcp.partition;


import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The graph-cut strategies of {@link PlacementEngine}: the traffic graph (with anchor vertices when rebalancing) cut
 * by the multilevel partitioner with pins as fixed vertices; {@code hierarchical} first condenses the strongly
 * connected traffic components that may stay together into one vertex each. Pure computation over the engine's
 * arrays, which it only reads.
 */
final class GraphCut {
    /** The model, read in place (never copied): arrays, totals, constraints. */
    private final PlacementEngine engine;

    /** The graph cut of the model {@code e} holds. */
    GraphCut(PlacementEngine e) {
        this.engine = e;
    }

    int[] partition(PlacementEngine.Settings settings, int[] current, double[] anchor, boolean condense) {
        boolean anchors = current != null && anchor != null;
        int total = engine.n + (anchors ? engine.k : 0);
        // Integer edge weights: largest 10^6, sum at most 2^30.
        double maxW = 0;
        double sumW = 0;
        for (int e = 0; e < engine.adj.length; e++) {
            double w = engine.out[e] + engine.in[e];
            maxW = Math.max(maxW, w);
            sumW += w;
        }
        double[] anchorW = new double[engine.n];
        if (anchors) {
            for (int v = 0; v < engine.n; v++) {
                if (current[v] >= 0 && anchor[v] > 0) {
                    anchorW[v] = anchor[v];
                    maxW = Math.max(maxW, anchorW[v]);
                    sumW += 2 * anchorW[v];
                }
            }
        }
        double scale = maxW == 0 ? 1 : Math.min(1e6 / maxW, (1 << 30) / sumW);
        List<int[]> edges = new ArrayList<>();
        for (int v = 0; v < engine.n; v++) {
            for (int e = engine.xadj[v]; e < engine.xadj[v + 1]; e++) {
                double w = engine.out[e] + engine.in[e];
                if (engine.adj[e] > v && w > 0) {
                    edges.add(new int[] {v, engine.adj[e], (int) Math.max(1, Math.round(w * scale))});
                }
            }
            if (anchors && anchorW[v] > 0) {
                edges.add(new int[] {v, engine.n + current[v], (int) Math.max(1, Math.round(anchorW[v] * scale))});
            }
        }
        int[] vw = new int[total];
        for (int v = 0; v < engine.n; v++) {
            double share = Math.max(engine.totalCapCpu == 0 ? 0 : engine.vms[v].cpuCores() / engine.totalCapCpu,
                    engine.totalCapMem == 0 ? 0 : engine.vms[v].memoryBytes() / engine.totalCapMem);
            vw[v] = (int) Math.max(1, Math.round(share * PlacementEngine.VERTEX_SCALE));
        }
        int[] fixed = new int[total];
        System.arraycopy(engine.pin, 0, fixed, 0, engine.n);
        for (int a = 0; a < total - engine.n; a++) {
            fixed[engine.n + a] = a;
        }
        int[][] columns = Graph.edgeColumns(edges);
        int[] from = columns[0];
        int[] to = columns[1];
        int[] w = columns[2];
        Graph g = Graph.fromEdges(vw, from, to, w);
        long totalVw = g.totalVertexWeight;
        long[] target = new long[engine.k];
        long[] max = new long[engine.k];
        long smallestMax = Long.MAX_VALUE;
        for (int s = 0; s < engine.k; s++) {
            double share = ((engine.totalCapCpu == 0 ? 0 : engine.sites[s].cpuCores() / engine.totalCapCpu)
                    + (engine.totalCapMem == 0 ? 0 : engine.sites[s].memoryBytes() / engine.totalCapMem)) / 2;
            target[s] = Math.round(totalVw * share);
            max[s] = Math.max(target[s], (long) Math.floor(target[s] * (1 + settings.maxImbalance())));
            smallestMax = Math.min(smallestMax, max[s]);
        }
        MultilevelPartitioner.Options options = new MultilevelPartitioner.Options(engine.k, settings.maxImbalance(), settings.seed(),
                settings.refinementPasses(), 8, settings.cycles());
        int[] map = condense ? condensation(total, vw, fixed, smallestMax) : null;
        int[] initial = null;
        if (anchors) {
            // Rebalancing starts from the current placement: the plan is never worse than staying put.
            initial = new int[total];
            for (int v = 0; v < total; v++) {
                initial[v] = v < engine.n ? (current[v] >= 0 ? current[v] : 0) : v - engine.n;
            }
        }
        int[] parts;
        if (map == null) {
            parts = MultilevelPartitioner.partition(g, engine.k, target, max, fixed, options, initial);
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
            int[] cparts = MultilevelPartitioner.partition(cg, engine.k, target, max, cfixed, options, cinitial);
            parts = new int[total];
            for (int v = 0; v < total; v++) {
                parts[v] = cparts[map[v]];
            }
        }
        return Arrays.copyOf(parts, engine.n);
    }

    /**
     * Condensed vertex of each graph vertex: one per strongly connected component of the directed traffic graph that
     * may stay together, else one per vertex; {@code null} when nothing condenses.
     */
    private int[] condensation(int total, int[] vw, int[] fixed, long smallestMax) {
        int[] dx = new int[engine.n + 1];
        for (int v = 0; v < engine.n; v++) {
            int d = 0;
            for (int e = engine.xadj[v]; e < engine.xadj[v + 1]; e++) {
                if (engine.out[e] > 0) {
                    d++;
                }
            }
            dx[v + 1] = dx[v] + d;
        }
        int[] dadj = new int[dx[engine.n]];
        for (int v = 0, i = 0; v < engine.n; v++) {
            for (int e = engine.xadj[v]; e < engine.xadj[v + 1]; e++) {
                if (engine.out[e] > 0) {
                    dadj[i++] = engine.adj[e];
                }
            }
        }
        int[] comp = Tarjan.components(engine.n, dx, dadj);
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
        for (int v = 0; v < engine.n; v++) {
            int c = comp[v];
            weight[c] += vw[v];
            size[c]++;
            if (engine.pin[v] >= 0) {
                if (cpin[c] >= 0 && cpin[c] != engine.pin[v]) {
                    split[c] = true;
                }
                cpin[c] = engine.pin[v];
            }
            if (engine.group[v] >= 0 && groupSeen.put(((long) engine.group[v] << 32) | c, Boolean.TRUE) != null) {
                split[c] = true;
            }
        }
        int[] map = new int[total];
        int[] id = new int[nc];
        Arrays.fill(id, -1);
        int next = 0;
        boolean any = false;
        for (int v = 0; v < total; v++) {
            if (v < engine.n) {
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
}
