package io.dwcp.sync.crdt;

import java.util.Collection;
import java.util.Collections;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A causal context: the set of dots a replica has seen, stored as a version vector (for each replica, every counter
 * up to a maximum) plus the dots seen beyond a gap (Preguiça et al.'s dotted version vectors; the causal context of
 * Almeida et al.'s δ-CRDTs). It decides happened-before: a dot is in the context iff its event is in the causal past.
 *
 * <p>Immutable. Always compact (a dot next to its replica's maximum is folded into it; no dot below it is kept), so
 * equal sets of dots have equal representations and equal encodings.
 */
public final class DottedVersionVector {
    /** The empty context. */
    public static final DottedVersionVector EMPTY = new DottedVersionVector(new TreeMap<>(), new TreeMap<>());

    private final TreeMap<String, Long> vector;
    private final TreeMap<String, TreeSet<Long>> cloud;

    private DottedVersionVector(TreeMap<String, Long> vector, TreeMap<String, TreeSet<Long>> cloud) {
        this.vector = vector;
        this.cloud = cloud;
    }

    /**
     * The context holding exactly {@code dots}.
     *
     * @param dots the dots, in any order; duplicates are ignored
     * @return the compact context
     */
    public static DottedVersionVector of(Collection<Dot> dots) {
        Builder b = new Builder();
        for (Dot d : dots) {
            b.add(d);
        }
        return b.build();
    }

    /**
     * Whether {@code dot} is in the context.
     *
     * @param dot the dot to test
     * @return {@code true} when the context holds it
     */
    public boolean contains(Dot dot) {
        if (dot.counter() <= vector.getOrDefault(dot.replica(), 0L)) {
            return true;
        }
        TreeSet<Long> c = cloud.get(dot.replica());
        return c != null && c.contains(dot.counter());
    }

    /**
     * The highest counter of {@code replica} in the context (0 when none).
     *
     * @param replica the replica id
     * @return its highest counter, including dots beyond a gap
     */
    public long max(String replica) {
        TreeSet<Long> c = cloud.get(replica);
        return c != null ? c.last() : vector.getOrDefault(replica, 0L);
    }

    /**
     * The contiguous maximum of {@code replica}: every counter up to it is in the context (0 when none).
     *
     * @param replica the replica id
     * @return the highest counter with no gap below it
     */
    public long contiguous(String replica) {
        return vector.getOrDefault(replica, 0L);
    }

    /**
     * A fresh dot of {@code replica}, above every dot of it in the context. The context is not changed.
     *
     * @param replica the replica id
     * @return the dot with counter {@link #max(String)} + 1
     */
    public Dot next(String replica) {
        return new Dot(replica, max(replica) + 1);
    }

    /**
     * The replicas with at least one dot, sorted.
     *
     * @return an unmodifiable sorted set of replica ids
     */
    public NavigableSet<String> replicas() {
        TreeSet<String> s = new TreeSet<>(vector.keySet());
        s.addAll(cloud.keySet());
        return Collections.unmodifiableNavigableSet(s);
    }

    /**
     * This context with {@code dot} added.
     *
     * @param dot the dot to add
     * @return the new context, or this one when it already holds the dot
     */
    public DottedVersionVector add(Dot dot) {
        if (contains(dot)) {
            return this;
        }
        Builder b = new Builder(this);
        b.add(dot);
        return b.build();
    }

    /**
     * The union of the two contexts.
     *
     * @param o the other context
     * @return the context holding the dots of both
     */
    public DottedVersionVector join(DottedVersionVector o) {
        if (o.isEmpty()) {
            return this;
        }
        if (isEmpty()) {
            return o;
        }
        Builder b = new Builder(this);
        for (Map.Entry<String, Long> e : o.vector.entrySet()) {
            b.raise(e.getKey(), e.getValue());
        }
        for (Map.Entry<String, TreeSet<Long>> e : o.cloud.entrySet()) {
            for (long c : e.getValue()) {
                b.add(new Dot(e.getKey(), c));
            }
        }
        return b.build();
    }

    /**
     * Whether every dot of {@code o} is in this context.
     *
     * @param o the other context
     * @return {@code true} when this context includes {@code o}
     */
    public boolean includes(DottedVersionVector o) {
        for (Map.Entry<String, Long> e : o.vector.entrySet()) {
            long mine = vector.getOrDefault(e.getKey(), 0L);
            if (mine < e.getValue()) {
                // the counters mine+1 .. e.getValue() must all be in this cloud (a compact cloud never holds mine+1,
                // so in practice this is false; counted, not looped, so a huge vector entry costs nothing)
                TreeSet<Long> c = cloud.get(e.getKey());
                long need = e.getValue() - mine;
                if (c == null || c.subSet(mine + 1, true, e.getValue(), true).size() != need) {
                    return false;
                }
            }
        }
        for (Map.Entry<String, TreeSet<Long>> e : o.cloud.entrySet()) {
            for (long c : e.getValue()) {
                if (!contains(new Dot(e.getKey(), c))) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * This context without any dot of the replicas {@code drop} accepts (pruning the dots of a retired replica).
     *
     * @param drop accepts the replica ids to leave out
     * @return the new context, or this one when it holds no dot of such a replica
     */
    public DottedVersionVector without(java.util.function.Predicate<String> drop) {
        if (vector.keySet().stream().noneMatch(drop) && cloud.keySet().stream().noneMatch(drop)) {
            return this;
        }
        TreeMap<String, Long> v = new TreeMap<>(vector);
        v.keySet().removeIf(drop);
        TreeMap<String, TreeSet<Long>> c = new TreeMap<>();
        cloud.forEach((k, dots) -> {
            if (!drop.test(k)) {
                c.put(k, new TreeSet<>(dots));
            }
        });
        return new DottedVersionVector(v, c);
    }

    /**
     * Whether the context has no dot.
     *
     * @return {@code true} when empty
     */
    public boolean isEmpty() {
        return vector.isEmpty() && cloud.isEmpty();
    }

    /**
     * Writes the canonical form: vector entries, then cloud entries, each sorted by replica.
     *
     * @param w the writer to append to
     */
    public void encode(CanonicalWriter w) {
        w.varint(vector.size());
        for (Map.Entry<String, Long> e : vector.entrySet()) {
            w.string(e.getKey()).varint(e.getValue());
        }
        w.varint(cloud.size());
        for (Map.Entry<String, TreeSet<Long>> e : cloud.entrySet()) {
            w.string(e.getKey()).varint(e.getValue().size());
            for (long c : e.getValue()) {
                w.varint(c);
            }
        }
    }

    /**
     * Reads a context; the result is compacted whatever the input's form.
     *
     * @param r the reader, positioned at the context
     * @return the decoded context
     * @throws io.dwcp.core.DwcpException {@code CORRUPT_FRAME} when the input is malformed
     */

    public static DottedVersionVector decode(CanonicalReader r) {
        Builder b = new Builder();
        int n = r.count(2);
        for (int i = 0; i < n; i++) {
            String replica = r.string();
            long max = r.varint();
            if (max < 1) {
                throw r.corrupt("version-vector entry 0 for " + replica);
            }
            b.raise(replica, max);
        }
        int m = r.count(2);
        for (int i = 0; i < m; i++) {
            String replica = r.string();
            int k = r.count(1);
            for (int j = 0; j < k; j++) {
                long c = r.varint();
                if (c < 1) {
                    throw r.corrupt("dot counter 0 for " + replica);
                }
                b.add(new Dot(replica, c));
            }
        }
        return b.build();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DottedVersionVector d && vector.equals(d.vector) && cloud.equals(d.cloud);
    }

    @Override
    public int hashCode() {
        return Objects.hash(vector, cloud);
    }

    @Override
    public String toString() {
        return "DVV" + vector + (cloud.isEmpty() ? "" : "+" + cloud);
    }

    /** Mutable accumulator that compacts on build. */
    private static final class Builder {
        private final TreeMap<String, Long> vector;
        private final TreeMap<String, TreeSet<Long>> cloud;

        Builder() {
            vector = new TreeMap<>();
            cloud = new TreeMap<>();
        }

        Builder(DottedVersionVector from) {
            vector = new TreeMap<>(from.vector);
            cloud = new TreeMap<>();
            from.cloud.forEach((k, v) -> cloud.put(k, new TreeSet<>(v)));
        }

        void raise(String replica, long max) {
            vector.merge(replica, max, Math::max);
        }

        void add(Dot d) {
            if (d.counter() <= vector.getOrDefault(d.replica(), 0L)) {
                return;
            }
            cloud.computeIfAbsent(d.replica(), k -> new TreeSet<>()).add(d.counter());
        }

        DottedVersionVector build() {
            for (String replica : new TreeSet<>(cloud.keySet())) {
                TreeSet<Long> c = cloud.get(replica);
                long max = vector.getOrDefault(replica, 0L);
                while (!c.isEmpty() && c.first() <= max + 1) {
                    max = Math.max(max, c.pollFirst());
                }
                if (max > 0) {
                    vector.put(replica, max);
                }
                if (c.isEmpty()) {
                    cloud.remove(replica);
                }
            }
            return new DottedVersionVector(vector, cloud);
        }
    }
}
