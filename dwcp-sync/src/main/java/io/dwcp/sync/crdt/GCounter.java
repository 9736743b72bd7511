package io.dwcp.sync.crdt;

import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Grow-only counter: one non-decreasing count per replica; the value is their sum, merge takes each replica's
 * maximum. Increments only: a decrement is refused with {@link IllegalArgumentException}. Immutable.
 */
public final class GCounter implements Crdt<GCounter> {
    /** The counter at zero. */
    public static final GCounter EMPTY = new GCounter(new TreeMap<>());

    private final TreeMap<String, Long> counts;

    private GCounter(TreeMap<String, Long> counts) {
        this.counts = counts;
    }

    /**
     * δ-mutator: the delta adding {@code amount} at {@code replica}.
     *
     * @param replica the replica id incrementing
     * @param amount the increment, &gt; 0
     * @return the delta: {@code replica}'s new count alone

     * @throws IllegalArgumentException when {@code amount} is not positive (a G-Counter never decreases) or the
     *     replica's count would overflow
     */
    public GCounter incrementDelta(String replica, long amount) {
        if (amount <= 0) {
            throw new IllegalArgumentException("a G-Counter only grows: increment must be > 0, got " + amount);
        }
        long next;
        try {
            next = Math.addExact(counts.getOrDefault(replica, 0L), amount);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("G-Counter entry of " + replica + " would overflow", e);
        }
        TreeMap<String, Long> d = new TreeMap<>();
        d.put(replica, next);
        return new GCounter(d);
    }

    /**
     * The sum of every replica's count (saturating at {@link Long#MAX_VALUE}).
     *
     * @return the counter's value, ≥ 0
     */
    public long value() {
        long sum = 0;
        for (long v : counts.values()) {
            sum = sum > Long.MAX_VALUE - v ? Long.MAX_VALUE : sum + v;
        }
        return sum;
    }

    /**
     * Per-replica counts, sorted by replica.
     *
     * @return an unmodifiable view, replica id to count
     */

    public SortedMap<String, Long> counts() {
        return Collections.unmodifiableSortedMap(counts);
    }

    @Override
    public CrdtType type() {
        return CrdtType.G_COUNTER;
    }

    @Override
    public GCounter merge(GCounter other) {
        if (other.counts.isEmpty()) {
            return this;
        }
        TreeMap<String, Long> m = new TreeMap<>(counts);
        for (Map.Entry<String, Long> e : other.counts.entrySet()) {
            m.merge(e.getKey(), e.getValue(), Math::max);
        }
        return new GCounter(m);
    }

    @Override
    public void encodeBody(CanonicalWriter w) {
        w.varint(counts.size());
        for (Map.Entry<String, Long> e : counts.entrySet()) {
            w.string(e.getKey()).varint(e.getValue());
        }
    }

    static GCounter decodeBody(CanonicalReader r) {
        int n = r.count(2);
        TreeMap<String, Long> m = new TreeMap<>();
        String prev = null;
        for (int i = 0; i < n; i++) {
            String k = r.string();
            if (prev != null && prev.compareTo(k) >= 0) {
                throw r.corrupt("G-Counter replicas not in strictly ascending order");
            }
            prev = k;
            long v = r.varint();
            if (v == 0) {
                throw r.corrupt("G-Counter entry 0 for " + k);
            }
            m.put(k, v);
        }
        return new GCounter(m);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GCounter g && counts.equals(g.counts);
    }

    @Override
    public int hashCode() {
        return counts.hashCode();
    }

    @Override
    public String toString() {
        return "GCounter" + counts;
    }
}
