package io.dwcp.transport.control;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Tag("AMST-8")
class ChunkSizerTest {
    private final ChunkSizer sizer = new ChunkSizer(16 * 1024, 4 * 1024 * 1024);

    @Test
    void keepsTwoChunksInFlightPerStream() {
        // 400 Mbit/s × 50 ms over 32 streams = 78 KiB per stream: chunks move towards 39 KiB (≤ BDP share ÷ 2).
        int c = 256 * 1024;
        for (int i = 0; i < 10; i++) {
            c = sizer.next(c, 78_125, 0);
        }
        assertTrue(c <= 39_063 && c > 30_000, "chunk " + c);
    }

    @Test
    void ignoresChangesOfTenPercentOrLess() {
        assertEquals(256 * 1024, sizer.next(256 * 1024, 2 * 240 * 1024, 0));
    }

    @Test
    void aRateCapKeepsChunksBelowOnePercentOfASecond() {
        int c = 1024 * 1024;
        for (int i = 0; i < 10; i++) {
            c = sizer.next(c, 100L << 20, 5_000_000);
        }
        assertTrue(c <= 50_000, "chunk " + c);
    }

    @Property
    void stepsAreAlignedBoundedAndAtMostDoubleOrHalf(@ForAll @IntRange(min = 4, max = 1024) int currentPages,
                                                     @ForAll @LongRange(min = 0, max = 1L << 32) long bdp) {
        int current = currentPages * 4096;
        int next = sizer.next(current, bdp, 0);
        assertEquals(0, next % 4096);
        assertTrue(next >= 16 * 1024 && next <= 4 * 1024 * 1024);
        assertTrue(next <= 2L * current && next >= current / 2 - 4096, current + " -> " + next);
    }

    @Test
    void backoffDoublesToTheCapWithTwentyPercentJitter() {
        Backoff low = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(5), () -> 0.0);
        Backoff high = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(5), () -> 0.999999);
        assertEquals(80_000_000L, low.delayNanos(0));
        assertEquals(160_000_000L, low.delayNanos(1));
        assertEquals(4_000_000_000L, low.delayNanos(10));
        assertTrue(high.delayNanos(0) >= 119_000_000L && high.delayNanos(0) <= 120_000_000L);
        assertTrue(high.delayNanos(20) <= 6_000_000_000L);
    }
}
