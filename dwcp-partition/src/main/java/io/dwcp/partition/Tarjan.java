package io.dwcp.partition;

/*
 * Strongly connected components by Tarjan's algorithm, iterative: an explicit call stack of
 * (vertex, next edge) replaces recursion, so a path of a million vertices needs no deeper Java stack. O(n + m) time,
 * five int arrays of memory.
 */
final class Tarjan {
    private Tarjan() {
    }

    /**
     * The component of each vertex of a directed graph in CSR form; components are numbered in the order Tarjan
     * completes them (a reverse topological order of the condensation).
     *
     * @return the component id of each vertex, 0 … (number of components − 1)
     */
    static int[] components(int n, int[] xadj, int[] adj) {
        int[] index = new int[n];
        int[] low = new int[n];
        int[] comp = new int[n];
        java.util.Arrays.fill(index, -1);
        int[] stack = new int[n];
        boolean[] onStack = new boolean[n];
        int sp = 0;
        int[] callV = new int[n];
        int[] callE = new int[n];
        int counter = 0;
        int comps = 0;
        for (int root = 0; root < n; root++) {
            if (index[root] >= 0) {
                continue;
            }
            int depth = 0;
            callV[0] = root;
            callE[0] = xadj[root];
            index[root] = low[root] = counter++;
            stack[sp++] = root;
            onStack[root] = true;
            while (depth >= 0) {
                int v = callV[depth];
                if (callE[depth] < xadj[v + 1]) {
                    int w = adj[callE[depth]++];
                    if (index[w] < 0) {
                        index[w] = low[w] = counter++;
                        stack[sp++] = w;
                        onStack[w] = true;
                        depth++;
                        callV[depth] = w;
                        callE[depth] = xadj[w];
                    } else if (onStack[w]) {
                        low[v] = Math.min(low[v], index[w]);
                    }
                } else {
                    if (low[v] == index[v]) {
                        int w;
                        do {
                            w = stack[--sp];
                            onStack[w] = false;
                            comp[w] = comps;
                        } while (w != v);
                        comps++;
                    }
                    depth--;
                    if (depth >= 0) {
                        int parent = callV[depth];
                        low[parent] = Math.min(low[parent], low[v]);
                    }
                }
            }
        }
        return comp;
    }
}
