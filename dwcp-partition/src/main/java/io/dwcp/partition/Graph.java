package io.dwcp.partition;

import java.util.Arrays;
import java.util.Objects;

/**
 * An undirected graph with integer vertex and edge weights in compressed sparse row form: the neighbours of vertex
 * {@code v} are {@code adjacency[offsets[v]] … adjacency[offsets[v + 1] - 1]}, each edge listed from both ends with the
 * same weight. Vertices are {@code 0 … n − 1}. Immutable (the arrays are never handed out).
 */
public final class Graph {
    final int n;
    final int[] xadj;
    final int[] adj;
    final int[] ewgt;
    final int[] vwgt;
    final long totalVertexWeight;
    /** The largest weighted degree (at least 1), or -1 until first asked for; a benign race computes it twice. */
    private volatile long maxWeightedDegree;

    /** Takes ownership of the arrays; the caller guarantees symmetry, no self-loops and positive weights. */
    Graph(int[] xadj, int[] adj, int[] ewgt, int[] vwgt) {
        this(xadj, adj, ewgt, vwgt, -1);
    }

    /** As above, with the largest weighted degree when the caller knows it (at least 1), else -1. */
    Graph(int[] xadj, int[] adj, int[] ewgt, int[] vwgt, long maxWeightedDegree) {
        this(xadj, adj, ewgt, vwgt, maxWeightedDegree, sum(vwgt));
    }

    /** As above, with the total vertex weight when the caller knows it (a coarse graph has its fine graph's total). */
    Graph(int[] xadj, int[] adj, int[] ewgt, int[] vwgt, long maxWeightedDegree, long totalVertexWeight) {
        this.maxWeightedDegree = maxWeightedDegree;
        this.n = vwgt.length;
        this.xadj = xadj;
        this.adj = adj;
        this.ewgt = ewgt;
        this.vwgt = vwgt;
        this.totalVertexWeight = totalVertexWeight;
    }

    private static long sum(int[] vwgt) {
        long t = 0;
        for (int w : vwgt) {
            t += w;
        }
        return t;
    }

    /**
     * As {@link #fromEdges(int[], int[], int[], int[])}, with the edges as {@code {from, to, weight}} triples.
     *
     * @param vertexWeights weight of each vertex
     * @param edges one {@code {from, to, weight}} triple per edge
     * @return the graph in compressed sparse row form
     */
    static Graph fromEdgeTriples(int[] vertexWeights, java.util.List<int[]> edges) {
        int[][] c = edgeColumns(edges);
        return fromEdges(vertexWeights, c[0], c[1], c[2]);
    }

    /**
     * The {@code from}, {@code to} and {@code weight} columns of {@code {from, to, weight}} triples.
     *
     * @param edges one triple per edge
     * @return three new arrays, each of {@code edges.size()}
     */
    static int[][] edgeColumns(java.util.List<int[]> edges) {
        int[][] c = new int[3][edges.size()];
        for (int i = 0; i < edges.size(); i++) {
            int[] e = edges.get(i);
            c[0][i] = e[0];
            c[1][i] = e[1];
            c[2][i] = e[2];
        }
        return c;
    }

    /**
     * A graph from an edge list; parallel edges are merged (weights added), both directions stored.
     *
     * @param vertexWeights weight of each vertex, each ≥ 0; its length is the vertex count
     * @param from one end of each edge
     * @param to other end of each edge
     * @param weights weight of each edge, each ≥ 1
     * @return the graph in compressed sparse row form
     * @throws IllegalArgumentException when the edge arrays differ in length, naming the edge for a self-loop, an id
     *     out of range or a weight below 1, or the vertex for a negative weight
     * @throws ArithmeticException when merged parallel edges exceed {@code int} range
     */
    public static Graph fromEdges(int[] vertexWeights, int[] from, int[] to, int[] weights) {
        int n = vertexWeights.length;
        if (from.length != to.length || from.length != weights.length) {
            throw new IllegalArgumentException("edge arrays differ in length: " + from.length + ", " + to.length + ", " + weights.length);
        }
        for (int v = 0; v < n; v++) {
            if (vertexWeights[v] < 0) {
                throw new IllegalArgumentException("vertex " + v + " has negative weight " + vertexWeights[v]);
            }
        }
        int[] deg = new int[n + 1];
        for (int e = 0; e < from.length; e++) {
            int u = from[e];
            int v = to[e];
            if (u < 0 || u >= n || v < 0 || v >= n) {
                throw new IllegalArgumentException("edge " + e + " (" + u + ", " + v + ") names a vertex outside 0.." + (n - 1));
            }
            if (u == v) {
                throw new IllegalArgumentException("edge " + e + " is a self-loop on vertex " + u);
            }
            if (weights[e] < 1) {
                throw new IllegalArgumentException("edge " + e + " (" + u + ", " + v + ") has weight " + weights[e] + " < 1");
            }
            deg[u + 1]++;
            deg[v + 1]++;
        }
        for (int v = 0; v < n; v++) {
            deg[v + 1] += deg[v];
        }
        int[] pos = Arrays.copyOf(deg, n);
        int[] adj = new int[deg[n]];
        int[] w = new int[deg[n]];
        for (int e = 0; e < from.length; e++) {
            adj[pos[from[e]]] = to[e];
            w[pos[from[e]]++] = weights[e];
            adj[pos[to[e]]] = from[e];
            w[pos[to[e]]++] = weights[e];
        }
        return merged(deg, adj, w, vertexWeights.clone());
    }

