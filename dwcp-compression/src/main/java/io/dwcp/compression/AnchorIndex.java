package io.dwcp.compression;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The sender's similarity index over one baseline ({@link Anchors}): anchor hash → the first baseline page holding it.
 * It is the largest structure a sender keeps per GiB of state, so it lives outside the Java heap, where it is counted
 * exactly and freed with its baseline instead of being copied and kept by the garbage collector.
 *
 * <p>Layout: one direct buffer of 8-byte slots, open addressing with linear probing. A slot holds the anchor's upper
 * 32 bits (a fingerprint) in its upper half and the page number + 1 in its lower half; 0 is a free slot. The slot
 * number comes from bits 2 and up of the anchor (its two lowest bits are always zero), the fingerprint from bits 32–63,
 * so a false match needs both to agree: about one lookup in 2^32 returns a page that does not hold the anchor, and
 * every candidate is checked by its delta anyway. 8 bytes a slot and a load of at most 3/4, against 12 bytes and 1/2
 * for a map of whole keys, make the index about a third of that map's size: 32 MiB per GiB of non-zero state.
 *
 * <p>Thread safety: built by one thread; later inserts ({@link Baseline#applyPages}) are serialised by the caller and
 * happen when no round reads the index. Lifetime: owned by its {@link Baseline}, which {@link #free}s it when its last
 * reference goes; nothing reads it after that (the same rule as the baseline's pages).
 */
final class AnchorIndex {
    static final int SLOT_BYTES = Long.BYTES;
    /** Slots of the largest index: one direct buffer of 1 GiB. */
    static final int MAX_SLOTS = 1 << 27;

    private final ByteBuffer slots;
    private final int mask;
    private final int limit;
    private int size;

    /** An empty index with room for {@code expected} anchors (at most {@link #MAX_SLOTS} × 3/4). */
    AnchorIndex(long expected) {
        int capacity = capacityFor(expected);
        slots = DirectMemory.allocate(capacity * SLOT_BYTES).order(ByteOrder.nativeOrder());
        mask = capacity - 1;
        limit = capacity / 4 * 3;
    }

    /** Bytes of an index for {@code expected} anchors. */
    static long bytesFor(long expected) {
        return (long) capacityFor(expected) * SLOT_BYTES;
    }

    /** The slot count for {@code expected} anchors: the least power of two that holds them at a load of 3/4. */
    static int capacityFor(long expected) {
        long need = Math.max(16, (expected * 4 + 2) / 3);
        if (need >= MAX_SLOTS) {
            return MAX_SLOTS;
        }
        return Integer.highestOneBit((int) need - 1) << 1;
    }

    /** Adds {@code anchor → page} unless the anchor is present or the index is full (first page wins). */
    void putIfAbsent(long anchor, int page) {
        if (size >= limit) {
            return;
        }
        int fingerprint = (int) (anchor >>> 32);
        int i = slotOf(anchor);
        for (;;) {
            long e = slots.getLong(i * SLOT_BYTES);
            if (e == 0) {
                slots.putLong(i * SLOT_BYTES, ((long) fingerprint << 32) | (page + 1L));
                size++;
                return;
            }
            if ((int) (e >>> 32) == fingerprint) {
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /** The page of {@code anchor}, or -1. */
    int get(long anchor) {
        int fingerprint = (int) (anchor >>> 32);
        int i = slotOf(anchor);
        for (;;) {
            long e = slots.getLong(i * SLOT_BYTES);
            if (e == 0) {
                return -1;
            }
            if ((int) (e >>> 32) == fingerprint) {
                return (int) e - 1;
            }
            i = (i + 1) & mask;
        }
    }

    private int slotOf(long anchor) {
        return (int) (anchor >>> 2) & mask;
    }

    /** Whether the next new anchor would be dropped. */
    boolean isFull() {
        return size >= limit;
    }

    int size() {
        return size;
    }

    int capacity() {
        return mask + 1;
    }

    long sizeBytes() {
        return (long) capacity() * SLOT_BYTES;
    }

    /** Returns the memory now; only its baseline calls this, after its last reference went. */
    void free() {
        DirectMemory.free(slots);
    }
}
