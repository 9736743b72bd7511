package io.dwcp.partition;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.RecursiveTask;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.function.Supplier;

/*
 * The threads of one partitioning call and its fork points. Independent pieces of work — the V-cycles of a round, the
 * recursive-bisection runs of the initial partitioning, the two sides of a bisection — are handed to all(), which runs
 * them on a fork/join pool when the call has more than one thread and in order in the caller's thread otherwise.
 * Results come back by index and every piece gets its own random stream, split off before the fork in a fixed order,
 * so a seed gives the same partition for any number of threads.
 *
 * Pools: one per thread count, created on first use and shared by all calls with that count. Their threads are daemon
 * threads named dwcp-partition-N-i and end after 10 s without work, so an idle JVM holds none; nothing needs closing.
 * A worker blocked in a join may get a spare thread, up to 64 more than the count; beyond that it simply waits.
 *
 * Scratch arrays: one Workspace per thread and call (spaces). A fork/join task never changes threads, and a thread
 * that helps with another task while it waits in all() is not inside a Refiner or GraphGrowing call at that moment
 * (fork points are outside them), so the one-user-at-a-time rule of Workspace holds.
 */
final class Forks {
    private static final ConcurrentHashMap<Integer, ForkJoinPool> POOLS = new ConcurrentHashMap<>();
    private static final long KEEP_ALIVE_SECONDS = 10;

    /** Null: run in the caller's thread. */
    private final ForkJoinPool pool;
    private final ConcurrentHashMap<Thread, Workspace> spaces = new ConcurrentHashMap<>();

    private Forks(ForkJoinPool pool) {
        this.pool = pool;
    }

    /**
     * The fork points of one call with {@code threads} threads; 0 means one per available processor.
     */
    static Forks of(int threads) {
        int n = threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
        return new Forks(n <= 1 ? null : POOLS.computeIfAbsent(n, Forks::newPool));
    }

    private static ForkJoinPool newPool(int n) {
        return new ForkJoinPool(n, p -> {
            ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
            t.setName("dwcp-partition-" + n + "-" + t.getPoolIndex());
            t.setDaemon(true);
            return t;
        }, null, false, 0, n + 64, 1, pool -> true, KEEP_ALIVE_SECONDS, TimeUnit.SECONDS);
    }

    /** Runs {@code body} on this call's pool (or here, single-threaded) and returns its result. */
    <T> T call(Supplier<T> body) {
        if (pool == null || inPool()) {
            return body.get();
        }
        return pool.invoke(new Task<>(body));
    }

    /** The scratch arrays of the current thread for this call. */
    Workspace workspace() {
        return spaces.computeIfAbsent(Thread.currentThread(), t -> new Workspace());
    }

    /**
     * Runs {@code task(0)} … {@code task(count − 1)}, in parallel when this call has threads, and returns the results
     * by index. The tasks must be independent of each other (own random streams, disjoint writes).
     */
    <T> List<T> all(int count, IntFunction<T> task) {
        List<T> out = new ArrayList<>(Collections.nCopies(count, null));
        if (pool == null || count <= 1 || !inPool()) {
            for (int i = 0; i < count; i++) {
                out.set(i, task.apply(i));
            }
            return out;
        }
        List<Task<T>> forked = new ArrayList<>(count - 1);
        for (int i = 1; i < count; i++) {
            int index = i;
            Task<T> t = new Task<>(() -> task.apply(index));
            t.fork();
            forked.add(t);
        }
        out.set(0, task.apply(0));
        for (int i = count - 1; i >= 1; i--) {
            out.set(i, forked.get(i - 1).join());
        }
        return out;
    }

    private boolean inPool() {
        return Thread.currentThread() instanceof ForkJoinWorkerThread w && w.getPool() == pool;
    }

    private static final class Task<T> extends RecursiveTask<T> {
        private static final long serialVersionUID = 1L;
        private final transient Supplier<T> body;

        Task(Supplier<T> body) {
            this.body = body;
        }

        @Override
        protected T compute() {
            return body.get();
        }
    }
}
