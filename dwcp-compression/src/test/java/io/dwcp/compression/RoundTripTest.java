package io.dwcp.compression;

import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.DecodeResult;
import io.dwcp.core.spi.EncodeOptions;
import io.dwcp.core.spi.EncodeResult;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** HDE-1 and HDE-3: decode(encode(x)) == x for keyframes and delta chains, with every page class. */
class RoundTripTest {
    private static HdeCodec tx;
    private static HdeCodec rx;

    @BeforeContainer
    static void start() {
        DwcpConfig config = DwcpConfig.builder().set("dwcp.compression.batch-size", "64KiB")
                .set("dwcp.compression.level.wan", "zstd:1").set("dwcp.compression.splice", "on").build();
        tx = Rounds.codec(config, Clock.systemUTC(), 3);
        rx = Rounds.codec(config, Clock.systemUTC(), 2);
    }

    @AfterContainer
    static void stop() throws Exception {
        tx.stop();
        rx.stop();
    }

    /** One edit step of a round: what happens to the pages of the state. */
    enum EditKind { SPARSE_BYTES, MOVE_FROM_BASELINE, EDITED_COPY_OF_BASELINE, PIECES_OF_BASELINE, ZERO_PAGE, DUPLICATE_OF_EARLIER,
        PIECES_OF_ROUND, REWRITE_RANDOM, NOTHING }

    static final class Edit {
        final EditKind kind;
        final int page;
        final int source;
        final long seed;

        Edit(EditKind kind, int page, int source, long seed) {
            this.kind = kind;
            this.page = page;
            this.source = source;
            this.seed = seed;
        }

        @Override
        public String toString() {
            return kind + "(" + page + "<-" + source + ")";
        }
    }

    @Provide
    Arbitrary<List<Edit>> edits() {
        Arbitrary<Edit> e = Combinators.combine(Arbitraries.of(EditKind.class), Arbitraries.integers().between(0, 10_000),
                Arbitraries.integers().between(0, 10_000), Arbitraries.longs()).as(Edit::new);
        return e.list().ofMinSize(0).ofMaxSize(40);
    }

    static byte[] memoryLike(int bytes, long seed) {
        Random r = new Random(seed);
        byte[] b = new byte[bytes];
        for (int i = 0; i + 8 <= bytes; i += 8) {
            switch (r.nextInt(4)) {
                case 0:
                    break;
                case 1:
                    b[i] = (byte) r.nextInt(8);
                    break;
                case 2:
                    b[i + 7] = 0x7f;
                    b[i] = (byte) r.nextInt();
                    b[i + 1] = (byte) r.nextInt();
                    break;
                default:
                    for (int k = 0; k < 8; k++) {
                        b[i + k] = (byte) ('a' + r.nextInt(26));
                    }
            }
        }
        if (bytes > 0) {
            b[bytes - 1] = (byte) r.nextInt();
        }
        return b;
    }

