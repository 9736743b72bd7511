package io.dwcp.compression;

import java.util.Arrays;

/**
 * Open-addressing map from a 64-bit key to a non-negative int, insert-if-absent (the first occurrence wins). Used as
 * the content-hash index over a baseline (hash → page) and for duplicates within a round (hash → slot). No boxing.
 * Not thread-safe for writes; concurrent reads of a map no longer written are safe.
 */
final class LongIntMap {
    private final long[] keys;
    private final int[] values;
    private final int mask;
    private int size;

    LongIntMap(int expected) {
        int cap = capacityFor(expected);
        keys = new long[cap];
        values = new int[cap];
        Arrays.fill(values, -1);
        mask = cap - 1;
    }

    /** Heap bytes of the tables of a map for {@code expected} entries. */
    static long bytesFor(int expected) {
        return (long) capacityFor(expected) * (Long.BYTES + Integer.BYTES);
    }

    /** The slot count of a map for {@code expected} entries: a power of two of at least twice that. */
    static int capacityFor(int expected) {
        return Integer.highestOneBit(Math.max(16, expected * 2 - 1)) << 1;
    }

    int capacity() {
        return keys.length;
    }

    /** Removes every entry (keys need no reset: a negative value marks a free slot). */
    void clear() {
        Arrays.fill(values, -1);
        size = 0;
    }

    /** Adds {@code key → value} unless the key is present; returns the value now mapped. */
    int putIfAbsent(long key, int value) {
        if (size * 2 >= keys.length) {
            throw new IllegalStateException("map full: sized for " + keys.length / 2 + " entries");
        }
        int i = (int) (key ^ (key >>> 32)) & mask;
        while (values[i] >= 0) {
            if (keys[i] == key) {
                return values[i];
            }
            i = (i + 1) & mask;
        }
        keys[i] = key;
        values[i] = value;
        size++;
        return value;
    }

    /** The value of {@code key}, or -1. */
    int get(long key) {
        int i = (int) (key ^ (key >>> 32)) & mask;
        while (values[i] >= 0) {
            if (keys[i] == key) {
                return values[i];
            }
            i = (i + 1) & mask;
        }
        return -1;
    }

    /** Whether the next new key would exceed the load limit. */
    boolean isFull() {
        return (size + 1) * 2 >= keys.length;
    }

    int size() {
        return size;
    }
}
