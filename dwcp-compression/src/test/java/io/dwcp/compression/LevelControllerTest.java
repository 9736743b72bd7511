package io.dwcp.compression;

import io.dwcp.core.DataRate;
import io.dwcp.core.Tier;
import io.dwcp.core.spi.Forecast;
import io.dwcp.core.testing.FixedPredictor;
import io.dwcp.core.testing.ManualClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The level choice: least compress + transfer + decompress time among levels that keep up with the link. */
class LevelControllerTest {
    private static LevelController controller() {
        ManualClock clock = new ManualClock();
        return new LevelController(clock, Duration.ofSeconds(30), new HdeMetrics(clock));
    }

    private static int level(String ceiling, String link) {
        return controller().choose(Tier.WAN, ceiling, Optional.of(DataRate.parse(link)), 2, true);
    }

    @Test
    void slowerLinksGetStrongerLevels() {
        assertEquals(9, level("zstd:9", "1Mbit/s"), "a few Mbit/s pays for the ceiling");
        assertEquals(4, level("zstd:9", "50Mbit/s"));
        assertEquals(3, level("zstd:9", "100Mbit/s"));
        assertEquals(2, level("zstd:9", "400Mbit/s"), "levels above 2 cost more CPU than they save link time");
        assertEquals(2, level("zstd:9", "1Gbit/s"));
        assertEquals(LevelController.MIN_LEVEL, level("zstd:9", "10Gbit/s"), "no level keeps up: the fastest");
    }

    @Test
    void everyLevelHasAnEstimate() {
        LevelController c = controller();
        for (int l = LevelController.MIN_LEVEL; l <= LevelController.MAX_LEVEL; l++) {
            if (l != 0) {
                assertTrue(c.speed(l) > 0 && c.ratio(l) > 0, "level " + l);
            }
        }
        assertEquals(19, level("zstd:19", "100kbit/s"), "on a very slow link only the ratio counts");
    }

    @Test
    void neverAboveTheCeiling() {
        assertEquals(1, level("zstd:1", "1Mbit/s"));
        assertTrue(level("zstd:-1", "1Mbit/s") <= -1);
        assertThrows(IllegalArgumentException.class, () -> LevelController.parse("lz4"), "lz4 is not a level word");
    }

    @Test
    void levelOneIsNeverChosenOverTwoAtTheSameSpeed() {
        for (String link : new String[] {"10Mbit/s", "100Mbit/s", "400Mbit/s", "1Gbit/s", "2Gbit/s"}) {
            assertTrue(level("zstd:9", link) != 1, link);
        }
    }

    @Test
    void aSlowMeasuredCompressorMovesToFasterLevels() {
        LevelController c = controller();
        long input = 1 << 20;
        for (int i = 0; i < 100; i++) {
            // A quarter of the table's speed at level 2 (e.g. cores shared with other work).
            c.observe(2, input, (long) (input / (c.speed(2) / 4)));
        }
        int level = c.choose(Tier.WAN, "zstd:9", Optional.of(DataRate.parse("1Gbit/s")), 2, true);
        assertTrue(level < 2, "got " + level);
    }

    @Test
    void oneObservationMovesTheSpeedsABoundedStep() {
        LevelController c = controller();
        double before = c.speed(3);
        c.observe(3, 1 << 20, 1);                      // 1 MiB in 1 ns: a clock glitch or all-zero data
        assertTrue(c.speed(3) <= before * (1 + 0.1 * LevelController.MAX_SPEED_FACTOR), "got " + c.speed(3));
        for (int i = 0; i < 200; i++) {
            c.observe(3, 1 << 20, 1);
        }
        assertEquals(before * LevelController.MAX_SPEED_FACTOR, c.speed(3), before * 0.01);
    }

    @Test
    void ratiosAreLearntPerLevelShape() {
        LevelController c = controller();
        for (int i = 0; i < 50; i++) {
            c.observeRatio(3, 4.78);
        }
        assertEquals(4.78, c.ratio(3), 0.01);
        assertEquals(4.57, c.ratio(2), 0.01, "level 2's ratio follows the measured shape");
        assertTrue(c.ratio(9) > c.ratio(3) && c.ratio(-1) < c.ratio(1));
    }

    @Test
    void theChoiceHoldsForTheAdjustInterval() {
        ManualClock clock = new ManualClock();
        LevelController c = new LevelController(clock, Duration.ofSeconds(30), new HdeMetrics(clock));
        assertEquals(2, c.choose(Tier.WAN, "zstd:9", Optional.of(DataRate.parse("1Gbit/s")), 2, true));
        assertEquals(2, c.choose(Tier.WAN, "zstd:9", Optional.of(DataRate.parse("1Mbit/s")), 2, true), "held");
        clock.advance(Duration.ofSeconds(31));
        assertEquals(9, c.choose(Tier.WAN, "zstd:9", Optional.of(DataRate.parse("1Mbit/s")), 2, true), "re-chosen");
    }

    private static final Duration H30 = Duration.ofSeconds(30);

    @Test
    void withoutAdviceTheChoiceIsTheMeasurementDrivenOne() {
        for (String link : new String[] {"1Mbit/s", "50Mbit/s", "400Mbit/s", "10Gbit/s"}) {
            int plain = level("zstd:9", link);
            assertEquals(plain, controller().choose(Tier.WAN, "zstd:9", Optional.of(DataRate.parse(link)), 2, true, null), link);
            assertEquals(plain, controller().choose(Tier.WAN, "zstd:9", Optional.of(DataRate.parse(link)), 2, true,
                    Forecast.unknown(H30, 3)), link + ": an unknown forecast is no advice");
        }
    }

