package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The memory budget of a node's migration receivers for partial codec frames ({@code dwcp.migration.receive-buffer}):
 * every round reserves what its frame buffer holds, and a reservation past the budget fails that round with
 * {@code LIMIT_EXCEEDED} instead of waiting or growing the heap. Thread-safe (lock-free). Created by the manager and
 * shared by its receivers; nothing for users to call.
 */
public final class ReceiveBuffers {
    private final long maxBytes;
    private final AtomicLong used = new AtomicLong();

    private ReceiveBuffers(long maxBytes) {
        if (maxBytes <= 0) {
            throw new IllegalArgumentException("maxBytes must be positive, got " + maxBytes);
        }
        this.maxBytes = maxBytes;
    }

    /**
     * A budget of {@code maxBytes}.
     *
     * @param maxBytes the budget in bytes
     * @return the budget
     */
    public static ReceiveBuffers of(long maxBytes) {
        return new ReceiveBuffers(maxBytes);
    }

    long maxBytes() {
        return maxBytes;
    }

    long usedBytes() {
        return used.get();
    }

    /** Takes {@code bytes} of the budget for round transfer {@code what}, or fails with {@code LIMIT_EXCEEDED}. */
    void reserve(long bytes, String what) {
        for (;;) {
            long u = used.get();
            if (u + bytes > maxBytes) {
                throw new DwcpException(ErrorCode.LIMIT_EXCEEDED, what + " needs " + bytes + " more bytes of frame buffer;"
                        + " the receiver holds " + u + " of its " + maxBytes + " (dwcp.migration.receive-buffer) for"
                        + " rounds in progress");
            }
            if (used.compareAndSet(u, u + bytes)) {
                return;
            }
        }
    }

    void release(long bytes) {
        used.addAndGet(-bytes);
    }
}
