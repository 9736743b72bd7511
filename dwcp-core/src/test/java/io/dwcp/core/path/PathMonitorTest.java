package io.dwcp.core.path;

import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Per-peer bounded history; bad samples are rejected, counted and never stored. */
class PathMonitorTest {
    static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    final PathMonitor monitor = new PathMonitor(Clock.fixed(T0.plusSeconds(100), ZoneOffset.UTC), 3, 2);

    static PathSample goodput(String peer, long second, double bps) {
        return PathSample.goodput(peer, T0.plusSeconds(second), PathSample.Source.TRANSPORT, bps);
    }

    @Test
    void keepsTheNewestSamplesPerPeerOldestFirst() {
        for (int i = 0; i < 5; i++) {
            assertNull(monitor.record(goodput("a", i, 1e6 * i)));
        }
        List<PathSample> h = monitor.history("a");
        assertEquals(3, h.size());
        assertEquals(List.of(2e6, 3e6, 4e6), h.stream().map(PathSample::goodputBitsPerSecond).toList());
        assertEquals(4e6, monitor.latest("a").orElseThrow().goodputBitsPerSecond());
    }

    @Test
    void anUnknownPeerHasNoHistoryAndNoInventedSample() {
        assertTrue(monitor.history("nobody").isEmpty());
        assertTrue(monitor.latest("nobody").isEmpty());
    }

    @Test
    void rejectsBadSamplesCountsThemAndStoresNothing() {
        List<PathSample> heard = new ArrayList<>();
        monitor.addListener(heard::add);
        assertEquals(PathMonitor.Rejection.OUT_OF_RANGE, monitor.record(goodput("a", 1, -1)));
        assertEquals(PathMonitor.Rejection.NOT_FINITE, monitor.record(goodput("a", 1, Double.POSITIVE_INFINITY)));
        assertEquals(PathMonitor.Rejection.NO_VALUE, monitor.record(goodput("a", 1, Double.NaN)));
        assertEquals(PathMonitor.Rejection.OUT_OF_RANGE, monitor.record(
                new PathSample(T0, "a", PathSample.Source.TCP_INFO, Double.NaN, Duration.ofMillis(-1), Double.NaN, -1)));
        assertEquals(PathMonitor.Rejection.OUT_OF_RANGE, monitor.record(
                new PathSample(T0, "a", PathSample.Source.TCP_INFO, Double.NaN, null, 1.5, -1)));
        assertEquals(PathMonitor.Rejection.FUTURE, monitor.record(goodput("a", 106, 1e6)));
        assertNull(monitor.record(goodput("a", 10, 1e6)));
        assertEquals(PathMonitor.Rejection.OUT_OF_ORDER, monitor.record(goodput("a", 9, 1e6)));
        assertEquals(1, monitor.history("a").size());
        assertEquals(1, heard.size());
        assertEquals(3, monitor.rejected(PathMonitor.Rejection.OUT_OF_RANGE));
        assertEquals(1, monitor.rejected(PathMonitor.Rejection.OUT_OF_ORDER));
        assertEquals(1, monitor.accepted());
    }

    @Test
    void boundsThePeersAndFreesASlotOnForget() {
        assertNull(monitor.record(goodput("a", 1, 1)));
        assertNull(monitor.record(goodput("b", 1, 1)));
        assertEquals(PathMonitor.Rejection.PEER_LIMIT, monitor.record(goodput("c", 1, 1)));
        monitor.forget("a");
        assertNull(monitor.record(goodput("c", 1, 1)));
        assertEquals(java.util.Set.of("b", "c"), monitor.peers());
    }

    @Test
    void aThrowingListenerIsCountedAndDoesNotStopTheOthers() {
        List<PathSample> heard = new ArrayList<>();
        monitor.addListener(s -> {
            throw new IllegalStateException("reader bug");
        });
        monitor.addListener(heard::add);
        assertNull(monitor.record(goodput("a", 1, 1)));
        assertEquals(1, heard.size());
        assertEquals(1, monitor.listenerFailures());
    }
}
