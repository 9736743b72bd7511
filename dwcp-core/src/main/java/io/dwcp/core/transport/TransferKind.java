package io.dwcp.core.transport;

/** What a transfer carries; the number is its wire value and never changes. */
public enum TransferKind {
    /** Bytes DWCP does not interpret. */
    OPAQUE(0),
    /** Guest memory pages. */
    MEMORY(1),
    /** Disk blocks. */
    DISK(2),
    /** Small control or cluster metadata. */
    METADATA(3);

    private final int wire;

    TransferKind(int wire) {
        this.wire = wire;
    }

    /** {@return the value of this kind on the wire} */
    public int wire() {
        return wire;
    }

    /**
     * The kind for a wire value, or {@code null} when unknown.
     *
     * @param wire the wire value
     * @return the kind, or {@code null}
     */
    public static TransferKind ofWire(int wire) {
        for (TransferKind k : values()) {
            if (k.wire == wire) {
                return k;
            }
        }
        return null;
    }
}
