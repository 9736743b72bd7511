package io.dwcp.transport.control;

/**
 * One token bucket shared by every stream of a session: the aggregate rate stays at the cap however many
 * streams send. Tokens are bytes. A sender asks {@link #tryAcquire} before writing a chunk; the bucket may go into
 * debt by one chunk (so a chunk larger than the burst still passes), and the next sender waits until the debt is
 * repaid. Over any window of T seconds the bytes admitted are at most {@code rate × T + burst + largest chunk}.
 *
 * <p>The burst is {@value #BURST_MILLIS} ms at the rate: at most 4 % of a 1 s window, so with chunks below 1 % of a
 * second's bytes a ±5 % bound on the rate holds over 1 s windows (the chunk sizer keeps chunks that small when a
 * cap is set). The rate changes while running ({@link #rateBytesPerSecond(long)}). Time is passed in as nanoseconds.
 *
 * <p>Thread-safe (synchronized; called once per chunk, never per byte).
 */
public final class TokenBucket {
    /** The burst, in milliseconds of the rate. */
    public static final long BURST_MILLIS = 40;

    private long rateBytesPerSecond;
    private long burstBytes;
    private long tokens;
    private long lastNanos;
    private boolean started;

    /** @param rateBytesPerSecond the rate, 0 = unlimited */
    public TokenBucket(long rateBytesPerSecond) {
        rateBytesPerSecond(rateBytesPerSecond);
    }

    /**
     * Changes the rate; tokens already held are clipped to the new burst.
     *
     * @param rate bytes per second, 0 = unlimited
     * @throws IllegalArgumentException when negative
     */
    public synchronized void rateBytesPerSecond(long rate) {
        if (rate < 0) {
            throw new IllegalArgumentException("rate must be >= 0 bytes/s, got " + rate);
        }
        this.rateBytesPerSecond = rate;
        this.burstBytes = Math.max(1, rate * BURST_MILLIS / 1000);
        this.tokens = Math.min(tokens, burstBytes);
    }

    /** @return the rate in bytes per second, 0 = unlimited */
    public synchronized long rateBytesPerSecond() {
        return rateBytesPerSecond;
    }

    /** @return the most tokens the bucket holds, in bytes */
    public synchronized long burstBytes() {
        return burstBytes;
    }

    /**
     * Takes {@code bytes} tokens if the bucket is not in debt, and returns 0; else takes nothing and returns the
     * nanoseconds to wait before asking again.
     *
     * @param bytes the chunk's size
     * @param nowNanos the time, {@link System#nanoTime()}
     * @return 0 when admitted, else nanoseconds to wait
     */
    public synchronized long tryAcquire(long bytes, long nowNanos) {
        long wait = inDebtWait(nowNanos);
        if (wait > 0 || rateBytesPerSecond == 0) {
            return wait;
        }
        tokens -= bytes;
        return 0;
    }

    /**
     * Takes {@code bytes} tokens from this bucket and from {@code outer} together, or from neither: returns 0 when
     * both admitted the chunk, else the longer of the waits that made it wait. Used with a session's bucket here and
     * the node-wide bucket as {@code outer}, so a chunk that one cap holds back is not charged to the other (it is
     * charged once, when it really goes). Locks this bucket, then {@code outer}: callers must never nest the two the
     * other way round.
     *
     * @param bytes the chunk's size
     * @param nowNanos the time, {@link System#nanoTime()}
     * @param outer the other bucket the chunk must also pass
     * @return 0 when both admitted it, else nanoseconds to wait
     */
    public long tryAcquire(long bytes, long nowNanos, TokenBucket outer) {
        synchronized (this) {
            long wait = inDebtWait(nowNanos);
            if (wait > 0) {
                return wait;
            }
            wait = outer.tryAcquire(bytes, nowNanos);
            if (wait > 0) {
                return wait;
            }
            if (rateBytesPerSecond != 0) {
                tokens -= bytes;
            }
            return 0;
        }
    }

    /** Refills; 0 when not in debt (or unlimited), else the nanoseconds until the debt is repaid. Under the lock. */
    private long inDebtWait(long nowNanos) {
        if (rateBytesPerSecond == 0) {
            return 0;
        }
        refill(nowNanos);
        if (tokens < 0) {
            long wait = (-tokens * 1_000_000_000L + rateBytesPerSecond - 1) / rateBytesPerSecond;
            return Math.max(wait, 1);
        }
        return 0;
    }

    private void refill(long nowNanos) {
        if (!started) {
            started = true;
            lastNanos = nowNanos;
            tokens = 0;
            return;
        }
        long elapsed = nowNanos - lastNanos;
        if (elapsed <= 0) {
            return;
        }
        // Refill in whole bytes, carrying the remainder of the time so slow rates do not lose tokens to rounding.
        long add = Math.multiplyHigh(elapsed, rateBytesPerSecond) != 0 ? Long.MAX_VALUE
                : elapsed * rateBytesPerSecond / 1_000_000_000L;
        if (add == 0) {
            return;
        }
        lastNanos = add == Long.MAX_VALUE ? nowNanos : lastNanos + add * 1_000_000_000L / rateBytesPerSecond;
        tokens = add >= burstBytes - tokens ? burstBytes : tokens + add;
    }
}
