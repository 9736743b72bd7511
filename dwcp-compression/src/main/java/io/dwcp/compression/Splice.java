package io.dwcp.compression;

import io.dwcp.core.DwcpException;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Sub-page copies from anywhere in the baseline (op SPLICE): a rewritten page whose content is assembled from
 * pieces that already exist in the baseline at other, unaligned offsets (page-cache refills, tmpfs rewrites, copying
 * garbage collectors). Neither a same-offset XOR nor a whole-page reference finds those; {@code zstd --patch-from}
 * does, with its long-distance matcher over the whole old file. This is the same idea restricted to what HDE needs:
 *
 * <ul>
 *   <li><b>Anchors</b> are positions whose 16 bytes pass a one-multiply hash test (one in 8). In the baseline only
 *       8-byte-aligned positions are kept, one anchor per 64 bytes; a page looked up tests every byte position, so a
 *       copy at any offset meets the anchors of its source. Building the index hashes one word per 8 bytes, and only
 *       the first of identical baseline pages. (Before: a content-defined rolling hash over every byte, 8 times the
 *       hashing and twice the table; on fresh corpus A's s0→s30 the aligned index codes 0.4 % fewer bytes.)</li>
 *   <li>The {@link SpliceIndex} maps an anchor to one baseline byte position (direct-mapped, newest wins, 4-byte slots with
 *       a few check bits). It is a hint: every candidate is compared byte by byte, so stale or colliding entries only
 *       cost a comparison.</li>
 *   <li>Per page, each anchor outside an earlier copy is looked up and the match extended both ways; matches of at
 *       least {@value #MIN_MATCH} bytes become copies, the bytes between them literals.</li>
 *   <li><b>Round sources</b> (wire version 3): a page still literal may copy from pages sent in earlier batches of the
 *       same round, at positions after the baseline's ({@code baseline bytes + slot × page size + offset}). Their
 *       anchors are aligned ({@link #roundAnchors}) and go to a {@link RoundSpliceIndex}; {@code RoundEncoder} explains
 *       the order that keeps the output deterministic, and the decoder makes these copies after the batches before
 *       them ({@link RoundCopies}).</li>
 * </ul>
 *
 * <p>Wire form (control stream, after the op byte): {@code parts}, then per part {@code literal}, {@code copy} and, when
 * {@code copy > 0}, the zigzag-coded difference between the copy's source and its predicted source — all ULEB128. The
 * prediction starts at the page's own offset and, after each copy, continues at the copy's source end; the literal
 * bytes of a part advance it as well. An edited copy of one contiguous source therefore costs one byte per source
 * reference. Literal bytes go to the data stream. Layout table: {@code docs/hde-wire-format.md}.
 *
 * <p>This class holds the SPLICE wire form, both ways (encode, apply, skip) and the anchors; the two indexes the
 * encoder looks anchors up in are classes of their own, because their lifecycles and threading differ:
 * {@link SpliceIndex} (the baseline's: built once on one thread, then read only, by any number of rounds) and
 * {@link RoundSpliceIndex} (one round's: written and read concurrently, pooled between rounds by {@link RoundTables}).
 * Everything here is static or owned by the one thread that made it ({@link Parts}, {@link AnchorList},
 * {@link RoundCopies}).
 */
final class Splice {
    /** Bytes hashed per anchor: two aligned words in the baseline, any two adjacent words in a page looked up. */
    static final int ANCHOR_BYTES = 16;
    /**
     * Baseline anchors are the 8-byte-aligned positions whose pre-selection hash has its top {@value} bits zero: one
     * position in 8, one anchor per 64 bytes on average, as the content-defined anchors before them. One per 256
     * bytes (5 bits, a table a quarter the size) coded 0.4 % more bytes on fresh corpus A's s0→s30 (the pair tuned
     * on), and did not make SPLICE cheap enough to be on by default on 2 cores.
     */
    static final int RATE_BITS = 3;
    static final int MIN_MATCH = 32;
    static final int WORD_RATE_BITS = 3;
    /**
     * Anchors without a match after which a page with no copy yet is given up: most rewritten pages have no source in
     * the baseline, and each lookup is a cache miss in a large table. A page looked up tests every byte position, one
     * in 8 of which is an anchor, so 64 misses cover about 512 bytes of the page (tuned on fresh corpus A's s0→s30:
     * 32 → 64 took 0.3 % off its bytes, 128 only 0.05 % more).
     */
    static final int GIVE_UP_MISSES = 64;

    private Splice() {
    }

    /**
     * Whether the 16 bytes {@code w0, w1} (two words as read big-endian) are an anchor: a one-multiply hash with its
     * top {@code rateBits} bits zero; all-zero windows never are.
     */
    static boolean selected(long w0, long w1, int rateBits) {
        return ((w0 ^ Long.rotateLeft(w1, 29)) * 0x9E3779B97F4A7C15L) >>> (64 - rateBits) == 0 && (w0 | w1) != 0;
    }

    /**
     * Encodes the page at {@code src/off} ({@code n} bytes, state position {@code pagePosition}) as copies from
     * {@code base} plus literals: the parts into {@code control} (the caller writes their count before them) and the
     * literal bytes into {@code data}. Every byte position outside the copies found so far is tried as an anchor.
     *
     * @param budgetBytes give up when control + literal bytes would exceed this
     * @return the number of parts, or -1 when no copy was found or the result is over budget (the streams are then
     *     rolled back)
     */
    static int encode(ByteBuffer src, int off, int n, long pagePosition, SpliceIndex index, PageStore base, long baseBytes,
                      Bytes control, Bytes data, int budgetBytes) {
        return encode(src, off, n, pagePosition, index, base, baseBytes, control, data, budgetBytes,
                new long[(n + 7) / 8 + 2]);
    }

    /**
     * As above with the caller's scratch {@code words} (at least {@code (n + 7) / 8 + 2} longs). The page is read once,
     * in bulk, into big-endian words; the 16-byte window at every byte position is then assembled from three of them
     * with shifts. Two unaligned buffer reads per byte cost several times more under the C1 compiler, which a
     * migration's sender runs with, and the lookups were the largest part of SPLICE's CPU time.
     */
    static int encode(ByteBuffer src, int off, int n, long pagePosition, SpliceIndex index, PageStore base, long baseBytes,
                      Bytes control, Bytes data, int budgetBytes, long[] words) {
        Parts parts = new Parts(src, off, n, pagePosition, control, data, budgetBytes, 0);
        loadWords(src, off, n, words, ByteOrder.BIG_ENDIAN);
        int last = n - ANCHOR_BYTES;
        for (int i = 0; i <= last && !parts.done(); i++) {
            if (!parts.wants(i)) {
                i = parts.lit - 1;
                continue;
            }
            long w0 = window(words, i);
            long w1 = window(words, i + 8);
            if (!selected(w0, w1, RATE_BITS)) {
                continue;
            }
            long b = index.get(PageHash.mix(w0, w1));
            if (b < 0 || b > baseBytes - ANCHOR_BYTES) {
                parts.miss();
                continue;
            }
            long basePage = b / n;
            ByteBuffer chunk = base.chunk(basePage);
            int pageOff = base.offset(basePage);
            // The source stays inside the chunk holding b (chunk-local offsets below chunkEnd).
            long chunkFirstPage = basePage - pageOff / n;
            int chunkEnd = (int) Math.min(chunk.capacity(), (baseBytes / n - chunkFirstPage) * n);
            parts.match(i, b, chunk, pageOff + (int) (b - basePage * n), 0, chunkEnd);
            if (parts.overBudget) {
                break;
            }
        }
        return parts.finish();
    }

    /** The big-endian word at byte {@code i} of a page loaded by {@link #loadWords} (two words and a shift). */
    static long window(long[] words, int i) {
        int k = i >>> 3;
        int sh = (i & 7) << 3;
        return sh == 0 ? words[k] : (words[k] << sh) | (words[k + 1] >>> (64 - sh));
    }

    /**
     * Reads the {@code n} bytes at {@code src/off} into {@code words} as longs of byte order {@code order} (bulk, one
     * copy), and zeroes the two words after them; a partial last word is zero-padded.
     */
    static void loadWords(ByteBuffer src, int off, int n, long[] words, ByteOrder order) {
        int full = n >>> 3;
        src.slice(off, full << 3).order(order).asLongBuffer().get(words, 0, full);
        int k = full;
        if ((n & 7) != 0) {
            long v = 0;
            for (int j = 0; j < 8; j++) {
                int b = j < (n & 7) ? src.get(off + (full << 3) + j) & 0xFF : 0;
                v |= (long) b << (order == ByteOrder.BIG_ENDIAN ? 56 - 8 * j : 8 * j);
            }
            words[k++] = v;
        }
        words[k] = 0;
        words[k + 1] = 0;
    }

    /**
     * Records the round anchors of the page at {@code src/off} in {@code out}: the 8-byte-aligned positions whose
     * 16 bytes are {@linkplain #selected selected} with {@value #WORD_RATE_BITS} rate bits (one position in 64 bytes),
     * all-zero windows skipped. Aligned on both sides: cheap, and heap objects and buffers sit on 8-byte boundaries.
     * One in 64 rather than 128 bytes took 0.5 % off fresh corpus A's s0→s30.
     */
    static void roundAnchors(ByteBuffer src, int off, int n, AnchorList out) {
        roundAnchors(src, off, n, out, new long[(n + 7) / 8 + 2]);
    }

    /**
     * As above with the caller's scratch {@code words} (at least {@code (n + 7) / 8 + 2} longs); one bulk read of the
     * page.
     */
    static void roundAnchors(ByteBuffer src, int off, int n, AnchorList out, long[] words) {
        // Words in the buffer's own order, as the anchors were always defined (scan and coder read the same buffers).
        loadWords(src, off, n, words, src.order());
        for (int i = 0, j = 0; i + 16 <= n; i += 8, j++) {
            long w0 = words[j];
            long w1 = words[j + 1];
            // A one-multiply pre-selection; only the selected eighth pays for the full mix.
            if (!selected(w0, w1, WORD_RATE_BITS)) {
                continue;
            }
            out.add(PageHash.mix(w0, w1), i);
        }
    }


    /** Anchor hashes and their in-page positions, appended page after page. */
    static final class AnchorList {
        long[] hash = new long[256];
        int[] position = new int[256];
        int size;

        void add(long h, int pos) {
            if (size == hash.length) {
                hash = Arrays.copyOf(hash, size * 2);
                position = Arrays.copyOf(position, size * 2);
            }
            hash[size] = h;
            position[size++] = pos;
        }
    }

    /**
     * The parts of one page being encoded, left to right: each match found at an anchor is extended both ways and,
     * when at least {@value #MIN_MATCH} bytes long, becomes a copy; the bytes before it a literal.
     */
    static final class Parts {
        private final ByteBuffer src;
        private final int off;
        private final int n;
        private final Bytes control;
        private final Bytes data;
        private final int ctl0;
        private final int data0;
        private final int budgetBytes;
        private final int firstAnchor;
        private int count;
        private int lit;
        private long expect;
        private int misses;
        private boolean overBudget;

        /** {@code firstAnchor}: the lowest page position an anchor can have (its window ends there). */
        Parts(ByteBuffer src, int off, int n, long pagePosition, Bytes control, Bytes data, int budgetBytes,
              int firstAnchor) {
            this.src = src;
            this.off = off;
            this.n = n;
            this.control = control;
            this.data = data;
            this.ctl0 = control.length;
            this.data0 = data.length;
            this.budgetBytes = budgetBytes;
            this.firstAnchor = firstAnchor;
            this.expect = pagePosition;
        }

        /** Whether an anchor at page byte {@code i} is worth a lookup: past the last copy and a full window in. */
        boolean wants(int i) {
            return i >= lit && i >= firstAnchor;
        }

        boolean done() {
            return overBudget || (count == 0 && misses >= GIVE_UP_MISSES);
        }

        void miss() {
            misses++;
        }

        /**
         * Page byte {@code i} may equal source position {@code b}, held at {@code chunk[cb]}; the source's bytes are
         * valid in {@code chunk[lo, hi)}.
         */
        void match(int i, long b, ByteBuffer chunk, int cb, int lo, int hi) {
            if (chunk.get(cb) != src.get(off + i)) {
                misses++;
                return;
            }
            int back = 0;
            while (i - back > lit && cb - back > lo && chunk.get(cb - back - 1) == src.get(off + i - back - 1)) {
                back++;
            }
            int fwdMax = Math.min(n - i - 1, hi - cb - 1);
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
                return;
            }
            long source = b - back;
            int literal = start - lit;
            control.uleb(literal);
            control.uleb(end - start);
            control.uleb(zigzag(source - (expect + literal)));
            data.put(src, off + lit, literal);
            expect = source + (end - start);
            lit = end;
            count++;
            overBudget = (control.length - ctl0) + (data.length - data0) > budgetBytes;
        }

        /** Closes the page with its trailing literal; returns the part count, or -1 (streams rolled back). */
        int finish() {
            if (count > 0 && lit < n) {
                control.uleb(n - lit);
                control.uleb(0);
                data.put(src, off + lit, n - lit);
                count++;
            }
            if (count == 0 || (control.length - ctl0) + (data.length - data0) > budgetBytes) {
                control.length = ctl0;
                data.length = data0;
                return -1;
            }
            return count;
        }
    }

    /**
     * Builds the page at {@code dst/off} from {@code parts} parts: literal bytes from {@code data}, copies from the
     * baseline {@code base} ({@code baseBytes} bytes of state) and, when {@code roundCopies} is given (wire version 3),
     * from the round's earlier pages: those copies are only recorded in {@code roundCopies} under {@code entry}, for
     * {@link #copyFromRound} once their sources are decoded, and their bytes in {@code dst} are left as they are.
     *
     * @param roundEnd round position where this page's own slot starts: round sources must end at or before it
     * @throws DwcpException {@code CORRUPT_FRAME} when a part leaves the page, a source leaves the baseline or the
     *     round's earlier pages, the parts do not fill the page exactly, or a stream ends early
     */
    static void apply(ByteBuffer dst, int off, int n, long pagePosition, long parts, Cursor control, Cursor data,
                      PageStore base, long baseBytes, RoundCopies roundCopies, int entry, long roundEnd) {
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
            if (source >= 0 && source <= baseBytes - copy) {
                copyFromBase(base, n, source, dst, off + pos, (int) copy);
            } else if (roundCopies != null && source >= baseBytes && source <= roundEnd - copy) {
                roundCopies.add(entry, pos, source - baseBytes, (int) copy);
            } else {
                throw Wire.corrupt("splice copy of " + copy + " bytes from byte " + source + " leaves the "
                        + baseBytes + "-byte baseline" + (roundCopies == null ? "" : " and the "
                        + (roundEnd - baseBytes) + " bytes of the round's earlier pages"));
            }
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

    /**
     * Copies {@code len} bytes of the round's slots from {@code roundOffset} ({@code slot × n + offset}), slot by slot.
     */
    static void copyFromRound(SlotPages slots, int n, long roundOffset, ByteBuffer dst, int dstOff, int len) {
        while (len > 0) {
            int slot = (int) (roundOffset / n);
            int inPage = (int) (roundOffset - (long) slot * n);
            int m = Math.min(len, n - inPage);
            dst.put(dstOff, slots.chunk(slot), slots.offset(slot) + inPage, m);
            roundOffset += m;
            dstOff += m;
            len -= m;
        }
    }

    /**
     * Copies from the round's earlier pages found while decoding a batch, in the order found: entry (the page's index
     * in its batch), position in the page, source offset in the round, length.
     */
    static final class RoundCopies {
        private long[] values = new long[3 * 16];
        private int size;

        void add(int entry, int pos, long roundOffset, int length) {
            if (3 * size == values.length) {
                values = Arrays.copyOf(values, values.length * 2);
            }
            values[3 * size] = (long) entry << 32 | pos;
            values[3 * size + 1] = roundOffset;
            values[3 * size + 2] = length;
            size++;
        }

        int size() {
            return size;
        }

        int entry(int i) {
            return (int) (values[3 * i] >>> 32);
        }

        int position(int i) {
            return (int) values[3 * i];
        }

        long source(int i) {
            return values[3 * i + 1];
        }

        int length(int i) {
            return (int) values[3 * i + 2];
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
