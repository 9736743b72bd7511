package io.dwcp.sync.crdt;

import java.util.Collections;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Observed-remove set of strings with add-wins semantics (the δ-CRDT AWORSet of Almeida et al.): each addition is
 * tagged with a fresh {@link Dot}; a removal removes the dots it observed, by adding them to the causal context
 * without an entry. An addition concurrent with a removal survives because the remover never saw its dot. Identity
 * is by dots, never by wall time. Immutable.
 *
 * <p>Merge, per element: keep the dots both sides hold, and the dots one side holds that the other side's context
 * has not seen (an unseen add); drop the ones the other side saw and dropped (an observed remove).
 */
public final class OrSet implements Crdt<OrSet> {
    /** The empty set. */
    public static final OrSet EMPTY = new OrSet(new TreeMap<>(), DottedVersionVector.EMPTY);

    private final TreeMap<String, TreeSet<Dot>> entries;
    private final DottedVersionVector context;

    OrSet(TreeMap<String, TreeSet<Dot>> entries, DottedVersionVector context) {
        this.entries = entries;
        this.context = context;
    }

    /**
     * δ-mutator: the delta adding {@code element} at {@code replica} (replacing the dots of it seen here).
     *
     * @param replica the replica id adding
     * @param element the element to add
     * @return the delta: the element under a fresh dot, with the replaced dots in its context
     */
    public OrSet addDelta(String replica, String element) {
        Dot d = context.next(replica);
        TreeSet<Dot> dots = new TreeSet<>();
        dots.add(d);
        TreeMap<String, TreeSet<Dot>> e = new TreeMap<>();
        e.put(element, dots);
        TreeSet<Dot> ctx = new TreeSet<>(entries.getOrDefault(element, new TreeSet<>()));
        ctx.add(d);
        return new OrSet(e, DottedVersionVector.of(ctx));
    }

    /**
     * δ-mutator: the delta removing {@code element} as observed here (empty delta when absent).
     *
     * @param element the element to remove
     * @return the delta: no entries, the element's observed dots as context
     */
    public OrSet removeDelta(String element) {
        TreeSet<Dot> seen = entries.get(element);
        return seen == null ? EMPTY : new OrSet(new TreeMap<>(), DottedVersionVector.of(seen));
    }

    /**
     * The present elements, sorted.
     *
     * @return an unmodifiable sorted copy
     */
    public NavigableSet<String> value() {
        return Collections.unmodifiableNavigableSet(new TreeSet<>(entries.keySet()));
    }

    /**
     * Whether {@code element} is present.
     *
     * @param element the element to test
     * @return {@code true} when present
     */
    public boolean contains(String element) {
        return entries.containsKey(element);
    }

    /**
     * The causal context.
     *
     * @return the dots of every addition seen
     */
    public DottedVersionVector context() {
        return context;
    }

    /**
     * The dots tagging {@code element} (empty when absent).
     *
     * @param element the element
     * @return an unmodifiable set of its dots
     */

    public Set<Dot> dots(String element) {
        TreeSet<Dot> d = entries.get(element);
        return d == null ? Set.of() : Collections.unmodifiableSet(d);
    }

    /**
     * This set with the context entries of the replicas {@code drop} accepts removed, except those of replicas that
     * still tag an element (their dots stay, and so does their context). Used to prune a retired replica's entries once
     * its dots are causally stable; the elements and their dots are unchanged.
     *
     * @param drop accepts the replica ids to prune
     * @return the pruned set, or this one when nothing was pruned
     */
    public OrSet pruneContext(java.util.function.Predicate<String> drop) {
        Set<String> tagging = new java.util.HashSet<>();
        entries.values().forEach(ds -> ds.forEach(d -> tagging.add(d.replica())));
        DottedVersionVector c = context.without(r -> drop.test(r) && !tagging.contains(r));
        return c == context ? this : new OrSet(entries, c);
    }

    /**
     * This set without any dot of the replicas {@code drop} accepts, in its elements or its context; an element left
     * without a dot is absent.
     *
     * @param drop accepts the replica ids to leave out
     * @return the new set, or this one when it holds no dot of such a replica
     */
    public OrSet withoutReplicas(java.util.function.Predicate<String> drop) {
        DottedVersionVector c = context.without(drop);
        if (c == context) {
            return this; // every dot of an element is in the context: none of theirs either
        }
        TreeMap<String, TreeSet<Dot>> m = new TreeMap<>();
        entries.forEach((e, ds) -> {
            TreeSet<Dot> kept = new TreeSet<>();
            for (Dot d : ds) {
                if (!drop.test(d.replica())) {
                    kept.add(d);
                }
            }
            if (!kept.isEmpty()) {
                m.put(e, kept);
            }
        });
        return new OrSet(m, c);
    }

    @Override
    public CrdtType type() {
        return CrdtType.OR_SET;
    }

    @Override
    public OrSet merge(OrSet o) {
        TreeMap<String, TreeSet<Dot>> m = new TreeMap<>();
        TreeSet<String> keys = new TreeSet<>(entries.keySet());
        keys.addAll(o.entries.keySet());
        for (String k : keys) {
            TreeSet<Dot> kept = joinDots(entries.get(k), context, o.entries.get(k), o.context);
            if (!kept.isEmpty()) {
                m.put(k, kept);
            }
        }
        return new OrSet(m, context.join(o.context));
    }

    /** The dot-set join: common dots, plus each side's dots the other side's context has not seen. */
    static TreeSet<Dot> joinDots(Set<Dot> a, DottedVersionVector ca, Set<Dot> b, DottedVersionVector cb) {
        TreeSet<Dot> kept = new TreeSet<>();
        if (a != null) {
            for (Dot d : a) {
                if ((b != null && b.contains(d)) || !cb.contains(d)) {
                    kept.add(d);
                }
            }
        }
        if (b != null) {
            for (Dot d : b) {
                if (!ca.contains(d)) {
                    kept.add(d);
                }
            }
        }
        return kept;
    }

    @Override
    public void encodeBody(CanonicalWriter w) {
        w.varint(entries.size());
        for (Map.Entry<String, TreeSet<Dot>> e : entries.entrySet()) {
            w.string(e.getKey()).varint(e.getValue().size());
            for (Dot d : e.getValue()) {
                d.encode(w);
            }
        }
        context.encode(w);
    }

    static OrSet decodeBody(CanonicalReader r) {
        int n = r.count(2);
        TreeMap<String, TreeSet<Dot>> m = new TreeMap<>();
        String prev = null;
        for (int i = 0; i < n; i++) {
            String k = r.string();
            if (prev != null && prev.compareTo(k) >= 0) {
                throw r.corrupt("OR-Set elements not in strictly ascending order");
            }
            prev = k;
            int dn = r.count(2);
            if (dn == 0) {
                throw r.corrupt("OR-Set element without dots");
            }
            TreeSet<Dot> dots = new TreeSet<>();
            for (int j = 0; j < dn; j++) {
                dots.add(Dot.decode(r));
            }
            m.put(k, dots);
        }
        DottedVersionVector ctx = DottedVersionVector.decode(r);
        for (TreeSet<Dot> dots : m.values()) {
            for (Dot d : dots) {
                if (!ctx.contains(d)) {
                    throw r.corrupt("OR-Set dot " + d + " outside its causal context");
                }
            }
        }
        return new OrSet(m, ctx);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof OrSet s && entries.equals(s.entries) && context.equals(s.context);
    }

    @Override
    public int hashCode() {
        return Objects.hash(entries, context);
    }

    @Override
    public String toString() {
        return "OrSet{" + entries + ", " + context + "}";
    }
}