    @Test
    void aForeseenRisePlansAtTheForecastMean() {
        Forecast slow = FixedPredictor.mbps(H30, 50, 40, 55, 0.8);
        Forecast fast = FixedPredictor.mbps(H30, 400, 300, 450, 0.8);
        assertEquals(level("zstd:9", "400Mbit/s"),
                controller().choose(Tier.WAN, "zstd:9", Optional.of(DataRate.parse("50Mbit/s")), 2, true, fast),
                "a foreseen rise lowers it before the faster link is measured");
        assertTrue(level("zstd:9", "400Mbit/s") < level("zstd:9", "50Mbit/s"));
        assertEquals(level("zstd:9", "50Mbit/s"), controller().choose(Tier.WAN, "zstd:9", Optional.empty(), 2, true, slow),
                "without a link rate the forecast alone plans");
    }

    @Test
    void aForeseenDropBuysAStrongerLevelOnlyAsFarAsTheCodecKeepsUpWithTheMeasuredLink() {
        // Measured 50 Mbit/s, forecast 10 Mbit/s with its P90 below the measured rate: the slower link pays for a
        // stronger level, and every level up to the ceiling keeps up with 50 Mbit/s.
        Forecast drop = FixedPredictor.mbps(H30, 10, 6, 14, 0.8);
        int planned = controller().choose(Tier.WAN, "zstd:9", Optional.of(DataRate.parse("50Mbit/s")), 2, true, drop);
        assertEquals(level("zstd:9", "10Mbit/s"), planned);
        assertTrue(planned > level("zstd:9", "50Mbit/s"), "got " + planned);
        // Measured 1 Gbit/s, forecast 5 Mbit/s: priced at 5 Mbit/s, but no level the codec could not run at 1 Gbit/s.
        LevelController c = controller();
        int capped = c.choose(Tier.WAN, "zstd:9", Optional.of(DataRate.parse("1Gbit/s")), 2, true,
                FixedPredictor.mbps(H30, 5, 3, 6, 0.8));
        assertTrue(capped > level("zstd:9", "1Gbit/s") && capped < level("zstd:9", "5Mbit/s"), "got " + capped);
        double linkBytesPerNano = DataRate.parse("1Gbit/s").bytesPerSecond() / 1e9;
        assertTrue(c.speed(capped) * 2 >= linkBytesPerNano * c.ratio(capped),
                "level " + capped + " keeps the codec faster than the measured link");
        assertTrue(c.speed(capped + 1) * 2 < linkBytesPerNano * c.ratio(capped + 1),
                "the next stronger level would not (so the cap is what stopped it)");
    }

    @Test
    void aForecastBelowTheMeasuredRateWhoseBandReachesItChangesNothing() {
        ManualClock clock = new ManualClock();
        LevelController advised = new LevelController(clock, Duration.ofSeconds(30), new HdeMetrics(clock));
        LevelController plain = new LevelController(clock, Duration.ofSeconds(30), new HdeMetrics(clock));
        // A wide band (P90 40 times the mean) does not make the codec plan for its top any more, and a mean below the
        // measured rate is no foreseen drop while the P90 is above it.
        Forecast wide = FixedPredictor.mbps(H30, 45, 10, 2000, 1);
        for (String link : new String[] {"50Mbit/s", "200Mbit/s", "1Gbit/s", "45Mbit/s"}) {
            assertEquals(plain.choose(Tier.WAN, "zstd:9", Optional.of(DataRate.parse(link)), 2, true, null),
                    advised.choose(Tier.WAN, "zstd:9", Optional.of(DataRate.parse(link)), 2, true, wide), link);
            clock.advance(Duration.ofSeconds(5));
        }
        assertEquals(level("zstd:9", "50Mbit/s"), controller().choose(Tier.WAN, "zstd:9",
                Optional.of(DataRate.parse("50Mbit/s")), 2, true, wide));
    }

    @Test
    void aForeseenRiseReplansBeforeTheAdjustIntervalEnds() {
        ManualClock clock = new ManualClock();
        LevelController c = new LevelController(clock, Duration.ofSeconds(30), new HdeMetrics(clock));
        Optional<DataRate> link = Optional.of(DataRate.parse("50Mbit/s"));
        int measured = level("zstd:9", "50Mbit/s");
        assertEquals(measured, c.choose(Tier.WAN, "zstd:9", link, 2, true, FixedPredictor.mbps(H30, 50, 40, 55, 0.9)));
        clock.advance(Duration.ofSeconds(5));
        assertEquals(measured, c.choose(Tier.WAN, "zstd:9", link, 2, true, FixedPredictor.mbps(H30, 55, 40, 60, 0.9)),
                "a 10 % move is held for the interval");
        int afterRise = c.choose(Tier.WAN, "zstd:9", link, 2, true, FixedPredictor.mbps(H30, 400, 300, 450, 0.9));
        assertEquals(level("zstd:9", "400Mbit/s"), afterRise, "a forecast rise to 400 Mbit/s re-plans at once");
        clock.advance(Duration.ofSeconds(5));
        assertEquals(afterRise, c.choose(Tier.WAN, "zstd:9", link, 2, true, null),
                "without advice the choice holds for the interval, as before");
    }
}
