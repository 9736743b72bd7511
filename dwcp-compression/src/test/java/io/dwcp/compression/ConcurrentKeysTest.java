package io.dwcp.compression;

import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.BaselineRef;
import io.dwcp.core.spi.DecodeResult;
import io.dwcp.core.spi.EncodeOptions;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Many keys encoded and decoded at once through shared codecs (StateCodec is thread-safe across keys). */
class ConcurrentKeysTest {
    @Test
    void manyKeysRoundTripConcurrently() throws Exception {
        DwcpConfig config = DwcpConfig.builder().set("dwcp.compression.batch-size", "64KiB").build();
        HdeCodec tx = Rounds.codec(config, Clock.systemUTC(), 3);
        HdeCodec rx = Rounds.codec(config, Clock.systemUTC(), 2);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int k = 0; k < 16; k++) {
                final int keyNo = k;
                results.add(pool.submit(() -> {
                    String key = "vm-" + keyNo;
                    Random r = new Random(keyNo);
                    byte[] s = RoundTripTest.memoryLike((20 + keyNo) * 4096, keyNo);
                    byte[] replica = new byte[s.length];
                    Rounds.Encoded kf = Rounds.encode(tx, Rounds.state(key, 4096, s), EncodeOptions.keyframe());
                    DecodeResult d = Rounds.decode(rx, Rounds.replica(key, 4096, replica), kf.frames);
                    tx.acknowledge(d.baseline());
                    BaselineRef ref = d.baseline();
                    int deltas = 0;
                    for (int round = 0; round < 4; round++) {
                        s = s.clone();
                        for (int i = 0; i < 50; i++) {
                            s[r.nextInt(s.length)] = (byte) r.nextInt();
                        }
                        Rounds.Encoded e = Rounds.encode(tx, Rounds.state(key, 4096, s), Rounds.against(ref));
                        deltas += e.result.keyframe() ? 0 : 1;
                        ref = Rounds.decode(rx, Rounds.replica(key, 4096, replica), e.frames).baseline();
                        tx.acknowledge(ref);
                        assertArrayEquals(s, replica, key + " round " + round);
                    }
                    return deltas;
                }));
            }
            int deltas = 0;
            for (Future<Integer> f : results) {
                deltas += f.get(60, TimeUnit.SECONDS);
            }
            assertTrue(deltas >= 16 * 3, "most rounds are deltas, got " + deltas);
            assertEquals(32, rx.baselines().count() + tx.baselines().count());
        } finally {
            pool.shutdownNow();
            tx.stop();
            rx.stop();
        }
    }
}
