package io.dwcp.compression;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/*
 * The payload buffers of one HdeDecoder's batches, and the one place that frees them. They are direct: a frame's
 * payload, up to max-decoded-frame, never goes onto the heap (a peer announcing large frames cannot grow it), and
 * reusing the buffers of completed batches for later ones keeps every encoded byte of a round from passing through a
 * fresh buffer.
 *
 * Ownership: every buffer allocated here is in `owned` until freed: idle in `free`, or lent to a batch job (take) until
 * the job completes (giveBack). freeAll frees them all, and only when no job runs any more (each one reads its
 * payload). Threading: confined to the decoder's feeding thread.
 */
final class PayloadBuffers {
    /** Idle buffers for later batches, at most {@code maxIdle} of them. */
    private final ArrayDeque<ByteBuffer> free = new ArrayDeque<>();
    /** Every buffer allocated and not freed: in {@link #free} or held by a job. */
    private final List<ByteBuffer> owned = new ArrayList<>();
    private final int maxIdle;

    /** Buffers for a decoder that keeps up to {@code maxIdle} idle ones (its most jobs in flight). */
    PayloadBuffers(int maxIdle) {
        this.maxIdle = maxIdle;
    }

    /**
     * A direct buffer for a payload of {@code length} bytes: a reused one when it is long enough, else a new, longer one
     * (a reused one too short is freed: no job holds a pooled buffer).
     */
    ByteBuffer take(int length) {
        ByteBuffer b = free.poll();
        if (b != null && b.capacity() >= length) {
            return b;
        }
        if (b != null) {
            owned.remove(b);
            DirectMemory.free(b);
        }
        ByteBuffer fresh = DirectMemory.allocate(Math.max(length + (length >>> 2), 1));
        owned.add(fresh);
        return fresh;
    }

    /** A completed job's payload: kept for a later batch, or freed when enough are idle. */
    void giveBack(ByteBuffer payload) {
        if (free.size() <= maxIdle) {
            free.push(payload);
        } else {
            owned.remove(payload);
            DirectMemory.free(payload);
        }
    }

    /** Frees every payload buffer; only when no job runs any more (each one reads its payload). */
    void freeAll() {
        owned.forEach(DirectMemory::free);
        owned.clear();
        free.clear();
    }
}
