package io.dwcp.compression;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.config.DwcpConfig;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.nio.ByteBuffer;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** HDE-3 SPLICE: sub-page copies from anywhere in the baseline, encoded and applied exactly; bad parts rejected. */
class SpliceTest {
    private static final int PS = 4096;
    private static final int PAGES = 32;

    private static byte[] baseline(long seed) {
        byte[] b = new byte[PAGES * PS];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static PageStore store(byte[] content) {
        PageStore s = PageStore.pooled(PS, PAGES, new ChunkPool(0));
        for (int p = 0; p < PAGES; p++) {
            s.writePage(p, ByteBuffer.wrap(content), p * PS);
        }
        return s;
    }

    private static Splice.Index index(PageStore s) {
        Splice.Index idx = new Splice.Index((long) PAGES * PS);
        for (int p = 0; p < PAGES; p++) {
            idx.indexPage(s.chunk(p), s.offset(p), PS, (long) p * PS);
        }
        return idx;
    }

    private static byte[] apply(Bytes control, Bytes data, long parts, long pagePosition, PageStore base) {
        ByteBuffer dst = ByteBuffer.allocate(PS);
        ByteBuffer c = ByteBuffer.wrap(control.array, 0, control.length);
        ByteBuffer d = ByteBuffer.wrap(data.array, 0, data.length);
        Cursor cc = new Cursor(c, 0, control.length, "control");
        Cursor dc = new Cursor(d, 0, data.length, "data");
        Splice.apply(dst, 0, PS, pagePosition, parts, cc, dc, base, (long) PAGES * PS);
        assertTrue(!cc.hasRemaining() && !dc.hasRemaining(), "the parts consume both streams exactly");
        return dst.array();
    }

    @Property(tries = 40)
    void pagesMadeOfBaselinePiecesEncodeToCopiesAndApplyExactly(@ForAll long seed,
                                                                 @ForAll @IntRange(min = 1, max = 6) int pieces) {
        byte[] base = baseline(seed);
        Random r = new Random(seed ^ 0x5A5A);
        byte[] page = new byte[PS];
        int k = 0;
        for (int i = 0; i < pieces && k < PS; i++) {
            int span = i == pieces - 1 ? PS - k : Math.min(PS - k, 200 + r.nextInt(PS));
            int from = r.nextInt(base.length - span);
            System.arraycopy(base, from, page, k, span);
            k += span;
            if (k < PS) {
                page[k++] = (byte) r.nextInt(); // one new byte between pieces
            }
        }
        try (PageStore s = store(base)) {
            Bytes control = new Bytes(64);
            Bytes data = new Bytes(64);
            int parts = Splice.encode(ByteBuffer.wrap(page), 0, PS, 7L * PS, index(s), s, (long) PAGES * PS, control, data, PS - PS / 8);
            assertTrue(parts > 0, "pieces of at least 200 random bytes are found");
            assertTrue(data.length < PS / 2, "most of the page is copied, " + data.length + " literal bytes");
            assertArrayEquals(page, apply(control, data, parts, 7L * PS, s));
        }
    }

    @Example
    void autoTurnsSpliceOnFromFourCodecThreads() {
        DwcpConfig auto = DwcpConfig.defaults();
        assertFalse(new HdeSettings(auto, 2).spliceEnabled);
        assertTrue(new HdeSettings(auto, HdeSettings.SPLICE_AUTO_MIN_THREADS).spliceEnabled);
        assertTrue(new HdeSettings(DwcpConfig.builder().set("dwcp.compression.splice", "on").build(), 1).spliceEnabled);
        assertFalse(new HdeSettings(DwcpConfig.builder().set("dwcp.compression.splice", "off").build(), 64).spliceEnabled);
    }

    @Example
    void randomPageHasNoCopiesAndLeavesTheStreamsAsTheyWere() {
        byte[] page = new byte[PS];
        new Random(99).nextBytes(page);
        try (PageStore s = store(baseline(1))) {
            Bytes control = new Bytes(64);
            Bytes data = new Bytes(64);
            control.put(0x55);
            assertEquals(-1, Splice.encode(ByteBuffer.wrap(page), 0, PS, 0, index(s), s, (long) PAGES * PS, control, data, PS - PS / 8));
            assertEquals(1, control.length);
            assertEquals(0, data.length);
        }
    }

    @Example
    void sourcePredictionMakesAContiguousCopyCostOneByte() {
        assertEquals(0, Splice.zigzag(0));
        assertEquals(1, Splice.zigzag(-1));
        assertEquals(2, Splice.zigzag(1));
        for (long v : new long[] {0, 1, -1, 123_456_789L, -987_654_321_000L, Long.MAX_VALUE, Long.MIN_VALUE}) {
            assertEquals(v, Splice.unzigzag(Splice.zigzag(v)));
        }
    }

    /** One part list, as the encoder would write it: (literal, copy, source delta) triples. */
    private static Bytes parts(long... triples) {
        Bytes b = new Bytes(64);
        for (int i = 0; i < triples.length; i += 3) {
            b.uleb(triples[i]);
            b.uleb(triples[i + 1]);
            if (triples[i + 1] > 0) {
                b.uleb(Splice.zigzag(triples[i + 2]));
            }
        }
        return b;
    }

    private static Bytes literal(int n) {
        Bytes d = new Bytes(n);
        for (int i = 0; i < n; i++) {
            d.put(i);
        }
        return d;
    }

    @Example
    void handWrittenPartsApplyLiteralBytesAndCopies() {
        byte[] base = baseline(3);
        try (PageStore s = store(base)) {
            // 10 literal bytes, then 4086 bytes from baseline byte 5 * PS + 100 (predicted 2 * PS + 10).
            long delta = (5L * PS + 100) - (2L * PS + 10);
            byte[] page = apply(parts(10, PS - 10, delta), literal(10), 1, 2L * PS, s);
            for (int i = 0; i < 10; i++) {
                assertEquals((byte) i, page[i]);
            }
            for (int i = 10; i < PS; i++) {
                assertEquals(base[5 * PS + 100 + i - 10], page[i], "byte " + i);
            }
        }
    }

    @Example
    void partsThatLeaveThePageOrTheBaselineOrDoNotFillThePageAreCorrupt() {
        try (PageStore s = store(baseline(4))) {
            long end = (long) PAGES * PS;
            // Copy source past the baseline's end.
            assertCorrupt(() -> apply(parts(0, PS, end - PS + 1), literal(0), 1, 0, s));
            // Negative source.
            assertCorrupt(() -> apply(parts(0, PS, -1), literal(0), 1, 0, s));
            // Parts fill less than the page.
            assertCorrupt(() -> apply(parts(0, 100, 0), literal(0), 1, 0, s));
            // A part longer than the page.
            assertCorrupt(() -> apply(parts(10, PS, 0), literal(10), 1, 0, s));
            // An empty part.
            assertCorrupt(() -> apply(parts(0, 0, 0, 0, PS, 0), literal(0), 2, 0, s));
            // Literal bytes missing from the data stream.
            assertCorrupt(() -> apply(parts(PS, 0, 0), literal(10), 1, 0, s));
        }
    }

    @Example
    void skipChecksThePartStructure() {
        Bytes ok = parts(10, PS - 10, 5);
        Splice.skip(new Cursor(ByteBuffer.wrap(ok.array, 0, ok.length), 0, ok.length, "control"), 1, PS, 0);
        Bytes shortParts = parts(10, 10, 5);
        assertCorrupt(() -> Splice.skip(new Cursor(ByteBuffer.wrap(shortParts.array, 0, shortParts.length), 0,
                shortParts.length, "control"), 1, PS, 0));
    }

    private static void assertCorrupt(Runnable r) {
        DwcpException e = assertThrows(DwcpException.class, r::run);
        assertEquals(ErrorCode.CORRUPT_FRAME, e.code(), e.getMessage());
    }
}
