package io.dwcp.partition;

import java.util.Arrays;
import java.util.SplittableRandom;

/*
 * Heavy-edge matching coarsening. Vertices are visited by ascending degree, in a random order (seeded)
 * among equal degrees; each unmatched vertex is matched
 * with the unmatched neighbour joined by the heaviest edge, provided the pair's weight stays below a cap (so that the
 * coarse graph can still be balanced) and the two are not fixed to different blocks. On graphs where this leaves many
 * vertices unmatched (power-law graphs: many leaves around a hub), unmatched vertices that share a neighbour are
 * matched with each other ("two-hop" matching, as METIS does), and isolated vertices are paired. Matched pairs become
 * one coarse vertex whose weight is the sum and whose edges are the merged edges of both. Given the blocks of an
 * earlier partition, only vertices of the same block are matched, so that partition carries over to the coarse graph
 * unchanged (iterated V-cycles).
 */
final class Coarsener {
    private Coarsener() {
    }

    /** One coarsening step: the coarse graph, the map from fine to coarse vertices and the coarse fixed blocks. */
    record Level(Graph graph, int[] fineToCoarse, int[] fixed, int[] blocks) {
    }

    /**
     * Matches and contracts {@code g} once.
     *
     * @param fixed block of each fixed vertex, -1 for free ones
     * @param maxVertexWeight no coarse vertex heavier than this (unless a single vertex already is)
     */
    static Level coarsen(Graph g, int[] fixed, int[] blocks, long maxVertexWeight, SplittableRandom rnd, Workspace ws) {
        int n = g.n;
        ws.ensureCoarsening(n, g.adj.length);
        int[] match = ws.match;
        Arrays.fill(match, 0, n, -1);
        int[] perm = ws.order2;
        permutation(perm, n, rnd);
        // Low-degree vertices first (random among equals), as METIS does: they have the fewest choices left later.
        int[] order = ws.order;
        degreeOrder(g, perm, order);
        int unmatched = fixed == null && blocks == null
                ? matchFree(g, order, match, maxVertexWeight)
                : matchConstrained(g, fixed, blocks, order, match, maxVertexWeight);
        if (unmatched > n / 10) {
            twoHop(g, fixed, blocks, match, order, maxVertexWeight);
        }
        int[] cmap = new int[n];
        int nc = 0;
        for (int u = 0; u < n; u++) {
            if (match[u] < 0) {
                match[u] = u;
            }
            if (u <= match[u]) {
                cmap[u] = nc;
                cmap[match[u]] = nc++;
            }
        }
        return contract(g, fixed, blocks, match, cmap, nc, ws);
    }

    /*
     * The matching loops. Heaviest edge first; among equal edges the lighter partner (keeps coarse vertex weights
     * even); among equal partners the first in adjacency order. matchFree is the common case (no pins, no earlier
     * blocks) with the weight cap as the only condition; both give the same matching when fixed and blocks are null.
     */

    /** Heavy-edge matching without pins or blocks; returns the number of vertices left unmatched. */
    private static int matchFree(Graph g, int[] order, int[] match, long maxVertexWeight) {
        int[] xadj = g.xadj;
        int[] adj = g.adj;
        int[] ewgt = g.ewgt;
        int[] vwgt = g.vwgt;
        int unmatched = 0;
        for (int i = 0, n = g.n; i < n; i++) {
            int u = order[i];
            if (match[u] >= 0) {
                continue;
            }
            long room = maxVertexWeight - vwgt[u];
            int best = -1;
            int bestEdge = 0;
            int bestWeight = 0;
            for (int e = xadj[u], end = xadj[u + 1]; e < end; e++) {
                int v = adj[e];
                if (match[v] < 0) {
                    int w = ewgt[e];
                    int vw = vwgt[v];
                    if (vw <= room && (w > bestEdge || (w == bestEdge && vw < bestWeight))) {
                        best = v;
                        bestEdge = w;
                        bestWeight = vw;
                    }
                }
            }
            if (best >= 0) {
                match[u] = best;
                match[best] = u;
            } else {
                unmatched++;
            }
        }
        return unmatched;
    }

    /** Heavy-edge matching that keeps pins apart and, given earlier blocks, matches only inside a block. */
    private static int matchConstrained(Graph g, int[] fixed, int[] blocks, int[] order, int[] match,
                                        long maxVertexWeight) {
        int[] xadj = g.xadj;
        int[] adj = g.adj;
        int[] ewgt = g.ewgt;
        int[] vwgt = g.vwgt;
        int unmatched = 0;
        for (int i = 0, n = g.n; i < n; i++) {
            int u = order[i];
            if (match[u] >= 0) {
                continue;
            }
            int best = -1;
            int bestEdge = 0;
            int bestWeight = 0;
            for (int e = xadj[u], end = xadj[u + 1]; e < end; e++) {
                int v = adj[e];
                if (match[v] < 0 && compatible(g, fixed, blocks, u, v, maxVertexWeight)) {
                    int w = ewgt[e];
                    int vw = vwgt[v];
                    if (w > bestEdge || (w == bestEdge && vw < bestWeight)) {
                        best = v;
                        bestEdge = w;
                        bestWeight = vw;
                    }
                }
            }
            if (best >= 0) {
                match[u] = best;
                match[best] = u;
            } else {
                unmatched++;
            }
        }
        return unmatched;
    }

