package io.dwcp.consensus.check;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Random;

import static io.dwcp.consensus.check.Operation.cas;
import static io.dwcp.consensus.check.Operation.read;
import static io.dwcp.consensus.check.Operation.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Known-linearizable and known-non-linearizable histories, and generated ones whose verdict is known by construction. */
class LinearizabilityCheckerTest {
    private final LinearizabilityChecker checker = new LinearizabilityChecker();

    private boolean ok(Operation... ops) {
        return checker.check(List.of(ops)).linearizable();
    }

    @Test
    void sequentialWritesAndReadsAreLinearizable() {
        assertTrue(ok(write(1, "k", "a", 0, 10), read(2, "k", "a", 20, 30), write(1, "k", "b", 40, 50), read(2, "k", "b", 60, 70)));
    }

    @Test
    void aReadBeforeAnyWriteSeesAbsent() {
        assertTrue(ok(read(1, "k", null, 0, 10), write(2, "k", "a", 20, 30)));
        assertFalse(ok(read(1, "k", "a", 0, 10), write(2, "k", "a", 20, 30)), "read of a value not yet written");
    }

    @Test
    void staleReadIsNotLinearizable() {
        // The classic stale read: b was acknowledged before the read started, yet the read returns a.
        assertFalse(ok(write(1, "k", "a", 0, 10), write(1, "k", "b", 20, 30), read(2, "k", "a", 40, 50)));
    }

    @Test
    void aReadConcurrentWithAWriteMaySeeEitherValue() {
        assertTrue(ok(write(1, "k", "a", 0, 10), write(1, "k", "b", 20, 50), read(2, "k", "a", 30, 40)));
        assertTrue(ok(write(1, "k", "a", 0, 10), write(1, "k", "b", 20, 50), read(2, "k", "b", 30, 40)));
    }

    @Test
    void readsMustNotGoBackInTime() {
        // Both reads overlap the write, but once one read saw b, a later read cannot see a again.
        assertFalse(ok(write(1, "k", "a", 0, 10), write(1, "k", "b", 20, 100), read(2, "k", "b", 30, 40), read(3, "k", "a", 50, 60)));
    }

    @Test
    void lostUpdateIsNotLinearizable() {
        // The classic lost update: two concurrent CAS from the same expected value both report success.
        assertFalse(ok(write(1, "k", "0", 0, 10), cas(2, "k", "0", "1", true, 20, 40), cas(3, "k", "0", "2", true, 25, 45)));
        assertTrue(ok(write(1, "k", "0", 0, 10), cas(2, "k", "0", "1", true, 20, 40), cas(3, "k", "0", "2", false, 25, 45)));
    }

    @Test
    void aCasThatFailedMustHaveSeenAnotherValue() {
        assertFalse(ok(write(1, "k", "0", 0, 10), cas(2, "k", "0", "1", false, 20, 30)));
        assertTrue(ok(cas(2, "k", null, "1", true, 0, 10), cas(3, "k", null, "2", false, 20, 30), read(1, "k", "1", 40, 50)));
    }

    @Test
    void lostAcknowledgedWriteIsNotLinearizable() {
        assertFalse(ok(write(1, "k", "a", 0, 10), read(2, "k", null, 20, 30)));
    }

    @Test
    void anIndeterminateWriteMayTakeEffectLateOrNever() {
        Operation w = write(1, "k", "a", 0, 1).indeterminate();
        assertTrue(ok(w, read(2, "k", null, 10, 20)), "never");
        assertTrue(ok(w, read(2, "k", null, 10, 20), read(2, "k", "a", 30, 40)), "after the first read");
        assertFalse(ok(w, read(2, "k", "a", 10, 20), read(2, "k", null, 30, 40)), "took effect, then vanished");
        assertFalse(ok(read(2, "k", "a", 0, 5), write(1, "k", "a", 10, 20).indeterminate()), "before its call");
    }

    @Test
    void anIndeterminateCasAppliesOnlyWhenItsExpectedValueMatches() {
        Operation c = cas(1, "k", "x", "y", false, 0, 1).indeterminate();
        assertFalse(ok(write(2, "k", "a", 0, 5), c, read(3, "k", "y", 10, 20)), "expected x never held");
        assertTrue(ok(write(2, "k", "x", 0, 5), c, read(3, "k", "y", 10, 20)));
    }

    @Test
    void failedOperationsNeverTookEffect() {
        Operation failed = new Operation(1, Operation.Kind.WRITE, "k", null, "a", null, false, 0, Operation.Outcome.FAIL, 0, 10);
        assertFalse(ok(failed, read(2, "k", "a", 20, 30)));
    }

    @Test
    void historiesArePartitionedByKeyAndTheFailingKeyIsNamed() {
        LinearizabilityChecker.Result r = checker.check(List.of(write(1, "a", "1", 0, 10), read(2, "a", "1", 20, 30),
                write(1, "b", "1", 0, 10), write(1, "b", "2", 20, 30), read(2, "b", "1", 40, 50)));
        assertFalse(r.linearizable());
        assertEquals("b", r.failingKey());
        assertEquals(3, r.failingHistory().size());
    }

