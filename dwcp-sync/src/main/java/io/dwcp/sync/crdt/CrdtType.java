package io.dwcp.sync.crdt;

/**
 * The built-in types and their wire tags (one byte, never reused). The tag leads every encoded state, so a receiver
 * creates a key it has never seen from the message alone (through {@link TypeRegistry}).
 */
public enum CrdtType {
    /** Grow-only counter ({@link GCounter}), tag 1. */
    G_COUNTER(1),
    /** Increment/decrement counter ({@link PNCounter}), tag 2. */
    PN_COUNTER(2),
    /** Grow-only set ({@link GSet}), tag 3. */
    G_SET(3),
    /** Two-phase set ({@link TwoPSet}), tag 4. */
    TWO_P_SET(4),
    /** Observed-remove set ({@link OrSet}), tag 5. */
    OR_SET(5),
    /** Last-writer-wins register ({@link LwwRegister}), tag 6. */
    LWW_REGISTER(6),
    /** Multi-value register ({@link MvRegister}), tag 7. */
    MV_REGISTER(7),
    /** Observed-remove map ({@link OrMap}), tag 8. */
    OR_MAP(8),
    /** Replicated growable array ({@link Rga}), tag 9. */
    RGA(9);

    private final int tag;

    CrdtType(int tag) {
        this.tag = tag;
    }

    /**
     * The wire tag.
     *
     * @return the tag byte, 1 to 9
     */
    public int tag() {
        return tag;
    }

    /**
     * The type with this tag, or {@code null}.
     *
     * @param tag a wire tag
     * @return the matching type, or {@code null} when no type has this tag
     */

    public static CrdtType ofTag(int tag) {
        for (CrdtType t : values()) {
            if (t.tag == tag) {
                return t;
            }
        }
        return null;
    }
}
