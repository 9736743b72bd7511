package io.dwcp.prediction;

import io.dwcp.core.DwcpException;
import io.dwcp.core.DwcpManager;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.config.PredictionKeys;
import io.dwcp.core.path.PathSample;
import io.dwcp.core.spi.BandwidthPredictor;
import io.dwcp.core.spi.Forecast;
import io.dwcp.core.testing.ManualClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The history directory: samples and matched forecasts written, read back as a warm start, bad lines skipped. */
class PathHistoryTest {
    static final String PEER = "198.18.0.2:7610";

    @TempDir
    Path dir;
    final ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
    SimpleMeterRegistry registry;

    DwcpManager start(boolean withHistory) {
        DwcpConfig.Builder c = DwcpConfig.builder().set(PredictionKeys.SAMPLE_INTERVAL, Duration.ofSeconds(1))
                .set(PredictionKeys.UPDATE_INTERVAL, Duration.ofSeconds(1)).set("dwcp.transport.adjust-interval", "1s");
        if (withHistory) {
            c.set("dwcp.prediction.history-dir", dir.toString());
        }
        registry = new SimpleMeterRegistry();
        DwcpManager m = DwcpManager.builder().config(c.build()).clock(clock).meterRegistry(registry).build();
        m.start();
        return m;
    }

    void feed(DwcpManager m, int seconds, double rate) {
        for (int i = 0; i < seconds; i++) {
            clock.advance(Duration.ofSeconds(1));
            assertNull(m.pathMonitor().record(PathSample.goodput(PEER, clock.instant(), PathSample.Source.TRANSPORT, rate)));
        }
    }

