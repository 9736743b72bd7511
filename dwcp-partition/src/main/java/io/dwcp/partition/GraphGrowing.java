package io.dwcp.partition;

import java.util.Arrays;
import java.util.SplittableRandom;

/*
 * Greedy graph-growing initial partition (GGGP generalised to k blocks). Blocks 0 … k−2 are grown one after the
 * other from a pseudo-peripheral seed (the last vertex a breadth-first search from a random free vertex reaches): the
 * free vertex with the highest gain 2·(edge weight into the block) − (its weighted degree) joins next, as long as the
 * block is below its target weight and the vertex fits under the block's maximum. When the frontier runs dry (another
 * component) a new random free vertex is taken. The last block takes what is left; the balancing pass fixes any
 * overflow. Fixed vertices start in their blocks.
 */
final class GraphGrowing {
    private GraphGrowing() {
    }

    static int[] grow(Graph g, int k, long[] targetW, long[] maxW, int[] fixed, SplittableRandom rnd, Workspace ws) {
        int n = g.n;
        int[] part = new int[n];
        Arrays.fill(part, -1);
        long[] pw = new long[k];
        if (fixed != null) {
            for (int v = 0; v < n; v++) {
                if (fixed[v] >= 0) {
                    part[v] = fixed[v];
                    pw[fixed[v]] += g.vwgt[v];
                }
            }
        }
        long[] wdeg = new long[n];
        long maxDeg = 1;
        for (int v = 0; v < n; v++) {
            for (int e = g.xadj[v]; e < g.xadj[v + 1]; e++) {
                wdeg[v] += g.ewgt[e];
            }
            maxDeg = Math.max(maxDeg, wdeg[v]);
        }
        GainBuckets q = ws.buckets;
        q.reset(n, (int) Math.min(2 * maxDeg, 1 << 16));
        long[] connP = new long[n];
        int[] order = Coarsener.permutation(n, rnd);
        int[] bfs = new int[n];
        int[] seen = new int[n];
        int cursor = 0;
        for (int p = 0; p < k - 1; p++) {
            int[] touchedList = new int[16];
            int touchedCount = 0;
            while (cursor < n && part[order[cursor]] >= 0) {
                cursor++;
            }
            if (cursor == n) {
                break;
            }
            int seed = peripheral(g, part, order[cursor], bfs, seen, p + 1);
            q.insert(seed, 0);
            while (pw[p] < targetW[p]) {
                int v = q.popMax();
                if (v < 0) {
                    while (cursor < n && part[order[cursor]] >= 0) {
                        cursor++;
                    }
                    if (cursor == n) {
                        break;
                    }
                    v = order[cursor];
                }
                if (part[v] >= 0) {
                    continue;
                }
                if (pw[p] + g.vwgt[v] > maxW[p]) {
                    if (q.size() == 0) {
                        break;
                    }
                    continue;
                }
                part[v] = p;
                pw[p] += g.vwgt[v];
                for (int e = g.xadj[v]; e < g.xadj[v + 1]; e++) {
                    int u = g.adj[e];
                    if (part[u] < 0) {
                        if (connP[u] == 0) {
                            if (touchedCount == touchedList.length) {
                                touchedList = Arrays.copyOf(touchedList, touchedCount * 2);
                            }
                            touchedList[touchedCount++] = u;
                        }
                        connP[u] += g.ewgt[e];
                        q.update(u, 2 * connP[u] - wdeg[u]);
                    }
                }
            }
            q.clear();
            for (int i = 0; i < touchedCount; i++) {
                connP[touchedList[i]] = 0;
            }
        }
        for (int v = 0; v < n; v++) {
            if (part[v] < 0) {
                part[v] = k - 1;
            }
        }
        return part;
    }

    /** The last free vertex a BFS from {@code start} over free vertices reaches. */
    private static int peripheral(Graph g, int[] part, int start, int[] queue, int[] seen, int mark) {
        int head = 0;
        int tail = 0;
        queue[tail++] = start;
        seen[start] = mark;
        int last = start;
        while (head < tail) {
            int v = queue[head++];
            last = v;
            for (int e = g.xadj[v]; e < g.xadj[v + 1]; e++) {
                int u = g.adj[e];
                if (part[u] < 0 && seen[u] != mark) {
                    seen[u] = mark;
                    queue[tail++] = u;
                }
            }
        }
        return last;
    }
}
