package io.dwcp.compression;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.BaselineRef;
import io.dwcp.core.spi.DecodeResult;
import io.dwcp.core.spi.EncodeOptions;
import io.dwcp.core.spi.EncodeResult;
import io.dwcp.core.testing.ManualClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** HDE-5: baselines per key, driven by a manual clock. */
class BaselineLifecycleTest {
    private static final int PS = 4096;
    private final ManualClock clock = new ManualClock();
    private final List<HdeCodec> codecs = new ArrayList<>();

    private HdeCodec codec(DwcpConfig config) {
        HdeCodec c = Rounds.codec(config, clock, 2);
        codecs.add(c);
        return c;
    }

    private HdeCodec codec() {
        return codec(DwcpConfig.defaults());
    }

    @AfterEach
    void stop() throws Exception {
        for (HdeCodec c : codecs) {
            c.stop();
        }
    }

    private static byte[] content(int pages, long seed) {
        return RoundTripTest.memoryLike(pages * PS, seed);
    }

    private static byte[] edit(byte[] s, int at) {
        byte[] t = s.clone();
        t[at] ^= 0x5A;
        return t;
    }

    /** Keyframe of {@code s} from tx to rx, acknowledged. */
    private static DecodeResult seed(HdeCodec tx, HdeCodec rx, String key, byte[] s, byte[] replica) {
        Rounds.Encoded k = Rounds.encode(tx, Rounds.state(key, PS, s), EncodeOptions.keyframe());
        DecodeResult d = Rounds.decode(rx, Rounds.replica(key, PS, replica), k.frames);
        tx.acknowledge(d.baseline());
        return d;
    }

    @Test
    void deltasReferenceOnlyAcknowledgedBaselines() {
        HdeCodec tx = codec();
        HdeCodec rx = codec();
        byte[] s0 = content(8, 1);
        byte[] replica = new byte[s0.length];
        Rounds.Encoded k = Rounds.encode(tx, Rounds.state("vm", PS, s0), EncodeOptions.keyframe());
        DecodeResult d0 = Rounds.decode(rx, Rounds.replica("vm", PS, replica), k.frames);
        // Not acknowledged yet: the sender has nothing to encode against.
        EncodeResult early = Rounds.encode(tx, Rounds.state("vm", PS, edit(s0, 9)), Rounds.against(d0.baseline())).result;
        assertTrue(early.keyframe());
        Rounds.Encoded k2 = Rounds.encode(tx, Rounds.state("vm", PS, s0), EncodeOptions.keyframe());
        DecodeResult d1 = Rounds.decode(rx, Rounds.replica("vm", PS, replica), k2.frames);
        tx.acknowledge(d1.baseline());
        EncodeResult delta = Rounds.encode(tx, Rounds.state("vm", PS, edit(s0, 9)), Rounds.against(d1.baseline())).result;
        assertFalse(delta.keyframe());
        assertEquals(d1.baseline(), delta.against());
        assertEquals(d1.baseline().version() + 1, delta.produced().version());
    }

    @Test
    void refreshIntervalAndDeltaChainForceKeyframes() {
        DwcpConfig config = DwcpConfig.builder().set("dwcp.compression.max-delta-chain", "2").build();
        HdeCodec tx = codec(config);
        HdeCodec rx = codec(config);
        byte[] s = content(8, 2);
        byte[] replica = new byte[s.length];
        BaselineRef ref = seed(tx, rx, "vm", s, replica).baseline();
        List<Boolean> keyframes = new ArrayList<>();
        for (int round = 0; round < 3; round++) {
            s = edit(s, 100 + round);
            Rounds.Encoded e = Rounds.encode(tx, Rounds.state("vm", PS, s), Rounds.against(ref));
            keyframes.add(e.result.keyframe());
            ref = Rounds.decode(rx, Rounds.replica("vm", PS, replica), e.frames).baseline();
            tx.acknowledge(ref);
            assertArrayEquals(s, replica);
        }
        assertEquals(List.of(false, false, true), keyframes, "third round exceeds max-delta-chain = 2");
        assertEquals(1.0, tx.metrics().keyframes[2].sum(), "keyframes{reason=chain}");

        clock.advance(Duration.ofMinutes(5));
        s = edit(s, 7);
        Rounds.Encoded e = Rounds.encode(tx, Rounds.state("vm", PS, s), Rounds.against(ref));
        assertTrue(e.result.keyframe(), "refresh-interval reached");
        assertEquals(1.0, tx.metrics().keyframes[1].sum(), "keyframes{reason=interval}");
    }

