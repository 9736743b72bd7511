package io.dwcp.compression;

import io.dwcp.core.DataRate;
import io.dwcp.core.Tier;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.EncodeOptions;
import io.dwcp.core.testing.FixedPredictor;
import io.dwcp.core.testing.ManualClock;
import io.dwcp.core.testing.TestContext;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A bandwidth forecast that becomes advice while a round is being encoded re-plans the level of its later batches. */
class ForecastWithinRoundTest {
    static final int PAGE = 4096;
    static final int BATCHES = 64;

    /** Level byte of every BATCH frame, in order. */
    static List<Integer> batchLevels(List<byte[]> frames) {
        List<Integer> out = new ArrayList<>();
        for (byte[] f : frames) {
            if (f[Wire.TYPE_OFFSET] == Wire.TYPE_BATCH && f[Wire.BATCH_CODEC_OFFSET] == Wire.CODEC_ZSTD) {
                out.add((int) f[Wire.BATCH_LEVEL_OFFSET]);
            }
        }
        return out;
    }

    HdeCodec codec(FixedPredictor pba) {
        DwcpConfig config = DwcpConfig.builder().set("dwcp.compression.batch-size", "64KiB").build();
        HdeCodec c = new HdeCodec(new TestContext(config, new SimpleMeterRegistry(), new ManualClock(), 2).predictor(pba),
                () -> 1);
        c.start();
        return c;
    }

    @Test
    void adviceArrivingMidRoundChangesTheLevelOfTheBatchesAfterItAndTheReplicaIsExact() throws Exception {
        FixedPredictor pba = new FixedPredictor();
        HdeCodec c = codec(pba);
        try {
            // Measured 5 Mbit/s: a strong level. The forecast, once advice, foresees 400 Mbit/s: a faster level.
            EncodeOptions round = EncodeOptions.builder().tier(Tier.WAN).linkRate(DataRate.parse("5Mbit/s"))
                    .peer("198.18.0.2:7600").build();
            byte[] s = RoundTripTest.memoryLike(BATCHES * 64 * 1024, 3);
            List<byte[]> frames = new ArrayList<>();
            c.encode(Rounds.state("k", PAGE, s), round, f -> {
                byte[] b = new byte[f.remaining()];
                f.get(b);
                if (b[Wire.TYPE_OFFSET] == Wire.TYPE_BATCH && batchLevels(frames).isEmpty()) {
                    // The first batch is out: from here on the path's forecast is advice. Batches submitted after
                    // this (at most 17 were before it) are coded at the re-planned level.
                    pba.set(FixedPredictor.mbps(Duration.ofSeconds(30), 400, 300, 500, 0.9), null);
                }
                frames.add(b);
            }).join();
            List<Integer> levels = batchLevels(frames);
            assertTrue(levels.size() > 40, "memory-like batches are compressed: " + levels.size());
            int first = levels.get(0);
            int last = levels.get(levels.size() - 1);
            int advised = c.levelFor(Tier.WAN, round);
            assertEquals(advised, last, "the round's last batches follow the advice");
            assertTrue(last < first, "400 Mbit/s foreseen: a faster level than for the measured 5 Mbit/s, got "
                    + first + " then " + last);
            byte[] replica = new byte[s.length];
            Rounds.decode(c, Rounds.replica("k", PAGE, replica), frames);
            assertArrayEquals(s, replica, "batches of two levels in one round decode exactly");
        } finally {
            c.stop();
        }
    }

    @Test
    void withoutAdviceEveryBatchHasTheRoundsLevel() throws Exception {
        FixedPredictor pba = new FixedPredictor().set(FixedPredictor.mbps(Duration.ofSeconds(30), 400, 300, 500, 0.5), null);
        HdeCodec c = codec(pba);
        try {
            EncodeOptions round = EncodeOptions.builder().tier(Tier.WAN).linkRate(DataRate.parse("5Mbit/s"))
                    .peer("198.18.0.2:7600").build();
            byte[] s = RoundTripTest.memoryLike(16 * 64 * 1024, 4);
            List<Integer> levels = batchLevels(Rounds.encode(c, Rounds.state("k", PAGE, s), round).frames);
            assertEquals(16, levels.size());
            assertEquals(1, levels.stream().distinct().count(), "confidence 0.5 is no advice: one level, " + levels);
        } finally {
            c.stop();
        }
    }
}