    static byte[] apply(byte[] base, int pageSize, List<Edit> edits) {
        byte[] t = base.clone();
        int pages = (t.length + pageSize - 1) / pageSize;
        if (pages == 0) {
            return t;
        }
        for (Edit e : edits) {
            int p = e.page % pages;
            int off = p * pageSize;
            int len = Math.min(pageSize, t.length - off);
            Random r = new Random(e.seed);
            switch (e.kind) {
                case SPARSE_BYTES:
                    for (int k = 0; k < 1 + r.nextInt(6); k++) {
                        t[off + r.nextInt(len)] ^= (byte) (1 + r.nextInt(255));
                    }
                    break;
                case MOVE_FROM_BASELINE: {
                    int s = e.source % pages;
                    int slen = Math.min(pageSize, base.length - s * pageSize);
                    Arrays.fill(t, off, off + len, (byte) 0);
                    System.arraycopy(base, s * pageSize, t, off, Math.min(len, slen));
                    break;
                }
                case EDITED_COPY_OF_BASELINE: {
                    int s = e.source % pages;
                    int slen = Math.min(pageSize, base.length - s * pageSize);
                    Arrays.fill(t, off, off + len, (byte) 0);
                    System.arraycopy(base, s * pageSize, t, off, Math.min(len, slen));
                    t[off + r.nextInt(len)] ^= 0x11;
                    break;
                }
                case PIECES_OF_BASELINE: {
                    // Spans of the baseline from unaligned offsets anywhere (also across its pages), a few new bytes.
                    int k = 0;
                    while (k < len) {
                        int span = Math.min(len - k, 1 + r.nextInt(pageSize));
                        int from = r.nextInt(Math.max(1, base.length - span + 1));
                        System.arraycopy(base, from, t, off + k, Math.min(span, base.length - from));
                        k += span;
                        if (k < len && r.nextBoolean()) {
                            t[off + k] = (byte) r.nextInt();
                            k++;
                        }
                    }
                    break;
                }
                case ZERO_PAGE:
                    Arrays.fill(t, off, off + len, (byte) 0);
                    break;
                case DUPLICATE_OF_EARLIER: {
                    int s = e.source % pages;
                    int slen = Math.min(pageSize, t.length - s * pageSize);
                    if (s != p) {
                        Arrays.fill(t, off, off + len, (byte) 0);
                        System.arraycopy(t, s * pageSize, t, off, Math.min(len, slen));
                    }
                    break;
                }
                case PIECES_OF_ROUND: {
                    // Another page gets new content, and this one is made of pieces of it (8-byte-aligned shifts,
                    // as round splices find them) with new bytes between: copies from the round's own pages.
                    int s = e.source % pages;
                    int slen = Math.min(pageSize, t.length - s * pageSize);
                    if (s == p || slen < 16) {
                        break;
                    }
                    for (int k = 0; k < slen; k++) {
                        t[s * pageSize + k] = (byte) r.nextInt();
                    }
                    int k = 0;
                    while (k < len) {
                        int from = 8 * r.nextInt(slen / 8);
                        int span = Math.min(len - k, Math.min(slen - from, 8 * (4 + r.nextInt(pageSize / 8))));
                        System.arraycopy(t, s * pageSize + from, t, off + k, span);
                        k += span;
                        for (int j = 0; j < 8 && k < len; j++) {
                            t[off + k++] = (byte) r.nextInt();
                        }
                    }
                    break;
                }
                case REWRITE_RANDOM:
                    for (int k = 0; k < len; k++) {
                        t[off + k] = (byte) r.nextInt();
                    }
                    break;
                default:
                    break;
            }
        }
        return t;
    }

    @Property(tries = 60)
    void deltaChainsReconstructEveryRoundExactly(@ForAll("edits") List<Edit> first, @ForAll("edits") List<Edit> second,
                                                 @ForAll long seed) {
        int pageSize = new Random(seed).nextBoolean() ? 4096 : 512;
        int bytes = (int) Math.floorMod(seed, 60L) * pageSize + (seed % 3 == 0 ? 100 : 0);
        String key = "vm-" + Long.toHexString(seed);
        byte[] s0 = memoryLike(bytes, seed);
        byte[] s1 = apply(s0, pageSize, first);
        byte[] s2 = apply(s1, pageSize, second);
        byte[] replica = new byte[bytes];
        try {
            Rounds.Encoded k = Rounds.encode(tx, Rounds.state(key, pageSize, s0), EncodeOptions.keyframe());
            DecodeResult d0 = Rounds.decode(rx, Rounds.replica(key, pageSize, replica), k.frames);
            assertArrayEquals(s0, replica);
            assertEquals(k.result.produced(), d0.baseline());
            tx.acknowledge(d0.baseline());
            DecodeResult prev = d0;
            for (byte[] next : List.of(s1, s2)) {
                // Usually a delta; a keyframe when the keyframe-ratio rule fires (a big delta of a tiny state).
                Rounds.Encoded d = Rounds.encode(tx, Rounds.state(key, pageSize, next), Rounds.against(prev.baseline()));
                prev = Rounds.decode(rx, Rounds.replica(key, pageSize, replica), d.frames);
                assertArrayEquals(next, replica);
                assertEquals(d.result.produced(), prev.baseline());
                tx.acknowledge(prev.baseline());
            }
        } finally {
            tx.drop(key);
            rx.drop(key);
        }
    }

