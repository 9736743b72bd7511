package io.dwcp.compression;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Scratch memory is freed only after the tasks writing it ended: an interrupt must not cut the wait short. */
@Timeout(30)
class AwaitTest {
    @Test
    void anInterruptDoesNotEndTheWaitBeforeTheTaskEnds() throws Exception {
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            AtomicBoolean taskEnded = new AtomicBoolean();
            Future<?> task = pool.submit(() -> {
                started.countDown();
                release.await();
                taskEnded.set(true);
                return null;
            });
            started.await();
            CountDownLatch waitReturned = new CountDownLatch(1);
            AtomicBoolean sawTaskEnded = new AtomicBoolean();
            AtomicBoolean reportedInterrupt = new AtomicBoolean();
            AtomicBoolean statusRestored = new AtomicBoolean();
            Thread waiter = new Thread(() -> {
                boolean interrupted = Await.ended(task);
                sawTaskEnded.set(taskEnded.get());
                reportedInterrupt.set(interrupted);
                Await.restore(interrupted);
                statusRestored.set(Thread.currentThread().isInterrupted());
                waitReturned.countDown();
            });
            waiter.start();
            waiter.interrupt();
            // Negative check: with the task still blocked, the wait must not have returned (the old code returned at
            // the first interrupt and freed the scratch under the running task).
            assertFalse(waitReturned.await(300, TimeUnit.MILLISECONDS), "returned while the task still ran");
            release.countDown();
            assertTrue(waitReturned.await(10, TimeUnit.SECONDS));
            assertTrue(sawTaskEnded.get(), "the wait ended only after the task");
            assertTrue(reportedInterrupt.get());
            assertTrue(statusRestored.get(), "the interrupt status is given back");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aFailedTaskCountsAsEnded() {
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<?> task = pool.submit(() -> {
                throw new IllegalStateException("boom");
            });
            assertFalse(Await.ended(task));
        } finally {
            pool.shutdownNow();
        }
    }
}
