package io.dwcp.partition;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

class TarjanTest {
    /** CSR of a directed graph given as an adjacency list. */
    private static int[][] csr(int[][] out) {
        int n = out.length;
        int[] x = new int[n + 1];
        for (int v = 0; v < n; v++) {
            x[v + 1] = x[v] + out[v].length;
        }
        int[] adj = new int[x[n]];
        for (int v = 0; v < n; v++) {
            System.arraycopy(out[v], 0, adj, x[v], out[v].length);
        }
        return new int[][] {x, adj};
    }

    @Test
    void findsTwoCyclesJoinedOneWayAndASingleton() {
        // 0→1→2→0, 2→3, 3→4→3, 5 alone: components {0,1,2}, {3,4}, {5}.
        int[][] g = csr(new int[][] {{1}, {2}, {0, 3}, {4}, {3}, {}});
        int[] c = Tarjan.components(6, g[0], g[1]);
        assertEquals(c[0], c[1]);
        assertEquals(c[1], c[2]);
        assertEquals(c[3], c[4]);
        assertNotEquals(c[0], c[3]);
        assertNotEquals(c[5], c[0]);
        assertNotEquals(c[5], c[3]);
        // Reverse topological order: the sink component {3,4} completes before {0,1,2}.
        assertEquals(true, c[3] < c[0]);
    }

    @Test
    void handlesAMillionVertexCycleWithoutRecursion() {
        int n = 1_000_000;
        int[] x = new int[n + 1];
        int[] adj = new int[n];
        for (int v = 0; v < n; v++) {
            x[v + 1] = v + 1;
            adj[v] = (v + 1) % n;
        }
        int[] c = Tarjan.components(n, x, adj);
        for (int v = 0; v < n; v++) {
            assertEquals(c[0], c[v]);
        }
    }
}
