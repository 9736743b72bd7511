package io.dwcp.compression;

import io.dwcp.core.Tier;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.DecodeResult;
import io.dwcp.core.spi.EncodeOptions;
import io.dwcp.core.testing.ManualClock;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * Golden vectors of wire versions 1, 2 and 3 ({@code src/test/resources/wire/*.hex}, one frame per line; layout in
 * {@code docs/hde-wire-format.md}). The encoder must reproduce the current version's byte for byte and the decoder
 * must decode all three (version 1 lacks the SPLICE op, version 2 its copies from the round's own pages; those need
 * more than one batch, so {@code SpliceTest} and {@code RoundTripTest} cover them).
 * Stored batches (tier LOCAL, level none) keep the vectors independent of the zstd version. Regenerate only with a
 * version bump: {@code -Dhde.golden.write=true}.
 */
class WireGoldenTest {
    static final int PS = 512;

    static byte[] s0() {
        byte[] s = new byte[4 * PS];
        for (int i = 0; i < PS; i++) {
            s[i] = (byte) (i * 7);
        }
        System.arraycopy(s, 0, s, 2 * PS, PS);                   // page 2 duplicates page 0; page 1 is zero
        byte[] text = "HDE golden vector, page 3. ".getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < PS; i++) {
            s[3 * PS + i] = text[i % text.length];
        }
        return s;
    }

    static byte[] s1() {
        byte[] s0 = s0();
        byte[] s = s0.clone();
        s[5] ^= 0x40;                                           // page 0: XOR delta
        System.arraycopy(s0, 3 * PS, s, PS, PS);                // page 1: moved from baseline page 3
        Arrays.fill(s, 3 * PS, 4 * PS, (byte) 0);               // page 3: zero; page 2 unchanged
        return s;
    }

    private static List<byte[]> load(String name) throws IOException {
        try (InputStream in = WireGoldenTest.class.getResourceAsStream("/wire/" + name)) {
            assertNotNull(in, "missing golden vector " + name);
            List<byte[]> frames = new ArrayList<>();
            for (String line : new String(in.readAllBytes(), StandardCharsets.US_ASCII).split("\n")) {
                if (!line.isBlank() && !line.startsWith("#")) {
                    frames.add(HexFormat.of().parseHex(line.trim()));
                }
            }
            return frames;
        }
    }

    private static void write(String name, List<byte[]> frames, String comment) throws IOException {
        StringBuilder sb = new StringBuilder("# ").append(comment).append('\n');
        for (byte[] f : frames) {
            sb.append(HexFormat.of().formatHex(f)).append('\n');
        }
        Files.writeString(Path.of("src/test/resources/wire", name), sb.toString());
    }

    @Test
    void encoderReproducesTheVersion3VectorsAndDecoderDecodesVersions1To3() throws Exception {
        HdeCodec tx = Rounds.codec(DwcpConfig.defaults(), new ManualClock(), 1);
        HdeCodec rx = Rounds.codec(DwcpConfig.defaults(), new ManualClock(), 1);
        try {
            EncodeOptions local = EncodeOptions.builder().tier(Tier.LOCAL).build();
            Rounds.Encoded k = Rounds.encode(tx, Rounds.state("golden", PS, s0()), local);
            byte[] replica = new byte[4 * PS];
            DecodeResult d0 = Rounds.decode(rx, Rounds.replica("golden", PS, replica), k.frames);
            tx.acknowledge(d0.baseline());
            Rounds.Encoded d = Rounds.encode(tx, Rounds.state("golden", PS, s1()),
                    EncodeOptions.builder().tier(Tier.LOCAL).peerBaseline(d0.baseline()).build());
            assertEquals(Long.valueOf(1), d.result.pagesByClass().get("xor"));
            assertEquals(Long.valueOf(1), d.result.pagesByClass().get("moved"));
            assertEquals(Long.valueOf(1), d.result.pagesByClass().get("zero"));
            if (Boolean.getBoolean("hde.golden.write")) {
                write("hde-v3-keyframe.hex", k.frames, "HDE wire v3: keyframe of 4 pages of 512 B (page, zero, duplicate, text), stored batches");
                write("hde-v3-delta.hex", d.frames, "HDE wire v3: delta of the keyframe's state (xor, moved, unchanged, zero), stored batches");
            }
            List<byte[]> goldenKey = load("hde-v3-keyframe.hex");
            List<byte[]> goldenDelta = load("hde-v3-delta.hex");
            assertEquals(goldenKey.size(), k.frames.size());
            for (int i = 0; i < goldenKey.size(); i++) {
                assertArrayEquals(goldenKey.get(i), k.frames.get(i), "keyframe frame " + i);
            }
            assertEquals(goldenDelta.size(), d.frames.size());
            for (int i = 0; i < goldenDelta.size(); i++) {
                assertArrayEquals(goldenDelta.get(i), d.frames.get(i), "delta frame " + i);
            }

            HdeCodec fresh = Rounds.codec(DwcpConfig.defaults(), new ManualClock(), 1);
            try {
                byte[] r = new byte[4 * PS];
                Rounds.decode(fresh, Rounds.replica("golden", PS, r), goldenKey);
                assertArrayEquals(s0(), r);
                Rounds.decode(fresh, Rounds.replica("golden", PS, r), goldenDelta);
                assertArrayEquals(s1(), r);
                for (String older : new String[] {"hde-v1", "hde-v2"}) {
                    byte[] r1 = new byte[4 * PS];
                    Rounds.decode(fresh, Rounds.replica("golden", PS, r1), load(older + "-keyframe.hex"));
                    assertArrayEquals(s0(), r1, older);
                    Rounds.decode(fresh, Rounds.replica("golden", PS, r1), load(older + "-delta.hex"));
                    assertArrayEquals(s1(), r1, older);
                }
            } finally {
                fresh.stop();
            }
        } finally {
            tx.stop();
            rx.stop();
        }
    }
}
