package io.dwcp.prediction;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The predictor's background thread: order, a bounded queue that drops and counts, failures, close. */
class BackgroundWorkTest {
    @Test
    void tasksRunInOrderAFullQueueDropsAndCountsAndAFailingTaskDoesNotStopTheThread() throws InterruptedException {
        List<Integer> ran = Collections.synchronizedList(new ArrayList<>());
        try (BackgroundWork w = new BackgroundWork("test-bg", 4)) {
            CountDownLatch held = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            assertTrue(w.submit(() -> {
                held.countDown();
                try {
                    release.await(60, TimeUnit.SECONDS); // safety net only
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
            assertTrue(held.await(60, TimeUnit.SECONDS));
            assertTrue(w.submit(() -> ran.add(1)));
            assertTrue(w.submit(() -> {
                throw new IllegalStateException("a broken task");
            }));
            assertTrue(w.submit(() -> ran.add(3)));
            assertFalse(w.submit(() -> ran.add(4)), "4 tasks may wait or run");
            assertEquals(1, w.dropped());
            release.countDown();
            assertTrue(w.awaitIdle(Duration.ofSeconds(60)));
            assertEquals(List.of(1, 3), ran);
            assertEquals(1, w.failed());
        }
    }

    @Test
    void closeRunsWhatIsQueuedAndLaterTasksAreDropped() {
        List<Integer> ran = Collections.synchronizedList(new ArrayList<>());
        BackgroundWork w = new BackgroundWork("test-bg", 100);
        for (int i = 0; i < 50; i++) {
            int n = i;
            assertTrue(w.submit(() -> ran.add(n)));
        }
        w.close();
        assertEquals(50, ran.size());
        w.close(); // idempotent
        assertFalse(w.submit(() -> ran.add(99)));
        assertEquals(1, w.dropped());
        assertEquals(50, ran.size());
    }

    @Test
    void aCapacityBelowOneIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new BackgroundWork("test-bg", 0));
    }
}