    /** Merges parallel edges in place order (weights added, overflow checked). */
    private static Graph merged(int[] xadj, int[] adj, int[] w, int[] vwgt) {
        int n = vwgt.length;
        int[] slot = new int[n];
        Arrays.fill(slot, -1);
        int[] nx = new int[n + 1];
        int out = 0;
        for (int v = 0; v < n; v++) {
            int start = out;
            for (int e = xadj[v]; e < xadj[v + 1]; e++) {
                int u = adj[e];
                if (slot[u] >= start) {
                    w[slot[u]] = Math.addExact(w[slot[u]], w[e]);
                } else {
                    slot[u] = out;
                    adj[out] = u;
                    w[out++] = w[e];
                }
            }
            nx[v + 1] = out;
        }
        return new Graph(nx, Arrays.copyOf(adj, out), Arrays.copyOf(w, out), vwgt);
    }

    /**
     * The number of vertices.
     *
     * @return n; the vertices are {@code 0 … n − 1}
     */
    public int vertexCount() {
        return n;
    }

    /**
     * The number of undirected edges.
     *
     * @return the edge count, parallel edges merged into one
     */
    public int edgeCount() {
        return adj.length / 2;
    }

    /**
     * The weight of vertex {@code v}.
     *
     * @param v the vertex, {@code 0 … n − 1}
     * @return its weight
     * @throws IndexOutOfBoundsException when {@code v} is not a vertex
     */
    public int vertexWeight(int v) {
        return vwgt[Objects.checkIndex(v, n)];
    }

    /**
     * The sum of all vertex weights.
     *
     * @return the total vertex weight
     */
    public long totalVertexWeight() {
        return totalVertexWeight;
    }

    /**
     * The number of neighbours of {@code v}.
     *
     * @param v the vertex, {@code 0 … n − 1}
     * @return its degree
     * @throws IndexOutOfBoundsException when {@code v} is not a vertex
     */
    public int degree(int v) {
        Objects.checkIndex(v, n);
        return xadj[v + 1] - xadj[v];
    }

    /**
     * The total weight of edges whose ends lie in different blocks.
     *
     * @param parts block of each vertex
     * @return the edge cut
     * @throws IllegalArgumentException when {@code parts} does not have one entry per vertex
     */
    public long cut(int[] parts) {
        if (parts.length != n) {
            throw new IllegalArgumentException("partition has " + parts.length + " entries for " + n + " vertices");
        }
        long cut = 0;
        for (int v = 0; v < n; v++) {
            for (int e = xadj[v]; e < xadj[v + 1]; e++) {
                if (parts[adj[e]] != parts[v]) {
                    cut += ewgt[e];
                }
            }
        }
        return cut / 2;
    }

    /** The largest sum of one vertex's edge weights, at least 1 (the FM gain range); computed on first use. */
    long maxWeightedDegree() {
        long m = maxWeightedDegree;
        if (m < 0) {
            m = 1;
            for (int v = 0; v < n; v++) {
                long d = 0;
                for (int e = xadj[v]; e < xadj[v + 1]; e++) {
                    d += ewgt[e];
                }
                m = Math.max(m, d);
            }
            maxWeightedDegree = m;
        }
        return m;
    }

    /**
     * The sum of vertex weights in each of {@code k} blocks.
     *
     * @param parts block of each vertex, each in {@code 0 … k − 1}
     * @param k the number of blocks
     * @return the weight of each block, indexed by block
     */
    public long[] blockWeights(int[] parts, int k) {
        long[] w = new long[k];
        for (int v = 0; v < n; v++) {
            w[parts[v]] += vwgt[v];
        }
        return w;
    }
}
