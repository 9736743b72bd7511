package io.dwcp.consensus;

import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.ComponentContext;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Agreed election timers on a one-voter group in this JVM: a measured RTT commits the next agreed timeout through
 * the log, the replica re-opens its division with it live, keeps the committed value beside its log, ignores a value
 * that is no timeout, and starts with the agreed value next time. (Every voter applies the same entry, so voters agree by construction; what a group of
 * several processes does with its timers is covered by the process tests, which run the configured ones.)
 */
@Tag("ACP-7")
class AgreedTimersTest {
    private static final long WAIT_S = 60;

    @Test
    void aCommittedTimeoutIsKeptBesideTheLogAndTakenAtTheNextStart(@TempDir Path dir) throws Exception {
        try (PortReservation ports = new PortReservation()) {
            DwcpConfig config = DwcpConfig.builder()
                    .set("dwcp.node-id", "n1")
                    .set("dwcp.consensus.peers", "n1@127.0.0.1:" + ports.next())
                    .set("dwcp.consensus.storage-dir", dir.toString())
                    .set("dwcp.consensus.election.min", "300ms")
                    .set("dwcp.consensus.election.rtt-multiple", "10")
                    .build();
            Path kept = dir.resolve(RegisterStateMachine.AGREED_TIMERS_FILE);
            RatisConsensus first = new RatisConsensus(ComponentContext.standalone(config, new SimpleMeterRegistry(), 1));
            first.start();
            try {
                CheckClients.awaitFirstCommit(first, Duration.ofSeconds(WAIT_S));
                assertEquals(Optional.of(Duration.ofMillis(300)), first.electionMinInForce(), "configured before any agreement");
                // 100 ms RTT x 10 wants 1 s: steps of at most 1.5x, 300 -> 450 -> 675 ms.
                assertEquals(Optional.of(Duration.ofMillis(450)), first.agreeTimers(Duration.ofMillis(100)).get(WAIT_S, TimeUnit.SECONDS));
                assertEquals(Optional.of(Duration.ofMillis(675)), first.agreeTimers(Duration.ofMillis(100)).get(WAIT_S, TimeUnit.SECONDS));
                assertEquals(Optional.empty(), first.agreeTimers(Duration.ofMillis(65)).get(WAIT_S, TimeUnit.SECONDS), "650 ms is within 20 %");
                assertEquals("675", first.read(RegisterStateMachine.AGREED_TIMERS_KEY).get(WAIT_S, TimeUnit.SECONDS).value());
                assertEquals("675", Files.readString(kept), "kept beside the log");
                first.write(RegisterStateMachine.AGREED_TIMERS_KEY, "soon").get(WAIT_S, TimeUnit.SECONDS);
                assertEquals("675", Files.readString(kept), "a value that is no timeout is ignored");
                first.write(RegisterStateMachine.AGREED_TIMERS_KEY, "675").get(WAIT_S, TimeUnit.SECONDS);
                // Live: the replica re-opened its division with the agreed timers, without a restart, and still commits.
                assertTrue(first.awaitElectionMin(Duration.ofMillis(675), Duration.ofSeconds(WAIT_S)),
                        "in force: " + first.electionMinInForce());
                first.write("after-retime", "x").get(WAIT_S, TimeUnit.SECONDS);
                assertEquals("x", first.read("after-retime").get(WAIT_S, TimeUnit.SECONDS).value());
                assertEquals("675", first.read(RegisterStateMachine.AGREED_TIMERS_KEY).get(WAIT_S, TimeUnit.SECONDS).value(),
                        "the re-opened division recovered its state from the log");
            } finally {
                first.stop();
            }
            RatisConsensus second = new RatisConsensus(ComponentContext.standalone(config, new SimpleMeterRegistry(), 1));
            second.start();
            try {
                assertEquals(Optional.of(Duration.ofMillis(675)), second.electionMinInForce(), "the agreed value at the next start");
                CheckClients.awaitFirstCommit(second, Duration.ofSeconds(WAIT_S));
                assertEquals("x", second.read("after-retime").get(WAIT_S, TimeUnit.SECONDS).value());
            } finally {
                second.stop();
            }
        }
    }
}
