package io.dwcp.partition;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The coarsening's two matching loops (without constraints, and with pins or earlier blocks) choose the same pairs
 * when the constraints do not bind, and every coarse graph keeps the vertex weight and the edge weight between
 * different coarse vertices.
 */
class CoarsenerTest {
    /** A random weighted graph: n vertices of weight 1–5, edges of weight 1–4 (parallel ones merged). */
    private static Graph random(int n, int edges, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] vw = new int[n];
        for (int v = 0; v < n; v++) {
            vw[v] = 1 + r.nextInt(5);
        }
        List<int[]> list = new ArrayList<>();
        for (int i = 0; i < edges; i++) {
            int a = r.nextInt(n);
            int b = r.nextInt(n);
            if (a != b) {
                list.add(new int[] {a, b, 1 + r.nextInt(4)});
            }
        }
        return Graph.fromEdgeTriples(vw, list);
    }

    @Property(tries = 60)
    void constrainedLoopAgreesWhenNothingBinds(@ForAll @IntRange(min = 2, max = 300) int n,
                                               @ForAll @IntRange(min = 0, max = 1200) int edges,
                                               @ForAll @LongRange(min = 0, max = 1000) long seed) {
        Graph g = random(n, edges, seed);
        long cap = 1 + new SplittableRandom(seed).nextInt(12);
        int[] oneBlock = new int[n];
        int[] noPins = new int[n];
        Arrays.fill(noPins, -1);
        Coarsener.Level free = Coarsener.coarsen(g, null, null, cap, new SplittableRandom(seed), new Workspace());
        Coarsener.Level blocks = Coarsener.coarsen(g, null, oneBlock, cap, new SplittableRandom(seed), new Workspace());
        Coarsener.Level pins = Coarsener.coarsen(g, noPins, null, cap, new SplittableRandom(seed), new Workspace());
        for (Coarsener.Level other : List.of(blocks, pins)) {
            assertArrayEquals(free.fineToCoarse(), other.fineToCoarse());
            assertArrayEquals(free.graph().xadj, other.graph().xadj);
            assertArrayEquals(free.graph().adj, other.graph().adj);
            assertArrayEquals(free.graph().ewgt, other.graph().ewgt);
        }
        Graph c = free.graph();
        assertEquals(g.totalVertexWeight, c.totalVertexWeight);
        int[] coarseOfFine = free.fineToCoarse();
        int[] projected = new int[n];
        for (int v = 0; v < n; v++) {
            projected[v] = coarseOfFine[v];
            assertTrue(c.vwgt[coarseOfFine[v]] <= Math.max(cap, g.vwgt[v]), "coarse vertex over the cap");
        }
        // The edge weight between different coarse vertices is the fine cut of the fine-to-coarse map.
        assertEquals(g.cut(projected), c.cut(identity(c.n)));
    }

    private static int[] identity(int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        return p;
    }
}
