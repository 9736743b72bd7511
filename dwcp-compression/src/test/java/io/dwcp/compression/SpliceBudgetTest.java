package io.dwcp.compression;

import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.DecodeResult;
import io.dwcp.core.spi.EncodeOptions;
import net.jqwik.api.Example;

import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code dwcp.compression.splice=auto} below four codec threads: SPLICE, and the larger batches of its delta rounds,
 * in the rounds whose level pays for them (zstd:3 and up), not in the others. The levels are fixed by the tier's
 * ceiling with no link rate, so nothing here depends on the machine's speed.
 */
class SpliceBudgetTest {
    private static final int PS = 4096;

    /** A keyframe of {@code s0} then a delta to {@code s1}, both decoded and checked; returns the delta's frames. */
    private static Rounds.Encoded delta(String level, String maxDecodedFrame, String key, byte[] s0, byte[] s1) throws Exception {
        DwcpConfig.Builder cb = DwcpConfig.builder().set("dwcp.compression.level.wan", level);
        if (maxDecodedFrame != null) {
            cb.set("dwcp.compression.max-decoded-frame", maxDecodedFrame);
        }
        DwcpConfig config = cb.build();
        HdeCodec tx = Rounds.codec(config, Clock.systemUTC(), 2);
        HdeCodec rx = Rounds.codec(config, Clock.systemUTC(), 2);
        try {
            byte[] replica = new byte[s0.length];
            Rounds.Encoded k = Rounds.encode(tx, Rounds.state(key, PS, s0), EncodeOptions.keyframe());
            DecodeResult d0 = Rounds.decode(rx, Rounds.replica(key, PS, replica), k.frames);
            tx.acknowledge(d0.baseline());
            // The sub-page index is built in the background after a keyframe that pays for SPLICE; wait for it so the
            // delta's output does not depend on the build's progress.
            tx.awaitBackgroundWork(key);
            Rounds.Encoded d = Rounds.encode(tx, Rounds.state(key, PS, s1), Rounds.against(d0.baseline()));
            Rounds.decode(rx, Rounds.replica(key, PS, replica), d.frames);
            assertArrayEquals(s1, replica);
            return d;
        } finally {
            tx.stop();
            rx.stop();
        }
    }

    /** A state whose page 30 is made of two unaligned pieces of the baseline around 100 new bytes. */
    private static byte[][] piecesOfTheBaseline() {
        byte[] s0 = RoundTripTest.memoryLike(64 * PS, 13);
        byte[] s1 = s0.clone();
        int at = 30 * PS;
        System.arraycopy(s0, 40 * PS + 123, s1, at, 1000);
        for (int i = 1000; i < 1100; i++) {
            s1[at + i] = (byte) (i * 31);
        }
        System.arraycopy(s0, 50 * PS + 777, s1, at + 1100, PS - 1100);
        return new byte[][] {s0, s1};
    }

    @Example
    void aRoundAtLevelThreeSplicesOnTwoThreads() throws Exception {
        byte[][] s = piecesOfTheBaseline();
        Map<String, Long> classes = delta("zstd:3", null, "budget-3", s[0], s[1]).result.pagesByClass();
        assertEquals(1L, classes.get("splice"), classes.toString());
        assertEquals(0L, classes.get("literal"), classes.toString());
    }

    @Example
    void aRoundAtLevelTwoDoesNotSplice() throws Exception {
        byte[][] s = piecesOfTheBaseline();
        Map<String, Long> classes = delta("zstd:2", null, "budget-2", s[0], s[1]).result.pagesByClass();
        assertEquals(0L, classes.get("splice"), classes.toString());
        assertEquals(1L, classes.get("literal"), classes.toString());
    }

    /** 1,200 pages of which 1,100 are rewritten with random bytes: 4.5 MB of literal pages in one delta round. */
    private static byte[][] manyLiteralPages() {
        byte[] s0 = RoundTripTest.memoryLike(1200 * PS, 29);
        byte[] s1 = s0.clone();
        Random r = new Random(31);
        byte[] page = new byte[PS];
        for (int p = 50; p < 1150; p++) {
            r.nextBytes(page);
            System.arraycopy(page, 0, s1, p * PS, PS);
        }
        return new byte[][] {s0, s1};
    }

    private static int batches(Rounds.Encoded e) {
        int n = 0;
        for (byte[] f : e.frames) {
            if (ByteBuffer.wrap(f).get(Wire.TYPE_OFFSET) == Wire.TYPE_BATCH) {
                n++;
            }
        }
        return n;
    }

    @Example
    void aSpliceRoundCutsItsBatchesAtFourMebibytes() throws Exception {
        byte[][] s = manyLiteralPages();
        // 1,100 literal pages of 4,096 bytes plus control: 5 batches of 1 MiB (batch-size), 2 of 4 × that.
        Rounds.Encoded level2 = delta("zstd:2", null, "batches-2", s[0], s[1]);
        Rounds.Encoded level3 = delta("zstd:3", null, "batches-3", s[0], s[1]);
        assertEquals(1100L, level2.result.pagesByClass().get("literal"));
        assertEquals(1100L, level3.result.pagesByClass().get("literal"));
        assertEquals(5, batches(level2));
        assertEquals(2, batches(level3));
    }

    @Example
    void theLargerBatchesStayWithinMaxDecodedFrame() throws Exception {
        byte[][] s = manyLiteralPages();
        Rounds.Encoded e = delta("zstd:3", "1MiB", "batches-cap", s[0], s[1]);
        // The receiver's limit (1 MiB raw) caps the 4 MiB: the round decoded (delta() checks it) in 5 batches or more.
        assertTrue(batches(e) >= 5, batches(e) + " batches");
    }
}
