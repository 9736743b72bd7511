package io.dwcp.compression;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Anchor → baseline byte position, direct-mapped; a later entry replaces an earlier one. Built on one thread (in
 * page order), so the encoder's output does not depend on thread timing.
 *
 * <p>The baseline side keeps only <em>aligned</em> anchors: the positions that are a multiple of the index's unit
 * (8 bytes up to 32 GiB of state) and {@linkplain Splice#selected selected} by their 16 bytes. The page looked up tries
 * every byte position with the same test, so a copy shifted by any number of bytes still meets the baseline's
 * anchors: building the index hashes one word in eight bytes, not every byte (a rolling hash), and the cost moves
 * to the far fewer pages that are looked up. A slot is 4 bytes: the position in units plus one, over as many check
 * bits of the anchor hash as fit (0 = empty). A state too large for 8-byte units in 32 bits uses coarser units,
 * which keeps fewer anchors: the index degrades instead of growing.
 *
 * <p>Lifecycle and threading: one per sender baseline, built by {@code Baseline.prebuildSpliceIndex} on one thread
 * (under the baseline's monitor) and published through the baseline's volatile field once full. After that
 * {@code Baseline.applyPages} keeps it up to date as deltas are adopted, through one {@link Writer} per applied range
 * (ranges may run in parallel): plain int stores, last writer wins. Rounds read it ({@link Splice#encode}) from any
 * thread. There is no lock on purpose: an entry is only a hint, every candidate is compared byte by byte, so a stale
 * entry costs a comparison and never a wrong page. A {@link Writer} belongs to the thread that made it.
 */
final class SpliceIndex {
    private static final int MAX_CHECK_BITS = 16;
    /** Largest index: 2^25 four-byte slots, 128 MiB. */
    static final int MAX_LOG2_SLOTS = 25;

    private final int[] table;
    private final int mask;
    private final int unitShift;
    private final int checkBits;

    /**
     * An index for a state of {@code stateBytes} with about {@code contentBytes} of distinct non-zero content to
     * record (2^10 … 2^{@value #MAX_LOG2_SLOTS} slots, one per anchor: 64 MiB per GiB of content).
     */
    SpliceIndex(long stateBytes, long contentBytes) {
        long anchors = Math.max(1, contentBytes >>> (3 + Splice.RATE_BITS));
        int log = Math.min(MAX_LOG2_SLOTS, Math.max(10, 64 - Long.numberOfLeadingZeros(anchors)));
        table = new int[1 << log];
        mask = table.length - 1;
        int u = 3;
        while ((Math.max(1, stateBytes) >>> u) + 1 > 0xFFFF_FFFFL) {
            u++;
        }
        unitShift = u;
        int positionBits = 64 - Long.numberOfLeadingZeros((Math.max(1, stateBytes) >>> unitShift) + 1);
        checkBits = Math.max(0, Math.min(MAX_CHECK_BITS, 32 - positionBits));
    }

    private int slot(long h) {
        return (int) (h >>> 32) & mask;
    }

    private int check(long h) {
        return (int) h & ((1 << checkBits) - 1);
    }

    /** Whether baseline position {@code pos} (a multiple of 8) may hold an anchor of this index. */
    boolean anchorable(long pos) {
        return (pos & ((1L << unitShift) - 1)) == 0;
    }

    private int entry(long h, long pos) {
        return (int) (((pos >>> unitShift) + 1) << checkBits) | check(h);
    }

    /** The baseline position last recorded for anchor hash {@code h}, or -1. */
    long get(long h) {
        int e = table[slot(h)];
        if (e == 0 || (e & ((1 << checkBits) - 1)) != check(h)) {
            return -1;
        }
        return ((Integer.toUnsignedLong(e) >>> checkBits) - 1) << unitShift;
    }

    long sizeBytes() {
        return 4L * table.length;
    }

    int slots() {
        return table.length;
    }

    /** The baseline position recorded in slot {@code i}, or -1 when it is empty. */
    long positionAt(int i) {
        int e = table[i];
        return e == 0 ? -1 : ((Integer.toUnsignedLong(e) >>> checkBits) - 1) << unitShift;
    }

    /** Slots holding an entry (a scan of the table). */
    long entries() {
        long n = 0;
        for (int e : table) {
            if (e != 0) {
                n++;
            }
        }
        return n;
    }

    /** A writer that records the anchors of about {@code bytes} of pages in this index (one thread per writer). */
    Writer writer(long bytes) {
        return new Writer(this, (int) Math.min(Writer.BURST, Math.max(64, bytes >>> (6 - 1))));
    }

    /**
     * Records the anchors of baseline pages in an {@link Index}: the same entries as storing each anchor as it is
     * found, in page order, but written in bursts sorted by table region. A build of a whole baseline stores about
     * one anchor per 64 bytes at random slots of a table far larger than the caches; stored one by one, each store
     * misses the caches and the TLB, and that took more CPU than hashing the pages. Sorted, each burst sweeps the
     * table front to back. Stable within a burst and bursts in page order, so the newest anchor of a slot still
     * wins. The caller {@link #flush}es after its last page.
     */
    static final class Writer {
        /** Table regions a burst is sorted into (a 64 MiB table: 64 KiB each). */
        private static final int REGION_BITS = 10;
        /** Most anchors per burst (4 MiB of buffers). */
        static final int BURST = 1 << 18;
        private final SpliceIndex index;
        private final int regionShift;
        private final int[] slot;
        private final int[] entry;
        private final int[] sortedSlot;
        private final int[] sortedEntry;
        private final int[] start = new int[(1 << REGION_BITS) + 1];
        private int size;
        /** The page being added, as big-endian words. */
        private long[] words = new long[0];

        /** {@code capacity}: anchors per burst, at least 64. */
        private Writer(SpliceIndex index, int capacity) {
            this.index = index;
            this.regionShift = Math.max(0, Integer.numberOfTrailingZeros(index.table.length) - REGION_BITS);
            slot = new int[capacity];
            entry = new int[capacity];
            sortedSlot = new int[capacity];
            sortedEntry = new int[capacity];
        }

        /** Adds the anchors of the baseline page at {@code chunk/off}, which holds state bytes from {@code pagePosition}. */
        void add(ByteBuffer chunk, int off, int pageSizeBytes, long pagePosition) {
            int[] slots = slot;
            int[] entries = entry;
            int full = slots.length - 1;
            if (words.length < (pageSizeBytes + 7) / 8 + 2) {
                words = new long[(pageSizeBytes + 7) / 8 + 2];
            }
            long[] a = words;
            Splice.loadWords(chunk, off, pageSizeBytes, a, ByteOrder.BIG_ENDIAN);
            SpliceIndex idx = index;
            int k = size;
            for (int i = 0, j = 0; i + Splice.ANCHOR_BYTES <= pageSizeBytes; i += 8, j++) {
                long w0 = a[j];
                long w1 = a[j + 1];
                if (!Splice.selected(w0, w1, Splice.RATE_BITS) || !idx.anchorable(pagePosition + i)) {
                    continue;
                }
                if (k > full) {
                    size = k;
                    flush();
                    k = 0;
                }
                long h = PageHash.mix(w0, w1);
                slots[k] = idx.slot(h);
                entries[k++] = idx.entry(h, pagePosition + i);
            }
            size = k;
        }

        /** Writes the buffered anchors into the index, sorted by table region (a stable counting sort). */
        void flush() {
            int n = size;
            int[] st = start;
            Arrays.fill(st, 0);
            for (int k = 0; k < n; k++) {
                st[(slot[k] >>> regionShift) + 1]++;
            }
            for (int r = 1; r < st.length; r++) {
                st[r] += st[r - 1];
            }
            for (int k = 0; k < n; k++) {
                int d = st[slot[k] >>> regionShift]++;
                sortedSlot[d] = slot[k];
                sortedEntry[d] = entry[k];
            }
            int[] table = index.table;
            for (int k = 0; k < n; k++) {
                table[sortedSlot[k]] = sortedEntry[k];
            }
            size = 0;
        }
    }
}