    @Example
    void everyPageClassAppearsAndRoundTrips() {
        int ps = 4096;
        byte[] s0 = memoryLike(64 * ps, 7);
        Arrays.fill(s0, 3 * ps, 4 * ps, (byte) 0);
        byte[] s1 = s0.clone();
        s1[10 * ps + 17] ^= 1;                                   // xor
        System.arraycopy(s0, 40 * ps, s1, 20 * ps, ps);          // moved
        Arrays.fill(s1, 21 * ps, 22 * ps, (byte) 0);             // zero
        byte[] fresh = new byte[ps];
        new Random(3).nextBytes(fresh);
        System.arraycopy(fresh, 0, s1, 30 * ps, ps);             // literal
        System.arraycopy(fresh, 0, s1, 31 * ps, ps);             // duplicate of 30
        String key = "classes";
        byte[] replica = new byte[s0.length];
        Rounds.Encoded k = Rounds.encode(tx, Rounds.state(key, ps, s0), EncodeOptions.keyframe());
        assertTrue(k.result.pagesByClass().get("zero") >= 1);
        DecodeResult d0 = Rounds.decode(rx, Rounds.replica(key, ps, replica), k.frames);
        tx.acknowledge(d0.baseline());
        Rounds.Encoded d = Rounds.encode(tx, Rounds.state(key, ps, s1), Rounds.against(d0.baseline()));
        EncodeResult r = d.result;
        assertFalse(r.keyframe());
        assertEquals(1L, r.pagesByClass().get("xor"));
        assertEquals(1L, r.pagesByClass().get("moved"));
        assertEquals(1L, r.pagesByClass().get("zero"));
        assertEquals(1L, r.pagesByClass().get("literal"));
        assertEquals(1L, r.pagesByClass().get("duplicate"));
        assertEquals(59L, r.pagesByClass().get("unchanged"));
        Rounds.decode(rx, Rounds.replica(key, ps, replica), d.frames);
        assertArrayEquals(s1, replica);
        tx.drop(key);
        rx.drop(key);
    }

    @Example
    void dirtyPagesRestrictTheComparisonAndPagesOutsideAreTrustedUnchanged() {
        int ps = 4096;
        byte[] s0 = memoryLike(32 * ps, 9);
        byte[] replica = new byte[s0.length];
        Rounds.Encoded k = Rounds.encode(tx, Rounds.state("dirty", ps, s0), EncodeOptions.keyframe());
        DecodeResult d0 = Rounds.decode(rx, Rounds.replica("dirty", ps, replica), k.frames);
        tx.acknowledge(d0.baseline());
        byte[] s1 = s0.clone();
        s1[3 * ps + 1] ^= 1;
        s1[5 * ps + 1] ^= 1;
        io.dwcp.core.state.DirtyPages dirty = new io.dwcp.core.state.DirtyPages();
        dirty.add(0, 3);
        Rounds.Encoded d = Rounds.encode(tx, Rounds.state("dirty", ps, s1),
                EncodeOptions.builder().peerBaseline(d0.baseline()).dirtyPages(dirty).build());
        assertEquals(1L, d.result.pagesByClass().get("xor"));
        assertEquals(31L, d.result.pagesByClass().get("unchanged"));
        Rounds.decode(rx, Rounds.replica("dirty", ps, replica), d.frames);
        assertEquals(s1[3 * ps + 1], replica[3 * ps + 1], "the dirty page was sent");
        assertEquals(s0[5 * ps + 1], replica[5 * ps + 1], "a page outside the dirty set is trusted unchanged");
        tx.drop("dirty");
        rx.drop("dirty");
    }

