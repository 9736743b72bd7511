package io.dwcp.consensus.check;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OwnershipCheckTest {
    private static Operation seen(int process, String key, String owner, long epoch) {
        return new Operation(process, Operation.Kind.READ, key, null, null, owner, false, epoch, Operation.Outcome.OK, 0, 1);
    }

    @Test
    void oneOwnerPerEpochHolds() {
        assertTrue(OwnershipCheck.conflicts(List.of(seen(1, "vm/a/owner", "s1", 5), seen(2, "vm/a/owner", "s1", 5),
                seen(3, "vm/a/owner", "s2", 9), seen(4, "vm/b/owner", "s2", 5)), "vm/").isEmpty());
    }

    @Test
    void twoOwnersInOneEpochAreReported() {
        List<String> c = OwnershipCheck.conflicts(List.of(seen(1, "vm/a/owner", "s1", 5), seen(2, "vm/a/owner", "s2", 5)), "vm/");
        assertEquals(List.of("vm/a/owner epoch 5: s1 (p1) vs s2 (p2)"), c);
    }

    @Test
    void keysOutsideThePrefixAndUnversionedObservationsAreIgnored() {
        assertTrue(OwnershipCheck.conflicts(List.of(seen(1, "plan", "x", 5), seen(2, "plan", "y", 5),
                seen(1, "vm/a/owner", "s1", 0), seen(2, "vm/a/owner", "s2", 0)), "vm/").isEmpty());
    }
}
