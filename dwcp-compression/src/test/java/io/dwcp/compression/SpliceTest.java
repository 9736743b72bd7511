package io.dwcp.compression;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.config.DwcpConfig;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
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

    private static SpliceIndex index(PageStore s) {
        return index(s, (long) PAGES * PS);
    }

    /**
     * The index of {@code s}, written in bursts of about {@code burstBytes} of pages. Sized as for 8 times the content,
     * so that few anchors are lost to later ones in the same slot: the properties here are about encoding, not about
     * the loss of a direct-mapped table at its production load.
     */
    private static SpliceIndex index(PageStore s, long burstBytes) {
        SpliceIndex idx = new SpliceIndex((long) PAGES * PS, 8L * PAGES * PS);
        SpliceIndex.Writer w = idx.writer(burstBytes);
        for (int p = 0; p < PAGES; p++) {
            w.add(s.chunk(p), s.offset(p), PS, (long) p * PS);
        }
        w.flush();
        return idx;
    }

    @Example
    void sortedBurstsWriteTheSameIndexAsOneBurst() {
        // Repeated content: many anchors share a slot, and the newest (highest position) must win in every burst size.
        byte[] b = baseline(3);
        System.arraycopy(b, 0, b, 5 * PS + 100, 3 * PS);
        System.arraycopy(b, 0, b, 20 * PS + 7, 2 * PS);
        PageStore s = store(b);
        SpliceIndex whole = index(s, (long) PAGES * PS);
        SpliceIndex small = index(s, 64);          // bursts of at most 64 anchors: many flushes, also inside a page
        assertTrue(whole.entries() > 0);
        assertEquals(whole.entries(), small.entries());
        for (int i = 0; i < whole.slots(); i++) {
            assertEquals(whole.positionAt(i), small.positionAt(i), "slot " + i);
        }
    }

    @Example
    void theNewestCopyOfAnAnchorWins() {
        byte[] b = baseline(4);
        System.arraycopy(b, 2 * PS, b, 30 * PS, PS);     // page 30 repeats page 2
        SpliceIndex idx = index(store(b));
        int later = 0;
        for (int i = 0; i < idx.slots(); i++) {
            long position = idx.positionAt(i);
            if (position >= 0) {
                assertEquals(0, position % 8, "baseline anchors are aligned");
                assertFalse(position >= 2L * PS && position < 3L * PS, "page 2's anchors are replaced by page 30's");
                if (position >= 30L * PS) {
                    later++;
                }
            }
        }
        assertTrue(later > 0);
    }

    @Example
    void aCopyAtAnyByteOffsetMeetsTheAlignedBaselineAnchors() {
        byte[] base = baseline(11);
        try (PageStore s = store(base)) {
            SpliceIndex idx = index(s);
            for (int shift = 0; shift < 16; shift++) {
                // Baseline bytes [9 * PS + shift + 3, ... + 3000) land at page byte 100 + ...: an unaligned source.
                byte[] page = new byte[PS];
                new Random(1000 + shift).nextBytes(page);
                int from = 9 * PS + shift + 3;
                System.arraycopy(base, from, page, 100, 3000);
                Bytes control = new Bytes(64);
                Bytes data = new Bytes(64);
                int parts = Splice.encode(ByteBuffer.wrap(page), 0, PS, 2L * PS, idx, s, (long) PAGES * PS, control,
                        data, PS - PS / 8);
                assertTrue(parts > 0, "shift " + shift + ": the copy is found");
                assertEquals(PS - 3000, data.length, "shift " + shift + ": all 3000 bytes are copied");
                assertArrayEquals(page, apply(control, data, parts, 2L * PS, s));
            }
        }
    }

    @Property(tries = 50)
    void wordsLoadedOnceGiveTheWordAtEveryByteOffset(@ForAll long seed, @ForAll @IntRange(min = 16, max = 300) int n,
                                                     @ForAll boolean little) {
        byte[] bytes = new byte[n + 5];
        new Random(seed).nextBytes(bytes);
        ByteBuffer src = ByteBuffer.allocateDirect(bytes.length).put(bytes).clear()
                .order(little ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN);
        long[] words = new long[(n + 7) / 8 + 2];
        Splice.loadWords(src, 5, n, words, ByteOrder.BIG_ENDIAN);
        ByteBuffer be = ByteBuffer.wrap(bytes, 0, 5 + n).order(ByteOrder.BIG_ENDIAN);
        for (int i = 0; i + 8 <= n; i++) {
            assertEquals(be.getLong(5 + i), Splice.window(words, i), "byte " + i);
        }
        if (n % 8 != 0) {
            byte[] tail = new byte[8];
            System.arraycopy(bytes, 5 + n - n % 8, tail, 0, n % 8);
            assertEquals(ByteBuffer.wrap(tail).getLong(), words[n / 8], "a partial last word is zero-padded");
        }
        Splice.loadWords(src, 5, n, words, src.order());
        for (int i = 0; i + 8 <= n; i += 8) {
            assertEquals(src.getLong(5 + i), words[i / 8], "the buffer's own order: word " + i / 8);
        }
    }

    @Example
    void aStateTooLargeForEightByteUnitsGetsCoarserAnchors() {
        SpliceIndex small = new SpliceIndex(1L << 30, 1L << 20);
        assertTrue(small.anchorable(8) && small.anchorable((1L << 30) - 8));
        SpliceIndex huge = new SpliceIndex(64L << 30, 1L << 20);
        assertFalse(huge.anchorable(8), "64 GiB of 8-byte units do not fit a 4-byte slot");
        assertTrue(huge.anchorable(64) && huge.anchorable((64L << 30) - 64));
        assertTrue(huge.sizeBytes() <= 4L << SpliceIndex.MAX_LOG2_SLOTS);
    }

    private static byte[] apply(Bytes control, Bytes data, long parts, long pagePosition, PageStore base) {
        ByteBuffer dst = ByteBuffer.allocate(PS);
        ByteBuffer c = ByteBuffer.wrap(control.array, 0, control.length);
        ByteBuffer d = ByteBuffer.wrap(data.array, 0, data.length);
        Cursor cc = new Cursor(c, 0, control.length, "control");
        Cursor dc = new Cursor(d, 0, data.length, "data");
        Splice.apply(dst, 0, PS, pagePosition, parts, cc, dc, base, (long) PAGES * PS, null, 0, 0);
        assertTrue(!cc.hasRemaining() && !dc.hasRemaining(), "the parts consume both streams exactly");
        return dst.array();
    }

    /**
     * Lookups that find nothing before the first that finds a position in {@code idx}, as {@link Splice#encode} makes
     * them (every byte position whose window is selected, in page order; a hit is a position holding the same 16
     * bytes): past {@link Splice#GIVE_UP_MISSES} the encoder gives a page up by design.
     */
    private static int missesBeforeFirstHit(byte[] page, SpliceIndex idx, byte[] base) {
        long[] words = new long[PS / 8 + 2];
        Splice.loadWords(ByteBuffer.wrap(page), 0, PS, words, ByteOrder.BIG_ENDIAN);
        int misses = 0;
        for (int i = 0; i <= PS - Splice.ANCHOR_BYTES; i++) {
            long w0 = Splice.window(words, i);
            long w1 = Splice.window(words, i + 8);
            if (Splice.selected(w0, w1, Splice.RATE_BITS)) {
                long b = idx.get(PageHash.mix(w0, w1));
                if (b >= 0 && b + Splice.ANCHOR_BYTES <= base.length && Arrays.equals(base, (int) b,
                        (int) b + Splice.ANCHOR_BYTES, page, i, i + Splice.ANCHOR_BYTES)) {
                    return misses;
                }
                misses++;
            }
        }
        return misses;
    }

    @Example
    void aPageWhoseFirstHitComesTooLateIsGivenUpOnPurpose() {
        pagesMadeOfBaselinePiecesEncodeToCopiesAndApplyExactly(9490631L, 2);
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
            SpliceIndex idx = index(s);
            int parts = Splice.encode(ByteBuffer.wrap(page), 0, PS, 7L * PS, idx, s, (long) PAGES * PS, control, data, PS - PS / 8);
            if (parts <= 0) {
                // A copy's source anchors are one in 64 of its bytes, met at one in 8 of the lookups: a page whose
                // first such lookup comes after GIVE_UP_MISSES others is given up on purpose (seed 9490631, 2 pieces:
                // the first hit at byte 373). Any other page made of such pieces must be found.
                int misses = missesBeforeFirstHit(page, idx, base);
                assertTrue(misses >= Splice.GIVE_UP_MISSES, "pieces of at least 200 random bytes are found unless the"
                        + " page is given up: " + misses + " misses before the first hit");
                return;
            }
            assertTrue(data.length < PS / 2, "most of the page is copied, " + data.length + " literal bytes");
            assertArrayEquals(page, apply(control, data, parts, 7L * PS, s));
        }
    }

    @Example
    void autoTurnsSpliceOnFromFourCodecThreadsOrFromLevelThree() {
        DwcpConfig auto = DwcpConfig.defaults();
        for (int threads = 1; threads < HdeSettings.SPLICE_AUTO_MIN_THREADS; threads++) {
            HdeSettings s = new HdeSettings(auto, threads);
            assertFalse(s.spliceAlways);
            assertFalse(s.splice(0), "stored batches (the local tier)");
            assertFalse(s.splice(-1));
            assertFalse(s.splice(HdeSettings.SPLICE_AUTO_MIN_LEVEL - 1), "a CPU-bound round's level");
            assertTrue(s.splice(HdeSettings.SPLICE_AUTO_MIN_LEVEL));
            assertTrue(s.splice(19));
        }
        HdeSettings four = new HdeSettings(auto, HdeSettings.SPLICE_AUTO_MIN_THREADS);
        assertTrue(four.spliceAlways);
        assertTrue(four.splice(0) && four.splice(1));
        HdeSettings on = new HdeSettings(DwcpConfig.builder().set("dwcp.compression.splice", "on").build(), 1);
        assertTrue(on.spliceAlways && on.splice(-7) && on.splice(1));
        HdeSettings off = new HdeSettings(DwcpConfig.builder().set("dwcp.compression.splice", "off").build(), 64);
        assertFalse(off.spliceAlways || off.splice(3) || off.splice(19));
    }

    @Example
    void spliceRoundsOfDeltasCodeLargerBatches() {
        HdeSettings defaults = new HdeSettings(DwcpConfig.defaults(), 2);
        assertEquals(1 << 20, defaults.batchBytes(false, false));
        assertEquals(1 << 20, defaults.batchBytes(false, true), "keyframes keep batch-size");
        assertEquals(1 << 20, defaults.batchBytes(true, false));
        assertEquals(4 << 20, defaults.batchBytes(true, true));
        HdeSettings small = new HdeSettings(DwcpConfig.builder().set("dwcp.compression.batch-size", "64KiB").build(), 2);
        assertEquals(256 << 10, small.batchBytes(true, true));
        assertEquals(64 << 10, small.batchBytes(true, false));
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
    void roundSourcesAreRecordedForTheDecoderToCopyOnceTheirSlotsAreDecoded() {
        byte[] base = baseline(6);
        long baseBytes = (long) PAGES * PS;
        try (PageStore s = store(base)) {
            // 10 literal bytes, 100 bytes from byte 8 of the round's slot 3, then the rest from baseline byte 0.
            long roundSource = baseBytes + 3L * PS + 8;
            long pagePosition = 2L * PS;
            Bytes control = parts(10, 100, roundSource - (pagePosition + 10), 0, PS - 110, -(roundSource + 100));
            Splice.RoundCopies copies = new Splice.RoundCopies();
            ByteBuffer dst = ByteBuffer.allocate(PS);
            Splice.apply(dst, 0, PS, pagePosition, 2, cursor(control), cursor(literal(10)), s, baseBytes, copies, 7,
                    baseBytes + 4L * PS);
            assertEquals(1, copies.size());
            assertEquals(7, copies.entry(0));
            assertEquals(10, copies.position(0));
            assertEquals(3L * PS + 8, copies.source(0));
            assertEquals(100, copies.length(0));
            for (int i = 110; i < PS; i++) {
                assertEquals(base[i - 110], dst.get(i), "baseline bytes are copied at once, byte " + i);
            }
            // The source must end before the page's own slot (slot 3 here), and version 2 has no round sources.
            assertCorrupt(() -> Splice.apply(ByteBuffer.allocate(PS), 0, PS, pagePosition, 2, cursor(control),
                    cursor(literal(10)), s, baseBytes, new Splice.RoundCopies(), 7, baseBytes + 3L * PS + 50));
            assertCorrupt(() -> Splice.apply(ByteBuffer.allocate(PS), 0, PS, pagePosition, 2, cursor(control),
                    cursor(literal(10)), s, baseBytes, null, 7, 0));
            // A copy may not run from the baseline into the round.
            Bytes straddling = parts(0, PS, baseBytes - 10 - pagePosition);
            assertCorrupt(() -> Splice.apply(ByteBuffer.allocate(PS), 0, PS, pagePosition, 1, cursor(straddling),
                    cursor(literal(0)), s, baseBytes, new Splice.RoundCopies(), 0, baseBytes + 10L * PS));
        }
    }

    private static Cursor cursor(Bytes b) {
        return new Cursor(ByteBuffer.wrap(b.array, 0, b.length), 0, b.length, "stream");
    }

    @Example
    void roundAnchorsAreAlignedAndSkipZeroWindows() {
        byte[] page = new byte[PS];
        new Random(8).nextBytes(page);
        Arrays.fill(page, 1024, 2048, (byte) 0);
        Splice.AnchorList anchors = new Splice.AnchorList();
        Splice.roundAnchors(ByteBuffer.wrap(page), 0, PS, anchors);
        assertTrue(anchors.size > 0, "a random page has anchors");
        for (int a = 0; a < anchors.size; a++) {
            int pos = anchors.position[a];
            assertEquals(0, pos % 8, "anchor at " + pos);
            assertTrue(pos + 16 <= PS);
            assertFalse(pos >= 1024 && pos + 16 <= 2048, "no anchor inside the zero run, at " + pos);
        }
        // The same 16 bytes at another aligned offset (of another page) give the same anchor hash.
        byte[] moved = new byte[PS];
        System.arraycopy(page, anchors.position[0], moved, 512, 16);
        Splice.AnchorList other = new Splice.AnchorList();
        Splice.roundAnchors(ByteBuffer.wrap(moved), 0, PS, other);
        // (Windows overlapping the copied 16 bytes and the zeros around them may be anchors too.)
        int at = -1;
        for (int a = 0; a < other.size; a++) {
            assertTrue(other.position[a] >= 512 - 8 && other.position[a] <= 512 + 8, "anchor at " + other.position[a]);
            if (other.position[a] == 512) {
                at = a;
            }
        }
        assertTrue(at >= 0, "the copied window is an anchor at its new offset");
        assertEquals(anchors.hash[0], other.hash[at]);
    }

    @Example
    void roundIndexKeepsTheSmallestPositionAndHidesPositionsAtOrPastTheLimit() {
        RoundSpliceIndex index = new RoundSpliceIndex(10);
        long h = 0x0123_4567_89AB_CDEFL >>> 4;
        index.insert(h, 9000);
        index.insert(h, 5000);
        index.insert(h, 7000);
        assertEquals(5000, index.get(h, 5001));
        assertEquals(-1, index.get(h, 5000), "a reader sees only positions below its batch");
        assertEquals(-1, index.get(h ^ 1, 1L << 40), "another anchor hash in the same entry is a miss");
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
