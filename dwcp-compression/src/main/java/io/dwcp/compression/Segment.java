package io.dwcp.compression;

import java.nio.ByteBuffer;

/**
 * Result of scanning one segment of a round (phase 1 of {@link RoundEncoder}): the pages that must be sent, in page
 * order, with their class, hash and coding. Produced by one worker, then read by the coordinator and by the batch
 * tasks; never modified after the scan (safe publication through the future).
 */
final class Segment {
    final long firstPage;
    final int pageCount;
    int count;
    long[] page;
    byte[] op;
    long[] hash;
    /** Moved: source page in the baseline. Duplicate: source slot (set by the coordinator). */
    long[] ref;
    int[] runs;
    int[] controlOffset;
    int[] controlLength;
    int[] dataOffset;
    int[] dataLength;
    /** Content of every sent page: chunk + offset of entry i. */
    ByteBuffer contentChunk;
    int[] contentOffset;
    /** XOR control and data bytes of this segment's XOR pages. */
    Bytes xorControl;
    Bytes xorData;
    /** Slot number of entry i (assigned by the coordinator). */
    long[] slot;

    Segment(long firstPage, int pageCount) {
        this.firstPage = firstPage;
        this.pageCount = pageCount;
    }

    /**
     * Ops whose control and data live in the segment's {@link #xorControl} / {@link #xorData} (recorded by the scan,
     * written into the batch by its coder).
     */
    static boolean hasCodedData(int op) {
        return op == Wire.OP_XOR || op == Wire.OP_XOR_FROM || op == Wire.OP_SPLICE;
    }

    void allocate(int n) {
        page = new long[n];
        op = new byte[n];
        hash = new long[n];
        ref = new long[n];
        runs = new int[n];
        controlOffset = new int[n];
        controlLength = new int[n];
        dataOffset = new int[n];
        dataLength = new int[n];
        contentOffset = new int[n];
        slot = new long[n];
    }
}
