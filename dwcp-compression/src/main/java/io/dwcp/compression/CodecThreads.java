package io.dwcp.compression;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/*
 * The threads of a started HdeCodec: the workers (dwcp-compression-worker-N, each a Worker with its own zstd
 * contexts), the coordinators that run one round per thread and wait on workers (dwcp-compression-coord-N), the flusher
 * that makes in-place keyframes durable behind their decode (dwcp-compression-flusher) and the pruner of aged baselines
 * (dwcp-compression-pruner), which also frees pooled memory nobody used for a while.
 *
 * Lifecycle: created together by HdeCodec.start and shut down together by HdeCodec.stop, both under the codec's
 * `lifecycle` lock; the codec publishes an instance through one volatile field, so a reader sees all four executors
 * (final here) or none.
 */
final class CodecThreads {
    final ThreadPoolExecutor workers;
    final ThreadPoolExecutor coordinators;
    final ThreadPoolExecutor flusher;
    final ScheduledExecutorService pruner;

    /**
     * Starts {@code threads} workers, at least two coordinators, the flusher and the pruner, which runs {@code prune}
     * every {@code prunePeriodMillis} and {@code trim} (frees idle pooled memory) every {@code trimPeriodMillis}.
     */
    CodecThreads(int threads, long prunePeriodMillis, Runnable prune, long trimPeriodMillis, Runnable trim) {
        AtomicInteger wn = new AtomicInteger();
        workers = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(),
                r -> new Worker(r, "dwcp-compression-worker-" + wn.incrementAndGet()));
        AtomicInteger cn = new AtomicInteger();
        int coordinatorThreads = Math.max(2, threads);
        coordinators = new ThreadPoolExecutor(coordinatorThreads, coordinatorThreads, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, "dwcp-compression-coord-" + cn.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        coordinators.allowCoreThreadTimeOut(true);
        flusher = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "dwcp-compression-flusher");
            t.setDaemon(true);
            return t;
        });
        flusher.allowCoreThreadTimeOut(true);
        ScheduledThreadPoolExecutor p = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "dwcp-compression-pruner");
            t.setDaemon(true);
            return t;
        });
        p.scheduleAtFixedRate(prune, prunePeriodMillis, prunePeriodMillis, TimeUnit.MILLISECONDS);
        p.scheduleAtFixedRate(trim, trimPeriodMillis, trimPeriodMillis, TimeUnit.MILLISECONDS);
        pruner = p;
    }

    /**
     * Stops the pruner, then lets the coordinators finish their rounds, then the workers and the flusher their tasks,
     * each within {@code timeoutMillis} before it is interrupted ({@code shutdownNow}).
     */
    void shutdown(long timeoutMillis) throws InterruptedException {
        pruner.shutdownNow();
        coordinators.shutdown();
        if (!coordinators.awaitTermination(timeoutMillis, TimeUnit.MILLISECONDS)) {
            coordinators.shutdownNow();
        }
        workers.shutdown();
        if (!workers.awaitTermination(timeoutMillis, TimeUnit.MILLISECONDS)) {
            workers.shutdownNow();
        }
        flusher.shutdown();
        if (!flusher.awaitTermination(timeoutMillis, TimeUnit.MILLISECONDS)) {
            flusher.shutdownNow();
        }
    }
}
