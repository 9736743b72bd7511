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
 * restores the group without losing what was committed.
 */
@Tag("ACP-2")
class PartitionProcessTest {
    private static final long WAIT_S = 30;

    @Test
    void anIsolatedLeaderIsReplacedAndAMinorityCannotCommit(@TempDir Path dir) throws Exception {
        try (ReplicaCluster cluster = new ReplicaCluster(dir, 3, "300ms", true)) {
            cluster.startAll();
            RatisConsensus client = cluster.client("client-p", "20s");
            client.transferLeadership("n1", Duration.ofSeconds(20)).get(WAIT_S, TimeUnit.SECONDS);
            client.write("k", "v1").get(WAIT_S, TimeUnit.SECONDS);

            cluster.proxy().partition(Set.of(0)); // n1 | n2 n3
            client.write("k", "v2").get(WAIT_S, TimeUnit.SECONDS);
            assertNotEquals("n1", client.leaderHint().orElseThrow(), "the majority side elected a new leader");

            // n2 down as well: n3 cannot reach n1 through the partition, so nothing can commit.
            RatisConsensus impatient = cluster.client("client-q", "2s");
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
