package io.dwcp.sync.crdt;

/**
 * The built-in types and their wire tags (one byte, never reused). The tag leads every encoded state, so a receiver
 * creates a key it has never seen from the message alone (through {@link TypeRegistry}).
 */
public enum CrdtType {
    G_COUNTER(1), PN_COUNTER(2), G_SET(3), TWO_P_SET(4), OR_SET(5), LWW_REGISTER(6), MV_REGISTER(7), OR_MAP(8), RGA(9);

    private final int tag;

    CrdtType(int tag) {
        this.tag = tag;
    }

    /** The wire tag. */
    public int tag() {
        return tag;
    }

    /** The type with this tag, or {@code null}. */
    public static CrdtType ofTag(int tag) {
        for (CrdtType t : values()) {
            if (t.tag == tag) {
                return t;
            }
        }
        return null;
    }
}
