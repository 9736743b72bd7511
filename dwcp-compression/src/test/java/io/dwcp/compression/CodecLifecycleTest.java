package io.dwcp.compression;

import io.dwcp.core.DataRate;
import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.Tier;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.EncodeOptions;
import io.dwcp.core.Health;
import io.dwcp.core.spi.StateCodecProvider;
import io.dwcp.core.testing.FixedPredictor;
import io.dwcp.core.testing.ManualClock;
import io.dwcp.core.testing.TestContext;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Random;
import java.util.ServiceLoader;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Provider registration, start/stop/restart, threads, meters, adaptive level and the incompressible gate. */
class CodecLifecycleTest {
    @Test
    void providerIsFoundByServiceLoaderAsHde() {
        StateCodecProvider found = null;
        for (StateCodecProvider p : ServiceLoader.load(StateCodecProvider.class)) {
            if (p.name().equals("hde")) {
                found = p;
            }
        }
        assertNotNull(found);
        assertTrue(found.create(TestContext.defaults()) instanceof HdeCodec);
    }

    @Test
    void metersAndThreadsExistOnlyWhileRunningAndCodecRestarts() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        HdeCodec c = new HdeCodec(new TestContext(DwcpConfig.defaults(), registry, new ManualClock(), 2),
                new AtomicLong(1)::incrementAndGet);
        assertThrows(DwcpException.class, () -> c.encode(Rounds.state("k", 4096, new byte[4096]), EncodeOptions.keyframe(), f -> { }));
        assertEquals(0, threads("dwcp-compression-"));
        for (int cycle = 0; cycle < 2; cycle++) {
            c.start();
            assertEquals(Health.Status.HEALTHY, c.health().status());
            byte[] s = RoundTripTest.memoryLike(16 * 4096, cycle);
            Rounds.Encoded e = Rounds.encode(c, Rounds.state("k", 4096, s), EncodeOptions.keyframe());
            byte[] replica = new byte[s.length];
            Rounds.decode(c, Rounds.replica("k", 4096, replica), e.frames);
            assertArrayEquals(s, replica);
            assertNotNull(registry.find("dwcp.hde.bytes").tag("direction", "in").functionCounter());
            assertEquals((cycle + 1.0) * s.length, registry.find("dwcp.hde.bytes").tag("direction", "in").functionCounter().count(), 0.0,
                    "counters are monotonic over the codec's life, across restarts");
            assertNotNull(registry.find("dwcp.hde.pages").tag("class", "literal").functionCounter());
            assertNotNull(registry.find("dwcp.hde.keyframes").tag("reason", "first").functionCounter());
            assertEquals(1.0, registry.find("dwcp.hde.baselines").gauge().value(), "receiver baseline");
            assertNotNull(registry.find("dwcp.hde.cpu").tag("op", "decode").functionTimer());
            assertNotNull(registry.find("dwcp.hde.ratio").gauge());
            assertTrue(threads("dwcp-compression-worker-") >= 1);
            c.stop();
            c.stop();
            assertNull(registry.find("dwcp.hde.bytes").functionCounter());
            assertNull(registry.find("dwcp.hde.baselines").gauge());
            assertEquals(Health.Status.UNKNOWN, c.health().status());
            assertEquals(0, c.baselines().count(), "stop frees baselines");
        }
        assertEquals(0, threads("dwcp-compression-worker-"), "workers end with stop");
    }

    private static long threads(String prefix) throws InterruptedException {
        // Pool threads end asynchronously after shutdown returns from awaitTermination; give them a moment.
        for (int i = 0; i < 100; i++) {
            long n = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith(prefix) && t.isAlive()).count();
            if (n == 0 || i == 99) {
                return n;
            }
            Thread.onSpinWait();
            Thread.yield();
        }
        return -1;
    }

    @Test
    void levelFollowsTierCeilingAndLinkRate() throws Exception {
        HdeCodec c = Rounds.codec(DwcpConfig.defaults(), new ManualClock(), 2);
        try {
            assertEquals(9, c.levelFor(Tier.WAN, EncodeOptions.keyframe()), "WAN ceiling zstd:9");
            assertEquals(3, c.levelFor(Tier.REGIONAL, EncodeOptions.keyframe()), "REGIONAL ceiling zstd:3");
            assertEquals(0, c.levelFor(Tier.LOCAL, EncodeOptions.keyframe()), "LOCAL ceiling none = stored");
            int slowLink = c.levelFor(Tier.WAN, EncodeOptions.builder().linkRate(DataRate.parse("1Mbit/s")).build());
            assertEquals(9, slowLink, "a very slow link pays for the ceiling level");
            HdeCodec c2 = Rounds.codec(DwcpConfig.defaults(), new ManualClock(), 2);
            int fastLink = c2.levelFor(Tier.WAN, EncodeOptions.builder().linkRate(DataRate.parse("10Gbit/s")).build());
            assertTrue(fastLink < 3, "a 10 Gbit/s link needs a fast level, got " + fastLink);
            c2.stop();
        } finally {
            c.stop();
        }
    }

    @Test
    void theLevelFollowsThePathsForecastOnlyWhenItIsAdvice() throws Exception {
        FixedPredictor pba = new FixedPredictor();
        HdeCodec c = new HdeCodec(new TestContext(DwcpConfig.defaults(), new io.micrometer.core.instrument.simple.SimpleMeterRegistry(),
                new ManualClock(), 2).predictor(pba), () -> 1);
        c.start();
        try {
            EncodeOptions round = EncodeOptions.builder().linkRate(DataRate.parse("5Mbit/s")).peer("198.18.0.2:7600").build();
            int unadvised = c.levelFor(Tier.WAN, round);
            assertTrue(unadvised > 3, "a measured 5 Mbit/s link pays for a strong level, got " + unadvised);
            pba.set(FixedPredictor.mbps(Duration.ofSeconds(30), 400, 300, 500, 0.5), null);
            assertEquals(unadvised, c.levelFor(Tier.WAN, round), "confidence 0.5 is below min-confidence 0.6");
            pba.set(FixedPredictor.mbps(Duration.ofSeconds(30), 400, 300, 500, 0.9), null).enabled(false);
            assertEquals(unadvised, c.levelFor(Tier.WAN, round), "dwcp.prediction.enabled = false: no advice");
            pba.enabled(true);
            assertEquals(unadvised, c.levelFor(Tier.WAN, EncodeOptions.builder().linkRate(DataRate.parse("5Mbit/s")).build()),
                    "a round without a peer has no forecast");
            int advised = c.levelFor(Tier.WAN, round);
            assertTrue(advised < unadvised, "a confident forecast of 400 Mbit/s re-plans at once for the faster link, got "
                    + advised);
        } finally {
            c.stop();
        }
    }

    @Test
    void aQuietDeltaTeachesTheCompressorRatioNotTheStateRatio() throws Exception {
        HdeCodec c = Rounds.codec(DwcpConfig.defaults(), new ManualClock(), 2);
        String key = "quiet";
        try {
            byte[] s0 = new byte[256 * 4096];
            Random rnd = new Random(7);
            for (int i = 0; i < s0.length; i++) {
                s0[i] = (byte) ('a' + rnd.nextInt(8));         // text-like: compresses about 2.5x
            }
            Rounds.Encoded k = Rounds.encode(c, Rounds.state(key, 4096, s0), EncodeOptions.keyframe());
            c.acknowledge(k.result.produced());
            byte[] s1 = s0.clone();
            s1[10 * 4096 + 7] ^= 1;
            s1[99 * 4096 + 7] ^= 1;
            Rounds.Encoded d = Rounds.encode(c, Rounds.state(key, 4096, s1), Rounds.against(k.result.produced()));
            assertTrue(d.result.ratio() > 500, "the state ratio of this round: " + d.result.ratio());
            // Two XOR pages offered to zstd, a few hundred bytes out: a compressor ratio of tens, not hundreds.
            assertTrue(c.levels().ratio(3) < 30, "ratio estimate " + c.levels().ratio(3));
        } finally {
            c.drop(key);
            c.stop();
        }
    }

    @Test
    void incompressibleBatchesAreStoredAndReprobed() throws Exception {
        ManualClock clock = new ManualClock();
        HdeCodec c = Rounds.codec(DwcpConfig.builder().set("dwcp.compression.batch-size", "64KiB").build(), clock, 2);
        try {
            byte[] noise = new byte[64 * 4096];
            new Random(1).nextBytes(noise);
            Rounds.Encoded e = Rounds.encode(c, Rounds.state("noise", 4096, noise), EncodeOptions.keyframe());
            assertEquals(64L, c.metrics().pages[PageClass.STORED.ordinal()].sum(), "every page went out stored");
            assertTrue(e.result.encodedBytes() > noise.length, "stored, not expanded by zstd beyond framing");
            byte[] replica = new byte[noise.length];
            Rounds.decode(c, Rounds.replica("noise", 4096, replica), e.frames);
            assertArrayEquals(noise, replica);
            long trials = c.metrics().incompressible.sum();
            clock.advance(Duration.ofSeconds(31));
            Rounds.encode(c, Rounds.state("noise", 4096, noise), EncodeOptions.keyframe());
            assertTrue(c.metrics().incompressible.sum() > trials);
        } finally {
            c.stop();
        }
    }

    @Test
    void encodeRejectsNullArguments() throws Exception {
        HdeCodec c = Rounds.codec(DwcpConfig.defaults(), new ManualClock(), 1);
        try {
            assertThrows(IllegalArgumentException.class, () -> c.encode(null, EncodeOptions.keyframe(), f -> { }));
            assertThrows(IllegalArgumentException.class, () -> c.newDecoder(null));
            assertThrows(IllegalArgumentException.class, () -> c.drop(null));
            DwcpException e = assertThrows(DwcpException.class, c::start);
            assertEquals(ErrorCode.ILLEGAL_STATE, e.code());
        } finally {
            c.stop();
        }
    }
}
