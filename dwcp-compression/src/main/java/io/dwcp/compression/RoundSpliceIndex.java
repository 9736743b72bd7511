package io.dwcp.compression;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

/**
 * Anchor → the first state position where a page of this round has it (round splices). Filled by the scan
 * workers concurrently, read by the batch coders; deterministic because the smallest position wins and a reader
 * accepts only positions below its batch's first page, whose pages were all scanned (and inserted) before the
 * batch was cut: a position it accepts is the smallest there is, and one it refuses is refused on every run.
 *
 * <p>Lifecycle and threading: taken from {@link RoundTables} by a round's {@code RoundEncoder}, written by that
 * round's scans ({@link #insert}, compare-and-set on each entry, no lock) and read by its batch coders ({@link #get},
 * opaque reads), then given back once every task of the round has ended, and {@linkplain #clear cleared} by the
 * pool while no other thread holds it. Anchors come from {@link Splice#roundAnchors}.
 */
final class RoundSpliceIndex {
    private static final VarHandle ENTRIES = MethodHandles.arrayElementVarHandle(long[].class);
    /** 0 = empty; else (position + 1) << 16 | 16 check bits of the anchor hash. */
    private static final int ROUND_CHECK_BITS = 16;
    private final long[] entries;
    private final int mask;

    /** An index of {@code 2^log2Entries} entries (8 bytes each). */
    RoundSpliceIndex(int log2Entries) {
        entries = new long[1 << log2Entries];
        mask = entries.length - 1;
    }

    int capacity() {
        return entries.length;
    }

    /** Empties the index; only while no other thread uses it. */
    void clear() {
        Arrays.fill(entries, 0L);
    }

    private int slot(long h) {
        return (int) (h >>> 20) & mask;
    }

    private static long check(long h) {
        return h & ((1 << ROUND_CHECK_BITS) - 1);
    }

    /** Records state position {@code position} for anchor {@code h} unless a smaller one is there (thread-safe). */
    void insert(long h, long position) {
        int i = slot(h);
        long e = (position + 1) << ROUND_CHECK_BITS | check(h);
        long cur = (long) ENTRIES.getOpaque(entries, i);
        while ((cur == 0 || (cur >>> ROUND_CHECK_BITS) > position + 1) && !ENTRIES.compareAndSet(entries, i, cur, e)) {
            cur = (long) ENTRIES.getOpaque(entries, i);
        }
    }

    /** The smallest position recorded for {@code h} when it is below {@code limit}; else -1. */
    long get(long h, long limit) {
        long e = (long) ENTRIES.getOpaque(entries, slot(h));
        if (e == 0 || (e & ((1 << ROUND_CHECK_BITS) - 1)) != check(h)) {
            return -1;
        }
        long position = (e >>> ROUND_CHECK_BITS) - 1;
        return position < limit ? position : -1;
    }
}
