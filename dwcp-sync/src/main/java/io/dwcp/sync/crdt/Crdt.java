package io.dwcp.sync.crdt;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;

/**
 * A state-based conflict-free replicated data type. States are immutable values forming a join
 * semilattice: {@link #merge} is commutative, associative and idempotent, so replicas that have seen the same updates,
 * in any order and any number of times, hold equal states. Mutators are δ-mutators: they return a delta, a small
 * state that, merged into any replica, has the effect of the update.
 *
 * <p>The encoding is canonical and versioned: a tag byte ({@link CrdtType#tag()}), a version byte, then the body;
 * equal states encode to equal bytes, so hashes of encodings compare replicas.
 *
 * @param <T> the concrete type
 */
public interface Crdt<T extends Crdt<T>> {
    /** Encoding version written after the tag. */
    int VERSION = 1;

    /**
     * The type, whose tag leads the encoding.
     *
     * @return this state's type
     */
    CrdtType type();

    /**
     * The join (least upper bound) of this state and {@code other}; neither is changed.
     *
     * @param other the state to join with
     * @return the merged state
     */
    T merge(T other);

    /**
     * Writes the body (without tag and version) in canonical form.
     *
     * @param w the writer to append to
     */
    void encodeBody(CanonicalWriter w);

    /**
     * The canonical encoding: tag, version, body.
     *
     * @return a new array holding the encoding
     */
    default byte[] encode() {
        CanonicalWriter w = new CanonicalWriter();
        w.u8(type().tag()).u8(VERSION);
        encodeBody(w);
        return w.toByteArray();
    }

    /**
     * Merges two states of unknown static type.
     *
     * @param a the state merged into
     * @param b the state merged in
     * @return the join of {@code a} and {@code b}
     * @throws
 DwcpException {@code TYPE_MISMATCH} when their types differ
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static Crdt<?> mergeAny(Crdt<?> a, Crdt<?> b) {
        if (a.type() != b.type()) {
            throw new DwcpException(ErrorCode.TYPE_MISMATCH, "cannot merge a " + b.type() + " into a " + a.type());
        }
        return ((Crdt) a).merge(b);
    }
}
