package io.dwcp.partition;

import java.util.SplittableRandom;

/*
 * k-way boundary Fiduccia–Mattheyses refinement with gain buckets, and the balancing pass.
 *
 * FM pass: every free boundary vertex that can gain (at least as much edge weight to other blocks as inside its own)
 * enters the gain buckets with its best move (the adjacent block, with room for
 * it, that it is most strongly connected to; gain = edge weight to that block − edge weight inside its own block). The
 * highest-gain vertex is popped, its move recomputed against the current block weights and made, the vertex locked
 * for the rest of the pass, and its free neighbours' gains updated. Negative-gain moves are allowed (hill climbing)
 * until `limit` moves in a row have not improved the best cut of the pass; then the moves after the best prefix are
 * undone. Every move keeps the target block within its maximum weight, so a balanced partition stays balanced.
 *
 * Balancing pass (run first whenever a block is over its maximum, at every level): vertices of overweight blocks are
 * moved, in gain order, to blocks with room (adjacent ones first, else the relatively lightest), until no block is
 * overweight or nothing can move.
 *
 * Fixed vertices (pins) never move. Not thread-safe; one instance per level.
 */
final class Refiner {
    private static final long NONE = Long.MIN_VALUE;
    /** Neighbours with more edges than this get an upper-bound gain after a move, recomputed lazily when popped. */
    private static final int LAZY_DEGREE = 24;

    private final Graph g;
    private final int k;
    private final long[] maxW;
    private final int[] fixed;
    private final SplittableRandom rnd;
    final int[] part;
    final long[] pw;
    private final long[] conn;
    private final int[] touched;
    private final int[] target;
    private final int[] lockStamp;
    private final Workspace ws;
    private final GainBuckets buckets;
    private final int[] logV;
    private final int[] logFrom;
    /** Weight of each vertex's edges into other blocks; a vertex is on the boundary when it is above 0. */
    private final long[] ed;
    /** Weighted degree of each vertex. */
    private final long[] wdeg;
    /** The boundary vertices (first {@code boundarySize} entries) and each vertex's index there, or -1. */
    private final int[] boundary;
    private final int[] boundaryPos;
    private int boundarySize;
    private final int[] scratch;

    /** A refiner of {@code part} (changed in place) that borrows {@code ws}'s arrays until the next user takes them. */
    Refiner(Graph g, int k, long[] maxW, int[] fixed, int[] part, SplittableRandom rnd, Workspace ws) {
        this(g, k, maxW, fixed, part, rnd, ws, null, null);
    }

    /**
     * As above, for a partition projected from a coarser level: {@code coarseBoundary[cmap[v]]} says whether the coarse
     * vertex of {@code v} was on the boundary there. A vertex whose coarse vertex was inside its block has every
     * neighbour in its block (its neighbours' coarse vertices are its own coarse vertex or that one's neighbours), so
     * only the others are scanned to find the boundary: the same boundary, in the same order, as a full sweep.
     */
    Refiner(Graph g, int k, long[] maxW, int[] fixed, int[] part, SplittableRandom rnd, Workspace ws,
            boolean[] coarseBoundary, int[] cmap) {
        this.g = g;
        this.k = k;
        this.maxW = maxW;
        this.fixed = fixed;
        this.rnd = rnd;
        this.part = part;
        this.pw = g.blockWeights(part, k);
        this.conn = new long[k];
        this.touched = new int[k];
        ws.ensure(g.n);
        this.ws = ws;
        this.target = ws.target;
        this.lockStamp = ws.lockStamp;
        this.logV = ws.logV;
        this.logFrom = ws.logFrom;
        this.ed = ws.ed;
        this.wdeg = ws.wdeg;
        this.boundary = ws.boundary;
        this.boundaryPos = ws.boundaryPos;
        this.scratch = ws.scratch;
        // One sweep over the edges of the vertices that may be on the boundary: external degrees, the boundary, and
        // the weighted degrees (of the others: -1, computed when first needed).
        for (int v = 0; v < g.n; v++) {
            boundaryPos[v] = -1;
            if (coarseBoundary != null && !coarseBoundary[cmap[v]]) {
                ed[v] = 0;
                wdeg[v] = -1;
                continue;
            }
            long x = 0;
            long d = 0;
            int own = part[v];
            for (int e = g.xadj[v]; e < g.xadj[v + 1]; e++) {
                int w = g.ewgt[e];
                d += w;
                if (part[g.adj[e]] != own) {
                    x += w;
                }
            }
            ed[v] = x;
            wdeg[v] = d;
            if (x > 0) {
                addBoundary(v);
            }
        }
        this.buckets = ws.buckets;
        buckets.reset(g.n, (int) Math.min(g.maxWeightedDegree(), 1 << 16));
    }

