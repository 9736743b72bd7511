package io.dwcp.partition;

import java.util.Arrays;
import java.util.SplittableRandom;

/*
 * Initial k-way partition of the coarsest graph by recursive bisection: the blocks lo … lo+count−1 are split into
 * ⌊count/2⌋ and the rest, the graph is bisected in proportion to the two halves' target weights and each side is
 * extracted as an induced subgraph and split again. A bisection of a graph above FLAT_LIMIT vertices is multilevel
 * (MultilevelPartitioner.bisect: coarsening, flat bisections of the coarsest graph, FM on every level); a smaller one
 * is the best (balanced first, then smallest cut) of `trials` greedy graph-growing bisections, each FM-refined. Works for any k, not only powers of two. Fixed vertices go to the side
 * holding their block.
 */
final class RecursiveBisection {
    private RecursiveBisection() {
    }

    /** Graphs up to this size are bisected flat (graph growing + FM), larger ones multilevel. */
    static final int FLAT_LIMIT = 200;

    static int[] partition(Graph g, int k, long[] target, int[] fixed, MultilevelPartitioner.Options options,
                           SplittableRandom rnd, boolean multilevel, Forks forks) {
        int[] parts = new int[g.n];
        int[] ids = new int[g.n];
        for (int v = 0; v < g.n; v++) {
            ids[v] = v;
        }
        split(g, ids, fixed, 0, k, target, options, multilevel, rnd, parts, forks);
        return parts;
    }

    private static void split(Graph g, int[] ids, int[] fixed, int lo, int count, long[] target,
                              MultilevelPartitioner.Options options, boolean multilevel, SplittableRandom rnd, int[] out,
                              Forks forks) {
        double imbalance = options.imbalance();
        int trials = options.initialTrials();
        int passes = options.refinementPasses();
        if (count == 1 || g.n == 0) {
            for (int id : ids) {
                out[id] = lo;
            }
            return;
        }
        int leftCount = count / 2;
        long leftTarget = 0;
        long allTarget = 0;
        for (int p = lo; p < lo + count; p++) {
            allTarget += target[p];
            if (p < lo + leftCount) {
                leftTarget += target[p];
            }
        }
        long total = g.totalVertexWeight;
        long t0 = allTarget == 0 ? total / 2 : Math.round((double) total * leftTarget / allTarget);
        long[] t = {t0, total - t0};
        // A bisection tolerance that compounds to about the overall one over the levels of the recursion.
        double levels = Math.ceil(Math.log(count) / Math.log(2));
        double eps = Math.pow(1 + imbalance, 1 / Math.max(1, levels)) - 1;
        long[] maxW = {(long) Math.floor(t[0] * (1 + eps)) + 1, (long) Math.floor(t[1] * (1 + eps)) + 1};
        int[] side = null;
        if (fixed != null) {
            side = new int[g.n];
            for (int v = 0; v < g.n; v++) {
                side[v] = fixed[v] < 0 ? -1 : fixed[v] < lo + leftCount ? 0 : 1;
            }
        }
        int[] best = null;
        if (multilevel && g.n > FLAT_LIMIT) {
            best = MultilevelPartitioner.bisect(g, t, maxW, side, options.withImbalance(Math.min(1, eps)), rnd, forks);
        } else {
            long bestCut = Long.MAX_VALUE;
            long bestOver = Long.MAX_VALUE;
            Workspace ws = forks.workspace();
            for (int trial = 0; trial < trials; trial++) {
                int[] parts = GraphGrowing.grow(g, 2, t, maxW, side, rnd, ws);
                Refiner r = new Refiner(g, 2, maxW, side, parts, rnd, ws);
                r.refine(passes);
                long over = Math.max(0, r.pw[0] - maxW[0]) + Math.max(0, r.pw[1] - maxW[1]);
                long cut = r.cut();
                if (over < bestOver || (over == bestOver && cut < bestCut)) {
                    best = parts;
                    bestCut = cut;
                    bestOver = over;
                }
            }
        }
        Graph[] subs = new Graph[2];
        int[][] subIdsOf = new int[2][];
        int[][] subFixedOf = new int[2][];
        for (int s = 0; s < 2; s++) {
            int[] local = new int[g.n];
            int size = 0;
            for (int v = 0; v < g.n; v++) {
                local[v] = best[v] == s ? size++ : -1;
            }
            int[] subIds = new int[size];
            int[] subFixed = fixed == null ? null : new int[size];
            int[] vw = new int[size];
            int[] xadj = new int[size + 1];
            int[] adj = new int[g.adj.length];
            int[] ew = new int[g.adj.length];
            int e2 = 0;
            for (int v = 0; v < g.n; v++) {
                int lv = local[v];
                if (lv < 0) {
                    continue;
                }
                subIds[lv] = ids[v];
                vw[lv] = g.vwgt[v];
                if (subFixed != null) {
                    subFixed[lv] = fixed[v];
                }
                for (int e = g.xadj[v]; e < g.xadj[v + 1]; e++) {
                    int lu = local[g.adj[e]];
                    if (lu >= 0) {
                        adj[e2] = lu;
                        ew[e2++] = g.ewgt[e];
                    }
                }
                xadj[lv + 1] = e2;
            }
            subs[s] = new Graph(xadj, Arrays.copyOf(adj, e2), Arrays.copyOf(ew, e2), vw);
            subIdsOf[s] = subIds;
            subFixedOf[s] = subFixed;
        }
        // Each side gets its own random stream, split off here in a fixed order, so the result does not depend on
        // whether the sides run in parallel; small sides are not worth a fork.
        SplittableRandom[] streams = {rnd.split(), rnd.split()};
        int sides = g.n > 2 * FLAT_LIMIT ? 2 : 1;
        forks.all(sides, first -> {
            for (int s = first; s < 2; s += sides) {
                int subLo = s == 0 ? lo : lo + leftCount;
                int subCount = s == 0 ? leftCount : count - leftCount;
                split(subs[s], subIdsOf[s], subFixedOf[s], subLo, subCount, target, options, multilevel, streams[s], out,
                        forks);
            }
            return null;
        });
    }
}
