package io.dwcp.bench;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A receiver's C-heap trims: one per request, coalesced while one runs, none after close. */
class NativeHeapTest {
    @Test
    void requestsDuringATrimCoalesceIntoOneMoreAndCloseEndsTheThread() throws Exception {
        Semaphore started = new Semaphore(0);
        CountDownLatch release = new CountDownLatch(1);
        NativeHeap heap = new NativeHeap(() -> {
            started.release();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, TimeUnit.HOURS.toMillis(1));
        heap.requestTrim();
        assertTrue(started.tryAcquire(10, TimeUnit.SECONDS), "the first request starts a trim");
        // While it runs: three requests, one more trim.
        heap.requestTrim();
        heap.requestTrim();
        heap.requestTrim();
        release.countDown();
        assertTrue(started.tryAcquire(10, TimeUnit.SECONDS), "the coalesced requests start one more trim");
        heap.close();
        assertEquals(2, heap.trims());
        assertEquals(0, started.availablePermits(), "no third trim");
        heap.requestTrim();
        heap.close();
        assertEquals(2, heap.trims(), "requests after close are ignored; close is idempotent");
        assertEquals(0, started.availablePermits());
    }

    @Test
    void aFailingTrimDoesNotEndTheThread() throws Exception {
        Semaphore ran = new Semaphore(0);
        NativeHeap heap = new NativeHeap(() -> {
            ran.release();
            throw new IllegalStateException("cannot trim");
        }, TimeUnit.HOURS.toMillis(1));
        heap.requestTrim();
        assertTrue(ran.tryAcquire(10, TimeUnit.SECONDS));
        heap.requestTrim();
        assertTrue(ran.tryAcquire(10, TimeUnit.SECONDS), "the next request still trims");
        heap.close();
    }

    @Test
    void trimsOnceMoreWhenNoRequestFollowsAndThenWaits() throws Exception {
        Semaphore ran = new Semaphore(0);
        NativeHeap heap = new NativeHeap(ran::release, 1);
        heap.requestTrim();
        assertTrue(ran.tryAcquire(2, 10, TimeUnit.SECONDS), "the requested trim and the idle one");
        heap.close();
        assertEquals(2, heap.trims(), "one idle trim per request, not one every interval");
        assertThrows(IllegalArgumentException.class, () -> new NativeHeap(ran::release, 0));
    }

    @Test
    void thisJvmTrimsItsHeap() {
        // The JDK this project builds with has the System.trim_native_heap command; a trim through it returns.
        assertTrue(NativeHeap.commandExists(), "System.trim_native_heap is missing from this JVM");
        NativeHeap heap = NativeHeap.forThisJvm();
        heap.trimNow();
        heap.trimNow();
        assertEquals(2, heap.trims());
        heap.close();
    }
}