    /** Whether {@code v} is on the boundary of the current partition (valid until the workspace is lent again). */
    boolean onBoundary(int v) {
        return ed[v] > 0;
    }

    /**
     * The cut of the current partition: half the external degrees of the boundary vertices (every other vertex has
     * none). Valid until the workspace is lent again.
     */
    long cut() {
        long c = 0;
        for (int i = 0; i < boundarySize; i++) {
            c += ed[boundary[i]];
        }
        return c / 2;
    }

    private long weightedDegree(int v) {
        long d = wdeg[v];
        if (d < 0) {
            d = 0;
            for (int e = g.xadj[v]; e < g.xadj[v + 1]; e++) {
                d += g.ewgt[e];
            }
            wdeg[v] = d;
        }
        return d;
    }

    private void addBoundary(int v) {
        boundaryPos[v] = boundarySize;
        boundary[boundarySize++] = v;
    }

    private void removeBoundary(int v) {
        int i = boundaryPos[v];
        int last = boundary[--boundarySize];
        boundary[i] = last;
        boundaryPos[last] = i;
        boundaryPos[v] = -1;
    }

    private boolean isFixed(int v) {
        return fixed != null && fixed[v] >= 0;
    }

    boolean overweight() {
        for (int p = 0; p < k; p++) {
            if (pw[p] > maxW[p]) {
                return true;
            }
        }
        return false;
    }

    /** Balancing, then up to {@code passes} FM passes, stopping at the first that does not improve the cut. */
    void refine(int passes) {
        for (int i = 0; i < passes; i++) {
            if (overweight()) {
                balance();
            }
            if (!fmPass()) {
                break;
            }
        }
        if (overweight()) {
            balance();
        }
    }

    /**
     * The best move of {@code v}: sets {@code target[v]} and returns its gain, or {@link #NONE} when no block with room
     * is adjacent (with {@code anyBlock}, the relatively lightest block with room is then taken, at gain −internal).
     */
    private long bestMove(int v, boolean anyBlock) {
        int own = part[v];
        int vw = g.vwgt[v];
        long internal = 0;
        int nt = 0;
        for (int e = g.xadj[v]; e < g.xadj[v + 1]; e++) {
            int p = part[g.adj[e]];
            if (p == own) {
                internal += g.ewgt[e];
            } else {
                if (conn[p] == 0) {
                    touched[nt++] = p;
                }
                conn[p] += g.ewgt[e];
            }
        }
        int best = -1;
        long bestConn = -1;
        for (int i = 0; i < nt; i++) {
            int p = touched[i];
            long c = conn[p];
            conn[p] = 0;
            if (pw[p] + vw <= maxW[p] && (c > bestConn || (c == bestConn && pw[p] * maxW[best] < pw[best] * maxW[p]))) {
                best = p;
                bestConn = c;
            }
        }
        if (best < 0 && anyBlock) {
            for (int p = 0; p < k; p++) {
                if (p != own && pw[p] + vw <= maxW[p]
                        && (best < 0 || (double) pw[p] / maxW[p] < (double) pw[best] / maxW[best])) {
                    best = p;
                }
            }
            bestConn = 0;
        }
        if (best < 0) {
            return NONE;
        }
        target[v] = best;
        return bestConn - internal;
    }

    /** Moves {@code v} to block {@code to}, keeping block weights, external degrees and the boundary up to date. */
    private void move(int v, int to) {
        int from = part[v];
        pw[from] -= g.vwgt[v];
        pw[to] += g.vwgt[v];
        part[v] = to;
        long edv = 0;
        for (int e = g.xadj[v]; e < g.xadj[v + 1]; e++) {
            int u = g.adj[e];
            int w = g.ewgt[e];
            int pu = part[u];
            if (pu == from) {
                if (ed[u] == 0) {
                    addBoundary(u);
                }
                ed[u] += w;
            } else if (pu == to) {
                ed[u] -= w;
                if (ed[u] == 0) {
                    removeBoundary(u);
                }
            }
            if (pu != to) {
                edv += w;
            }
        }
        if (edv > 0 && ed[v] == 0) {
            addBoundary(v);
        } else if (edv == 0 && ed[v] > 0) {
            removeBoundary(v);
        }
        ed[v] = edv;
    }

