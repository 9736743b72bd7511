package io.dwcp.sync.crdt;

import java.util.Objects;

/** Positive-negative counter: two {@link GCounter}s, value P − N; increments and decrements. Immutable. */
public final class PNCounter implements Crdt<PNCounter> {
    /** The counter at zero. */
    public static final PNCounter EMPTY = new PNCounter(GCounter.EMPTY, GCounter.EMPTY);

    private final GCounter positive;
    private final GCounter negative;

    private PNCounter(GCounter positive, GCounter negative) {
        this.positive = positive;
        this.negative = negative;
    }

    /**
     * δ-mutator: the delta adding {@code amount} (any sign; 0 gives the empty delta) at {@code replica}.
     *
     * @param replica the replica id updating
     * @param amount the amount to add; negative decrements
     * @return the delta
     * @throws IllegalArgumentException when {@code amount} is {@link Long#MIN_VALUE} or the replica's increment or
     *     decrement total would overflow
     */
    public PNCounter addDelta(String replica, long amount) {
        if (amount > 0) {
            return new PNCounter(positive.incrementDelta(replica, amount), GCounter.EMPTY);
        }
        if (amount < 0) {
            if (amount == Long.MIN_VALUE) {
                throw new IllegalArgumentException("amount Long.MIN_VALUE cannot be negated");
            }
            return new PNCounter(GCounter.EMPTY, negative.incrementDelta(replica, -amount));
        }
        return EMPTY;
    }

    /**
     * P − N (wrapping on overflow of the difference, which needs sums beyond 2^63).
     *
     * @return the counter's value
     */

    public long value() {
        return positive.value() - negative.value();
    }

    @Override
    public CrdtType type() {
        return CrdtType.PN_COUNTER;
    }

    @Override
    public PNCounter merge(PNCounter other) {
        return new PNCounter(positive.merge(other.positive), negative.merge(other.negative));
    }

    @Override
    public void encodeBody(CanonicalWriter w) {
        positive.encodeBody(w);
        negative.encodeBody(w);
    }

    static PNCounter decodeBody(CanonicalReader r) {
        GCounter p = GCounter.decodeBody(r);
        return new PNCounter(p, GCounter.decodeBody(r));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PNCounter c && positive.equals(c.positive) && negative.equals(c.negative);
    }

    @Override
    public int hashCode() {
        return Objects.hash(positive, negative);
    }

    @Override
    public String toString() {
        return "PNCounter{P=" + positive.counts() + ", N=" + negative.counts() + "}";
    }
}
