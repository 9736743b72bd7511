package io.dwcp.consensus;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The layout choice rule and its hysteresis, on given RTTs and write counts. */
@Tag("ACP-3")
@Tag("ACP-4")
class LayoutChoiceTest {
    private static final LayoutChoice.Layout A = new LayoutChoice.Layout("a", List.of("eu", "eu", "eu"));
    private static final LayoutChoice.Layout B = new LayoutChoice.Layout("b", List.of("us", "us", "us"));
    private static final LayoutChoice.Layout X = new LayoutChoice.Layout("x", List.of("eu", "eu", "us", "us"));
    private static final Map<String, Duration> WAN = Map.of("eu", Duration.ofMillis(1), "us", Duration.ofMillis(80));
    private static final Map<String, Duration> NEAR = Map.of("eu", Duration.ofMillis(1), "us", Duration.ofMillis(10));

    private static LayoutChoice choice(int stable, Duration minInterval) {
        return new LayoutChoice(new LayoutChoice.Settings(Duration.ofMillis(50), 3, 0.7, stable, minInterval, 1.5,
                Duration.ofSeconds(30)), List.of(A, B, X), "eu");
    }

    @Test
    void nearVotersAcrossRegionsMakeOneGroup() {
        LayoutChoice.Decision d = choice(1, Duration.ZERO).evaluate("a", Map.of("eu", 50L, "us", 50L), NEAR, 10_000, 0);
        assertEquals("x", d.chosen());
        assertEquals("raft", d.rule());
    }

    @Test
    void writesFromOneRegionChooseItsGroupAcrossTheWan() {
        LayoutChoice.Decision d = choice(1, Duration.ZERO).evaluate("a", Map.of("us", 90L, "eu", 10L), WAN, 10_000, 0);
        assertEquals("b", d.chosen());
        assertEquals("home-region", d.rule());
        assertEquals(Optional.of("b"), d.switchTo());
        assertEquals(0.9, d.locality(), 1e-9);
    }

    @Test
    void mixedWritesAcrossTheWanChooseTheLeastLatency() {
        LayoutChoice c = choice(1, Duration.ZERO);
        LayoutChoice.Decision d = c.evaluate("b", Map.of("us", 50L, "eu", 50L), WAN, 10_000, 0);
        assertEquals("leader-based", d.rule());
        // Writes from both sides: a group led from eu costs eu 1 ms + quorum, us 80 ms more; b the mirror image; x
        // (leader in eu, quorum crossing the WAN) is the worst. a and b tie; a comes first.
        assertTrue(c.latency(X, Map.of("us", 50L, "eu", 50L), WAN) > c.latency(A, Map.of("us", 50L, "eu", 50L), WAN));
        assertEquals("a", d.chosen());
        assertEquals(Optional.empty(), d.switchTo(), "a tie saves nothing: no switch");
        assertEquals("benefit", d.skipped());
    }

    @Test
    void aSwitchWaitsForStableChoicesAndTheMinimumInterval() {
        LayoutChoice c = choice(3, Duration.ofMinutes(5));
        Map<String, Long> fromUs = Map.of("us", 100L);
        long t = 1_000_000;
        assertEquals("unstable", c.evaluate("a", fromUs, WAN, t, 0).skipped());
        assertEquals("unstable", c.evaluate("a", fromUs, WAN, t + 30_000, 0).skipped());
        // A different choice in between restarts the count.
        assertEquals("a", c.evaluate("a", Map.of("eu", 100L), WAN, t + 60_000, 0).chosen());
        assertEquals("unstable", c.evaluate("a", fromUs, WAN, t + 90_000, 0).skipped());
        assertEquals("unstable", c.evaluate("a", fromUs, WAN, t + 120_000, 0).skipped());
        // Stable now, but the last switch was 2 minutes ago.
        assertEquals("min-interval", c.evaluate("a", fromUs, WAN, t + 150_000, t + 30_000).skipped());
        assertEquals(Optional.of("b"), c.evaluate("a", fromUs, WAN, t + 400_000, t + 30_000).switchTo());
    }

    @Test
    void tooFewWritesDoNotPayForASwitch() {
        // One write per window: the switch (four commits, about 166 ms, delaying at least one write by that much) is not
        // repaid by 79 ms saved on the one write expected before the next evaluation.
        LayoutChoice c = new LayoutChoice(new LayoutChoice.Settings(Duration.ofMillis(50), 3, 0.7, 1, Duration.ZERO, 1.5,
                Duration.ofSeconds(30)), List.of(A, B), "eu");
        assertEquals("benefit", c.evaluate("a", Map.of("us", 1L), WAN, 10_000, 0).skipped());
        assertEquals(Optional.of("b"), c.evaluate("a", Map.of("us", 100L), WAN, 10_000, 0).switchTo());
    }
}
