package io.dwcp.sync.crdt;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;

import java.util.Map;
import java.util.NavigableSet;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Observed-remove map from string keys to nested CRDTs. Key presence is an add-wins {@link OrSet} of keys: an update
 * of a key adds a fresh dot for it, and removing a key removes the dots observed here, so an update concurrent with
 * the removal survives it. Nested values merge with their own join; a key's type is fixed by its first value and a
 * value of another type is refused with {@code TYPE_MISMATCH}.
 *
 * <p>Pitfall: removal hides a key but keeps its nested state (so that merges stay joins without per-type resets); a
 * key updated again after a removal shows the accumulated state (a counter continues from its old total), unless the
 * removed state was garbage-collected in between ({@link #withoutValues()}). Use a fresh key for a fresh value.
 * Immutable.
 */
public final class OrMap implements Crdt<OrMap> {
    /** The empty map. */
    public static final OrMap EMPTY = new OrMap(OrSet.EMPTY, new TreeMap<>());

    private final OrSet keys;
    private final TreeMap<String, Crdt<?>> values;

    private OrMap(OrSet keys, TreeMap<String, Crdt<?>> values) {
        this.keys = keys;
        this.values = values;
    }

    /**
     * δ-mutator: the delta applying {@code mutator} to the value at {@code key} (created as {@code empty} when
     * absent). The mutator receives the current value and returns its delta.
     *
     * @param <V> the nested value's type
     * @param replica the replica id updating
     * @param key the key
     * @param empty the empty value of the key's type, used when the key has no value yet
     * @param mutator maps the current value to its delta
     * @return the delta: a fresh presence dot for {@code key} and the nested delta
     * @throws DwcpException {@code TYPE_MISMATCH} when the key holds a value of another type
     */
    @SuppressWarnings("unchecked")
    public <V extends Crdt<V>> OrMap updateDelta(String replica, String key, V empty, Function<V, V> mutator) {
        Crdt<?> current = values.get(key);
        if (current != null && current.type() != empty.type()) {
            throw new DwcpException(ErrorCode.TYPE_MISMATCH, "OR-Map key '" + key + "' holds a " + current.type()
                    + ", not a " + empty.type());
        }
        V value = current == null ? empty : (V) current;
        V delta = mutator.apply(value);
        TreeMap<String, Crdt<?>> v = new TreeMap<>();
        v.put(key, delta);
        return new OrMap(keys.addDelta(replica, key), v);
    }

    /**
     * δ-mutator: the delta removing {@code key} as observed here (empty delta when absent).
     *
     * @param key the key to remove
     * @return the delta removing the key's observed presence dots
     */
    public OrMap removeDelta(String key) {
        OrSet d = keys.removeDelta(key);
        return d == OrSet.EMPTY ? EMPTY : new OrMap(d, new TreeMap<>());
    }

    /**
     * This map's key presence without any nested value: what garbage collection keeps of a removed key once its
     * removal is causally stable. The causal context stays, so a delayed delta carrying a dot it saw cannot bring the
     * key back.
     *
     * @return the map with the same key presence and context and no nested values (this map when it has none)
     */
    public OrMap withoutValues() {
        return values.isEmpty() ? this : new OrMap(keys, new TreeMap<>());
    }

    /**
     * This map with the key-presence context entries of the replicas {@code drop} accepts removed, except those of
     * replicas whose presence dots are still here ({@link OrSet#pruneContext}). Nested values are unchanged.
     *
     * @param drop accepts the replica ids to prune
     * @return the pruned map, or this one when nothing was pruned
     */
    public OrMap pruneContext(java.util.function.Predicate<String> drop) {
        OrSet k = keys.pruneContext(drop);
        return k == keys ? this : new OrMap(k, values);
    }

    /**
     * This map without the key-presence dots (and presence context) of the replicas {@code drop} accepts; nested values
     * are unchanged.
     *
     * @param drop accepts the replica ids to leave out
     * @return the new map, or this one when it holds no presence dot of such a replica
     */
    public OrMap withoutPresenceOf(java.util.function.Predicate<String> drop) {
        OrSet k = keys.withoutReplicas(drop);
        return k == keys ? this : new OrMap(k, values);
    }

    /**
     * The present keys, sorted.
     *
     * @return an unmodifiable sorted view
     */
    public NavigableSet<String> keys() {
        return keys.value();
    }

    /**
     * The presence dots of {@code key} (empty when absent): one per update not yet removed.
     *
     * @param key the key
     * @return its presence dots
     */
    public java.util.Set<Dot> dots(String key) {
        return keys.dots(key);
    }

    /**
     * The causal context of key presence.
     *
     * @return the dots of every key update seen
     */
    public DottedVersionVector context() {
        return keys.context();
    }

    /**
     * The nested value at {@code key} whether present or removed (removal keeps the state); empty if never set.
     *
     * @param key the key
     * @return the nested value, or empty
     */
    public Optional<Crdt<?>> valueIncludingRemoved(String key) {
        return Optional.ofNullable(values.get(key));
    }

    /**
     * Keys that have a nested value, present or removed, sorted.
     *
     * @return an unmodifiable sorted view
     */
    public NavigableSet<String> valueKeys() {
        return java.util.Collections.unmodifiableNavigableSet(values.navigableKeySet());
    }

    /**
     * Whether this is the empty map (no keys, no values, empty context).
     *
     * @return {@code true} when empty
     */
    public boolean isEmpty() {
        return values.isEmpty() && keys.equals(OrSet.EMPTY);
    }

    /**
     * The value at a present key; empty when the key is absent or removed.
     *
     * @param key the key
     * @return the nested value, or empty
     */

    public Optional<Crdt<?>> get(String key) {
        return keys.contains(key) ? Optional.ofNullable(values.get(key)) : Optional.empty();
    }

    @Override
    public CrdtType type() {
        return CrdtType.OR_MAP;
    }

    /** @throws DwcpException {@code TYPE_MISMATCH} when a key holds values of different types on the two sides */
    @Override
    public OrMap merge(OrMap o) {
        TreeMap<String, Crdt<?>> m = new TreeMap<>(values);
        for (Map.Entry<String, Crdt<?>> e : o.values.entrySet()) {
            m.merge(e.getKey(), e.getValue(), Crdt::mergeAny);
        }
        return new OrMap(keys.merge(o.keys), m);
    }

    @Override
    public void encodeBody(CanonicalWriter w) {
        keys.encodeBody(w);
        w.varint(values.size());
        for (Map.Entry<String, Crdt<?>> e : values.entrySet()) {
            w.string(e.getKey()).bytes(e.getValue().encode());
        }
    }

    static OrMap decodeBody(CanonicalReader r, TypeRegistry registry, int depth) {
        OrSet k = OrSet.decodeBody(r);
        int n = r.count(3);
        TreeMap<String, Crdt<?>> m = new TreeMap<>();
        String prev = null;
        for (int i = 0; i < n; i++) {
            String key = r.string();
            if (prev != null && prev.compareTo(key) >= 0) {
                throw r.corrupt("OR-Map keys not in strictly ascending order");
            }
            prev = key;
            m.put(key, registry.decode(r.bytes(), depth + 1));
        }
        return new OrMap(k, m);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof OrMap m && keys.equals(m.keys) && values.equals(m.values);
    }

    @Override
    public int hashCode() {
        return Objects.hash(keys, values);
    }

    @Override
    public String toString() {
        return "OrMap{keys=" + keys.value() + ", values=" + values + "}";
    }
}
