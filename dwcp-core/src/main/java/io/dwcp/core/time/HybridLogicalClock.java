package io.dwcp.core.time;

import java.time.Clock;
import java.util.Objects;

/**
 * A hybrid logical clock (Kulkarni et al., 2014): timestamps that follow physical time when clocks agree, yet never go
 * backwards and always exceed every timestamp this node has seen.
 *
 * <p>A timestamp is one {@code long}: the high 48 bits are milliseconds since the Unix epoch, the low 16 bits a
 * logical counter that orders events within one millisecond. Comparing timestamps as unsigned (equivalently, signed,
 * until the year 10889) orders them. The counter saturating at 65,535 within one millisecond moves the physical part
 * one millisecond ahead rather than wrapping, so the order is kept.
 *
 * <pre>{@code
 * HybridLogicalClock hlc = new HybridLogicalClock(Clock.systemUTC());
 * long t = hlc.now();                   // stamp a local event
 * long u = hlc.update(remoteTimestamp); // after receiving a message stamped remoteTimestamp
 * }</pre>
 *
 * <p>Thread-safe: {@link #now()} and {@link #update(long)} are linearizable (they lock this object briefly). The
 * physical source is injectable for deterministic tests.
 */
public final class HybridLogicalClock {
    /** Bits of the logical counter. */
    public static final int COUNTER_BITS = 16;
    /** Largest counter value. */
    public static final int MAX_COUNTER = (1 << COUNTER_BITS) - 1;
    /** Largest physical part, in milliseconds since the epoch. */
    public static final long MAX_PHYSICAL_MILLIS = (1L << (64 - COUNTER_BITS)) - 1;

    private final Clock physical;
    /** Last timestamp issued or observed. Guarded by this. */
    private long last;

    /**
     * A clock reading {@code physical} for the millisecond part.
     *
     * @param physical the physical time source, not null
     */
    public HybridLogicalClock(Clock physical) {
        this.physical = Objects.requireNonNull(physical, "physical");
    }

    /**
     * Packs a timestamp.
     *
     * @param physicalMillis milliseconds since the Unix epoch, 0 to {@link #MAX_PHYSICAL_MILLIS}
     * @param counter the logical counter, 0 to {@link #MAX_COUNTER}
     * @return the timestamp: {@code physicalMillis} in the high 48 bits, {@code counter} in the low 16
     * @throws IllegalArgumentException when a part is out of range
     */
    public static long pack(long physicalMillis, int counter) {
        if (physicalMillis < 0 || physicalMillis > MAX_PHYSICAL_MILLIS) {
            throw new IllegalArgumentException("physicalMillis must be in 0.." + MAX_PHYSICAL_MILLIS + ", got " + physicalMillis);
        }
        if (counter < 0 || counter > MAX_COUNTER) {
            throw new IllegalArgumentException("counter must be in 0.." + MAX_COUNTER + ", got " + counter);
        }
        return (physicalMillis << COUNTER_BITS) | counter;
    }

    /**
     * The millisecond part of a timestamp.
     *
     * @param timestamp a packed timestamp
     * @return its high 48 bits: milliseconds since the Unix epoch
     */
    public static long physicalMillis(long timestamp) {
        return timestamp >>> COUNTER_BITS;
    }

    /**
     * The counter part of a timestamp.
     *
     * @param timestamp a packed timestamp
     * @return its low 16 bits, 0 to {@link #MAX_COUNTER}
     */
    public static int counter(long timestamp) {
        return (int) (timestamp & MAX_COUNTER);
    }

    /**
     * A timestamp for a local or send event: greater than every timestamp issued or observed before.
     *
     * @return the new timestamp
     * @throws IllegalStateException when the physical clock reads outside 0 to {@link #MAX_PHYSICAL_MILLIS}
     */
    public synchronized long now() {
        long wall = wallMillis();
        long lastMillis = physicalMillis(last);
        if (wall > lastMillis) {
            last = pack(wall, 0);
        } else {
            last = increment(last);
        }
        return last;
    }

    /**
     * Observes a timestamp received from another node and returns a timestamp for the receive event, greater than
     * both {@code remote} and every timestamp issued before. A remote clock far ahead is followed (convergence
     * first); callers that must alarm on skew compare with {@link #skewMillis(long)} first.
     *
     * @param remote the received timestamp
     * @return the new local timestamp
     * @throws IllegalStateException when the physical clock reads outside 0 to {@link #MAX_PHYSICAL_MILLIS}
     */
    public synchronized long update(long remote) {
        long wall = wallMillis();
        long max = Math.max(last, remote);
        if (wall > physicalMillis(max)) {
            last = pack(wall, 0);
        } else {
            last = increment(max);
        }
        return last;
    }

    /**
     * How far {@code remote}'s physical part is ahead of this node's physical clock.
     *
     * @param remote a received timestamp
     * @return the difference in milliseconds, negative when {@code remote} is behind
     * @throws IllegalStateException when the physical clock reads outside 0 to {@link #MAX_PHYSICAL_MILLIS}
     */
    public long skewMillis(long remote) {
        return physicalMillis(remote) - wallMillis();
    }

    /**
     * The last timestamp issued or observed.
     *
     * @return that timestamp, 0 before the first
     */
    public synchronized long last() {
        return last;
    }

    private long wallMillis() {
        long ms = physical.millis();
        if (ms < 0 || ms > MAX_PHYSICAL_MILLIS) {
            throw new IllegalStateException("physical clock out of the 48-bit range: " + ms + " ms");
        }
        return ms;
    }

    private static long increment(long t) {
        if (counter(t) < MAX_COUNTER) {
            return t + 1;
        }
        // Counter exhausted within one millisecond: borrow the next millisecond so the order holds.
        return pack(physicalMillis(t) + 1, 0);
    }

    /**
     * Text form {@code millis.counter}, for logs.
     *
     * @param timestamp a packed timestamp
     * @return its physical part in milliseconds, a dot, and its counter
     */
    public static String format(long timestamp) {
        return physicalMillis(timestamp) + "." + counter(timestamp);
    }
}
