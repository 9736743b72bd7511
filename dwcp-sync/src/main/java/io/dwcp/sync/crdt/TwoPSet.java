package io.dwcp.sync.crdt;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;

import java.util.Collections;
import java.util.NavigableSet;
import java.util.Objects;
import java.util.TreeSet;

/**
 * Two-phase set: a G-Set of additions and a G-Set of removals; an element is present when added and not removed.
 * Removal is final: re-adding a removed element is refused ({@code ILLEGAL_STATE}). Immutable.
 */
public final class TwoPSet implements Crdt<TwoPSet> {
    /** The empty set. */
    public static final TwoPSet EMPTY = new TwoPSet(GSet.EMPTY, GSet.EMPTY);

    private final GSet added;
    private final GSet removed;

    private TwoPSet(GSet added, GSet removed) {
        this.added = added;
        this.removed = removed;
    }

    /**
     * δ-mutator: the delta adding {@code element}.
     *
     * @param element the element to add
     * @return the delta adding it
     * @throws DwcpException {@code ILLEGAL_STATE} when the element was removed (removal is final in a 2P-Set)
     */
    public TwoPSet addDelta(String element) {
        if (removed.value().contains(element)) {
            throw new DwcpException(ErrorCode.ILLEGAL_STATE, "2P-Set: '" + element + "' was removed; removal is final, re-add refused");
        }
        return new TwoPSet(added.addDelta(element), GSet.EMPTY);
    }

    /**
     * δ-mutator: the delta removing {@code element}.
     *
     * @param element the element to remove
     * @return the delta adding it to both the added set and the tombstones
     * @throws IllegalArgumentException when the element is not present here (only observed elements are removed)
     */
    public TwoPSet removeDelta(String element) {
        if (!value().contains(element)) {
            throw new IllegalArgumentException("2P-Set: '" + element + "' is not present here; only present elements can be removed");
        }
        return new TwoPSet(added.addDelta(element), removed.addDelta(element));
    }

    /**
     * Present elements (added and not removed), sorted.
     *
     * @return an unmodifiable sorted copy
     */
    public NavigableSet<String> value() {
        TreeSet<String> s = new TreeSet<>(added.value());
        s.removeAll(removed.value());
        return Collections.unmodifiableNavigableSet(s);
    }

    /**
     * Removed elements (the tombstones), sorted.
     *
     * @return an unmodifiable sorted view
     */

    public NavigableSet<String> tombstones() {
        return removed.value();
    }

    @Override
    public CrdtType type() {
        return CrdtType.TWO_P_SET;
    }

    @Override
    public TwoPSet merge(TwoPSet other) {
        return new TwoPSet(added.merge(other.added), removed.merge(other.removed));
    }

    @Override
    public void encodeBody(CanonicalWriter w) {
        added.encodeBody(w);
        removed.encodeBody(w);
    }

    static TwoPSet decodeBody(CanonicalReader r) {
        GSet a = GSet.decodeBody(r);
        return new TwoPSet(a, GSet.decodeBody(r));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TwoPSet t && added.equals(t.added) && removed.equals(t.removed);
    }

    @Override
    public int hashCode() {
        return Objects.hash(added, removed);
    }

    @Override
    public String toString() {
        return "TwoPSet{added=" + added.value() + ", removed=" + removed.value() + "}";
    }
}
