package io.dwcp.prediction;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * The predictor's one background thread, for the work that may block: the history directory's reads and writes and
 * the forecast log. Samples are recorded on the transport's event loop; a write to a file there waits whenever the
 * disk is busy (a 38-byte append to a history file took 26.5 ms on that thread in a profiled transfer) and stalls
 * every stream the loop serves. Here it waits on its own thread.
 *
 * <p>Tasks run one at a time in submission order. The queue is bounded: a task submitted while it is full, or after
 * {@link #close}, is dropped and counted (a history line is lost; the samples and forecasts are not). A task that
 * throws is logged once and counted as failed; the thread lives on.
 *
 * <p>Thread-safe. Owned by {@code PbaPredictor}: created at start, closed at stop.
 */
final class BackgroundWork implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BackgroundWork.class);
    /** Tasks waiting at most: about an hour of one path's lines with 1-second samples. */
    static final int DEFAULT_CAPACITY = 4096;
    /** How long {@link #close} waits for the queued tasks before it interrupts the thread. */
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(10);

    private final ThreadPoolExecutor executor;
    /** One permit per task that may wait or run; the executor's own queue is unbounded. */
    private final Semaphore room;
    private final LongAdder submitted = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final AtomicBoolean failureLogged = new AtomicBoolean();

    /**
     * @param threadName the thread's name
     * @param capacity tasks that may wait or run at once (≥ 1)
     */
    BackgroundWork(String threadName, int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, was " + capacity);
        }
        this.room = new Semaphore(capacity);
        this.executor = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        }, new ThreadPoolExecutor.AbortPolicy());
    }

    /**
     * Queues {@code task}; never blocks.
     *
     * @param task the task
     * @return whether it was queued (false: the queue was full or the work closed; counted)
     */
    boolean submit(Runnable task) {
        if (!room.tryAcquire()) {
            dropped.increment();
            return false;
        }
        try {
            executor.execute(() -> {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    failed.increment();
                    if (failureLogged.compareAndSet(false, true)) {
                        LOG.warn("a prediction background task failed; further failures are only counted", e);
                    }
                } finally {
                    room.release();
                }
            });
            submitted.increment();
            return true;
        } catch (RejectedExecutionException e) {
            room.release();
            dropped.increment();
            return false;
        }
    }

    /**
     * Waits until the work is idle: every task queued before this call has run, and so has every task those queued
     * (a warm start queues the history lines of the samples it feeds). For tests, and for tools that read the history
     * directory while the predictor runs.
     *
     * @param timeout how long to wait at most
     * @return whether it became idle in time (false also when the work is closed)
     * @throws InterruptedException when interrupted while waiting
     */
    boolean awaitIdle(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long before = submitted.sum();
            CountDownLatch done = new CountDownLatch(1);
            try {
                executor.execute(done::countDown); // a marker, outside the bounded room: never dropped
            } catch (RejectedExecutionException e) {
                return false;
            }
            if (!done.await(deadline - System.nanoTime(), TimeUnit.NANOSECONDS)) {
                return false;
            }
            if (submitted.sum() == before) {
                return true;
            }
        }
    }

    /** {@return tasks dropped because the queue was full or the work closed} */
    long dropped() {
        return dropped.sum();
    }

    /** {@return tasks that threw} */
    long failed() {
        return failed.sum();
    }

    /**
     * Runs what is queued (up to 10 s), then stops the thread; later submissions are dropped. Idempotent. An interrupt
     * while waiting stops the thread at once and keeps the interrupt flag.
     */
    @Override
    public void close() {
        executor.shutdown();
        try {
            if (!executor.awaitTermination(CLOSE_WAIT.toNanos(), TimeUnit.NANOSECONDS)) {
                LOG.warn("prediction background work did not finish in {}; stopping it", CLOSE_WAIT);
                executor.shutdownNow();
            }
        } catch (InterruptedException e) {
            executor.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
