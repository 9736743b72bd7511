package io.dwcp.core.migration;

/**
 * The receiver's pages a seeded round keeps as they are, by page hash: the sources of COPY ops. Open addressing,
 * bounded ({@value #MAX_ENTRIES} distinct hashes; later ones are not indexed and their pages are simply not offered
 * as copy sources). Not thread-safe.
 */
final class SeedHashIndex {
    private static final int MAX_ENTRIES = 1 << 22;
    private long[] hi = new long[2048];
    private long[] lo = new long[2048];
    private int[] index = new int[2048];
    private int size;

    void put(long h, long l, int page) {
        if (size >= MAX_ENTRIES) {
            return;
        }
        if (2 * (size + 1) > index.length) {
            grow();
        }
        int mask = index.length - 1;
        for (int s = (int) (h ^ (h >>> 32)) & mask; ; s = (s + 1) & mask) {
            if (index[s] == 0) {
                hi[s] = h;
                lo[s] = l;
                index[s] = page + 1;
                size++;
                return;
            }
            if (hi[s] == h && lo[s] == l) {
                return;
            }
        }
    }

    /** {@return the page with that hash, or {@link SeedWire#SOURCE_LITERAL}} */
    int get(long h, long l) {
        int mask = index.length - 1;
        for (int s = (int) (h ^ (h >>> 32)) & mask; index[s] != 0; s = (s + 1) & mask) {
            if (hi[s] == h && lo[s] == l) {
                return index[s] - 1;
            }
        }
        return SeedWire.SOURCE_LITERAL;
    }

    private void grow() {
        long[] oh = hi;
        long[] ol = lo;
        int[] oi = index;
        hi = new long[2 * oi.length];
        lo = new long[2 * oi.length];
        index = new int[2 * oi.length];
        size = 0;
        for (int s = 0; s < oi.length; s++) {
            if (oi[s] != 0) {
                put(oh[s], ol[s], oi[s] - 1);
            }
        }
    }
}
