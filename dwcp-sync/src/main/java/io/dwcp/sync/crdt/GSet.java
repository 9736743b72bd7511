package io.dwcp.sync.crdt;

import java.util.Collections;
import java.util.NavigableSet;
import java.util.TreeSet;

/** Grow-only set of strings: merge is union; elements are never removed. Immutable. */
public final class GSet implements Crdt<GSet> {
    /** The empty set. */
    public static final GSet EMPTY = new GSet(new TreeSet<>());

    private final TreeSet<String> elements;

    private GSet(TreeSet<String> elements) {
        this.elements = elements;
    }

    /**
     * δ-mutator: the delta adding {@code element}.
     *
     * @param element the element to add
     * @return the delta: the set holding {@code element} alone
     */
    public GSet addDelta(String element) {
        TreeSet<String> d = new TreeSet<>();
        d.add(element);
        return new GSet(d);
    }

    /**
     * The elements, sorted.
     *
     * @return an unmodifiable sorted view
     */

    public NavigableSet<String> value() {
        return Collections.unmodifiableNavigableSet(elements);
    }

    @Override
    public CrdtType type() {
        return CrdtType.G_SET;
    }

    @Override
    public GSet merge(GSet other) {
        if (elements.containsAll(other.elements)) {
            return this;
        }
        TreeSet<String> m = new TreeSet<>(elements);
        m.addAll(other.elements);
        return new GSet(m);
    }

    @Override
    public void encodeBody(CanonicalWriter w) {
        writeStrings(w, elements);
    }

    static GSet decodeBody(CanonicalReader r) {
        return new GSet(readStrings(r, "G-Set"));
    }

    static void writeStrings(CanonicalWriter w, NavigableSet<String> s) {
        w.varint(s.size());
        for (String e : s) {
            w.string(e);
        }
    }

    static TreeSet<String> readStrings(CanonicalReader r, String what) {
        int n = r.count(1);
        TreeSet<String> s = new TreeSet<>();
        String prev = null;
        for (int i = 0; i < n; i++) {
            String e = r.string();
            if (prev != null && prev.compareTo(e) >= 0) {
                throw r.corrupt(what + " elements not in strictly ascending order");
            }
            prev = e;
            s.add(e);
        }
        return s;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GSet g && elements.equals(g.elements);
    }

    @Override
    public int hashCode() {
        return elements.hashCode();
    }

    @Override
    public String toString() {
        return "GSet" + elements;
    }
}