    @Test
    void aKeyframeThatTookLongerThanTheRefreshIntervalToArriveStillGetsDeltas() {
        HdeCodec tx = codec();
        HdeCodec rx = codec();
        byte[] s = content(8, 4);
        byte[] replica = new byte[s.length];
        Rounds.Encoded k = Rounds.encode(tx, Rounds.state("vm", PS, s), EncodeOptions.keyframe());
        clock.advance(Duration.ofMinutes(20));       // a large state over a slow link: longer than refresh and max-age
        DecodeResult d = Rounds.decode(rx, Rounds.replica("vm", PS, replica), k.frames);
        tx.acknowledge(d.baseline());
        clock.advance(Duration.ofMinutes(4));
        s = edit(s, 11);
        Rounds.Encoded delta = Rounds.encode(tx, Rounds.state("vm", PS, s), Rounds.against(d.baseline()));
        assertFalse(delta.result.keyframe(), "the chain's age counts from the acknowledgement");
        Rounds.decode(rx, Rounds.replica("vm", PS, replica), delta.frames);
        assertArrayEquals(s, replica);
    }

    @Test
    void agedBaselinesAreRefusedByBothEndsAndPruned() {
        HdeCodec tx = codec();
        HdeCodec rx = codec();
        byte[] s = content(8, 3);
        byte[] replica = new byte[s.length];
        BaselineRef ref = seed(tx, rx, "vm", s, replica).baseline();
        Rounds.Encoded delta = Rounds.encode(tx, Rounds.state("vm", PS, edit(s, 5)), Rounds.against(ref));
        assertFalse(delta.result.keyframe());
        clock.advance(Duration.ofMinutes(15));
        byte[] before = replica.clone();
        DwcpException e = assertThrows(DwcpException.class,
                () -> Rounds.decode(rx, Rounds.replica("vm", PS, replica), delta.frames));
        assertEquals(ErrorCode.BASELINE_MISSING, e.code());
        assertArrayEquals(before, replica);
        assertEquals(Optional.empty(), rx.baseline("vm"));
        Rounds.Encoded late = Rounds.encode(tx, Rounds.state("vm", PS, edit(s, 5)), Rounds.against(ref));
        assertTrue(late.result.keyframe());
        assertEquals(1.0, tx.metrics().keyframes[3].sum(), "keyframes{reason=age}");
        // The pruner deletes what has aged, on its own schedule.
        HdeCodec other = codec();
        seed(other, other, "old", s, new byte[s.length]);
        assertEquals(2, other.baselines().count(), "sender and receiver side");
        clock.advance(Duration.ofMinutes(16));
        assertEquals(2, other.baselines().prune());
        assertEquals(0, other.baselines().count());
    }

    @Test
    void memoryCapEvictsLeastRecentlyUsedKeyAndStateAtCapFits() {
        DwcpConfig config = DwcpConfig.builder().set("dwcp.compression.baseline.max-memory", "16MiB").set("dwcp.compression.level.wan", "zstd:1").build();
        HdeCodec tx = codec();
        HdeCodec rx = codec(config);
        int pages = 6 * 256; // 6 MiB
        byte[] a = content(pages, 10);
        byte[] b = content(pages, 11);
        byte[] c = content(pages, 12);
        byte[] ra = new byte[a.length];
        BaselineRef refA = seed(tx, rx, "a", a, ra).baseline();
        seed(tx, rx, "b", b, new byte[b.length]);
        seed(tx, rx, "c", c, new byte[c.length]);
        assertTrue(rx.metrics().evictions.sum() >= 1, "a third 6 MiB baseline does not fit 16 MiB with two others");
        assertEquals(Optional.empty(), rx.baseline("a"), "least recently used key evicted");
        assertTrue(rx.baseline("c").isPresent());
        assertTrue(rx.baselines().bytes() <= 16L << 20);
        DwcpException e = assertThrows(DwcpException.class, () -> {
            Rounds.Encoded d = Rounds.encode(tx, Rounds.state("a", PS, edit(a, 3)), Rounds.against(refA));
            Rounds.decode(rx, Rounds.replica("a", PS, ra), d.frames);
        });
        assertEquals(ErrorCode.BASELINE_MISSING, e.code());

        // A state of exactly the cap is kept.
        HdeCodec tx2 = codec(config);
        HdeCodec rx2 = codec(config);
        byte[] big = content(16 * 256, 13);
        byte[] rbig = new byte[big.length];
        BaselineRef ref = seed(tx2, rx2, "big", big, rbig).baseline();
        byte[] big2 = edit(big, 12345);
        Rounds.Encoded d = Rounds.encode(tx2, Rounds.state("big", PS, big2), Rounds.against(ref));
        assertFalse(d.result.keyframe());
        Rounds.decode(rx2, Rounds.replica("big", PS, rbig), d.frames);
        assertArrayEquals(big2, rbig);
    }

