package io.dwcp.consensus;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.spi.Consensus.CasResult;
import io.dwcp.core.spi.Consensus.Versioned;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Three replicas in three JVM processes on loopback: the group elects a leader, replicates, fences hand-overs,
 * survives SIGKILL of its leader, and a killed replica restarted from its data directory rejoins with the log it
 * persisted (it is then needed for the quorum, so a lost entry would show). Reads take the read-index path (no log
 * entry) by default and the log path when configured; a read-only request that is not a READ is refused.
 */
@Tag("ACP-2")
class RaftGroupProcessTest {
    private static final long WAIT_S = 30;
    private static final int READS = 20;

    @Test
    void electsReplicatesSurvivesLeaderKillAndRecoversFromTheLog(@TempDir Path dir) throws Exception {
        try (ReplicaCluster cluster = new ReplicaCluster(dir, 3, "300ms")) {
            cluster.startAll();
            RatisConsensus client = cluster.client("client-1", "20s");

            // Replication and the fenced hand-over.
            CasResult first = client.handOver("vm-1", null, "site-a").get(WAIT_S, TimeUnit.SECONDS);
            assertTrue(first.applied());
            CasResult moved = client.handOver("vm-1", "site-a", "site-b").get(WAIT_S, TimeUnit.SECONDS);
            assertTrue(moved.applied());
            assertTrue(moved.current().version() > first.current().version(), "fencing tokens grow");
            CasResult stale = client.handOver("vm-1", "site-a", "site-c").get(WAIT_S, TimeUnit.SECONDS);
            assertFalse(stale.applied(), "the old owner's view is stale");
            assertEquals(moved.current(), stale.current());

            // Leader transfer to a chosen replica, then SIGKILL of that leader.
            transferTo(client, "n1");
            client.write("k", "before-kill").get(WAIT_S, TimeUnit.SECONDS);
            assertEquals("n1", client.leaderHint().orElseThrow());
            cluster.kill(0);
            Versioned afterKill = client.write("k", "after-kill").get(WAIT_S, TimeUnit.SECONDS);
            assertEquals("after-kill", client.read("k").get(WAIT_S, TimeUnit.SECONDS).value());
            assertTrue(!client.leaderHint().orElseThrow().equals("n1"), "a new leader was elected");

            // n1 restarts from its data directory; then n2 and n3 take turns being down, so every commit needs n1.
            cluster.restart(0);
            transferTo(client, "n1"); // n1 must first catch up with the log it missed
            cluster.kill(1);
            assertEquals(afterKill, client.read("k").get(WAIT_S, TimeUnit.SECONDS), "n1 holds the committed log");
            assertEquals(moved.current(), client.owner("vm-1").get(WAIT_S, TimeUnit.SECONDS));
            client.write("k", "with-n1-n3").get(WAIT_S, TimeUnit.SECONDS);
            cluster.restart(1);
            cluster.kill(2);
            assertEquals("with-n1-n3", client.read("k").get(WAIT_S, TimeUnit.SECONDS).value());
        }
    }

    /**
     * Transfers the leadership to {@code id}. A transfer times out when the target does not catch up or an election
     * intervenes, which a loaded machine makes likely: a timed-out transfer is asked again (three attempts), as an
     * operator would; any other failure fails the test.
     */
    private static void transferTo(RatisConsensus client, String id) throws Exception {
        for (int attempt = 1; ; attempt++) {
            try {
                client.transferLeadership(id, Duration.ofSeconds(20)).get(WAIT_S, TimeUnit.SECONDS);
                return;
            } catch (ExecutionException e) {
                if (attempt == 3 || !String.valueOf(e.getCause()).contains("TransferLeadershipException")) {
                    throw e;
                }
            }
        }
    }