    @Example
    void aRoundWithADirtyListReadsOnlyTheSegmentsThatHoldDirtyPages() {
        int ps = 4096;
        int pages = 1024;                                        // four 1 MiB segments
        byte[] s0 = memoryLike(pages * ps, 21);
        byte[] replica = new byte[s0.length];
        Rounds.Encoded k = Rounds.encode(tx, Rounds.state("dirty-cost", ps, s0), EncodeOptions.keyframe());
        DecodeResult d0 = Rounds.decode(rx, Rounds.replica("dirty-cost", ps, replica), k.frames);
        tx.acknowledge(d0.baseline());
        byte[] s1 = s0.clone();
        s1[700 * ps + 5] ^= 1;
        io.dwcp.core.state.DirtyPages dirty = new io.dwcp.core.state.DirtyPages();
        dirty.add(0, 700);
        List<long[]> touched = new java.util.ArrayList<>();
        io.dwcp.core.state.StateRegion plain = io.dwcp.core.state.StateRegions.ofBuffer("r0", java.nio.ByteBuffer.wrap(s1).asReadOnlyBuffer());
        io.dwcp.core.state.StateRegion counting = new io.dwcp.core.state.StateRegion() {
            @Override
            public String name() {
                return plain.name();
            }

            @Override
            public long sizeBytes() {
                return plain.sizeBytes();
            }

            @Override
            public void read(long offsetBytes, java.nio.ByteBuffer dst) throws java.io.IOException {
                synchronized (touched) {
                    touched.add(new long[] {offsetBytes, offsetBytes + dst.remaining()});
                }
                plain.read(offsetBytes, dst);
            }
        };
        io.dwcp.core.state.VmState<io.dwcp.core.state.StateRegion> state = io.dwcp.core.state.VmState.<io.dwcp.core.state.StateRegion>builder("dirty-cost")
                .pageSizeBytes(ps).lastPagePartial(true).region(counting).build();
        Rounds.Encoded d = Rounds.encode(tx, state, EncodeOptions.builder().peerBaseline(d0.baseline()).dirtyPages(dirty).build());
        assertEquals(1L, d.result.pagesByClass().get("xor"));
        assertEquals(1, touched.size(), "one segment read");
        assertEquals(2L << 20, touched.get(0)[0], "the segment of page 700");
        assertEquals(3L << 20, touched.get(0)[1]);
        Rounds.decode(rx, Rounds.replica("dirty-cost", ps, replica), d.frames);
        assertArrayEquals(s1, replica);
        tx.drop("dirty-cost");
        rx.drop("dirty-cost");
    }

    @Example
    void editedCopyOfAnotherBaselinePageIsCodedAsADeltaAgainstIt() {
        int ps = 4096;
        byte[] s0 = memoryLike(64 * ps, 11);
        byte[] s1 = s0.clone();
        System.arraycopy(s0, 40 * ps, s1, 25 * ps, ps);
        s1[25 * ps + 100] ^= 0x42;
        s1[25 * ps + 3000] ^= 0x42;
        byte[] replica = new byte[s0.length];
        Rounds.Encoded k = Rounds.encode(tx, Rounds.state("similar", ps, s0), EncodeOptions.keyframe());
        DecodeResult d0 = Rounds.decode(rx, Rounds.replica("similar", ps, replica), k.frames);
        tx.acknowledge(d0.baseline());
        Rounds.Encoded d = Rounds.encode(tx, Rounds.state("similar", ps, s1), Rounds.against(d0.baseline()));
        assertEquals(1L, d.result.pagesByClass().get("xor"));
        assertEquals(0L, d.result.pagesByClass().get("literal"));
        assertTrue(d.result.encodedBytes() < 1500, "a two-byte edit of a moved page costs bytes, not a page: " + d.result.encodedBytes());
        Rounds.decode(rx, Rounds.replica("similar", ps, replica), d.frames);
        assertArrayEquals(s1, replica);
        tx.drop("similar");
        rx.drop("similar");
    }

    @Example
    void aLargeAcknowledgedDeltaIsAppliedToTheSendersBaselineAndItsIndexesWhole() {
        int ps = 4096;
        int pages = 3000;
        byte[] s0 = memoryLike(pages * ps, 17);
        byte[] s1 = s0.clone();
        byte[] fresh = memoryLike(pages * ps, 18);
        System.arraycopy(fresh, 0, s1, 200 * ps, 600 * ps);        // 600 changed pages: applied in parallel ranges
        byte[] replica = new byte[s0.length];
        DecodeResult d0 = seed("big-ack", ps, s0, replica);
        Rounds.Encoded d1 = Rounds.encode(tx, Rounds.state("big-ack", ps, s1), Rounds.against(d0.baseline()));
        DecodeResult r1 = Rounds.decode(rx, Rounds.replica("big-ack", ps, replica), d1.frames);
        tx.acknowledge(r1.baseline());
        assertArrayEquals(s1, replica);

        // Round 2 finds round 1's pages in the sender's baseline: an edited copy of the last one (similar index) and
        // a plain copy of the first one (content index), both moved elsewhere.
        byte[] s2 = s1.clone();
        System.arraycopy(s1, 799 * ps, s2, 10 * ps, ps);
        s2[10 * ps + 99] ^= 0x42;
        System.arraycopy(s1, 200 * ps, s2, 20 * ps, ps);
        Rounds.Encoded d2 = Rounds.encode(tx, Rounds.state("big-ack", ps, s2), Rounds.against(r1.baseline()));
        assertEquals(1L, d2.result.pagesByClass().get("xor"), d2.result.pagesByClass().toString());
        assertEquals(1L, d2.result.pagesByClass().get("moved"), d2.result.pagesByClass().toString());
        Rounds.decode(rx, Rounds.replica("big-ack", ps, replica), d2.frames);
        assertArrayEquals(s2, replica);
        tx.drop("big-ack");
        rx.drop("big-ack");
    }

