package io.dwcp.compression;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.function.ToIntFunction;

/**
 * The tables a round holds for its whole length (the duplicate map, the round-splice index), kept for the next round
 * of the same size. Allocated afresh, a round's tables outlive the young collections that run during it and are
 * promoted, and the old generation grows into memory the process has not touched yet (the kernel's zeroing of new
 * pages was 14 % of the CPU of repeated s0→s30 encodes, these tables a part of it). Reused, they cost one fill.
 *
 * <p>Thread-safe. Keeps the {@value #MAX_KEPT} most recently given tables of each kind, so that keys of another size
 * do not pin stale ones; {@link #clear} drops them all. Kept memory: per map 24–48 bytes per page of its state, at
 * most 96 MiB (the map stops growing at 4 Mi pages); per index at most 8 MiB.
 */
final class RoundTables {
    private static final int MAX_KEPT = 2;

    private final ArrayDeque<LongIntMap> maps = new ArrayDeque<>();
    private final ArrayDeque<RoundSpliceIndex> indexes = new ArrayDeque<>();

    /** An empty map for {@code expected} entries, reused when one of that capacity is free. */
    LongIntMap map(int expected) {
        int capacity = LongIntMap.capacityFor(expected);
        LongIntMap m = take(maps, capacity, LongIntMap::capacity);
        if (m == null) {
            return new LongIntMap(expected);
        }
        m.clear();
        return m;
    }

    /** An empty round index of {@code 2^log2Entries} entries, reused when one of that size is free. */
    RoundSpliceIndex roundIndex(int log2Entries) {
        RoundSpliceIndex r = take(indexes, 1 << log2Entries, RoundSpliceIndex::capacity);
        if (r == null) {
            return new RoundSpliceIndex(log2Entries);
        }
        r.clear();
        return r;
    }

    /** Gives back a map no thread uses any more; the least recently given goes when more are kept. */
    synchronized void give(LongIntMap m) {
        keep(maps, m);
    }

    /** Gives back a round index no thread uses any more; the least recently given goes when more are kept. */
    synchronized void give(RoundSpliceIndex r) {
        keep(indexes, r);
    }

    private static <T> void keep(ArrayDeque<T> free, T t) {
        free.push(t);
        if (free.size() > MAX_KEPT) {
            free.removeLast();
        }
    }

    /** Round indexes kept for the next round (tests). */
    synchronized int keptRoundIndexes() {
        return indexes.size();
    }

    synchronized void clear() {
        maps.clear();
        indexes.clear();
    }

    private synchronized <T> T take(ArrayDeque<T> free, int capacity, ToIntFunction<T> capacityOf) {
        for (Iterator<T> it = free.iterator(); it.hasNext(); ) {
            T t = it.next();
            if (capacityOf.applyAsInt(t) == capacity) {
                it.remove();
                return t;
            }
        }
        return null;
    }
}