    /** One FM pass; true when it lowered the cut. */
    boolean fmPass() {
        int n = g.n;
        int stamp = ++ws.stamp;
        buckets.clear();
        int nb = boundarySize;
        System.arraycopy(boundary, 0, scratch, 0, nb);
        for (int i = nb - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = scratch[i];
            scratch[i] = scratch[j];
            scratch[j] = t;
        }
        for (int i = 0; i < nb; i++) {
            int v = scratch[i];
            if (2 * ed[v] < weightedDegree(v)) {
                // More weight inside its block than outside: no move of v can gain. It enters the pass only when a
                // neighbour's move changes that (as METIS's k-way refinement does); saves a fifth of the time for
                // about 0.4 % of cut on the tuning graphs.
                continue;
            }
            if (!isFixed(v)) {
                long gain = bestMove(v, false);
                if (gain != NONE) {
                    buckets.insert(v, gain);
                }
            }
        }
        // Hill climbing gives up after this many moves without a new best cut: 1 % of the vertices, at least 15 and
        // at most 100 (300 cost time for no better cut; a floor of 30 spent time on the many small flat bisections).
        int limit = Math.min(Math.max(15, n / 100), 100);
        long cum = 0;
        long best = 0;
        int bestLen = 0;
        int len = 0;
        int since = 0;
        int v;
        while ((v = buckets.popMax()) >= 0) {
            long key = buckets.lastKey();
            long gain = bestMove(v, false);
            if (gain == NONE) {
                continue;
            }
            long clamped = buckets.clamp(gain);
            if (clamped < key && buckets.maxKey() > clamped) {
                // A stale upper bound (see below): back in with the exact gain, the true maximum comes first.
                buckets.insert(v, gain);
                continue;
            }
            int from = part[v];
            int to = target[v];
            logV[len] = v;
            logFrom[len++] = from;
            move(v, to);
            lockStamp[v] = stamp;
            cum += gain;
            if (cum > best) {
                best = cum;
                bestLen = len;
                since = 0;
            } else if (++since > limit) {
                break;
            }
            for (int e = g.xadj[v]; e < g.xadj[v + 1]; e++) {
                int u = g.adj[e];
                if (lockStamp[u] == stamp || isFixed(u)) {
                    continue;
                }
                if (ed[u] == 0) {
                    buckets.remove(u);
                    continue;
                }
                if (g.xadj[u + 1] - g.xadj[u] > LAZY_DEGREE && buckets.contains(u)) {
                    // High degree: recomputing the gain costs O(degree) per moved neighbour. Raise the key to an
                    // upper bound of the new gain instead (it can grow by 2w when u was in v's old block, by w when
                    // in a third block, not at all in v's new block); the exact gain is computed when u is popped.
                    int pu = part[u];
                    long delta = pu == from ? 2L * g.ewgt[e] : pu == to ? 0 : g.ewgt[e];
                    if (delta > 0) {
                        buckets.update(u, buckets.key(u) + delta);
                    }
                    continue;
                }
                long gu = bestMove(u, false);
                if (gu == NONE) {
                    buckets.remove(u);
                } else {
                    buckets.update(u, gu);
                }
            }
        }
        for (int i = len - 1; i >= bestLen; i--) {
            move(logV[i], logFrom[i]);
        }
        return best > 0;
    }

    /** Moves vertices out of overweight blocks, cheapest cut increase first. */
    void balance() {
        for (int round = 0; round < 4 && overweight(); round++) {
            buckets.clear();
            for (int v : Coarsener.permutation(g.n, rnd)) {
                if (!isFixed(v) && pw[part[v]] > maxW[part[v]]) {
                    long gain = bestMove(v, true);
                    if (gain != NONE) {
                        buckets.insert(v, gain);
                    }
                }
            }
            int v;
            while ((v = buckets.popMax()) >= 0) {
                if (pw[part[v]] <= maxW[part[v]]) {
                    continue;
                }
                long gain = bestMove(v, true);
                if (gain != NONE) {
                    move(v, target[v]);
                }
            }
        }
    }
}