    @Test
    void stateAboveCapKeepsAFileBackedBaselineOutsideTheCapAndGetsDeltaRounds() {
        DwcpConfig config = DwcpConfig.builder().set("dwcp.compression.baseline.max-memory", "16MiB").set("dwcp.compression.level.wan", "zstd:1").build();
        HdeCodec tx = codec(config);
        HdeCodec rx = codec(config);
        byte[] s = content(20 * 256, 21); // 20 MiB > 16 MiB
        byte[] replica = new byte[s.length];
        BaselineRef ref = seed(tx, rx, "huge", s, replica).baseline();
        assertArrayEquals(s, replica);
        assertEquals(Optional.of(ref), rx.baseline("huge"), "kept, in a temporary file");
        assertEquals(0, rx.baselines().bytes(), "a file-backed baseline takes none of the memory cap");
        assertEquals(0, tx.baselines().bytes());
        byte[] s1 = edit(s, 77);
        Rounds.Encoded next = Rounds.encode(tx, Rounds.state("huge", PS, s1), Rounds.against(ref));
        assertFalse(next.result.keyframe(), "a state above the memory cap still gets delta rounds");
        Rounds.decode(rx, Rounds.replica("huge", PS, replica), next.frames);
        assertArrayEquals(s1, replica);
    }

    @Test
    void keyframeReplacingABaselineAtTheCapStagesInAFileAndStillBecomesTheBaseline() {
        DwcpConfig config = DwcpConfig.builder().set("dwcp.compression.baseline.max-memory", "16MiB").set("dwcp.compression.level.wan", "zstd:1").build();
        HdeCodec tx = codec(config);
        HdeCodec rx = codec(config);
        byte[] s = content(16 * 256, 22);
        byte[] replica = new byte[s.length];
        seed(tx, rx, "vm", s, replica);
        byte[] s1 = edit(s, 5);
        BaselineRef ref = seed(tx, rx, "vm", s1, replica).baseline();
        assertEquals(Optional.of(ref), rx.baseline("vm"));
        assertEquals(0, rx.baselines().bytes(), "the new baseline lives in its staging file, outside the memory cap");
        byte[] s2 = edit(s1, 4097);
        Rounds.Encoded d = Rounds.encode(tx, Rounds.state("vm", PS, s2), Rounds.against(ref));
        assertFalse(d.result.keyframe());
        Rounds.decode(rx, Rounds.replica("vm", PS, replica), d.frames);
        assertArrayEquals(s2, replica);
    }

    @Test
    void dropForgetsBothEndsAndDifferentBaselineIsRefused() {
        HdeCodec tx = codec();
        HdeCodec rx = codec();
        byte[] s = content(8, 4);
        byte[] replica = new byte[s.length];
        BaselineRef v0 = seed(tx, rx, "vm", s, replica).baseline();
        byte[] s1 = edit(s, 1);
        Rounds.Encoded d1 = Rounds.encode(tx, Rounds.state("vm", PS, s1), Rounds.against(v0));
        BaselineRef v1 = Rounds.decode(rx, Rounds.replica("vm", PS, replica), d1.frames).baseline();
        // The receiver now holds v1; a delta against v0 is refused and changes nothing.
        byte[] before = replica.clone();
        DwcpException e = assertThrows(DwcpException.class, () -> Rounds.decode(rx, Rounds.replica("vm", PS, replica), d1.frames));
        assertEquals(ErrorCode.BASELINE_MISSING, e.code());
        assertArrayEquals(before, replica);
        assertEquals(Optional.of(v1), rx.baseline("vm"));
        rx.drop("vm");
        tx.drop("vm");
        assertEquals(Optional.empty(), rx.baseline("vm"));
        assertEquals(Optional.empty(), tx.baseline("vm"));
        assertEquals(0, rx.baselines().bytes());
        assertTrue(Rounds.encode(tx, Rounds.state("vm", PS, s1), Rounds.against(v1)).result.keyframe());
    }
}
