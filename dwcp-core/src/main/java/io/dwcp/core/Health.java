package io.dwcp.core;

import java.util.Objects;

/**
 * Health of one component at query time: computed from live state, never cached from registration.
 *
 * @param status the status
 * @param detail a short human explanation ("3 of 8 streams", "no session"), never {@code null}
 */
public record Health(Status status, String detail) {
    /** Ordered from best to worst; the aggregate of several is the worst. */
    public enum Status {
        /** Working as configured. */
        HEALTHY,
        /** Not known yet (no data, not started). */
        UNKNOWN,
        /** Working with reduced capacity (fewer streams, a fallback in use). */
        DEGRADED,
        /** Not working. */
        UNHEALTHY
    }

    /**
     * Checks that {@code status} and {@code detail} are not {@code null}.
     *
     * @param status the status, not {@code null}
     * @param detail a short human explanation, not {@code null}
     */
    public Health {
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(detail, "detail");
    }

    /**
     * A {@link Status#HEALTHY} health with {@code detail}.
     *
     * @param detail a short human explanation, not {@code null}
     * @return the health
     */
    public static Health healthy(String detail) {
        return new Health(Status.HEALTHY, detail);
    }

    /**
     * A {@link Status#DEGRADED} health with {@code detail}.
     *
     * @param detail a short human explanation, not {@code null}
     * @return the health
     */
    public static Health degraded(String detail) {
        return new Health(Status.DEGRADED, detail);
    }

    /**
     * A {@link Status#UNHEALTHY} health with {@code detail}.
     *
     * @param detail a short human explanation, not {@code null}
     * @return the health
     */
    public static Health unhealthy(String detail) {
        return new Health(Status.UNHEALTHY, detail);
    }

    /**
     * A {@link Status#UNKNOWN} health with {@code detail}.
     *
     * @param detail a short human explanation, not {@code null}
     * @return the health
     */
    public static Health unknown(String detail) {
        return new Health(Status.UNKNOWN, detail);
    }

    /**
     * The worse of two statuses.
     *
     * @param a one status
     * @param b another
     * @return the one later in {@link Status} order
     */
    public static Status worst(Status a, Status b) {
        return a.ordinal() >= b.ordinal() ? a : b;
    }
}