    /** Waits for the predictor's background thread (warm starts and history writes run there). */
    static void settle(DwcpManager m) {
        try {
            assertTrue(((PbaPredictor) m.predictor().orElseThrow()).awaitBackgroundWork(Duration.ofSeconds(60)));
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    static List<String> lines(Path p) throws IOException {
        return Files.readAllLines(p, StandardCharsets.UTF_8);
    }

    @Test
    void samplesAndMatchedForecastsAreWrittenAndTheNextProcessIsAdvisedFromItsFirstSample() throws IOException {
        try (DwcpManager first = start(true)) {
            feed(first, 120, 4e7);
        }
        String stem = PathHistory.stem(PEER);
        List<String> samples = lines(dir.resolve(stem + PathHistory.SAMPLES));
        assertEquals(120, samples.size());
        assertEquals((Instant.parse("2026-01-01T00:00:01Z").toEpochMilli()) + ",40000000,,", samples.get(0));
        List<String> matched = lines(dir.resolve(stem + PathHistory.MATCHED));
        // 30 s windows close from the 31st sample on, 5 s windows from the 6th; matches are counted once known.
        assertEquals(matched.stream().filter(l -> l.split(",")[1].equals("30")).count(), 90);
        assertEquals(matched.stream().filter(l -> l.split(",")[1].equals("5")).count(), 115);
        assertTrue(matched.get(matched.size() - 1).endsWith(",40000000"), matched.get(matched.size() - 1));

        clock.advance(Duration.ofMinutes(10)); // the next migration, much later: the history is old
        try (DwcpManager cold = start(false)) {
            feed(cold, 1, 4e7);
            assertFalse(cold.predictor().orElseThrow().advice(PEER).isKnown(), "without history one sample is no advice");
        }
        try (DwcpManager warm = start(true)) {
            BandwidthPredictor p = warm.predictor().orElseThrow();
            assertFalse(p.advice(PEER).isKnown(), "before the path is measured again nothing is published");
            feed(warm, 1, 4e7);
            settle(warm);
            Forecast f = p.advice(PEER);
            assertTrue(f.isKnown(), "the first live sample publishes the warm-started forecast");
            assertEquals(1.0, f.confidence(), 1e-9);
            assertEquals(4e7, f.meanBitsPerSecond(), 1);
            assertEquals(121, f.samples());
            assertEquals(120, registry.get("dwcp.pba.history.samples").tag("outcome", "replayed").functionCounter().count());
        }
        assertEquals(121, lines(dir.resolve(stem + PathHistory.SAMPLES)).size(), "the live sample is appended, the replayed ones are not again");
    }

    /** Queues a task that holds the predictor's background thread until the returned latch is counted down. */
    static CountDownLatch hold(DwcpManager m) {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch held = new CountDownLatch(1);
        assertTrue(((PbaPredictor) m.predictor().orElseThrow()).backgroundWork().submit(() -> {
            held.countDown();
            try {
                release.await(60, TimeUnit.SECONDS); // safety net only: the test releases it
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        try {
            assertTrue(held.await(60, TimeUnit.SECONDS));
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        return release;
    }

    @Test
    void theRecordingThreadNeverWaitsForTheHistoryFiles() throws IOException {
        try (DwcpManager m = start(true)) {
            feed(m, 1, 3e7);
            settle(m);
            Path file = dir.resolve(PathHistory.stem(PEER) + PathHistory.SAMPLES);
            assertEquals(1, lines(file).size());
            CountDownLatch release = hold(m); // the disk "hangs": the background thread cannot write
            feed(m, 100, 3e7);
            Forecast f = m.predictor().orElseThrow().forecast(PEER);
            assertEquals(101, f.samples(), "every sample went through the models on the recording thread");
            assertEquals(3e7, f.meanBitsPerSecond(), 1);
            assertEquals(1, lines(file).size(), "no line was written by the recording thread");
            release.countDown();
            settle(m);
            assertEquals(101, lines(file).size(), "the background thread wrote them, in order");
            assertEquals(0, registry.get("dwcp.pba.background.dropped").functionCounter().count());
        }
    }

    @Test
    void aWarmStartThatCannotReadInTimeIsAbandonedAndTheLiveSamplesAreKept() throws IOException {
        try (DwcpManager first = start(true)) {
            feed(first, 50, 1e7);
        }
        clock.advance(Duration.ofMinutes(5));
        try (DwcpManager m = start(true)) {
            CountDownLatch release = hold(m);
            feed(m, 70, 5e7);
            Forecast f = m.predictor().orElseThrow().forecast(PEER);
            assertEquals(70, f.samples(), "after 64 held samples the path goes on without its history");
            assertEquals(5e7, f.meanBitsPerSecond(), 1);
            release.countDown();
            settle(m);
            assertEquals(0, registry.get("dwcp.pba.history.samples").tag("outcome", "replayed").functionCounter().count());
            assertEquals(70, m.predictor().orElseThrow().forecast(PEER).samples(), "the late read changed nothing");
        }
    }

    @Test
    void invalidRecordedLinesAreSkippedAndCountedNeverReplayed() throws IOException {
        long t = clock.instant().toEpochMilli();
        StringBuilder b = new StringBuilder();
        for (int i = 1; i <= 40; i++) {
            b.append(t + i * 1000L).append(",2e7,0.06,0.001\n");
        }
        b.append("garbage\n").append(t + 41_000).append(",NaN,,\n").append(t + 42_000).append(",-5,,\n")
                .append(t + 43_000).append(",1e7,,1.5\n").append(t + 500).append(",1e7,,\n") // loss > 1; out of order
                .append(t + 3_600_000).append(",1e7,,\n"); // later than the first live sample: from the future
        Files.writeString(dir.resolve(PathHistory.stem(PEER) + PathHistory.SAMPLES), b.toString());
        clock.advance(Duration.ofSeconds(60));
        try (DwcpManager m = start(true)) {
            feed(m, 1, 2e7);
            settle(m);
            assertEquals(40, registry.get("dwcp.pba.history.samples").tag("outcome", "replayed").functionCounter().count());
            assertEquals(6, registry.get("dwcp.pba.history.samples").tag("outcome", "rejected").functionCounter().count());
            Forecast f = m.predictor().orElseThrow().forecast(PEER);
            assertTrue(f.isKnown());
            assertEquals(2e7, f.meanBitsPerSecond(), 1, "only the valid 2e7 samples (and the live one) count");
            assertEquals(41, f.samples());
            assertEquals(0.06, m.predictor().orElseThrow().rttForecast(PEER).mean(), 1e-12);
        }
    }

    @Test
    void filesRotateAndAWarmStartReadsTheLastKeptSamplesAcrossBoth() {
        PathHistory h = new PathHistory(dir, PEER, 100);
        Instant t = Instant.parse("2026-01-01T00:00:00Z");
        int n = (int) (h.rotateBytes() / 20) * 3; // lines of about 20 bytes: past two rotations
        for (int i = 0; i < n; i++) {
            h.appendSample(t.plusSeconds(i), i, Double.NaN, Double.NaN);
        }
        h.close();
        h.close(); // idempotent
        h.appendSample(t.plusSeconds(n), n, Double.NaN, Double.NaN); // after close: nothing written
        assertTrue(Files.exists(dir.resolve(PathHistory.stem(PEER) + PathHistory.SAMPLES + ".1")));
        assertTrue(h.samplesFile().toFile().length() <= h.rotateBytes() + 64);
        PathHistory.Read r = new PathHistory(dir, PEER, 100).read(t.plusSeconds(n + 1));
        assertEquals(100, r.samples().size());
        assertEquals(0, r.rejected());
        for (int i = 0; i < 100; i++) {
            assertEquals(n - 100 + i, r.samples().get(i).goodput(), 0, "oldest first, the newest kept");
        }
        assertFalse(h.failed());
    }

    @Test
    void stemsAreSafeFileNames() {
        assertEquals("peer-198.18.0.2%3A7610", PathHistory.stem(PEER));
        assertEquals("peer-..%2F..%2Fetc", PathHistory.stem("../../etc"));
        String longPeer = "h".repeat(1000);
        assertTrue(PathHistory.stem(longPeer).length() < 160);
        assertFalse(PathHistory.stem(longPeer).equals(PathHistory.stem(longPeer + "x")));
    }

    @Test
    void aHistoryDirThatIsAFileFailsStartNamingTheKey() throws IOException {
        Path file = Files.writeString(dir.resolve("not-a-dir"), "x");
        DwcpConfig c = DwcpConfig.builder().set("dwcp.prediction.history-dir", file.resolve("sub").toString()).build();
        DwcpManager m = DwcpManager.builder().config(c).clock(clock).meterRegistry(new SimpleMeterRegistry()).build();
        try {
            DwcpException e = assertThrows(DwcpException.class, m::start);
            assertEquals(ErrorCode.INVALID_CONFIG, e.code());
            assertTrue(e.getMessage().contains("dwcp.prediction.history-dir"), e.getMessage());
        } finally {
            m.close();
        }
    }
}
