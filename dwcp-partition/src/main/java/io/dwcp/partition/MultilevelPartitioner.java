package io.dwcp.partition;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Multilevel k-way graph partitioner, in pure Java (no well-kept Java library does this; METIS is C and is used as the
 * benchmark oracle instead). Any k ≥ 1, vertex and edge weights, deterministic for a seed.
 *
 * <pre>{@code
 * Graph g = MetisGraphReader.read(Path.of("4elt.graph"));
 * Partition p = MultilevelPartitioner.partition(g, MultilevelPartitioner.Options.of(8));
 * p.cut(); p.imbalance(); p.block(0);
 * }</pre>
 *
 * <p>Every block stays within {@code (1 + imbalance) · ⌈total vertex weight ÷ k⌉} when that is reachable (always
 * with unit vertex weights); {@link Partition#imbalance()} reports what was reached. Thread-safe (no shared state).
 * A call uses up to {@link Options#threads()} threads of a shared fork/join pool whose idle threads end after 10 s;
 * the partition does not depend on the thread count.
 */
public final class MultilevelPartitioner {
    /*
     * Algorithm:
     * 1. Coarsening: heavy-edge matching (Coarsener) until at most max(n / (20 log2 k), 20 k) vertices remain or a
     *    step removes fewer than 5 % of them; no coarse vertex may outweigh 1.5 × total ÷ that size, so the coarsest
     *    graph can be balanced.
     * 2. Initial partition of the coarsest graph: the best of INITIAL_RUNS recursive bisections (RecursiveBisection),
     *    each k-way balanced and FM-refined. Every bisection of more than RecursiveBisection.FLAT_LIMIT vertices is
     *    itself multilevel (coarsened to about 100 vertices, the best of `initialTrials` greedy graph-growing
     *    bisections there, FM on the way back up), smaller ones are the best of `initialTrials` flat ones.
     * 3. Uncoarsening: the partition is projected level by level; at every level the balancing pass runs if a block
     *    is overweight, then boundary FM passes (Refiner) until one does not improve the cut.
     * The V-cycle runs `cycles` times, as chains of two: a V-cycle from scratch, then an iterated V-cycle of its
     * result (matching only inside its blocks, so it projects to the coarsest graph unchanged and is refined again on
     * every level). The balanced partition with the smallest cut is kept, ties to the lower chain.
     * Threads (Forks): the chains, the INITIAL_RUNS recursive bisections of each initial partitioning and the two
     * sides of every bisection above 2 × FLAT_LIMIT vertices are independent; each gets its own random stream, split
     * off in a fixed order before it is forked, so the partition is the same for any number of threads.
     */

    /**
     * Partitioning options.
     *
     * @param k the number of blocks, ≥ 1
     * @param imbalance allowed block weight above ⌈total ÷ k⌉, as a fraction (0.03 = 3 %), 0–1
     * @param seed random seed; same graph, options and seed give the same partition
     * @param refinementPasses FM passes per level, ≥ 1
     * @param initialTrials initial partitions tried on the coarsest graph, ≥ 1
     * @param cycles whole multilevel runs, the best kept, ≥ 1
     * @param threads threads a call may use, 1–256, or 0 for automatic (one per available processor, or one per V-cycle
     *                chain when there are more chains); the partition is the same
     *                for any value
     */
    public record Options(int k, double imbalance, long seed, int refinementPasses, int initialTrials, int cycles,
                          int threads) {
        /**
         * Validates the options.
         *
         * @param k the number of blocks, ≥ 1
         * @param imbalance allowed block weight above ⌈total ÷ k⌉, as a fraction, 0–1
         * @param seed random seed
         * @param refinementPasses FM passes per level, ≥ 1
         * @param initialTrials initial partitions tried on the coarsest graph, ≥ 1
         * @param cycles whole multilevel runs, ≥ 1
         * @param threads threads a call may use, 1–256, or 0 for automatic (one per processor, or one per V-cycle chain when more)
         * @throws IllegalArgumentException naming the option out of range
         */
        public Options {
            if (k < 1) {
                throw new IllegalArgumentException("k must be >= 1, got " + k);
            }
            if (!(imbalance >= 0 && imbalance <= 1)) {
                throw new IllegalArgumentException("imbalance must be in 0..1, got " + imbalance);
            }
            if (refinementPasses < 1 || initialTrials < 1 || cycles < 1) {
                throw new IllegalArgumentException("refinementPasses, initialTrials and cycles must be >= 1, got "
                        + refinementPasses + ", " + initialTrials + ", " + cycles);
            }
            if (threads < 0 || threads > 256) {
                throw new IllegalArgumentException("threads must be 0 (one per processor) or 1..256, got " + threads);
            }
        }

        /**
         * Options with automatic threads (0).
         *
         * @param k the number of blocks, ≥ 1
         * @param imbalance allowed block weight above ⌈total ÷ k⌉, as a fraction, 0–1
         * @param seed random seed
         * @param refinementPasses FM passes per level, ≥ 1
         * @param initialTrials initial partitions tried on the coarsest graph, ≥ 1
         * @param cycles whole multilevel runs, ≥ 1
         * @throws IllegalArgumentException naming the option out of range
         */
        public Options(int k, double imbalance, long seed, int refinementPasses, int initialTrials, int cycles) {
            this(k, imbalance, seed, refinementPasses, initialTrials, cycles, 0);
        }

        /**
         * The defaults for {@code k} blocks: 3 % imbalance, seed 1, 4 passes, 8 initial trials, 6 cycles, automatic
         * threads (one per available processor, or one per V-cycle chain when there are more chains).
         *
         * @param k the number of blocks, ≥ 1
         * @return the options
         * @throws IllegalArgumentException when {@code k} &lt; 1
         */
        public static Options of(int k) {
            return new Options(k, 0.03, 1, 4, 8, 6);
        }

        /**
         * A copy with another imbalance.
         *
         * @param value allowed block weight above ⌈total ÷ k⌉, as a fraction, 0–1
         * @return the new options
         * @throws IllegalArgumentException when {@code value} is out of range
         */
        public Options withImbalance(double value) {
            return new Options(k, value, seed, refinementPasses, initialTrials, cycles, threads);
        }

        /**
         * A copy with another random seed.
         *
         * @param value the seed
         * @return the new options
         */
        public Options withSeed(long value) {
            return new Options(k, imbalance, value, refinementPasses, initialTrials, cycles, threads);
        }

        /**
         * A copy with another number of FM passes per level.
         *
         * @param value passes, ≥ 1
         * @return the new options
         * @throws IllegalArgumentException when {@code value} &lt; 1
         */
        public Options withRefinementPasses(int value) {
            return new Options(k, imbalance, seed, value, initialTrials, cycles, threads);
        }

        /**
         * A copy with another number of whole multilevel runs.
         *
         * @param value cycles, ≥ 1
         * @return the new options
         * @throws IllegalArgumentException when {@code value} &lt; 1
         */
        public Options withCycles(int value) {
            return new Options(k, imbalance, seed, refinementPasses, initialTrials, value, threads);
        }

        /**
         * A copy with another thread count; the partition does not depend on it.
         *
         * @param value threads, 1–256, or 0 for automatic (one per processor, or one per V-cycle chain when more)
         * @return the new options
         * @throws IllegalArgumentException when {@code value} is out of range
         */
        public Options withThreads(int value) {
            return new Options(k, imbalance, seed, refinementPasses, initialTrials, cycles, value);
        }
    }

    /** Whole recursive-bisection runs on the coarsest k-way graph, the best kept. */
    private static final int INITIAL_RUNS = 3;
    /** V-cycles per chain: one from scratch, then iterated ones of its result. */
    private static final int CHAIN_LENGTH = 2;

    private MultilevelPartitioner() {
    }

    /**
     * Partitions {@code g} into {@code options.k()} blocks of equal target weight.
     *
     * @param g the graph
     * @param options block count, imbalance, seed and effort
     * @return the best partition found: the least overweight, then the smallest cut
     */
    public static Partition partition(Graph g, Options options) {
        int k = options.k();
        long total = g.totalVertexWeight;
        long ideal = (total + k - 1) / k;
        long[] target = new long[k];
        long[] maxW = new long[k];
        for (int p = 0; p < k; p++) {
            target[p] = ideal;
            maxW[p] = Math.max(ideal, (long) Math.floor((1 + options.imbalance()) * ideal));
        }
        int[] parts = partition(g, k, target, maxW, null, options, null);
        return new Partition(g, parts, k);
    }

    /**
     * The engine: blocks with individual target and maximum weights, optionally with vertices fixed to blocks.
     *
     * @param fixed block of each fixed vertex, -1 for free ones; {@code null} for none
     * @param initial a partition to improve on (the result is never worse on balance, then cut), or {@code null}
     */
    static int[] partition(Graph g, int k, long[] target, long[] maxW, int[] fixed, Options options, int[] initial) {
        int n = g.n;
        if (k == 1 || n == 0) {
            return new int[n];
        }
        Forks forks = Forks.of(threads(options));
        return forks.call(() -> chains(g, k, target, maxW, fixed, options, initial, forks));
    }

    /**
     * The threads of a call: as asked, or for 0 (automatic) one per available processor, raised to the number of chains when there
     * are more chains than processors (and more than one processor): the chains are equal pieces of work, and with as
     * many threads as chains the operating system shares the processors among all of them, where otherwise the last
     * chain runs alone after the others (3 chains on 2 processors: 1.5 instead of 2 chains' time). The partition does
     * not depend on it.
     */
    static int threads(Options options) {
        if (options.threads() != 0) {
            return options.threads();
        }
        int processors = Runtime.getRuntime().availableProcessors();
        int chains = (options.cycles() + CHAIN_LENGTH - 1) / CHAIN_LENGTH;
        return processors < 2 ? processors : Math.max(processors, Math.min(chains, 4 * processors));
    }

    /**
     * The V-cycles as chains of two, run in parallel: chain j holds cycles 2j and 2j + 1. Its first cycle starts from
     * scratch (chain 0 with an initial partition: an iterated V-cycle of that partition), its second is an iterated
     * V-cycle of the first one's result. The best result by (overweight, cut, chain index) wins, the initial partition
     * counting as before every chain.
     */
    private static int[] chains(Graph g, int k, long[] target, long[] maxW, int[] fixed, Options options, int[] initial,
                                Forks forks) {
        SplittableRandom root = new SplittableRandom(options.seed());
        int length = CHAIN_LENGTH;
        int chains = (options.cycles() + length - 1) / length;
        SplittableRandom[] streams = new SplittableRandom[chains];
        for (int j = 0; j < chains; j++) {
            streams[j] = root.split();
        }
        Scored first = initial == null ? null : new Scored(g, k, maxW, initial.clone());
        List<Scored> results = forks.all(chains, j -> {
            SplittableRandom rnd = streams[j];
            int[] start = j == 0 ? initial : null;
            Scored parts = new Scored(g, k, maxW,
                    vCycle(g, k, target, maxW, fixed, start, options, rnd, coarsenTo(g.n, k), true, forks));
            if (start != null && !parts.better(first)) {
                parts = new Scored(g, k, maxW, start.clone());
            }
            for (int c = length * j + 1; c < Math.min(options.cycles(), length * (j + 1)); c++) {
                Scored again = new Scored(g, k, maxW,
                        vCycle(g, k, target, maxW, fixed, parts.parts, options, rnd, coarsenTo(g.n, k), true, forks));
                if (again.better(parts)) {
                    parts = again;
                }
            }
            return parts;
        });
        Scored best = first;
        for (Scored parts : results) {
            if (best == null || parts.better(best)) {
                best = parts;
            }
        }
        return best.parts;
    }

    /** A partition with its overweight (sum over blocks above their maximum) and cut, computed once. */
    private static final class Scored {
        final int[] parts;
        final long over;
        final long cut;

        Scored(Graph g, int k, long[] maxW, int[] parts) {
            this.parts = parts;
            this.over = overweight(g.blockWeights(parts, k), maxW);
            this.cut = g.cut(parts);
        }

        /** Whether this is less overweight than {@code other}, or as overweight with a smaller cut. */
        boolean better(Scored other) {
            return over < other.over || (over == other.over && cut < other.cut);
        }
    }

    /**
     * The size the k-way coarsening stops at: large enough that the initial partitioning (itself multilevel) has room
     * to find a good cut, about n ÷ (20 log2 k), and at least 20 vertices per block.
     */
    static int coarsenTo(int n, int k) {
        double log2k = Math.max(1, Math.log(k) / Math.log(2));
        return (int) Math.max(n / (20 * log2k), 20L * k);
    }

    /**
     * Multilevel bisection in proportion {@code target[0] : target[1]}: coarsening to about 100 vertices, the best of
     * {@code options.initialTrials()} flat graph-growing bisections there, FM refinement on the way back up.
     */
    static int[] bisect(Graph g, long[] target, long[] maxW, int[] fixed, Options options, SplittableRandom rnd,
                        Forks forks) {
        return vCycle(g, 2, target, maxW, fixed, null, options, rnd, 100, false, forks);
    }

    private static int[] vCycle(Graph g, int k, long[] target, long[] maxW, int[] fixed, int[] previous, Options options,
                                SplittableRandom rnd, int coarsenTo, boolean multilevelInitial, Forks forks) {
        long total = g.totalVertexWeight;
        long maxVertexWeight = Math.max(1, (long) (1.5 * total / coarsenTo));
        List<Coarsener.Level> levels = new ArrayList<>();
        Graph cur = g;
        int[] curFixed = fixed;
        int[] curBlocks = previous;
        while (cur.n > coarsenTo && levels.size() < 64) {
            Coarsener.Level level = Coarsener.coarsen(cur, curFixed, curBlocks, maxVertexWeight, rnd, forks.workspace());
            if (level.graph().n > 0.95 * cur.n) {
                break;
            }
            levels.add(level);
            cur = level.graph();
            curFixed = level.fixed();
            curBlocks = level.blocks();
        }
        int[] parts;
        if (curBlocks != null) {
            parts = curBlocks.clone();
            new Refiner(cur, k, maxW, curFixed, parts, rnd, forks.workspace()).refine(options.refinementPasses());
        } else {
            parts = initial(cur, k, target, maxW, curFixed, options, rnd, multilevelInitial, forks);
        }
        Workspace ws = forks.workspace();
        boolean[] onBoundary = levels.isEmpty() ? null : boundary(cur, parts);
        for (int i = levels.size() - 1; i >= 0; i--) {
            Coarsener.Level level = levels.get(i);
            Graph fine = i == 0 ? g : levels.get(i - 1).graph();
            int[] fineFixed = i == 0 ? fixed : levels.get(i - 1).fixed();
            int[] cmap = level.fineToCoarse();
            int[] fineParts = new int[fine.n];
            for (int v = 0; v < fine.n; v++) {
                fineParts[v] = parts[cmap[v]];
            }
            Refiner refiner = new Refiner(fine, k, maxW, fineFixed, fineParts, rnd, ws, onBoundary, cmap);
            refiner.refine(options.refinementPasses());
            if (i > 0) {
                onBoundary = new boolean[fine.n];
                for (int v = 0; v < fine.n; v++) {
                    onBoundary[v] = refiner.onBoundary(v);
                }
            }
            parts = fineParts;
        }
        return parts;
    }

    /** Whether each vertex of {@code g} has a neighbour in another block of {@code parts}. */
    private static boolean[] boundary(Graph g, int[] parts) {
        boolean[] b = new boolean[g.n];
        for (int v = 0; v < g.n; v++) {
            for (int e = g.xadj[v]; e < g.xadj[v + 1]; e++) {
                if (parts[g.adj[e]] != parts[v]) {
                    b[v] = true;
                    break;
                }
            }
        }
        return b;
    }

    private static int[] initial(Graph g, int k, long[] target, long[] maxW, int[] fixed, Options options, SplittableRandom rnd,
                                 boolean multilevel, Forks forks) {
        int runs = multilevel ? INITIAL_RUNS : 1;
        SplittableRandom[] streams = new SplittableRandom[runs];
        for (int r = 0; r < runs; r++) {
            streams[r] = runs == 1 ? rnd : rnd.split();
        }
        List<Scored> all = forks.all(runs, r -> {
            int[] parts = RecursiveBisection.partition(g, k, target, fixed, options, streams[r], multilevel, forks);
            new Refiner(g, k, maxW, fixed, parts, streams[r], forks.workspace()).refine(options.refinementPasses());
            return new Scored(g, k, maxW, parts);
        });
        Scored best = all.get(0);
        for (int r = 1; r < runs; r++) {
            if (all.get(r).better(best)) {
                best = all.get(r);
            }
        }
        return best.parts;
    }

    private static long overweight(long[] pw, long[] maxW) {
        long over = 0;
        for (int p = 0; p < pw.length; p++) {
            over += Math.max(0, pw[p] - maxW[p]);
        }
        return over;
    }
}
