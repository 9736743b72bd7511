package io.dwcp.compression;

import io.dwcp.core.DwcpException;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Sub-page copies from anywhere in the baseline (HDE-3, op SPLICE): a rewritten page whose content is assembled from
 * pieces that already exist in the baseline at other, unaligned offsets (page-cache refills, tmpfs rewrites, copying
 * garbage collectors). Neither a same-offset XOR nor a whole-page reference finds those; {@code zstd --patch-from}
 * does, with its long-distance matcher over the whole old file. This is the same idea restricted to what HDE needs:
 *
 * <ul>
 *   <li><b>Anchors</b> are content-defined: a gear rolling hash over the last 64 bytes, kept where its top
 *       {@value #RATE_BITS} bits are zero (one position in 64 on average, twice the sampling of zstd's long-distance
 *       matcher: one in 128 lost 1 % of the s0→s30 ratio), so a copy of the same bytes at any offset has the same
 *       anchors. The hash restarts at every page on
 *       both sides, so positions in a page's first 63 bytes are never anchors.</li>
 *   <li>The {@link Index} maps an anchor to one baseline byte position (direct-mapped, newest wins, 16 check bits). It
 *       is a hint: every candidate is compared byte by byte, so stale or colliding entries only cost a comparison.</li>
 *   <li>Per page, each anchor outside an earlier copy is looked up and the match extended both ways; matches of at
 *       least {@value #MIN_MATCH} bytes become copies, the bytes between them literals.</li>
 * </ul>
 *
 * <p>Wire form (control stream, after the op byte): {@code parts}, then per part {@code literal}, {@code copy} and, when
 * {@code copy > 0}, the zigzag-coded difference between the copy's source and its predicted source — all ULEB128. The
 * prediction starts at the page's own offset and, after each copy, continues at the copy's source end; the literal
 * bytes of a part advance it as well. An edited copy of one contiguous source therefore costs one byte per source
 * reference. Literal bytes go to the data stream. Layout table: {@code docs/hde-wire-format.md}.
 */
final class Splice {
    static final int WINDOW_BYTES = 64;
    static final int RATE_BITS = 6;
    static final int MIN_MATCH = 32;
    /**
     * Anchors without a match after which a page with no copy yet is given up: most rewritten pages have no source in
     * the baseline, and each lookup is a cache miss in a large table.
     */
    static final int GIVE_UP_MISSES = 16;
    private static final int CHECK_BITS = 16;
    private static final long[] GEAR = gear();

    private Splice() {
    }

    private static long[] gear() {
        long[] g = new long[256];
        long x = 0x5DEECE66DL;
        for (int i = 0; i < 256; i++) {
            x += 0x9E3779B97F4A7C15L;
            long z = x;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            g[i] = z ^ (z >>> 31);
        }
        return g;
    }

    private static boolean isAnchor(long h) {
        return h >>> (64 - RATE_BITS) == 0;
    }

    /**
     * Anchor → baseline byte position, direct-mapped; a later entry replaces an earlier one. Built on one thread (in
     * page order), so the encoder's output does not depend on thread timing.
     */
    static final class Index {
        private final long[] table;
        private final int mask;

        /** An index sized for about {@code bytes} of non-zero baseline content (capped at 2^24 entries, 128 MiB). */
        Index(long bytes) {
            long anchors = Math.max(1, bytes >>> RATE_BITS);
            int log = Math.min(24, Math.max(10, 64 - Long.numberOfLeadingZeros(anchors)));
            table = new long[1 << log];
            Arrays.fill(table, -1L);
            mask = table.length - 1;
        }

        private int slot(long h) {
            return (int) (h >>> (64 - RATE_BITS - 32)) & mask;
        }

        private static long check(long h) {
            return (h >>> 8) & ((1 << CHECK_BITS) - 1);
        }

        void put(long h, long position) {
            table[slot(h)] = position << CHECK_BITS | check(h);
        }

        /** The baseline position last recorded for anchor hash {@code h}, or -1. */
        long get(long h) {
            long e = table[slot(h)];
            if (e < 0 || (e & ((1 << CHECK_BITS) - 1)) != check(h)) {
                return -1;
            }
            return e >>> CHECK_BITS;
        }

        long sizeBytes() {
            return 8L * table.length;
        }

        /** Records the anchors of the baseline page at {@code chunk/off}, which holds state bytes from {@code pagePosition}. */
        void indexPage(ByteBuffer chunk, int off, int pageSizeBytes, long pagePosition) {
            long h = 0;
            for (int i = 0; i < pageSizeBytes; i += 8) {
                long v = chunk.getLong(off + i);
                for (int b = 56; b >= 0; b -= 8) {
                    h = (h << 1) + GEAR[(int) (v >>> b) & 0xFF];
                    int pos = i + 7 - (b >>> 3);
                    if (isAnchor(h) && pos >= WINDOW_BYTES - 1) {
                        put(h, pagePosition + pos);
                    }
                }
            }
        }
    }

    /**
     * Encodes the page at {@code src/off} ({@code n} bytes, state position {@code pagePosition}) as copies from
     * {@code base} plus literals: the parts into {@code control} (the caller writes their count before them) and the
     * literal bytes into {@code data}.
     *
     * @param budgetBytes give up when control + literal bytes would exceed this
     * @return the number of parts, or -1 when no copy was found or the result is over budget (the streams are then
     *     rolled back)
     */
    static int encode(ByteBuffer src, int off, int n, long pagePosition, Index index, PageStore base, long baseBytes,
                      Bytes control, Bytes data, int budgetBytes) {
        int ctl0 = control.length;
        int data0 = data.length;
        int parts = 0;
        int lit = 0;
        long expect = pagePosition;
        long h = 0;
        int misses = 0;
        for (int w = 0; w < n; w += 8) {
            if (parts == 0 && misses >= GIVE_UP_MISSES) {
                break;
            }
            long v = src.getLong(off + w);
            for (int shift = 56; shift >= 0; shift -= 8) {
                h = (h << 1) + GEAR[(int) (v >>> shift) & 0xFF];
                // Anchor test first: false 63 times in 64.
                if (h >>> (64 - RATE_BITS) != 0) {
                    continue;
                }
                int i = w + 7 - (shift >>> 3);
                if (i < lit || i < WINDOW_BYTES - 1) {
                    continue;
                }
                long b = index.get(h);
                if (b < 0 || b >= baseBytes) {
                    misses++;
                    continue;
                }
                long basePage = b / n;
                ByteBuffer chunk = base.chunk(basePage);
                int pageOff = base.offset(basePage);
                int cb = pageOff + (int) (b - basePage * n);
                if (chunk.get(cb) != src.get(off + i)) {
                    misses++;
                    continue;
                }
                // The source stays inside the chunk holding b (chunk-local offsets below chunkEnd).
                long chunkFirstPage = basePage - pageOff / n;
                int chunkEnd = (int) Math.min(chunk.capacity(), (baseBytes / n - chunkFirstPage) * n);
                int back = 0;
                while (i - back > lit && cb - back > 0 && chunk.get(cb - back - 1) == src.get(off + i - back - 1)) {
                    back++;
                }
                int fwdMax = Math.min(n - i - 1, chunkEnd - cb - 1);
                int fwd = 0;
                if (fwdMax > 0) {
                    fwd = src.slice(off + i + 1, fwdMax).mismatch(chunk.slice(cb + 1, fwdMax));
                    if (fwd < 0) {
                        fwd = fwdMax;
                    }
                }
                int start = i - back;
                int end = i + 1 + fwd;
                if (end - start < MIN_MATCH) {
                    misses++;
                    continue;
                }
                long source = b - back;
                int literal = start - lit;
                control.uleb(literal);
                control.uleb(end - start);
                control.uleb(zigzag(source - (expect + literal)));
                data.put(src, off + lit, literal);
                expect = source + (end - start);
                lit = end;
                parts++;
                if ((control.length - ctl0) + (data.length - data0) > budgetBytes) {
                    w = n; // over budget: stop scanning
                    break;
                }
            }
        }
        if (parts > 0 && lit < n) {
            control.uleb(n - lit);
            control.uleb(0);
            data.put(src, off + lit, n - lit);
            parts++;
        }
        if (parts == 0 || (control.length - ctl0) + (data.length - data0) > budgetBytes) {
            control.length = ctl0;
            data.length = data0;
            return -1;
        }
        return parts;
    }

    /**
     * Builds the page at {@code dst/off} from {@code parts} parts: literal bytes from {@code data}, copies from the
     * baseline {@code base} ({@code baseBytes} bytes of state).
     *
     * @throws DwcpException {@code CORRUPT_FRAME} when a part leaves the page, a source leaves the baseline, the parts
     *     do not fill the page exactly, or a stream ends early
     */
    static void apply(ByteBuffer dst, int off, int n, long pagePosition, long parts, Cursor control, Cursor data,
                      PageStore base, long baseBytes) {
        int pos = 0;
        long expect = pagePosition;
        for (long p = 0; p < parts; p++) {
            long literal = control.uleb();
            long copy = control.uleb();
            if (literal > n - pos || copy > n - pos - literal || (literal == 0 && copy == 0)) {
                throw Wire.corrupt("splice part (" + literal + ", " + copy + ") at byte " + pos + " leaves the "
                        + n + "-byte page");
            }
            data.copyTo(dst, off + pos, (int) literal);
            pos += (int) literal;
            if (copy == 0) {
                continue;
            }
            long source = expect + literal + unzigzag(control.uleb());
            if (source < 0 || source > baseBytes - copy) {
                throw Wire.corrupt("splice copy of " + copy + " bytes from baseline byte " + source
                        + " leaves the " + baseBytes + "-byte baseline");
            }
            copyFromBase(base, n, source, dst, off + pos, (int) copy);
            pos += (int) copy;
            expect = source + copy;
        }
        if (pos != n) {
            throw Wire.corrupt("splice parts fill " + pos + " of " + n + " bytes of the page");
        }
    }

    /** Copies {@code len} baseline bytes from state position {@code source}, page by page. */
    private static void copyFromBase(PageStore base, int pageSize, long source, ByteBuffer dst, int dstOff, int len) {
        while (len > 0) {
            long page = source / pageSize;
            int inPage = (int) (source - page * pageSize);
            int m = Math.min(len, pageSize - inPage);
            dst.put(dstOff, base.chunk(page), base.offset(page) + inPage, m);
            source += m;
            dstOff += m;
            len -= m;
        }
    }

    static long zigzag(long v) {
        return (v << 1) ^ (v >> 63);
    }

    static long unzigzag(long v) {
        return (v >>> 1) ^ -(v & 1);
    }

    /** Skips a SPLICE op's parts in the control stream (after {@code parts}); checks they fill {@code n} bytes. */
    static void skip(Cursor control, long parts, int n, long page) {
        long pos = 0;
        for (long p = 0; p < parts; p++) {
            long literal = control.uleb();
            long copy = control.uleb();
            if (literal > n - pos || copy > n - pos - literal || (literal == 0 && copy == 0)) {
                throw Wire.corrupt("splice page " + page + ": part (" + literal + ", " + copy + ") at byte " + pos
                        + " leaves the " + n + "-byte page");
            }
            if (copy > 0) {
                control.uleb();
            }
            pos += literal + copy;
        }
        if (pos != n) {
            throw Wire.corrupt("splice page " + page + ": parts fill " + pos + " of " + n + " bytes");
        }
    }
}
