package io.dwcp.consensus;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HomeMovesTest {
    private static final long WINDOW = Duration.ofSeconds(30).toNanos();
    private static final long REMOTE = Duration.ofMillis(60).toNanos();
    private static final long LOCAL = Duration.ofMillis(8).toNanos();

    private final AtomicLong clock = new AtomicLong();

    private HomeMoves moves() {
        return new HomeMoves(new HomeMoves.Settings(Duration.ofSeconds(30), 0.7, 3, Duration.ofMinutes(5), 1.5), "b",
                clock::get);
    }

    /** Closes a window, 30 s after the last one. */
    private List<String> window(HomeMoves m) {
        clock.addAndGet(WINDOW);
        return m.evaluate();
    }

    private static void remoteOps(HomeMoves m, String key, int mine, int foreign) {
        for (int i = 0; i < mine; i++) {
            m.record(key, "a", i < foreign, REMOTE);
        }
    }

    @Test
    void aKeyUsedOnlyFromHereMovesAfterTheStableEvaluations() {
        HomeMoves m = moves();
        for (int w = 1; w <= 2; w++) {
            remoteOps(m, "k", 20, 0);
            m.record("other", "b", false, LOCAL);
            assertEquals(List.of(), window(m), "window " + w);
        }
        remoteOps(m, "k", 20, 0);
        assertEquals(List.of("k"), window(m));
    }

    @Test
    void aKeyAlsoWrittenElsewhereStays() {
        HomeMoves m = moves();
        for (int w = 0; w < 10; w++) {
            remoteOps(m, "k", 20, 10); // every other operation found another writer's change: locality 0.67 < 0.7
            assertEquals(List.of(), window(m));
        }
    }

    @Test
    void tooFewOperationsOrAnInterruptedStreakDoNotMoveIt() {
        HomeMoves m = moves();
        remoteOps(m, "k", 20, 0);
        window(m);
        remoteOps(m, "k", 20, 0);
        window(m);
        remoteOps(m, "k", HomeMoves.MIN_OPS - 1, 0);
        assertEquals(List.of(), window(m), "a thin window breaks the streak");
        remoteOps(m, "k", 20, 0);
        window(m);
        remoteOps(m, "k", 20, 0);
        window(m);
        remoteOps(m, "k", 20, 0);
        assertEquals(List.of("k"), window(m));
    }

    @Test
    void noMoveWithinTheMinimumIntervalOfTheLastOne() {
        HomeMoves m = moves();
        m.moved("k");
        for (int w = 0; w < 9; w++) {
            remoteOps(m, "k", 20, 0);
            assertEquals(List.of(), window(m), "5 minutes are 10 windows; window " + w);
        }
        remoteOps(m, "k", 20, 0);
        assertEquals(List.of("k"), window(m));
    }

    @Test
    void noBenefitNoMove() {
        HomeMoves m = moves();
        for (int w = 0; w < 5; w++) {
            for (int i = 0; i < 20; i++) {
                m.record("k", "a", false, LOCAL); // the remote home answers as fast as the local one
                m.record("x", "b", false, LOCAL);
            }
            assertEquals(List.of(), window(m));
        }
    }

    @Test
    void idleKeysAreForgottenAndTrackingIsBounded() {
        HomeMoves m = moves();
        for (int i = 0; i < HomeMoves.MAX_KEYS + 5; i++) {
            m.record("k" + i, "a", false, REMOTE);
        }
        assertEquals(HomeMoves.MAX_KEYS, m.tracked());
        window(m);
        window(m);
        assertEquals(0, m.tracked());
    }

    @Test
    void aMoveByAnotherNodeStartsTheMinimumIntervalToo() {
        HomeMoves m = moves();
        remoteOps(m, "k", 20, 0);
        m.record("k", "c", false, REMOTE); // the home went from a to c: someone moved it
        for (int w = 0; w < 9; w++) {
            remoteOps(m, "k", 20, 0);
            assertEquals(List.of(), window(m), "window " + w);
        }
        remoteOps(m, "k", 20, 0);
        assertEquals(List.of("k"), window(m));
    }

    @Test
    void settingsAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> new HomeMoves.Settings(Duration.ZERO, 0.7, 3, Duration.ZERO, 1.5));
        assertThrows(IllegalArgumentException.class, () -> new HomeMoves.Settings(Duration.ofSeconds(1), 1.1, 3, Duration.ZERO, 1.5));
        assertThrows(IllegalArgumentException.class, () -> new HomeMoves.Settings(Duration.ofSeconds(1), 0.7, 3, Duration.ZERO, 1.0));
        assertTrue(new HomeMoves.Settings(Duration.ofSeconds(1), 0.7, 1, Duration.ZERO, 1.5).stableEvaluations() == 1);
    }
}
