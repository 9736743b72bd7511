package io.dwcp.transport.control;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;


import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Tag("AMST-9")
class TokenBucketTest {
    /**
     * Several greedy senders share one bucket on simulated time; returns the admitted bytes in each 1 s window of a
     * 10 s run (senders poll at their own pace, as streams on different event loops do).
     */
    static long[] run(long rateBytesPerSecond, int chunkBytes, int senders, long pollNanos) {
        TokenBucket b = new TokenBucket(rateBytesPerSecond);
        long[] perSecond = new long[10];
        long[] next = new long[senders];
        long end = 10_000_000_000L;
        while (true) {
            int s = 0;
            for (int i = 1; i < senders; i++) {
                if (next[i] < next[s]) {
                    s = i;
                }
            }
            long now = next[s];
            if (now >= end) {
                return perSecond;
            }
            long wait = b.tryAcquire(chunkBytes, now);
            if (wait == 0) {
                perSecond[(int) (now / 1_000_000_000L)] += chunkBytes;
                next[s] = now + pollNanos;
            } else {
                next[s] = now + wait;
            }
        }
    }

    @Property(tries = 60)
    void aggregateOfAllStreamsStaysWithinFivePercentOfTheCap(@ForAll @LongRange(min = 1_000_000, max = 200_000_000) long rate,
                                                             @ForAll @IntRange(min = 1, max = 64) int senders) {
        int chunk = (int) Math.max(4096, Math.min(1 << 20, rate / 100));
        long[] windows = run(rate, chunk, senders, 1_000);
        for (int i = 1; i < windows.length; i++) {
            double ratio = windows[i] / (double) rate;
            assertTrue(ratio <= 1.05 && ratio >= 0.95, "second " + i + ": " + windows[i] + " bytes at cap " + rate);
        }
        assertTrue(windows[0] <= rate * 1.05, "first second " + windows[0]);
    }

    @Test
    void rateChangesWhileRunning() {
        TokenBucket b = new TokenBucket(1_000_000);
        long now = 0;
        long admitted = 0;
        while (now < 1_000_000_000L) {
            long w = b.tryAcquire(10_000, now);
            if (w == 0) {
                admitted += 10_000;
            } else {
                now += w;
            }
        }
        b.rateBytesPerSecond(4_000_000);
        long second = 0;
        while (now < 2_000_000_000L) {
            long w = b.tryAcquire(10_000, now);
            if (w == 0) {
                second += 10_000;
            } else {
                now += w;
            }
        }
        assertTrue(Math.abs(admitted - 1_000_000) <= 50_000, "first " + admitted);
        assertTrue(Math.abs(second - 4_000_000) <= 200_000, "second " + second);
    }

    @Test
    void zeroMeansUnlimited() {
        TokenBucket b = new TokenBucket(0);
        for (int i = 0; i < 1000; i++) {
            assertEquals(0, b.tryAcquire(1 << 20, 0));
        }
    }

    @Test
    void aChunkLargerThanTheBurstStillPassesThenWaits() {
        TokenBucket b = new TokenBucket(1000);
        assertEquals(0, b.tryAcquire(5000, 0));
        long wait = b.tryAcquire(1, 0);
        assertTrue(wait >= 4_900_000_000L && wait <= 5_100_000_000L, "wait " + wait);
    }
}
