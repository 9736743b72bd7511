package io.dwcp.sync;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The convergence lag, {@code dwcp.ass.convergence.lag}: for each local update, the time from the update until this
 * replica knows that every live member holds it (a successful anti-entropy round with each member that began after
 * the update; see {@code StabilityTracker}). Updates wait in a bounded queue, in change-sequence order; when it is
 * full, further updates are not sampled (counted in {@link #unsampled()}) until acknowledgements drain it, so memory
 * stays bounded while a member is partitioned. Thread-safe.
 */
final class ConvergenceLag {
    private final int capacity;
    private final long[] seqs;
    private final long[] startNanos;
    private final LongSupplier nanoClock;
    private int head;
    private int size;
    private long samples;
    private long maxNanos;
    private long unsampled;
    private volatile Timer timer;

    /**
     * @param capacity the most updates waiting for acknowledgement at once
     * @param nanoClock the time source, in nanoseconds (any origin)
     */
    ConvergenceLag(int capacity, LongSupplier nanoClock) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1, got " + capacity);
        }
        this.capacity = capacity;
        this.seqs = new long[capacity];
        this.startNanos = new long[capacity];
        this.nanoClock = nanoClock;
    }

    /** A local update with change sequence {@code seq} was made now. Sequences arrive in non-decreasing order. */
    synchronized void updated(long seq) {
        if (size == capacity) {
            unsampled++;
            return;
        }
        int i = (head + size) % capacity;
        seqs[i] = seq;
        startNanos[i] = nanoClock.getAsLong();
        size++;
    }

    /**
     * Every member now holds the changes up to {@code heldByAll}: records the lag of each waiting update they cover.
     *
     * @return how many updates were recorded
     */
    synchronized int acknowledged(long heldByAll) {
        long now = nanoClock.getAsLong();
        int n = 0;
        Timer t = timer;
        while (size > 0 && seqs[head] <= heldByAll) {
            long lag = Math.max(0, now - startNanos[head]);
            if (t != null) {
                t.record(lag, TimeUnit.NANOSECONDS);
            }
            maxNanos = Math.max(maxNanos, lag);
            samples++;
            head = (head + 1) % capacity;
            size--;
            n++;
        }
        return n;
    }

    /** Registers the timer; returns it so the caller can remove it. */
    Meter register(MeterRegistry registry) {
        Timer t = Timer.builder("dwcp.ass.convergence.lag")
                .description("Time from a local update until every live member is known to hold it")
                .register(registry);
        timer = t;
        return t;
    }

    /** Stops recording into the timer (the registry removes it). */
    void unregister() {
        timer = null;
    }

    synchronized long samples() {
        return samples;
    }

    synchronized long maxNanos() {
        return maxNanos;
    }

    synchronized int waiting() {
        return size;
    }

    synchronized long unsampled() {
        return unsampled;
    }
}
