package io.dwcp.consensus;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Three replica processes behind the fault proxy: a partition really cuts replica-to-replica links both ways (an
 * isolated leader is replaced; with the isolated replica and one more unreachable no quorum exists), and healing
 * restores the group without losing what was committed. The replicas serve reads with leader leases, and the cut-off
 * leader never answers a read with a value overwritten on the majority side.
 */
@Tag("ACP-2")
class PartitionProcessTest {
    private static final long WAIT_S = 30;

    @Test
    void anIsolatedLeaderIsReplacedAndAMinorityCannotCommit(@TempDir Path dir) throws Exception {
        try (ReplicaCluster cluster = new ReplicaCluster(dir, 3, "300ms", true)) {
            cluster.set("dwcp.consensus.read", "lease"); // replicas and clients: leader-lease reads
            cluster.startAll();
            RatisConsensus client = cluster.client("client-p", "20s");
            client.transferLeadership("n1", Duration.ofSeconds(20)).get(WAIT_S, TimeUnit.SECONDS);
            client.write("k", "v1").get(WAIT_S, TimeUnit.SECONDS);
            assertEquals("v1", client.readAt("k", "n1").get(WAIT_S, TimeUnit.SECONDS).value(), "the leader's lease read");

            cluster.proxy().partition(Set.of(0)); // n1 | n2 n3; clients still reach n1
            client.write("k", "v2").get(WAIT_S, TimeUnit.SECONDS);
            assertNotEquals("n1", client.leaderHint().orElseThrow(), "the majority side elected a new leader");
            // n1 may still believe it leads, but its lease ran out when the majority stopped acknowledging it: a read
            // sent to it is refused, redirected or answered with v2 — never with the overwritten v1.
            RatisConsensus impatient = cluster.client("client-q", "2s");
            try {
                assertEquals("v2", impatient.readAt("k", "n1").get(WAIT_S, TimeUnit.SECONDS).value(),
                        "a cut-off leader answered a read with an overwritten value");
            } catch (ExecutionException refusedOrTimedOut) {
                // no answer is not a stale answer
            }

            // n2 down as well: n3 cannot reach n1 through the partition, so nothing can commit.
            cluster.kill(1);
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> impatient.write("k", "v3").get(WAIT_S, TimeUnit.SECONDS));
            assertEquals(ErrorCode.QUORUM_UNAVAILABLE, DwcpException.find(e).code(), e.toString());

            // Heal: n1 and n3 form a quorum; v2 survived, and the indeterminate v3 either applied or not.
            cluster.proxy().heal();
            String seen = client.read("k").get(WAIT_S, TimeUnit.SECONDS).value();
            org.junit.jupiter.api.Assertions.assertTrue(seen.equals("v2") || seen.equals("v3"), seen);
            client.write("k", "v4").get(WAIT_S, TimeUnit.SECONDS);
            assertEquals("v4", client.read("k").get(WAIT_S, TimeUnit.SECONDS).value());
            // The client whose command exhausted its retries still works: Ratis closes a client's ordered request
            // window when a request fails that way, and every later command failed with CANCELLED until it was replaced.
            impatient.write("k", "v5").get(WAIT_S, TimeUnit.SECONDS);
            assertEquals("v5", impatient.read("k").get(WAIT_S, TimeUnit.SECONDS).value());
        }
    }
}