    @Test
    void badInputIsRefusedARetryIsAppliedOnceAndALoneReplicaFindsNoQuorum(@TempDir Path dir) throws Exception {
        try (ReplicaCluster cluster = new ReplicaCluster(dir, 3, "300ms")) {
            cluster.startAll();
            RatisConsensus client = cluster.client("client-2", "20s");
            ExecutionException tooBig = assertThrows(ExecutionException.class,
                    () -> client.write("k", "x".repeat(2 << 20)).get(WAIT_S, TimeUnit.SECONDS));
            assertEquals(ErrorCode.LIMIT_EXCEEDED, DwcpException.find(tooBig).code());

            ExecutionException malformed = assertThrows(ExecutionException.class,
                    () -> client.sendRaw(new byte[]{1, 9, 0}).get(WAIT_S, TimeUnit.SECONDS));
            assertEquals(ErrorCode.PROTOCOL_ERROR, DwcpException.find(malformed).code(), malformed.toString());
            assertEquals(Versioned.absent(), client.read("k").get(WAIT_S, TimeUnit.SECONDS), "nothing applied");
            // A read-only request carrying a write is refused by the state machine's query: nothing applied.
            byte[] sneaked = new Command(Command.Type.WRITE, 1, 2, 1, "k", null, "sneaked").encode();
            ExecutionException notARead = assertThrows(ExecutionException.class,
                    () -> client.sendRawReadOnly(sneaked).get(WAIT_S, TimeUnit.SECONDS));
            assertEquals(ErrorCode.PROTOCOL_ERROR, DwcpException.find(notARead).code(), notARead.toString());
            assertEquals(Versioned.absent(), client.read("k").get(WAIT_S, TimeUnit.SECONDS), "nothing applied");

            // Read paths: read-index reads (the default) take no log entry, log reads one each. Versions are log
            // indexes, so the gap between two writes counts the entries between them (elections add one no-op each).
            RatisConsensus logReads = cluster.client("client-2log", "20s", cluster.peers(), java.util.Map.of("dwcp.consensus.read", "log"));
            Versioned first = client.write("k", "v1").get(WAIT_S, TimeUnit.SECONDS);
            for (int i = 0; i < READS; i++) {
                assertEquals(first, client.read("k").get(WAIT_S, TimeUnit.SECONDS));
            }
            Versioned second = client.write("k", "v2").get(WAIT_S, TimeUnit.SECONDS);
            assertTrue(second.version() - first.version() < READS,
                    () -> "read-index reads took log entries: versions " + first.version() + " -> " + second.version());
            for (int i = 0; i < READS; i++) {
                assertEquals(second, logReads.read("k").get(WAIT_S, TimeUnit.SECONDS));
            }
            Versioned third = logReads.write("k", "v3").get(WAIT_S, TimeUnit.SECONDS);
            assertTrue(third.version() - second.version() > READS,
                    () -> "log reads took no log entries: versions " + second.version() + " -> " + third.version());

            // A retried (client id, sequence) is applied once and answered with the original result.
            CasResult original = client.compareAndSet("vm/x/owner", null, "site-a", 77).get(WAIT_S, TimeUnit.SECONDS);
            assertTrue(original.applied());
            client.compareAndSet("vm/x/owner", "site-a", "site-b").get(WAIT_S, TimeUnit.SECONDS);
            CasResult retried = client.compareAndSet("vm/x/owner", null, "site-a", 77).get(WAIT_S, TimeUnit.SECONDS);
            assertEquals(original, retried);
            assertEquals("site-b", client.owner("x").get(WAIT_S, TimeUnit.SECONDS).value());
            assertEquals("v3", client.read("k").get(WAIT_S, TimeUnit.SECONDS).value());

            RatisConsensus impatient = cluster.client("client-2b", "1500ms");
            cluster.kill(1);
            cluster.kill(2);
            ExecutionException noQuorum = assertThrows(ExecutionException.class,
                    () -> impatient.write("k", "v").get(WAIT_S, TimeUnit.SECONDS));
            assertEquals(ErrorCode.QUORUM_UNAVAILABLE, DwcpException.find(noQuorum).code(), noQuorum.toString());
            assertEquals(io.dwcp.core.Health.Status.DEGRADED, impatient.health().status());
        }
    }
}
