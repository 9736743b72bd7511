package io.dwcp.partition;

/*
 * Scratch arrays of one partitioning call, shared by every coarsening, refinement and graph-growing step in it (levels, cycles,
 * the bisections of the initial partitioning), so a level costs its work and not the allocation and zeroing of a
 * dozen arrays and a gain-bucket table of up to 2^17 entries. The arrays only grow. Users take them one at a time (a
 * Coarsener, Refiner or GraphGrowing call never runs inside another), so nothing is shared between live users. Not thread-safe:
 * one instance per partitioning call and thread (Forks.workspace()).
 */
final class Workspace {
    int[] target = new int[0];
    /** Vertices locked in the current FM pass carry the current {@link #stamp}; stamps only grow. */
    int[] lockStamp = new int[0];
    int stamp;
    int[] logV = new int[0];
    int[] logFrom = new int[0];
    long[] ed = new long[0];
    long[] wdeg = new long[0];
    int[] boundary = new int[0];
    int[] boundaryPos = new int[0];
    int[] scratch = new int[0];
    final GainBuckets buckets = new GainBuckets(0, 1);
    /** Coarsening scratch (Coarsener): per-vertex match, two orders and the contraction's slot table. */
    int[] match = new int[0];
    int[] order = new int[0];
    int[] order2 = new int[0];
    int[] slot = new int[0];
    /** Coarsening scratch: the coarse adjacency and edge weights before they are copied out at their final size. */
    int[] edgeAdj = new int[0];
    int[] edgeWeight = new int[0];

    /** Makes every array hold at least {@code n} vertices (contents unspecified, except lock stamps below {@link #stamp}). */
    void ensure(int n) {
        if (target.length >= n) {
            return;
        }
        int cap = Math.max(n, target.length + (target.length >> 1));
        target = new int[cap];
        lockStamp = new int[cap];
        logV = new int[cap];
        logFrom = new int[cap];
        ed = new long[cap];
        wdeg = new long[cap];
        boundary = new int[cap];
        boundaryPos = new int[cap];
        scratch = new int[cap];
    }

    /** Makes the coarsening scratch hold at least {@code n} vertices and {@code edges} adjacency entries. */
    void ensureCoarsening(int n, int edges) {
        if (match.length < n) {
            int cap = Math.max(n, match.length + (match.length >> 1));
            match = new int[cap];
            order = new int[cap];
            order2 = new int[cap];
            slot = new int[cap];
        }
        if (edgeAdj.length < edges) {
            int cap = Math.max(edges, edgeAdj.length + (edgeAdj.length >> 1));
            edgeAdj = new int[cap];
            edgeWeight = new int[cap];
        }
    }
}
