package io.dwcp.sync;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The membership set, the silence rule of automatic retirement, the stability table and the lag clock, without a network. */
@Tag("ASS-7")
class MembershipRulesTest {
    private static Membership cluster(ReplicatedStore store, String self, String... ids) {
        for (String id : ids) {
            new Membership(store, id).join();
        }
        return new Membership(store, self);
    }

    @Test
    void silentMembersAreRetiredOnlyByANodeThatHearsFromAMajority() {
        ReplicatedStore store = new ReplicatedStore("a@1", 1 << 20, 4);
        Membership m = cluster(store, "a", "a", "b", "c", "d", "e");
        StabilityTracker t = new StabilityTracker();
        assertEquals(List.of(), m.silent(t, 1_000, 500), "silence is measured from this node's first look at a member");
        t.heard("b", 10_000);
        t.heard("c", 10_000);
        assertEquals(List.of("d", "e"), m.silent(t, 10_000, 5_000), "a, b and c are three of five");

        StabilityTracker cutOff = new StabilityTracker();
        cutOff.lastHeardMillis("b", 1_000);
        cutOff.lastHeardMillis("c", 1_000);
        cutOff.lastHeardMillis("d", 1_000);
        cutOff.lastHeardMillis("e", 1_000);
        cutOff.heard("b", 10_000);
        assertEquals(List.of(), m.silent(cutOff, 10_000, 5_000), "a and b are two of five: a minority retires nobody");
    }

    @Test
    void retirementIsFinalAndTheRetiredIdCannotJoinAgain() {
        ReplicatedStore store = new ReplicatedStore("a@1", 1 << 20, 4);
        Membership a = cluster(store, "a", "a", "b");
        assertEquals(Set.of("b"), a.others());
        assertTrue(a.retire("b"));
        assertEquals(Set.of("a"), a.live());
        assertEquals(Set.of("b"), a.retired());
        assertTrue(a.isRetired("b"));
        DwcpException e = assertThrows(DwcpException.class, () -> new Membership(store, "b").join());
        assertEquals(ErrorCode.ILLEGAL_STATE, e.code());
        assertThrows(IllegalArgumentException.class, () -> a.retire("zed"));

        // the retirement replicates like any update: a replica that merges the set learns it
        ReplicatedStore other = new ReplicatedStore("c@1", 1 << 20, 4);
        other.mergeState(Membership.KEY, store.state(Membership.KEY));
        assertTrue(new Membership(other, "c").isRetired("b"));
    }

    @Test
    void stabilityNeedsASecondCompleteRoundAndEveryLiveMember() {
        StabilityTracker t = new StabilityTracker();
        StabilityTracker.RoundStart first = t.roundStarting("b", 10);
        t.roundSucceeded("b", first, true);
        assertEquals(10, t.heldByAll(List.of("b")));
        assertEquals(0, t.stableAtAll(List.of("b")), "b holds 10, but what b did before is not known here yet");
        StabilityTracker.RoundStart second = t.roundStarting("b", 20);
        t.roundSucceeded("b", second, false);
        assertEquals(0, t.stableAtAll(List.of("b")), "a round whose pull was cut short proves nothing");
        StabilityTracker.RoundStart third = t.roundStarting("b", 30);
        t.roundSucceeded("b", third, true);
        assertEquals(20, t.stableAtAll(List.of("b")));
        assertEquals(0, t.stableAtAll(List.of("b", "c")), "c never acknowledged anything");
        assertEquals(Long.MAX_VALUE, t.stableAtAll(List.of()), "alone, everything is stable");
        StabilityTracker.RoundStart unknown = t.roundStarting(null, 40); // the node at the address was not known yet
        t.roundSucceeded("c", unknown, true);
        assertEquals(40, t.heldByAll(List.of("c")));
        assertEquals(0, t.stableAtAll(List.of("c")), "b's acknowledgements say nothing about c");
        t.forget("b");
        t.forget("c");
        assertEquals(0, t.tracked());
    }

    @Test
    void theLagClockIsBoundedAndRecordsEachUpdateOnceAcknowledged() {
        long[] now = {0};
        ConvergenceLag lag = new ConvergenceLag(2, () -> now[0]);
        lag.updated(5);
        now[0] = 100;
        lag.updated(7);
        lag.updated(9); // over capacity: not sampled
        assertEquals(1, lag.unsampled());
        now[0] = 1_000;
        assertEquals(1, lag.acknowledged(6));
        assertEquals(1_000, lag.maxNanos());
        now[0] = 5_000;
        assertEquals(1, lag.acknowledged(100));
        assertEquals(4_900, lag.maxNanos());
        assertEquals(2, lag.samples());
        assertEquals(0, lag.waiting());
    }
}
