package io.dwcp.compression;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.function.ToIntFunction;

/**
 * The tables a round holds for its whole length (the duplicate map, the round-splice index), kept for the next round
 * of the same size. Allocated afresh, a round's tables outlive the young collections that run during it and are
 * promoted; the old generation then grows into memory the process has not touched yet, and the kernel's zeroing of
 * those pages was the largest single cost of a large delta after zstd (a sixth of its CPU). Reused, they cost one
 * fill. Thread-safe; holds at most {@value #MAX_KEPT} tables of each kind, all dropped by {@link #clear}.
 */
final class RoundTables {
    private static final int MAX_KEPT = 2;

    private final ArrayDeque<LongIntMap> maps = new ArrayDeque<>();
    private final ArrayDeque<Splice.RoundIndex> indexes = new ArrayDeque<>();

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
    Splice.RoundIndex roundIndex(int log2Entries) {
        Splice.RoundIndex r = take(indexes, 1 << log2Entries, Splice.RoundIndex::capacity);
        if (r == null) {
            return new Splice.RoundIndex(log2Entries);
        }
        r.clear();
        return r;
    }

    /** Gives back a map no thread uses any more. */
    synchronized void give(LongIntMap m) {
        if (maps.size() < MAX_KEPT) {
            maps.push(m);
        }
    }

    /** Gives back a round index no thread uses any more. */
    synchronized void give(Splice.RoundIndex r) {
        if (indexes.size() < MAX_KEPT) {
            indexes.push(r);
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
