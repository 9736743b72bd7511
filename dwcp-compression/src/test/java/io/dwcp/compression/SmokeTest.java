package io.dwcp.compression;

import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.DecodeResult;
import io.dwcp.core.spi.EncodeOptions;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SmokeTest {
    @Test
    void keyframeThenDeltaRoundTrip() throws Exception {
        HdeCodec tx = Rounds.codec(DwcpConfig.defaults(), Clock.systemUTC(), 2);
        HdeCodec rx = Rounds.codec(DwcpConfig.defaults(), Clock.systemUTC(), 2);
        Random rnd = new Random(1);
        byte[] a = new byte[4096 * 300];
        for (int i = 0; i < a.length; i += 8) {
            a[i] = (byte) rnd.nextInt(4);
        }
        byte[] replicaBytes = new byte[a.length];
        Rounds.Encoded k = Rounds.encode(tx, Rounds.state("vm", 4096, a), EncodeOptions.keyframe());
        DecodeResult d = Rounds.decode(rx, Rounds.replica("vm", 4096, replicaBytes), k.frames);
        assertArrayEquals(a, replicaBytes);
        tx.acknowledge(d.baseline());
        byte[] b = a.clone();
        b[5000] = 7;
        System.arraycopy(a, 4096 * 10, b, 4096 * 20, 4096);
        Rounds.Encoded delta = Rounds.encode(tx, Rounds.state("vm", 4096, b), Rounds.against(d.baseline()));
        assertFalse(delta.result.keyframe());
        System.out.println(delta.result);
        Rounds.decode(rx, Rounds.replica("vm", 4096, replicaBytes), delta.frames);
        assertArrayEquals(b, replicaBytes);
        assertTrue(delta.result.encodedBytes() < 2000);
        tx.stop();
        rx.stop();
    }
}