    @Example
    void pageAssembledFromUnalignedPiecesOfTheBaselineIsSplicedFromIt() {
        int ps = 4096;
        byte[] s0 = memoryLike(64 * ps, 13);
        byte[] s1 = s0.clone();
        int at = 30 * ps;
        System.arraycopy(s0, 40 * ps + 123, s1, at, 1000);          // a piece of page 40
        for (int i = 1000; i < 1100; i++) {
            s1[at + i] = (byte) (i * 31);                            // new bytes
        }
        System.arraycopy(s0, 50 * ps + 777, s1, at + 1100, ps - 1100); // a piece crossing from page 50 into 51
        byte[] replica = new byte[s0.length];
        DecodeResult d0 = seed("splice", ps, s0, replica);
        Rounds.Encoded d = Rounds.encode(tx, Rounds.state("splice", ps, s1), Rounds.against(d0.baseline()));
        assertEquals(1L, d.result.pagesByClass().get("splice"));
        assertEquals(0L, d.result.pagesByClass().get("literal"));
        assertTrue(d.result.encodedBytes() < 1000, "two copies and 100 new bytes cost bytes, not a page: "
                + d.result.encodedBytes());
        Rounds.decode(rx, Rounds.replica("splice", ps, replica), d.frames);
        assertArrayEquals(s1, replica);
        tx.drop("splice");
        rx.drop("splice");
    }

    /**
     * A round whose pages 160 and 240 are made of pieces of pages sent in earlier batches (SPLICE rounds cut them at
     * 4 × batch-size, 256 KiB here): page 160 of page 5 (batch 1), page 240 of page 160 (batch 2), and page 161
     * duplicates page 160.
     */
    private static byte[] withRepeatsAcrossBatches(byte[] s0) {
        int ps = 4096;
        byte[] s1 = s0.clone();
        Random r = new Random(5);
        fresh(s1, 5 * ps, 64 * ps, r);                               // batch 1 (256 KiB): pages 5-68, new content
        System.arraycopy(s1, 5 * ps + 64, s1, 160 * ps, 2000);       // page 160: two pieces of page 5 ...
        fresh(s1, 160 * ps + 2000, 104, r);                          // ... around 104 new bytes
        System.arraycopy(s1, 5 * ps + 8, s1, 160 * ps + 2104, ps - 2104);
        System.arraycopy(s1, 160 * ps, s1, 161 * ps, ps);            // page 161: a duplicate of page 160
        fresh(s1, 162 * ps, 63 * ps, r);                             // batch 2 ends with page 224
        System.arraycopy(s1, 160 * ps + 16, s1, 240 * ps, ps - 16);  // page 240 (batch 3): page 160 shifted ...
        fresh(s1, 241 * ps - 16, 16, r);                             // ... with 16 new bytes at its end
        return s1;
    }

    @Example
    void pagesMadeOfPiecesOfPagesSentEarlierInTheRoundAreSplicedFromThem() {
        int ps = 4096;
        byte[] s0 = memoryLike(256 * ps, 19);
        byte[] s1 = withRepeatsAcrossBatches(s0);
        byte[] replica = new byte[s0.length];
        DecodeResult d0 = seed("round-splice", ps, s0, replica);
        Rounds.Encoded d = Rounds.encode(tx, Rounds.state("round-splice", ps, s1), Rounds.against(d0.baseline()));
        var classes = d.result.pagesByClass();
        assertEquals(2L, classes.get("splice"), classes.toString());
        assertEquals(127L, classes.get("literal"), classes.toString());
        assertEquals(1L, classes.get("duplicate"), classes.toString());
        // The decoder makes page 160's copies when batch 1 is done, page 161 after it, page 240 from the finished 160.
        DecodeResult d1 = Rounds.decode(rx, Rounds.replica("round-splice", ps, replica), d.frames);
        assertArrayEquals(s1, replica);
        tx.acknowledge(d1.baseline());
        tx.drop("round-splice");
        rx.drop("round-splice");
    }

