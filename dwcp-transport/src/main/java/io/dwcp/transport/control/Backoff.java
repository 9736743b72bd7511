package io.dwcp.transport.control;

import java.time.Duration;
import java.util.function.DoubleSupplier;

/**
 * Reconnect delays: {@code initial × 2^attempt}, capped at {@code max}, with ±20 % jitter. The random
 * source is injected so tests are deterministic. Immutable and thread-safe if the supplier is.
 */
public final class Backoff {
    private final long initialNanos;
    private final long maxNanos;
    private final DoubleSupplier random;

    /**
     * @param initial the delay before the first retry (attempt 0), before jitter
     * @param max the longest delay, before jitter
     * @param random uniform values in [0, 1)
     */
    public Backoff(Duration initial, Duration max, DoubleSupplier random) {
        this.initialNanos = initial.toNanos();
        this.maxNanos = max.toNanos();
        this.random = random;
    }

    /**
     * The delay before a retry: doubling from {@code initial} up to {@code max}, times a jitter of 0.8 to 1.2.
     *
     * @param attempt the attempt, 0-based
     * @return the delay in nanoseconds
     */
    public long delayNanos(int attempt) {
        long base = initialNanos;
        for (int i = 0; i < attempt && base < maxNanos; i++) {
            base *= 2;
        }
        base = Math.min(base, maxNanos);
        double jitter = 0.8 + 0.4 * random.getAsDouble();
        return (long) (base * jitter);
    }
}
