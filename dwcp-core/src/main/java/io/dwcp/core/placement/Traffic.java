package io.dwcp.core.placement;

import java.util.Objects;

/**
 * Observed or expected traffic from one VM to another.
 *
 * @param from sending VM id
 * @param to receiving VM id, different from {@code from}
 * @param bytesPerSecond mean rate, finite and ≥ 0
 */
public record Traffic(String from, String to, double bytesPerSecond) {
    /**
     * Validates the edge.
     *
     * @param from sending VM id
     * @param to receiving VM id, different from {@code from}
     * @param bytesPerSecond mean rate, finite and ≥ 0
     * @throws IllegalArgumentException naming the edge when the rate is negative or NaN or it is a self-loop
     */
    public Traffic {
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
        if (!(bytesPerSecond >= 0) || Double.isInfinite(bytesPerSecond)) {
            throw new IllegalArgumentException("traffic " + from + " -> " + to + ": bytesPerSecond must be finite and >= 0, got "
                    + bytesPerSecond);
        }
        if (from.equals(to)) {
            throw new IllegalArgumentException("traffic " + from + " -> " + to + " is a self-loop");
        }
    }
}
