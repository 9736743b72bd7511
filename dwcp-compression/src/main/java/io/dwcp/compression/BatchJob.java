package io.dwcp.compression;

import java.nio.ByteBuffer;

/**
 * One BATCH frame of a round, handed to a worker. Confinement: the feeding thread creates it (the header fields and
 * the payload copy); one worker then fills the result fields ({@link BatchDecoder#decode}); the feeding thread reads
 * them after the job's future completed (which orders the worker's writes before its reads), in batch order. No lock.
 */
final class BatchJob {
    static final long SPLICE = -1;
    final long firstPage;
    final long endPage;
    final long firstSlot;
    final int codecId;
    final int rawLength;
    final int controlLength;
    /**
     * The payload in {@code [0, payloadLength)} of a direct buffer the decoder owns (a reused one may be longer): a
     * frame's payload never goes onto the heap.
     */
    final ByteBuffer payload;
    final int payloadLength;
    int count;
    ByteBuffer chunk;
    long[] pages;
    long[] hashes;
    int[] deferred;
    /** Per deferred entry: the source slot of a duplicate, or {@link #SPLICE} for a splice with round copies. */
    long[] deferredRef;
    int deferredCount;
    /** Copies from the round's earlier pages (wire version 3 deltas; else null), made when the batch completes. */
    Splice.RoundCopies roundCopies;
    long digestPart;

    BatchJob(long firstPage, long endPage, long firstSlot, int codecId, int rawLength, int controlLength, ByteBuffer payload,
             int payloadLength) {
        this.firstPage = firstPage;
        this.endPage = endPage;
        this.firstSlot = firstSlot;
        this.codecId = codecId;
        this.rawLength = rawLength;
        this.controlLength = controlLength;
        this.payload = payload;
        this.payloadLength = payloadLength;
    }

    boolean isDeferred(int index) {
        for (int d = deferredCount - 1; d >= 0; d--) {
            if (deferred[d] == index) {
                return true;
            }
        }
        return false;
    }

    void defer(int index, long ref) {
        if (deferred == null) {
            deferred = new int[8];
            deferredRef = new long[8];
        } else if (deferredCount == deferred.length) {
            deferred = java.util.Arrays.copyOf(deferred, deferredCount * 2);
            deferredRef = java.util.Arrays.copyOf(deferredRef, deferredCount * 2);
        }
        deferred[deferredCount] = index;
        deferredRef[deferredCount++] = ref;
    }
}
