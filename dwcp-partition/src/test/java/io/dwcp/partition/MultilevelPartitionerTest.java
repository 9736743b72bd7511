package io.dwcp.partition;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MultilevelPartitionerTest {
    /** A rows × cols grid graph with unit weights. */
    static Graph grid(int rows, int cols) {
        int n = rows * cols;
        int m = rows * (cols - 1) + cols * (rows - 1);
        int[] from = new int[m];
        int[] to = new int[m];
        int e = 0;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                int v = r * cols + c;
                if (c + 1 < cols) {
                    from[e] = v;
                    to[e++] = v + 1;
                }
                if (r + 1 < rows) {
                    from[e] = v;
                    to[e++] = v + cols;
                }
            }
        }
        int[] ones = new int[n];
        Arrays.fill(ones, 1);
        int[] w = new int[m];
        Arrays.fill(w, 1);
        return Graph.fromEdges(ones, from, to, w);
    }

    /** A random graph: a ring (connected) plus random chords, random vertex and edge weights. */
    static Graph random(int n, int chords, long seed, boolean weighted) {
        SplittableRandom r = new SplittableRandom(seed);
        int m = n + chords;
        int[] from = new int[m];
        int[] to = new int[m];
        int[] w = new int[m];
        int e = 0;
        for (int v = 0; v < n; v++) {
            from[e] = v;
            to[e] = (v + 1) % n;
            w[e++] = weighted ? 1 + r.nextInt(9) : 1;
        }
        for (int i = 0; i < chords; i++) {
            int u = r.nextInt(n);
            int v = r.nextInt(n);
            if (u == v) {
                v = (u + 1) % n;
            }
            from[e] = u;
            to[e] = v;
            w[e++] = weighted ? 1 + r.nextInt(9) : 1;
        }
        int[] vw = new int[n];
        for (int v = 0; v < n; v++) {
            vw[v] = weighted ? 1 + r.nextInt(4) : 1;
        }
        return Graph.fromEdges(vw, from, to, w);
    }

    static void assertValid(Graph g, Partition p, int k, double eps) {
        int[] b = p.blocks();
        assertEquals(g.vertexCount(), b.length);
        for (int x : b) {
            assertTrue(x >= 0 && x < k, "block " + x);
        }
        long ideal = (g.totalVertexWeight() + k - 1) / k;
        long bound = Math.max(ideal, (long) Math.floor((1 + eps) * ideal));
        for (long w : g.blockWeights(b, k)) {
            assertTrue(w <= bound, "block weight " + w + " > " + bound);
        }
        assertEquals(g.cut(b), p.cut());
    }

    @Example
    void bisectsTwoCliquesJoinedByOneEdgeAtTheOptimalCut() {
        // Two 6-cliques joined by a single edge: the optimum bisection cuts exactly that edge.
        int[] from = new int[31];
        int[] to = new int[31];
        int e = 0;
        for (int base = 0; base <= 6; base += 6) {
            for (int i = 0; i < 6; i++) {
                for (int j = i + 1; j < 6; j++) {
                    from[e] = base + i;
                    to[e++] = base + j;
                }
            }
        }
        from[e] = 5;
        to[e] = 6;
        int[] ones = new int[12];
        Arrays.fill(ones, 1);
        int[] w = new int[31];
        Arrays.fill(w, 1);
        Graph g = Graph.fromEdges(ones, from, to, w);
        Partition p = MultilevelPartitioner.partition(g, MultilevelPartitioner.Options.of(2).withImbalance(0));
        assertEquals(1, p.cut());
        assertValid(g, p, 2, 0);
    }

    @Example
    void edgeWeightsBeyondTheGainBucketRangeStillTerminateAndBalance() {
        // Gains beyond ±65536 share the end buckets; a heavily weighted grid must not make FM re-queue forever.
        Graph unit = grid(24, 24);
        int[] from = new int[unit.edgeCount()];
        int[] to = new int[unit.edgeCount()];
        int[] w = new int[unit.edgeCount()];
        SplittableRandom rnd = new SplittableRandom(3);
        int e = 0;
        for (int v = 0; v < unit.n; v++) {
            for (int i = unit.xadj[v]; i < unit.xadj[v + 1]; i++) {
                if (unit.adj[i] > v) {
                    from[e] = v;
                    to[e] = unit.adj[i];
                    w[e++] = 100_000 + rnd.nextInt(1_000_000); // total stays below 2^31
                }
            }
        }
        int[] ones = new int[unit.n];
        Arrays.fill(ones, 1);
        Graph g = Graph.fromEdges(ones, from, to, w);
        Partition p = MultilevelPartitioner.partition(g, MultilevelPartitioner.Options.of(5).withSeed(2));
        assertValid(g, p, 5, 0.03);
    }

    @Example
    void cutsA32By32GridIntoFourQuadrantsNearTheOptimum() {
        Graph g = grid(32, 32);
        Partition p = MultilevelPartitioner.partition(g, MultilevelPartitioner.Options.of(4));
        assertValid(g, p, 4, 0.03);
        // The optimum 4-way cut of a 32 × 32 grid is 64 (two straight lines); allow 25 % above it.
        assertTrue(p.cut() <= 80, "cut " + p.cut());
    }

    @Property(tries = 30)
    void partitionIsValidBalancedAndNoWorseThanRoundRobin(@ForAll @IntRange(min = 2, max = 13) int k,
                                                          @ForAll @LongRange(min = 0, max = 1000) long seed) {
        Graph g = random(400, 300, seed, false);
        Partition p = MultilevelPartitioner.partition(g, MultilevelPartitioner.Options.of(k).withSeed(seed));
        assertValid(g, p, k, 0.03);
        int[] rr = new int[g.vertexCount()];
        for (int v = 0; v < rr.length; v++) {
            rr[v] = v % k;
        }
        assertTrue(p.cut() <= g.cut(rr), "cut " + p.cut() + " > round robin " + g.cut(rr));
    }

    @Property(tries = 20)
    void weightedPartitionStaysWithinTheBound(@ForAll @IntRange(min = 2, max = 9) int k,
                                              @ForAll @LongRange(min = 0, max = 1000) long seed) {
        Graph g = random(300, 500, seed, true);
        Partition p = MultilevelPartitioner.partition(g, MultilevelPartitioner.Options.of(k).withImbalance(0.05).withSeed(seed));
        assertValid(g, p, k, 0.05);
    }

    @Property(tries = 10)
    void sameSeedGivesTheSamePartition(@ForAll @IntRange(min = 2, max = 17) int k, @ForAll long seed) {
        Graph g = random(500, 700, 7, true);
        MultilevelPartitioner.Options o = MultilevelPartitioner.Options.of(k).withSeed(seed).withCycles(2);
        assertArrayEquals(MultilevelPartitioner.partition(g, o).blocks(), MultilevelPartitioner.partition(g, o).blocks());
    }

    @Property(tries = 8)
    void aFurtherIteratedCycleNeverMakesTheResultWorse(@ForAll @IntRange(min = 2, max = 12) int k,
                                                        @ForAll @LongRange(min = 0, max = 1000) long seed) {
        // 5 and 6 cycles share their 3 from-scratch cycles and the first 2 iterated ones (same random streams): the
        // sixth is one more candidate, so the result can only be as good or better (balance first, then cut).
        Graph g = random(1500, 2200, seed, true);
        MultilevelPartitioner.Options o = MultilevelPartitioner.Options.of(k).withSeed(seed).withThreads(1);
        Partition five = MultilevelPartitioner.partition(g, o.withCycles(5));
        Partition six = MultilevelPartitioner.partition(g, o.withCycles(6));
        assertValid(g, five, k, 0.03);
        assertValid(g, six, k, 0.03);
        assertTrue(six.cut() <= five.cut(), "6 cycles cut " + six.cut() + " > 5 cycles cut " + five.cut());
    }

    @Property(tries = 20)
    void theRefinersCutIsTheGraphsCut(@ForAll @IntRange(min = 2, max = 9) int k,
                                      @ForAll @LongRange(min = 0, max = 10_000) long seed) {
        // The cut a refined partition is scored by comes from the refiner's boundary; it must equal a full count, on a
        // flat graph and on a level projected from a coarser one (whose boundary scan skips interior vertices).
        Graph g = random(400, 500, seed, true);
        SplittableRandom rnd = new SplittableRandom(seed);
        long[] maxW = new long[k];
        Arrays.fill(maxW, (long) (1.03 * ((g.totalVertexWeight() + k - 1) / k)));
        int[] flat = new int[g.vertexCount()];
        for (int v = 0; v < flat.length; v++) {
            flat[v] = rnd.nextInt(k);
        }
        Refiner r = new Refiner(g, k, maxW, null, flat, rnd, new Workspace());
        r.refine(4);
        assertEquals(g.cut(flat), r.cut());

        Coarsener.Level level = Coarsener.coarsen(g, null, null, Long.MAX_VALUE, rnd, new Workspace());
        Graph coarse = level.graph();
        int[] cparts = new int[coarse.vertexCount()];
        for (int c = 0; c < cparts.length; c++) {
            cparts[c] = rnd.nextInt(k);
        }
        boolean[] coarseBoundary = new boolean[cparts.length];
        for (int c = 0; c < cparts.length; c++) {
            for (int e = coarse.xadj[c]; e < coarse.xadj[c + 1]; e++) {
                coarseBoundary[c] |= cparts[coarse.adj[e]] != cparts[c];
            }
        }
        int[] projected = new int[g.vertexCount()];
        for (int v = 0; v < projected.length; v++) {
            projected[v] = cparts[level.fineToCoarse()[v]];
        }
        Refiner p = new Refiner(g, k, maxW, null, projected, rnd, new Workspace(), coarseBoundary, level.fineToCoarse());
        p.refine(4);
        assertEquals(g.cut(projected), p.cut());
    }

    @Example
    void oneCycleHasNoIteratedRoundAndWorksWithThreads() {
        Graph g = random(2000, 3000, 5, true);
        MultilevelPartitioner.Options o = MultilevelPartitioner.Options.of(4).withSeed(3).withCycles(1);
        int[] one = MultilevelPartitioner.partition(g, o.withThreads(1)).blocks();
        assertArrayEquals(one, MultilevelPartitioner.partition(g, o.withThreads(2)).blocks());
        assertValid(g, MultilevelPartitioner.partition(g, o.withThreads(2)), 4, 0.03);
    }

    @Property(tries = 6)
    void threadCountDoesNotChangeThePartition(@ForAll("blockCounts") int k, @ForAll @LongRange(min = 0, max = 1000) long seed) {
        // 3,000 vertices and up to 32 blocks: the coarsest graph is large enough that V-cycles, initial runs and the
        // sides of bisections are all forked when there are threads.
        Graph g = random(3000, 4000, seed, true);
        MultilevelPartitioner.Options o = MultilevelPartitioner.Options.of(k).withSeed(seed);
        int[] one = MultilevelPartitioner.partition(g, o.withThreads(1)).blocks();
        assertArrayEquals(one, MultilevelPartitioner.partition(g, o.withThreads(2)).blocks());
        assertArrayEquals(one, MultilevelPartitioner.partition(g, o.withThreads(4)).blocks());
    }

    @Provide
    Arbitrary<Integer> blockCounts() {
        return Arbitraries.of(3, 8, 32);
    }

    @Example
    void handlesTrivialCases() {
        Graph empty = Graph.fromEdges(new int[0], new int[0], new int[0], new int[0]);
        assertEquals(0, MultilevelPartitioner.partition(empty, MultilevelPartitioner.Options.of(4)).blocks().length);
        Graph g = grid(3, 3);
        Partition one = MultilevelPartitioner.partition(g, MultilevelPartitioner.Options.of(1));
        assertEquals(0, one.cut());
        Partition many = MultilevelPartitioner.partition(g, MultilevelPartitioner.Options.of(9).withImbalance(0));
        assertValid(g, many, 9, 0);
    }

    @Example
    void rejectsBadOptions() {
        assertThrows(IllegalArgumentException.class, () -> MultilevelPartitioner.Options.of(0));
        assertThrows(IllegalArgumentException.class, () -> MultilevelPartitioner.Options.of(2).withImbalance(-0.1));
        assertThrows(IllegalArgumentException.class, () -> MultilevelPartitioner.Options.of(2).withImbalance(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> MultilevelPartitioner.Options.of(2).withThreads(-1));
        assertThrows(IllegalArgumentException.class, () -> MultilevelPartitioner.Options.of(2).withThreads(257));
    }
}