    private static boolean compatible(Graph g, int[] fixed, int[] blocks, int u, int v, long maxVertexWeight) {
        return (long) g.vwgt[u] + g.vwgt[v] <= maxVertexWeight && (blocks == null || blocks[u] == blocks[v])
                && (fixed == null || fixed[u] < 0 || fixed[v] < 0 || fixed[u] == fixed[v]);
    }

    /** Matches unmatched vertices through a common neighbour, then pairs isolated ones. */
    private static void twoHop(Graph g, int[] fixed, int[] blocks, int[] match, int[] order, long maxVertexWeight) {
        int isolated = -1;
        for (int i = 0; i < g.n; i++) {
            int u = order[i];
            if (match[u] >= 0) {
                continue;
            }
            if (g.xadj[u] == g.xadj[u + 1]) {
                if (isolated >= 0 && compatible(g, fixed, blocks, u, isolated, maxVertexWeight)) {
                    match[u] = isolated;
                    match[isolated] = u;
                    isolated = -1;
                } else {
                    isolated = u;
                }
                continue;
            }
            // Bounded work per vertex: at most 16 hubs, 64 of each hub's neighbours.
            search:
            for (int e = g.xadj[u], hubsEnd = Math.min(g.xadj[u + 1], g.xadj[u] + 16); e < hubsEnd; e++) {
                int hub = g.adj[e];
                int end = Math.min(g.xadj[hub + 1], g.xadj[hub] + 64);
                for (int f = g.xadj[hub]; f < end; f++) {
                    int w = g.adj[f];
                    if (w != u && match[w] < 0 && compatible(g, fixed, blocks, u, w, maxVertexWeight)) {
                        match[u] = w;
                        match[w] = u;
                        break search;
                    }
                }
            }
        }
    }

    private static Level contract(Graph g, int[] fixed, int[] blocks, int[] match, int[] cmap, int nc, Workspace ws) {
        int n = g.n;
        int[] xadj = g.xadj;
        int[] adj = g.adj;
        int[] ewgt = g.ewgt;
        int[] vwgt = g.vwgt;
        int[] cx = new int[nc + 1];
        int[] cadj = ws.edgeAdj;
        int[] cw = ws.edgeWeight;
        int[] cv = new int[nc];
        int[] cfixed = fixed == null ? null : new int[nc];
        int[] cblocks = blocks == null ? null : new int[nc];
        // slot[t]: where coarse neighbour t sits in the current coarse vertex's adjacency, valid when >= its start.
        int[] slot = ws.slot;
        Arrays.fill(slot, 0, nc, -1);
        int out = 0;
        int c = 0;
        long maxDegree = 1;
        for (int u = 0; u < n; u++) {
            int v = match[u];
            if (u > v) {
                continue;
            }
            int start = out;
            cv[c] = v != u ? vwgt[u] + vwgt[v] : vwgt[u];
            if (cfixed != null) {
                cfixed[c] = fixed[u] >= 0 ? fixed[u] : fixed[v];
            }
            if (cblocks != null) {
                cblocks[c] = blocks[u];
            }
            long degree = 0;
            for (int x = u; ; x = v) {
                for (int e = xadj[x], end = xadj[x + 1]; e < end; e++) {
                    int t = cmap[adj[e]];
                    if (t != c) {
                        int w = ewgt[e];
                        degree += w;
                        int s = slot[t];
                        if (s >= start) {
                            cw[s] += w;
                        } else {
                            slot[t] = out;
                            cadj[out] = t;
                            cw[out++] = w;
                        }
                    }
                }
                if (x == v) {
                    break;
                }
            }
            cx[++c] = out;
            maxDegree = Math.max(maxDegree, degree);
        }
        // Every fine vertex is in exactly one coarse vertex, so the total weight carries over.
        Graph coarse = new Graph(cx, Arrays.copyOf(cadj, out), Arrays.copyOf(cw, out), cv, maxDegree,
                g.totalVertexWeight);
        return new Level(coarse, cmap, cfixed, cblocks);
    }

    /** The vertices by ascending degree, ties in the order of {@code order} (counting sort), into {@code out}. */
    static void degreeOrder(Graph g, int[] order, int[] out) {
        int n = g.n;
        int maxDeg = 0;
        for (int v = 0; v < n; v++) {
            maxDeg = Math.max(maxDeg, g.xadj[v + 1] - g.xadj[v]);
        }
        int[] count = new int[maxDeg + 2];
        for (int v = 0; v < n; v++) {
            count[g.xadj[v + 1] - g.xadj[v] + 1]++;
        }
        for (int d = 0; d <= maxDeg; d++) {
            count[d + 1] += count[d];
        }
        for (int i = 0; i < n; i++) {
            int v = order[i];
            out[count[g.xadj[v + 1] - g.xadj[v]]++] = v;
        }
    }

    /** A random permutation of 0 … n − 1 (Fisher–Yates). */
    static int[] permutation(int n, SplittableRandom rnd) {
        int[] p = new int[n];
        permutation(p, n, rnd);
        return p;
    }

    /** A random permutation of 0 … n − 1 into the first {@code n} entries of {@code p}. */
    static void permutation(int[] p, int n, SplittableRandom rnd) {
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
    }
}
