package io.dwcp.sync.crdt;

import io.dwcp.core.time.HybridLogicalClock;

import java.util.Objects;
import java.util.Optional;

/**
 * Last-writer-wins register of a string: the write with the highest hybrid-logical-clock timestamp wins, ties broken
 * by replica id (then by value, so merge stays commutative even for malformed input). Never ordered by wall clock
 * alone. Immutable.
 */
public final class LwwRegister implements Crdt<LwwRegister> {
    /** The register never written. */
    public static final LwwRegister EMPTY = new LwwRegister(0, "", "");

    private final long timestamp;
    private final String replica;
    private final String value;

    private LwwRegister(long timestamp, String replica, String value) {
        this.timestamp = timestamp;
        this.replica = replica;
        this.value = value;
    }

    /**
     * δ-mutator: the delta writing {@code value}, stamped by {@code clock} above the current winner. The delta is the whole (small)
     * register.
     *
     * @param replica the replica id writing
     * @param value the value, not null
     * @param clock the replica's hybrid logical clock, advanced past the current winner's timestamp
     * @return the delta: a register holding the new write
     * @throws NullPointerException when {@code value} is null
     */
    public LwwRegister writeDelta(String replica, String value, HybridLogicalClock clock) {
        Objects.requireNonNull(value, "value");
        long t = clock.update(timestamp);
        return new LwwRegister(t, replica, value);
    }

    /**
     * The winning value, empty when never written.
     *
     * @return the value, or empty
     */
    public Optional<String> value() {
        return timestamp == 0 ? Optional.empty() : Optional.of(value);
    }

    /**
     * The winning write's hybrid-logical-clock timestamp (0 when never written).
     *
     * @return the timestamp
     */
    public long timestamp() {
        return timestamp;
    }

    /**
     * The replica of the winning write ("" when never written).
     *
     * @return the replica id
     */

    public String replica() {
        return replica;
    }

    @Override
    public CrdtType type() {
        return CrdtType.LWW_REGISTER;
    }

    @Override
    public LwwRegister merge(LwwRegister o) {
        int c = Long.compareUnsigned(timestamp, o.timestamp);
        if (c == 0) {
            c = replica.compareTo(o.replica);
        }
        if (c == 0) {
            c = value.compareTo(o.value);
        }
        return c >= 0 ? this : o;
    }

    @Override
    public void encodeBody(CanonicalWriter w) {
        w.i64(timestamp).string(replica).string(value);
    }

    static LwwRegister decodeBody(CanonicalReader r) {
        long t = r.i64();
        String replica = r.string();
        String value = r.string();
        if (t == 0 && !(replica.isEmpty() && value.isEmpty())) {
            throw r.corrupt("LWW-Register with timestamp 0 carries a value");
        }
        return new LwwRegister(t, replica, value);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LwwRegister l && timestamp == l.timestamp && replica.equals(l.replica) && value.equals(l.value);
    }

    @Override
    public int hashCode() {
        return Objects.hash(timestamp, replica, value);
    }

    @Override
    public String toString() {
        return "LwwRegister{" + HybridLogicalClock.format(timestamp) + " " + replica + " '" + value + "'}";
    }
}
