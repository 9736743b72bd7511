package io.dwcp.sync.crdt;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Replicated growable array (RGA, Roh et al. 2011): a sequence of strings where each element is inserted after an
 * existing element id (or at the head) and deleted by a tombstone. Element ids are (Lamport counter, replica), unique
 * and totally ordered. The order is a tree walk: an element's successors are the elements inserted after it, newest
 * id first, each followed by its own successors; so concurrent inserts at one position interleave deterministically
 * on every replica. An element whose predecessor has not arrived yet stays invisible until it does.
 *
 * <p>Merge is the union of elements with tombstones or-ed. Tombstones are kept (garbage collection of elements needs
 * causal stability, not provided here). Immutable.
 */
public final class Rga implements Crdt<Rga> {
    /** The empty sequence. */
    public static final Rga EMPTY = new Rga(new TreeMap<>());

    /**
     * An element id: Lamport counter, then replica. Ordered by counter, then replica.
     *
     * @param counter Lamport counter of the insert
     * @param replica id of the inserting replica, not null
     */
    public record Id(long counter, String replica) implements Comparable<Id> {
        /**
         * Validates the components.
         *
         * @param counter Lamport counter of the insert
         * @param replica id of the inserting replica, not null
         * @throws NullPointerException when {@code replica} is null
         */
        public Id {
            Objects.requireNonNull(replica, "replica");
        }

        @Override
        public int compareTo(Id o) {
            int c = Long.compare(counter, o.counter);
            return c != 0 ? c : replica.compareTo(o.replica);
        }
    }

    private record Node(Id after, String value, boolean deleted) {
    }

    private final TreeMap<Id, Node> nodes;

    private Rga(TreeMap<Id, Node> nodes) {
        this.nodes = nodes;
    }

    /**
     * δ-mutator: the delta inserting {@code value} at position {@code index} of the visible sequence (0 = head,
     * {@code size()} = end).
     *
     * @param replica the replica id inserting
     * @param index the position in the visible sequence, 0 to {@link #size()}
     * @param value the element, not null
     * @return the delta: the new element, with an id above every id seen here, after the visible element at
     *     {@code index - 1} (at the head when {@code index} is 0)

     * @throws IndexOutOfBoundsException when {@code index} is outside 0..size()
     */
    public Rga insertDelta(String replica, int index, String value) {
        Objects.requireNonNull(value, "value");
        List<Id> visible = visibleIds();
        if (index < 0 || index > visible.size()) {
            throw new IndexOutOfBoundsException("RGA insert index " + index + " outside 0.." + visible.size());
        }
        Id after = index == 0 ? null : visible.get(index - 1);
        long counter = nodes.isEmpty() ? 1 : nodes.lastKey().counter() + 1;
        TreeMap<Id, Node> d = new TreeMap<>();
        d.put(new Id(counter, replica), new Node(after, value, false));
        return new Rga(d);
    }

    /**
     * δ-mutator: the delta deleting the visible element at {@code index}.
     *
     * @param index the position in the visible sequence, 0 to {@link #size()} - 1
     * @return the delta: the element marked deleted
     * @throws IndexOutOfBoundsException when {@code index} is outside 0..size()-1
     */
    public Rga removeDelta(int index) {
        List<Id> visible = visibleIds();
        if (index < 0 || index >= visible.size()) {
            throw new IndexOutOfBoundsException("RGA remove index " + index + " outside 0.." + (visible.size() - 1));
        }
        Id id = visible.get(index);
        Node n = nodes.get(id);
        TreeMap<Id, Node> d = new TreeMap<>();
        d.put(id, new Node(n.after, n.value, true));
        return new Rga(d);
    }

    /**
     * The visible sequence.
     *
     * @return an unmodifiable list of the visible elements, in order
     */
    public List<String> value() {
        List<String> out = new ArrayList<>();
        for (Id id : visibleIds()) {
            out.add(nodes.get(id).value);
        }
        return Collections.unmodifiableList(out);
    }