    @Test
    void aFailingHistoryShrinksToTheAnomaly() {
        List<Operation> ops = new ArrayList<>();
        long t = 0;
        for (int i = 0; i < 20; i++, t += 100) { // a long linearizable prefix
            ops.add(write(1, "k", "x" + i, t, t + 10));
            ops.add(read(2, "k", "x" + i, t + 20, t + 30));
        }
        Operation a = write(3, "k", "a", t, t + 10);
        Operation b = write(3, "k", "b", t + 20, t + 30);
        Operation stale = read(4, "k", "a", t + 40, t + 50);
        ops.addAll(List.of(a, b, stale));
        ops.add(read(5, "k", "b", t + 60, t + 70));
        List<Operation> min = checker.minimize(ops, 10_000);
        assertEquals(List.of(a, b, stale), min);
        assertThrows(IllegalArgumentException.class, () -> checker.minimize(List.of(a, b), 100));
        // A lost update keeps the write that both CAS expected: the anomaly needs all three.
        Operation w0 = write(1, "k", "0", 0, 10);
        Operation c1 = cas(2, "k", "0", "1", true, 20, 40);
        Operation c2 = cas(3, "k", "0", "2", true, 25, 45);
        assertEquals(List.of(w0, c1, c2), checker.minimize(List.of(w0, read(4, "k", "0", 12, 15), c1, c2), 1000));
    }

    @Test
    void shrinkingNeverDropsTheWriteARecordedVersionPointsTo() {
        Operation w1 = versioned(Operation.Kind.WRITE, 1, "x", 1, 0, 10);
        Operation r1 = versioned(Operation.Kind.READ, 2, "x", 1, 20, 30);
        Operation w2 = versioned(Operation.Kind.WRITE, 1, "y", 2, 40, 50);
        Operation w3 = versioned(Operation.Kind.WRITE, 1, "x", 3, 60, 70);
        Operation stale = versioned(Operation.Kind.READ, 3, "y", 2, 80, 90);
        // Without provenance, {r1, w3} would "fail" too: a read of x before x's only remaining write.
        assertEquals(List.of(w2, w3, stale), checker.minimize(List.of(w1, r1, w2, w3, stale), 1000));
    }

    private static Operation versioned(Operation.Kind kind, int process, String v, long version, long call, long ret) {
        return new Operation(process, kind, "k", null, kind == Operation.Kind.READ ? null : v, v, false, version,
                Operation.Outcome.OK, call, ret);
    }

    @Test
    void theSearchIsBoundedByMaxStates() {
        List<Operation> ops = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            ops.add(write(i, "k", "v" + i, 0, 100)); // all concurrent: many interleavings
        }
        ops.add(read(99, "k", "never-written", 200, 300));
        assertThrows(IllegalStateException.class, () -> new LinearizabilityChecker(50).check(ops));
        assertFalse(checker.check(ops).linearizable(), "memoisation keeps the full search small");
    }

    /**
     * A history produced by a real register where each operation takes effect at one instant inside its interval is
     * linearizable; the same history with one read result changed to a value never written is not.
     */
    @Property(tries = 200)
    void historiesOfARealRegisterAreLinearizableAndACorruptedReadIsNot(@ForAll @LongRange(min = 0, max = 1L << 40) long seed,
                                                                         @ForAll @IntRange(min = 1, max = 40) int count) {
        Random rnd = new Random(seed);
        List<Operation> ops = new ArrayList<>();
        String state = null;
        int firstRead = -1;
        for (int i = 0; i < count; i++) {
            long at = 100L * (i + 1);
            long call = at - rnd.nextInt(250);
            long ret = at + rnd.nextInt(250);
            int process = i; // one operation per process keeps per-process order trivially valid
            switch (rnd.nextInt(3)) {
                case 0 -> {
                    ops.add(read(process, "k", state, call, ret));
                    firstRead = firstRead < 0 ? ops.size() - 1 : firstRead;
                }
                case 1 -> {
                    state = "v" + rnd.nextInt(3);
                    ops.add(write(process, "k", state, call, ret));
                }
                default -> {
                    String expected = rnd.nextBoolean() ? state : "v" + rnd.nextInt(3);
                    boolean applied = Objects.equals(expected, state);
                    String value = "v" + rnd.nextInt(3);
                    state = applied ? value : state;
                    ops.add(cas(process, "k", expected, value, applied, call, ret));
                }
            }
        }
        assertTrue(checker.check(ops).linearizable(), ops::toString);
        if (firstRead >= 0) {
            Operation r = ops.get(firstRead);
            ops.set(firstRead, read(r.process(), "k", "never-written", r.callNanos(), r.returnNanos()));
            assertFalse(checker.check(ops).linearizable(), ops::toString);
        }
    }
}
