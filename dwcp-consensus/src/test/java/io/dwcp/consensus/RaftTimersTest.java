package io.dwcp.consensus;

import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.ComponentContext;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RaftTimersTest {
    private static final Duration MIN = Duration.ofMillis(150);
    private static final Duration MAX = Duration.ofSeconds(10);
    private static final Duration PROPOSAL = Duration.ofSeconds(5);

    @Test
    void withoutAMeasuredRttTheConfiguredTimersApply() {
        RaftTimers t = RaftTimers.derive(Optional.empty(), 10, MIN, MAX, PROPOSAL);
        assertEquals(MIN, t.electionMin());
        assertEquals(Duration.ofMillis(300), t.electionUpper());
        assertEquals(PROPOSAL, t.proposalTimeout());
    }

    @Test
    void aShortRttKeepsTheMinimum() {
        RaftTimers t = RaftTimers.derive(Optional.of(Duration.ofMillis(2)), 10, MIN, MAX, PROPOSAL);
        assertEquals(MIN, t.electionMin());
        assertEquals(PROPOSAL, t.proposalTimeout());
    }

    @Test
    void aWanRttStretchesTheElectionAndProposalTimeouts() {
        RaftTimers t = RaftTimers.derive(Optional.of(Duration.ofMillis(300)), 10, MIN, MAX, PROPOSAL);
        assertEquals(Duration.ofSeconds(3), t.electionMin());
        assertEquals(Duration.ofSeconds(6), t.electionUpper());
        assertEquals(Duration.ofSeconds(6), t.proposalTimeout(), "20 x 300 ms is above the configured 5 s");
    }

    @Test
    void theElectionTimeoutNeverExceedsTheMaximum() {
        RaftTimers t = RaftTimers.derive(Optional.of(Duration.ofSeconds(2)), 10, MIN, MAX, PROPOSAL);
        assertEquals(MAX, t.electionMin());
        assertTrue(t.electionUpper().compareTo(t.electionMin()) > 0, "Ratis needs max > min");
        assertEquals(Duration.ofSeconds(40), t.proposalTimeout());
    }

    @Test
    void misusedArgumentsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> RaftTimers.derive(Optional.empty(), 10, MAX, MIN, PROPOSAL));
        assertThrows(IllegalArgumentException.class, () -> RaftTimers.derive(Optional.empty(), 0, MIN, MAX, PROPOSAL));
    }

    @Test
    void aListeningAndARefusingPortAreBothMeasuredOnLoopback() throws Exception {
        String host = InetAddress.getLoopbackAddress().getHostAddress();
        int closedPort;
        try (ServerSocket gone = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = gone.getLocalPort();
        }
        try (ServerSocket listening = new ServerSocket(0, 8, InetAddress.getLoopbackAddress())) {
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            Optional<Duration> up = RaftTimers.probe(host + ":" + listening.getLocalPort(), deadline);
            Optional<Duration> refused = RaftTimers.probe(host + ":" + closedPort, deadline);
            assertTrue(up.isPresent() && !up.get().isNegative(), "a listening port answers: " + up);
            assertTrue(refused.isPresent(), "a port nobody listens on answers with RST after one round trip");
            Optional<Duration> max = RaftTimers.measureMaxRtt(List.of(host + ":" + listening.getLocalPort(),
                    host + ":" + closedPort), Duration.ofSeconds(5));
            assertTrue(max.isPresent());
        }
    }

    @Test
    void aStartedClientMeasuresItsVotersAndKeepsTheConfiguredFloor() throws Exception {
        DwcpConfig config = DwcpConfig.builder().set("dwcp.node-id", "client-x")
                .set("dwcp.consensus.peers", "n1@127.0.0.1:1,n2@127.0.0.1:2,n3@127.0.0.1:3")
                .set("dwcp.consensus.election.min", "150ms").build();
        RatisConsensus c = new RatisConsensus(ComponentContext.standalone(config, new SimpleMeterRegistry(), 1));
        c.start();
        try {
            RaftTimers t = c.timers().orElseThrow();
            assertTrue(t.maxVoterRtt().isPresent(), "refused loopback ports answer: " + t);
            assertTrue(t.maxVoterRtt().get().compareTo(Duration.ofSeconds(2)) < 0, t.toString());
            // On an idle host a loopback RTT x 10 stays below election.min; on a busy one scheduling delay can lengthen
            // it: either way the timers are the rule applied to what was measured.
            assertEquals(RaftTimers.derive(t.maxVoterRtt(), 10, MIN, MAX, PROPOSAL), t);
            assertTrue(t.electionMin().compareTo(MIN) >= 0);
        } finally {
            c.stop();
        }
        assertFalse(c.timers().isPresent());
    }

    @Test
    void nothingToMeasureGivesNoRtt() {
        assertFalse(RaftTimers.measureMaxRtt(List.of(), Duration.ofSeconds(1)).isPresent());
        assertThrows(IllegalArgumentException.class, () -> RaftTimers.probe("no-port", System.nanoTime()));
    }

    @Test
    void anAgreedTimeoutMovesByBoundedStepsAndOnlyPastTheHysteresis() {
        Duration ms300 = Duration.ofMillis(300);
        assertEquals(Optional.of(Duration.ofMillis(450)), RaftTimers.nextAgreed(ms300, Duration.ofSeconds(1)), "at most 1.5x up");
        assertEquals(Optional.of(Duration.ofMillis(200)), RaftTimers.nextAgreed(ms300, Duration.ofMillis(100)), "at most 1.5x down");
        assertEquals(Optional.of(Duration.ofMillis(400)), RaftTimers.nextAgreed(ms300, Duration.ofMillis(400)), "to the wanted value");
        assertEquals(Optional.empty(), RaftTimers.nextAgreed(ms300, Duration.ofMillis(350)), "within 20 %: no commit");
        assertEquals(Optional.empty(), RaftTimers.nextAgreed(ms300, ms300));
        assertThrows(IllegalArgumentException.class, () -> RaftTimers.nextAgreed(Duration.ZERO, ms300));
    }

    @Test
    void aVoterStartsWithTheAgreedTimeoutClampedToItsBounds() {
        assertEquals(MIN, RaftTimers.startingElectionMin(Optional.empty(), MIN, MAX));
        assertEquals(MIN, RaftTimers.startingElectionMin(Optional.of(Duration.ofMillis(20)), MIN, MAX), "never below election.min");
        assertEquals(Duration.ofMillis(700), RaftTimers.startingElectionMin(Optional.of(Duration.ofMillis(700)), MIN, MAX));
        assertEquals(MAX.minusMillis(1), RaftTimers.startingElectionMin(Optional.of(Duration.ofMinutes(1)), MIN, MAX), "below election.max");
    }
}