    /**
     * Visible elements.
     *
     * @return the number of visible elements
     */

    public int size() {
        return visibleIds().size();
    }

    private List<Id> visibleIds() {
        // children of each element, newest first; walked iteratively (deep chains must not overflow the stack)
        Map<Id, List<Id>> children = new TreeMap<>();
        List<Id> roots = new ArrayList<>();
        for (Map.Entry<Id, Node> e : nodes.descendingMap().entrySet()) {
            Id after = e.getValue().after;
            if (after == null) {
                roots.add(e.getKey());
            } else {
                children.computeIfAbsent(after, k -> new ArrayList<>()).add(e.getKey());
            }
        }
        List<Id> out = new ArrayList<>();
        java.util.ArrayDeque<Id> stack = new java.util.ArrayDeque<>();
        for (int i = roots.size() - 1; i >= 0; i--) {
            stack.push(roots.get(i));
        }
        while (!stack.isEmpty()) {
            Id id = stack.pop();
            if (!nodes.get(id).deleted) {
                out.add(id);
            }
            List<Id> c = children.get(id);
            if (c != null) {
                for (int i = c.size() - 1; i >= 0; i--) {
                    stack.push(c.get(i));
                }
            }
        }
        return out;
    }

    @Override
    public CrdtType type() {
        return CrdtType.RGA;
    }

    @Override
    public Rga merge(Rga o) {
        TreeMap<Id, Node> m = new TreeMap<>(nodes);
        for (Map.Entry<Id, Node> e : o.nodes.entrySet()) {
            m.merge(e.getKey(), e.getValue(), Rga::joinNode);
        }
        return new Rga(m);
    }

    private static Node joinNode(Node a, Node b) {
        if (Objects.equals(a.after, b.after) && a.value.equals(b.value)) {
            return a.deleted || !b.deleted ? a : b;
        }
        // one id, one insert: differing content only comes from bad input; pick deterministically to stay a join
        int c = a.value.compareTo(b.value);
        if (c == 0) {
            c = a.after == null ? -1 : b.after == null ? 1 : a.after.compareTo(b.after);
        }
        Node w = c <= 0 ? a : b;
        return new Node(w.after, w.value, a.deleted || b.deleted);
    }

    @Override
    public void encodeBody(CanonicalWriter w) {
        w.varint(nodes.size());
        for (Map.Entry<Id, Node> e : nodes.entrySet()) {
            writeId(w, e.getKey());
            Node n = e.getValue();
            w.u8(n.after == null ? 0 : 1);
            if (n.after != null) {
                writeId(w, n.after);
            }
            w.string(n.value).u8(n.deleted ? 1 : 0);
        }
    }

    private static void writeId(CanonicalWriter w, Id id) {
        w.varint(id.counter).string(id.replica);
    }

    private static Id readId(CanonicalReader r) {
        long c = r.varint();
        if (c < 1) {
            throw r.corrupt("RGA id counter 0");
        }
        return new Id(c, r.string());
    }

    static Rga decodeBody(CanonicalReader r) {
        int n = r.count(5);
        TreeMap<Id, Node> m = new TreeMap<>();
        Id prev = null;
        for (int i = 0; i < n; i++) {
            Id id = readId(r);
            if (prev != null && prev.compareTo(id) >= 0) {
                throw r.corrupt("RGA ids not in strictly ascending order");
            }
            prev = id;
            Id after = r.bool() ? readId(r) : null;
            if (after != null && after.compareTo(id) >= 0) {
                throw r.corrupt("RGA element " + id + " inserted after a newer id " + after);
            }
            String value = r.string();
            m.put(id, new Node(after, value, r.bool()));
        }
        return new Rga(m);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Rga g && nodes.equals(g.nodes);
    }

    @Override
    public int hashCode() {
        return nodes.hashCode();
    }

    @Override
    public String toString() {
        return "Rga" + value();
    }
}
