package io.dwcp.compression;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.BaselineRef;
import io.dwcp.core.spi.DecodeResult;
import io.dwcp.core.spi.EncodeOptions;
import io.dwcp.core.spi.StateDecoder;
import io.dwcp.core.testing.FuzzSeeds;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Fuzzes the HDE decoder with sequences of frames against a small replica (24 pages of 4 KiB) whose codec holds a
 * baseline, so keyframe and delta paths are both reachable. Only the decoder's documented codes may come out; a failed
 * round leaves the replica and the committed baseline unchanged; a round that verifies produced one of the states the
 * seeds were encoded from (the frames' digest cannot be forged by mutation). Memory is bounded by the smallest
 * {@code max-decoded-frame} (64 KiB). Regression mode replays the committed inputs; {@code JAZZER_FUZZ=1} fuzzes.
 *
 * <p>Input layout: byte 0 = options (bit 0: reseal each frame's length field and CRC32C, as a hostile sender that
 * knows the format would), then frames, each a u16 big-endian length and that many bytes.
 */
class HdeFrameFuzzTest {
    private static final Set<ErrorCode> ALLOWED = EnumSet.of(ErrorCode.CORRUPT_FRAME, ErrorCode.CHECKSUM_MISMATCH,
            ErrorCode.BASELINE_MISSING, ErrorCode.LIMIT_EXCEEDED, ErrorCode.TRANSFER_INCOMPLETE, ErrorCode.DICTIONARY_MISSING);
    private static final String KEY = "fuzz-vm";
    private static final int PAGE = 4096;
    private static final int PAGES = 24;

    private static Fixture fixture;

    /** The two codecs and the rounds s0 (keyframe) and s1 (delta against s0), encoded once per JVM. */
    private static final class Fixture {
        final HdeCodec tx;
        final HdeCodec rx;
        final byte[] s0;
        final byte[] s1;
        final List<byte[]> keyframe;
        final List<byte[]> delta;
        final BaselineRef r0;

        Fixture() {
            DwcpConfig config = DwcpConfig.builder().set("dwcp.compression.batch-size", "64KiB")
                    .set("dwcp.compression.max-decoded-frame", "64KiB")
                    .set("dwcp.compression.level.wan", "zstd:1").set("dwcp.compression.splice", "on").build();
            tx = Rounds.codec(config, Clock.systemUTC(), 1);
            rx = Rounds.codec(config, Clock.systemUTC(), 1);
            s0 = RoundTripTest.memoryLike(PAGES * PAGE, 16);
            s1 = s0.clone();
            Random r = new Random(17);
            for (int i = 0; i < 12; i++) {
                s1[r.nextInt(s1.length)] ^= 0x21;
            }
            System.arraycopy(s0, 2 * PAGE, s1, 5 * PAGE, PAGE);
            byte[] fresh = new byte[PAGE];
            r.nextBytes(fresh);
            System.arraycopy(fresh, 0, s1, 9 * PAGE, PAGE);
            System.arraycopy(fresh, 0, s1, 10 * PAGE, PAGE);
            System.arraycopy(s1, 9 * PAGE + 8, s1, 20 * PAGE, PAGE - 8);
            keyframe = Rounds.encode(tx, Rounds.state(KEY, PAGE, s0), EncodeOptions.keyframe()).frames;
            DecodeResult d = Rounds.decode(rx, Rounds.replica(KEY, PAGE, new byte[s0.length]), keyframe);
            r0 = d.baseline();
            tx.acknowledge(r0);
            delta = Rounds.encode(tx, Rounds.state(KEY, PAGE, s1), Rounds.against(r0)).frames;
        }

        /** Puts the receiver back at baseline s0 when a verified round (or anything else) moved it. */
        void resetBaseline() {
            if (!rx.baseline(KEY).equals(Optional.of(r0))) {
                rx.drop(KEY);
                Rounds.decode(rx, Rounds.replica(KEY, PAGE, new byte[s0.length]), keyframe);
                assertEquals(Optional.of(r0), rx.baseline(KEY), "replaying the keyframe restores the baseline");
            }
        }
    }

    private static synchronized Fixture fixture() {
        if (fixture == null) {
            fixture = new Fixture();
        }
        return fixture;
    }

    @AfterAll
    static synchronized void stop() throws Exception {
        if (fixture != null) {
            fixture.tx.stop();
            fixture.rx.stop();
            fixture = null;
        }
    }

    @FuzzTest(maxDuration = "10m")
    void frames(byte[] input) {
        Fixture fx = fixture();
        fx.resetBaseline();
        List<byte[]> frames = parse(input);
        byte[] replica = fx.s0.clone();
        Optional<BaselineRef> before = fx.rx.baseline(KEY);
        try (StateDecoder d = fx.rx.newDecoder(Rounds.replica(KEY, PAGE, replica))) {
            for (byte[] f : frames) {
                d.accept(ByteBuffer.wrap(f));
            }
            d.finish();
            assertTrue(Arrays.equals(fx.s0, replica) || Arrays.equals(fx.s1, replica),
                    "a verified round produced a state no sender encoded");
            return;
        } catch (DwcpException e) {
            assertTrue(ALLOWED.contains(e.code()), "undocumented code " + e.code() + ": " + e.getMessage());
        } catch (RuntimeException e) {
            fail("decoder threw " + e, e);
        }
        assertArrayEquals(fx.s0, replica, "a failed round changed the replica");
        assertEquals(before, fx.rx.baseline(KEY), "a failed round changed the baseline");
    }

    static List<byte[]> parse(byte[] input) {
        List<byte[]> frames = new ArrayList<>();
        if (input.length == 0) {
            return frames;
        }
        boolean reseal = (input[0] & 1) != 0;
        int at = 1;
        while (input.length - at >= 2) {
            int len = ((input[at] & 0xFF) << 8) | (input[at + 1] & 0xFF);
            at += 2;
            byte[] f = Arrays.copyOfRange(input, at, Math.min(input.length, at + len));
            at += f.length;
            if (reseal) {
                DecoderRobustnessTest.reseal(f);
            }
            frames.add(f);
        }
        return frames;
    }

    static byte[] input(boolean reseal, List<byte[]> frames) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(reseal ? 1 : 0);
        for (byte[] f : frames) {
            assertTrue(f.length <= 0xFFFF, "seed frame fits a u16 length");
            out.write(f.length >>> 8);
            out.write(f.length & 0xFF);
            out.write(f, 0, f.length);
        }
        return out.toByteArray();
    }

    /** The keyframe of s0 and the delta s0 to s1, so the fuzzer starts from both paths. */
    static Map<String, byte[]> seeds() {
        Fixture fx = fixture();
        Map<String, byte[]> seeds = new LinkedHashMap<>();
        seeds.put("keyframe", input(false, fx.keyframe));
        seeds.put("delta", input(true, fx.delta));
        return seeds;
    }

    @Test
    void seedsVerify() {
        Fixture fx = fixture();
        for (Map.Entry<String, byte[]> s : seeds().entrySet()) {
            fx.resetBaseline();
            byte[] replica = fx.s0.clone();
            Rounds.decode(fx.rx, Rounds.replica(KEY, PAGE, replica), parse(s.getValue()));
            assertArrayEquals(s.getKey().equals("keyframe") ? fx.s0 : fx.s1, replica, s.getKey());
        }
        fx.resetBaseline();
    }

    @Test
    @EnabledIfSystemProperty(named = FuzzSeeds.WRITE_PROPERTY, matches = "true")
    void writeSeeds() {
        FuzzSeeds.write(HdeFrameFuzzTest.class, "frames", seeds());
    }
}
