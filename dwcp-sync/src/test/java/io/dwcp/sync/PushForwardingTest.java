package io.dwcp.sync;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PushForwardingTest {
    private static List<String> names(String prefix, int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(prefix + i);
        }
        return out;
    }

    @Test
    void theOnePeerAPushMissesIsGivenToExactlyOneRecipient() {
        Map<String, List<String>> plan = PushForwarding.plan(42L, List.of("b", "c", "d"), List.of("e"), 3);
        assertEquals(1, plan.size());
        assertEquals(List.of("e"), plan.values().iterator().next());
        assertTrue(List.of("b", "c", "d").containsAll(plan.keySet()));
    }

    @Test
    void nothingIsPlannedWithoutRecipientsOrUncoveredPeers() {
        assertTrue(PushForwarding.plan(1L, List.of(), List.of("e"), 3).isEmpty());
        assertTrue(PushForwarding.plan(1L, List.of("b"), List.of(), 3).isEmpty());
    }

    @Test
    void peersBeyondTheRecipientsCapacityStayUncovered() {
        Map<String, List<String>> plan = PushForwarding.plan(7L, List.of("r0", "r1"), names("u", 9), 3);
        assertEquals(6, PushForwarding.covered(plan).size(), "two recipients forward to at most three peers each");
        plan.values().forEach(v -> assertEquals(3, v.size()));
    }

    @Property(tries = 300)
    void everyNodeComputesTheSamePlanAndNoPeerIsCoveredTwice(@ForAll long messageId, @ForAll @IntRange(min = 1, max = 6) int r,
                                                            @ForAll @IntRange(min = 0, max = 30) int u,
                                                            @ForAll @IntRange(min = 1, max = 16) int fanout) {
        List<String> recipients = names("node-r", r);
        List<String> uncovered = names("node-u", u);
        Map<String, List<String>> plan = PushForwarding.plan(messageId, recipients, uncovered, fanout);
        // another node sees the same names in another order
        List<String> r2 = new ArrayList<>(recipients);
        List<String> u2 = new ArrayList<>(uncovered);
        Collections.reverse(r2);
        Collections.reverse(u2);
        assertEquals(plan, PushForwarding.plan(messageId, r2, u2, fanout));
        Set<String> seen = new HashSet<>();
        for (Map.Entry<String, List<String>> e : plan.entrySet()) {
            assertTrue(recipients.contains(e.getKey()));
            assertTrue(e.getValue().size() <= fanout);
            for (String p : e.getValue()) {
                assertTrue(seen.add(p), p + " covered twice");
            }
        }
        assertEquals(Math.min(u, r * fanout), seen.size(), "every peer is covered while capacity lasts");
    }
}
