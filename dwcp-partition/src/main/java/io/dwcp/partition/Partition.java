package io.dwcp.partition;

/**
 * A k-way partition of a {@link Graph}: the block of each vertex, its cut and its imbalance. Immutable.
 */
public final class Partition {
    private final int[] parts;
    private final int k;
    private final long cut;
    private final long maxBlockWeight;
    private final double imbalance;

    Partition(Graph g, int[] parts, int k) {
        this.parts = parts;
        this.k = k;
        this.cut = g.cut(parts);
        long max = 0;
        for (long w : g.blockWeights(parts, k)) {
            max = Math.max(max, w);
        }
        this.maxBlockWeight = max;
        long ideal = (g.totalVertexWeight + k - 1) / k;
        this.imbalance = ideal == 0 ? 0 : (double) max / ideal - 1;
    }

    /**
     * The number of blocks.
     *
     * @return k
     */
    public int k() {
        return k;
    }

    /**
     * The block of vertex {@code v}.
     *
     * @param v the vertex
     * @return its block, {@code 0 … k − 1}
     * @throws ArrayIndexOutOfBoundsException when {@code v} is not a vertex of the graph
     */
    public int block(int v) {
        return parts[v];
    }

    /**
     * A copy of the block of every vertex.
     *
     * @return a new array, indexed by vertex
     */
    public int[] blocks() {
        return parts.clone();
    }

    /**
     * The total weight of the edges between blocks.
     *
     * @return the edge cut
     */
    public long cut() {
        return cut;
    }

    /**
     * The heaviest block's vertex weight.
     *
     * @return the largest block weight
     */
    public long maxBlockWeight() {
        return maxBlockWeight;
    }

    /**
     * The imbalance of the partition.
     *
     * @return max block weight ÷ ⌈total vertex weight ÷ k⌉ − 1 (0 for a perfectly balanced partition or a total
     *     vertex weight of 0; may be slightly negative)
     */
    public double imbalance() {
        return imbalance;
    }
}
