package io.dwcp.sync.crdt;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Multi-value register of strings: a write replaces every value it observed; causally concurrent writes are all
 * kept. Each value is tagged with the dot of its write; the causal context (a {@link DottedVersionVector}) decides
 * which writes were observed. Immutable.
 */
public final class MvRegister implements Crdt<MvRegister> {
    /** The register never written. */
    public static final MvRegister EMPTY = new MvRegister(new TreeMap<>(), DottedVersionVector.EMPTY);

    private final TreeMap<Dot, String> values;
    private final DottedVersionVector context;

    private MvRegister(TreeMap<Dot, String> values, DottedVersionVector context) {
        this.values = values;
        this.context = context;
    }

    /**
     * δ-mutator: the delta writing {@code value} at {@code replica}, superseding every value seen here.
     *
     * @param replica the replica id writing
     * @param value the value, not null
     * @return the delta: the new value under a fresh dot, with the superseded dots in its context
     * @throws NullPointerException when {@code value} is null
     */
    public MvRegister writeDelta(String replica, String value) {
        Objects.requireNonNull(value, "value");
        Dot d = context.next(replica);
        TreeMap<Dot, String> v = new TreeMap<>();
        v.put(d, value);
        TreeSet<Dot> ctx = new TreeSet<>(values.keySet());
        ctx.add(d);
        return new MvRegister(v, DottedVersionVector.of(ctx));
    }

    /**
     * The concurrent values, ordered by the dots of their writes (empty when never written).
     *
     * @return an unmodifiable list of values
     */
    public List<String> value() {
        return Collections.unmodifiableList(new ArrayList<>(values.values()));
    }

    /**
     * The causal context.
     *
     * @return the dots of every write this register has seen
     */

    public DottedVersionVector context() {
        return context;
    }

    @Override
    public CrdtType type() {
        return CrdtType.MV_REGISTER;
    }

    @Override
    public MvRegister merge(MvRegister o) {
        TreeSet<Dot> kept = OrSet.joinDots(values.keySet(), context, o.values.keySet(), o.context);
        TreeMap<Dot, String> m = new TreeMap<>();
        for (Dot d : kept) {
            String a = values.get(d);
            String b = o.values.get(d);
            // one dot, one write: both sides carry the same value; min() keeps merge deterministic for bad input
            m.put(d, a == null ? b : b == null ? a : (a.compareTo(b) <= 0 ? a : b));
        }
        return new MvRegister(m, context.join(o.context));
    }

    @Override
    public void encodeBody(CanonicalWriter w) {
        w.varint(values.size());
        for (Map.Entry<Dot, String> e : values.entrySet()) {
            e.getKey().encode(w);
            w.string(e.getValue());
        }
        context.encode(w);
    }

    static MvRegister decodeBody(CanonicalReader r) {
        int n = r.count(3);
        TreeMap<Dot, String> m = new TreeMap<>();
        Dot prev = null;
        for (int i = 0; i < n; i++) {
            Dot d = Dot.decode(r);
            if (prev != null && prev.compareTo(d) >= 0) {
                throw r.corrupt("MV-Register dots not in strictly ascending order");
            }
            prev = d;
            m.put(d, r.string());
        }
        DottedVersionVector ctx = DottedVersionVector.decode(r);
        for (Dot d : m.keySet()) {
            if (!ctx.contains(d)) {
                throw r.corrupt("MV-Register dot " + d + " outside its causal context");
            }
        }
        return new MvRegister(m, ctx);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MvRegister v && values.equals(v.values) && context.equals(v.context);
    }

    @Override
    public int hashCode() {
        return Objects.hash(values, context);
    }

    @Override
    public String toString() {
        return "MvRegister{" + values + ", " + context + "}";
    }
}
