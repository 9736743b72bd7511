package io.dwcp.core.time;

import io.dwcp.core.testing.ManualClock;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HybridLogicalClockTest {
    private final ManualClock wall = new ManualClock(Instant.ofEpochMilli(1_000_000));
    private final HybridLogicalClock hlc = new HybridLogicalClock(wall);

    @Test
    void followsPhysicalTimeWhenItAdvances() {
        long a = hlc.now();
        assertEquals(1_000_000, HybridLogicalClock.physicalMillis(a));
        assertEquals(0, HybridLogicalClock.counter(a));
        wall.advance(Duration.ofMillis(5));
        long b = hlc.now();
        assertEquals(1_000_005, HybridLogicalClock.physicalMillis(b));
        assertEquals(0, HybridLogicalClock.counter(b));
    }

    @Test
    void countsWithinOneMillisecondAndNeverGoesBackWhenTheWallClockDoes() {
        long a = hlc.now();
        long b = hlc.now();
        assertEquals(a + 1, b);
        wall.advance(Duration.ofMillis(-100));
        long c = hlc.now();
        assertTrue(c > b, "monotonic despite the wall clock stepping back");
        assertEquals(1_000_000, HybridLogicalClock.physicalMillis(c));
    }

    @Test
    void updateExceedsARemoteTimestampAheadOfTheWallClock() {
        long remote = HybridLogicalClock.pack(2_000_000, 7);
        long t = hlc.update(remote);
        assertEquals(HybridLogicalClock.pack(2_000_000, 8), t);
        assertTrue(hlc.now() > t);
        assertEquals(1_000_000, hlc.skewMillis(remote));
    }

    @Test
    void updateWithAnOldRemoteFollowsTheWallClock() {
        long t = hlc.update(HybridLogicalClock.pack(10, 3));
        assertEquals(HybridLogicalClock.pack(1_000_000, 0), t);
    }

    @Test
    void saturatedCounterBorrowsTheNextMillisecond() {
        long t = hlc.update(HybridLogicalClock.pack(1_000_000, HybridLogicalClock.MAX_COUNTER));
        assertEquals(HybridLogicalClock.pack(1_000_001, 0), t);
    }

    @Test
    void packRejectsOutOfRangeParts() {
        assertThrows(IllegalArgumentException.class, () -> HybridLogicalClock.pack(-1, 0));
        assertThrows(IllegalArgumentException.class, () -> HybridLogicalClock.pack(1L << 48, 0));
        assertThrows(IllegalArgumentException.class, () -> HybridLogicalClock.pack(0, 1 << 16));
        assertEquals("5.3", HybridLogicalClock.format(HybridLogicalClock.pack(5, 3)));
    }

    @Property(tries = 200)
    void everyTimestampExceedsAllEarlierOnes(@ForAll @Size(max = 50) List<@LongRange(min = -50, max = 50) Long> steps,
                                             @ForAll @Size(max = 50) List<@LongRange(min = 0, max = 3_000_000) Long> remotes) {
        ManualClock w = new ManualClock(Instant.ofEpochMilli(1_000_000));
        HybridLogicalClock c = new HybridLogicalClock(w);
        long prev = 0;
        for (int i = 0; i < Math.max(steps.size(), remotes.size()); i++) {
            if (i < steps.size() && w.millis() + steps.get(i) >= 0) {
                w.advance(Duration.ofMillis(steps.get(i)));
            }
            long t;
            if (i < remotes.size()) {
                long remote = HybridLogicalClock.pack(remotes.get(i), 0);
                t = c.update(remote);
                assertTrue(t > remote);
            } else {
                t = c.now();
            }
            assertTrue(t > prev);
            assertTrue(HybridLogicalClock.physicalMillis(t) >= w.millis() || t > prev);
            prev = t;
        }
    }
}
