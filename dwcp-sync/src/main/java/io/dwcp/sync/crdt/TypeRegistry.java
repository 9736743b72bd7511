package io.dwcp.sync.crdt;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;

/**
 * Decodes a state from its canonical encoding by the type tag that leads it, and gives each type's empty state, so
 * a replica creates keys it has never seen from a message alone. Thread-safe and stateless.
 */
public final class TypeRegistry {
    /** Nesting limit for OR-Map values (bounds recursion on hostile input). */
    public static final int MAX_DEPTH = 8;

    private static final TypeRegistry DEFAULT = new TypeRegistry();

    private TypeRegistry() {
    }

    /**
     * The registry of the built-in types.
     *
     * @return the shared instance
     */
    public static TypeRegistry defaults() {
        return DEFAULT;
    }

    /**
     * The empty state of {@code type}.
     *
     * @param type the type
     * @return its shared empty state
     */
    public Crdt<?> empty(CrdtType type) {
        return switch (type) {
            case G_COUNTER -> GCounter.EMPTY;
            case PN_COUNTER -> PNCounter.EMPTY;
            case G_SET -> GSet.EMPTY;
            case TWO_P_SET -> TwoPSet.EMPTY;
            case OR_SET -> OrSet.EMPTY;
            case LWW_REGISTER -> LwwRegister.EMPTY;
            case MV_REGISTER -> MvRegister.EMPTY;
            case OR_MAP -> OrMap.EMPTY;
            case RGA -> Rga.EMPTY;
        };
    }

    /**
     * Decodes a whole encoding (tag, version, body).
     *
     * @param encoded the encoding, as written by {@link Crdt#encode()}
     * @return the decoded state

     * @throws DwcpException {@code CORRUPT_FRAME} when malformed or trailed by extra bytes; {@code PROTOCOL_ERROR}
     *     when the tag is unknown or the version unsupported
     */
    public Crdt<?> decode(byte[] encoded) {
        return decode(encoded, 0);
    }

    Crdt<?> decode(byte[] encoded, int depth) {
        if (depth > MAX_DEPTH) {
            throw new DwcpException(ErrorCode.CORRUPT_FRAME, "CRDT nesting deeper than " + MAX_DEPTH);
        }
        CanonicalReader r = new CanonicalReader(encoded);
        int tag = r.u8();
        CrdtType type = CrdtType.ofTag(tag);
        if (type == null) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "unknown CRDT type tag " + tag);
        }
        int version = r.u8();
        if (version != Crdt.VERSION) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "unsupported " + type + " encoding version " + version
                    + " (this build reads " + Crdt.VERSION + ")");
        }
        Crdt<?> c = switch (type) {
            case G_COUNTER -> GCounter.decodeBody(r);
            case PN_COUNTER -> PNCounter.decodeBody(r);
            case G_SET -> GSet.decodeBody(r);
            case TWO_P_SET -> TwoPSet.decodeBody(r);
            case OR_SET -> OrSet.decodeBody(r);
            case LWW_REGISTER -> LwwRegister.decodeBody(r);
            case MV_REGISTER -> MvRegister.decodeBody(r);
            case OR_MAP -> OrMap.decodeBody(r, this, depth);
            case RGA -> Rga.decodeBody(r);
        };
        r.end();
        return c;
    }
}
