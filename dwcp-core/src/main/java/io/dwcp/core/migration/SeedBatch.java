package io.dwcp.core.migration;

/**
 * One BATCH frame of a seeded round as the receiver keeps it until the round is verified: its ops (ascending pages
 * and their sources) and its literal data, still compressed in {@code format}: on the heap ({@code deflated}), or,
 * when that would pass the round's share of the receive budget, in its {@link SeedBatchStore}'s spill file at
 * {@code offset} ({@code deflated} null).
 */
record SeedBatch(int[] pages, int[] sources, int literals, int rawBytes, int format, byte[] deflated,
                 SeedBatchStore spill, long offset, int length) {

    /** A batch held on the heap. */
    SeedBatch(int[] pages, int[] sources, int literals, int rawBytes, int format, byte[] deflated) {
        this(pages, sources, literals, rawBytes, format, deflated, null, 0, deflated.length);
    }

    /** {@return whether the batch's bytes are in a spill file} */
    boolean spilled() {
        return deflated == null;
    }

    /**
     * {@return the batch's compressed literal data} read back from the spill file when spilled (a new array each
     * time: the caller holds it only while it inflates the batch)
     */
    byte[] compressed() {
        return deflated != null ? deflated : spill.read(offset, length);
    }
}
