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

    private static final String VM = "vm/vm-1/owner";

    private static Operation read(int process, String owner, long epoch, long call, long ret) {
        return new Operation(process, Operation.Kind.READ, VM, null, null, owner, false, epoch, Operation.Outcome.OK, call, ret);
    }

    private static Operation handOver(int process, String from, String to, long call, long ret) {
        return new Operation(process, Operation.Kind.CAS, VM, from, to, to, true, ret, Operation.Outcome.OK, call, ret);
    }

    /** A: site-a's agent (p1), B: site-b's (p2), C: site-c's (p3); each hands over only from its own site. */
    @Test
    void handOversInSequenceNeverOverlap() {
        List<Operation> h = List.of(
                new Operation(1, Operation.Kind.CAS, VM, null, "site-a", "site-a", true, 3, Operation.Outcome.OK, 0, 10),
                handOver(1, "site-a", "site-b", 20, 30),
                read(2, "site-b", 30, 25, 40),
                handOver(2, "site-b", "site-c", 50, 60),
                read(3, "site-c", 60, 55, 65),
                handOver(3, "site-c", "site-a", 70, 80),
                read(1, "site-a", 80, 75, 90));
        assertEquals(List.of(), OwnershipCheck.overlaps(h, "vm/"));
    }

    @Test
    void aStaleReadThatRestartsAnOldOwnerIsReported() {
        List<Operation> h = List.of(
                handOver(2, "site-b", "site-c", 50, 60),
                read(3, "site-c", 60, 55, 65),
                read(2, "site-b", 30, 70, 80), // stale: site-b gave the VM away at 60
                handOver(3, "site-c", "site-a", 200, 210));
        assertEquals(List.of(VM + ": site-c (p3) ran [65, 200] ns and site-b (p2) [80, end]"), OwnershipCheck.overlaps(h, "vm/"));
    }

    @Test
    void resumingAfterAnIndeterminateHandOverIsReported() {
        // site-b's hand-over is indeterminate, site-b reads itself as owner and resumes; the hand-over applies later.
        List<Operation> h = List.of(
                read(2, "site-b", 30, 25, 40),
                new Operation(2, Operation.Kind.CAS, VM, "site-b", "site-c", null, false, 0, Operation.Outcome.INFO, 50, 0),
                read(2, "site-b", 30, 60, 70),
                read(3, "site-c", 90, 80, 95),
                handOver(3, "site-c", "site-a", 300, 310));
        assertEquals(1, OwnershipCheck.overlaps(h, "vm/").size(), () -> OwnershipCheck.overlaps(h, "vm/").toString());
    }

    @Test
    void processesActingForSeveralSitesOrNoneAreNotAgents() {
        List<Operation> h = List.of(
                handOver(4, "site-a", "site-b", 0, 10), handOver(4, "site-b", "site-a", 20, 30), read(4, "site-a", 30, 40, 50),
                read(5, "site-b", 10, 12, 60));
        assertEquals(List.of(), OwnershipCheck.overlaps(h, "vm/"));
    }
}