    @Example
    void roundSplicesCodeTheSameWhateverTheNumberOfThreads() throws Exception {
        int ps = 4096;
        byte[] s0 = memoryLike(256 * ps, 23);
        byte[] s1 = withRepeatsAcrossBatches(s0);
        // Same config as tx, one worker: scans and batch coders then never overlap.
        DwcpConfig config = DwcpConfig.builder().set("dwcp.compression.batch-size", "64KiB")
                .set("dwcp.compression.level.wan", "zstd:1").set("dwcp.compression.splice", "on").build();
        HdeCodec one = Rounds.codec(config, Clock.systemUTC(), 1);
        HdeCodec three = Rounds.codec(config, Clock.systemUTC(), 3);
        try {
            List<byte[]> frames = null;
            for (HdeCodec sender : List.of(one, three)) {
                Rounds.Encoded k = Rounds.encode(sender, Rounds.state("threads", ps, s0), EncodeOptions.keyframe());
                DecodeResult d0 = Rounds.decode(rx, Rounds.replica("threads", ps, new byte[s0.length]), k.frames);
                sender.acknowledge(d0.baseline());
                awaitIndexes(sender, "threads");
                Rounds.Encoded d = Rounds.encode(sender, Rounds.state("threads", ps, s1), Rounds.against(d0.baseline()));
                assertEquals(2L, d.result.pagesByClass().get("splice"));
                if (frames == null) {
                    frames = d.frames;
                } else {
                    assertEquals(frames.size(), d.frames.size());
                    for (int i = 0; i < frames.size(); i++) {
                        assertArrayEquals(frames.get(i), d.frames.get(i), "frame " + i);
                    }
                }
                rx.drop("threads");
            }
        } finally {
            one.stop();
            three.stop();
        }
    }

    @Example
    void aRoundCodesTheSameWithTablesLeftByAnotherRound() throws Exception {
        int ps = 4096;
        byte[] s0 = memoryLike(256 * ps, 23);
        byte[] s1 = withRepeatsAcrossBatches(s0);
        // The other key's states are these one page lower: its round leaves the same anchors at smaller positions,
        // which would shadow this round's own (smallest position wins) if the index were not emptied.
        byte[] other0 = Arrays.copyOf(Arrays.copyOfRange(s0, ps, s0.length), s0.length);
        byte[] other1 = Arrays.copyOf(Arrays.copyOfRange(s1, ps, s1.length), s1.length);
        DwcpConfig config = DwcpConfig.builder().set("dwcp.compression.batch-size", "64KiB")
                .set("dwcp.compression.level.wan", "zstd:1").set("dwcp.compression.splice", "on").build();
        HdeCodec fresh = Rounds.codec(config, Clock.systemUTC(), 2);
        HdeCodec reused = Rounds.codec(config, Clock.systemUTC(), 2);
        try {
            List<byte[]> expected = deltaFrames(fresh, "tables", s0, s1);
            // Another key's round of the same size leaves its (full) tables behind; the next round takes them.
            deltaFrames(reused, "tables-other", other0, other1);
            assertEquals(1, reused.roundTables().keptRoundIndexes());
            List<byte[]> actual = deltaFrames(reused, "tables", s0, s1);
            assertEquals(expected.size(), actual.size());
            // The batches' bodies; headers differ in ids (random per codec and round) and so in their CRCs.
            for (int i = 1; i < expected.size() - 1; i++) {
                byte[] e = expected.get(i);
                byte[] a = actual.get(i);
                assertArrayEquals(Arrays.copyOfRange(e, 48, e.length - 4), Arrays.copyOfRange(a, 48, a.length - 4),
                        "batch " + i);
            }
        } finally {
            fresh.stop();
            reused.stop();
        }
        assertEquals(0, reused.roundTables().keptRoundIndexes(), "stop() drops the kept tables");
    }

    /** The frames of {@code s1} against {@code s0} (acknowledged keyframe, indexes built); the receiver's key dropped. */
    private static List<byte[]> deltaFrames(HdeCodec sender, String key, byte[] s0, byte[] s1) {
        int ps = 4096;
        Rounds.Encoded k = Rounds.encode(sender, Rounds.state(key, ps, s0), EncodeOptions.keyframe());
        DecodeResult d0 = Rounds.decode(rx, Rounds.replica(key, ps, new byte[s0.length]), k.frames);
        sender.acknowledge(d0.baseline());
        awaitIndexes(sender, key);
        Rounds.Encoded d = Rounds.encode(sender, Rounds.state(key, ps, s1), Rounds.against(d0.baseline()));
        assertEquals(2L, d.result.pagesByClass().get("splice"));
        rx.drop(key);
        return d.frames;
    }

    private static void fresh(byte[] b, int from, int length, Random r) {
        for (int i = from; i < from + length; i++) {
            b[i] = (byte) r.nextInt();
        }
    }

    @Example
    void withSpliceDisabledThePiecesGoLiteral() throws Exception {
        int ps = 4096;
        byte[] s0 = memoryLike(64 * ps, 13);
        byte[] s1 = s0.clone();
        System.arraycopy(s0, 40 * ps + 123, s1, 30 * ps, ps);
        DwcpConfig off = DwcpConfig.builder().set("dwcp.compression.splice", "off").build();
        HdeCodec sender = Rounds.codec(off, Clock.systemUTC(), 2);
        try {
            byte[] replica = new byte[s0.length];
            Rounds.Encoded k = Rounds.encode(sender, Rounds.state("nosplice", ps, s0), EncodeOptions.keyframe());
            DecodeResult d0 = Rounds.decode(rx, Rounds.replica("nosplice", ps, replica), k.frames);
            sender.acknowledge(d0.baseline());
            sender.awaitBackgroundWork("nosplice");
            Rounds.Encoded d = Rounds.encode(sender, Rounds.state("nosplice", ps, s1), Rounds.against(d0.baseline()));
            assertEquals(0L, d.result.pagesByClass().get("splice"));
            assertEquals(1L, d.result.pagesByClass().get("literal"));
            Rounds.decode(rx, Rounds.replica("nosplice", ps, replica), d.frames);
            assertArrayEquals(s1, replica);
        } finally {
            sender.stop();
            rx.drop("nosplice");
        }
    }

    /** Keyframe of {@code state} decoded into {@code replica} and acknowledged, with the sender's indexes built. */
    private static DecodeResult seed(String key, int ps, byte[] state, byte[] replica) {
        Rounds.Encoded k = Rounds.encode(tx, Rounds.state(key, ps, state), EncodeOptions.keyframe());
        DecodeResult d0 = Rounds.decode(rx, Rounds.replica(key, ps, replica), k.frames);
        tx.acknowledge(d0.baseline());
        awaitIndexes(tx, key);
        return d0;
    }

    private static void awaitIndexes(HdeCodec codec, String key) {
        try {
            codec.awaitBackgroundWork(key);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    @Example
    void emptyStateRoundTrips() {
        Rounds.Encoded k = Rounds.encode(tx, Rounds.state("empty", 4096, new byte[0]), EncodeOptions.keyframe());
        DecodeResult d = Rounds.decode(rx, Rounds.replica("empty", 4096, new byte[0]), k.frames);
        assertEquals(0, d.stateBytes());
        tx.drop("empty");
        rx.drop("empty");
    }

    @Example
    void multiRegionStateRoundTripsAndDeltaTouchesOnlyChangedPages() {
        byte[] a = memoryLike(10 * 4096, 1);
        byte[] b = memoryLike(3 * 4096 + 5, 2);
        byte[] ra = new byte[a.length];
        byte[] rb = new byte[b.length];
        Rounds.Encoded k = Rounds.encode(tx, Rounds.state("two", 4096, a, b), EncodeOptions.keyframe());
        DecodeResult d0 = Rounds.decode(rx, Rounds.replica("two", 4096, ra, rb), k.frames);
        assertArrayEquals(a, ra);
        assertArrayEquals(b, rb);
        tx.acknowledge(d0.baseline());
        byte[] b2 = b.clone();
        b2[b2.length - 1] ^= 0x55;
        Rounds.Encoded d = Rounds.encode(tx, Rounds.state("two", 4096, a, b2), Rounds.against(d0.baseline()));
        DecodeResult d1 = Rounds.decode(rx, Rounds.replica("two", 4096, ra, rb), d.frames);
        assertEquals(1, d1.pagesWritten());
        assertArrayEquals(b2, rb);
        tx.drop("two");
        rx.drop("two");
    }
}
