package io.dwcp.consensus;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Membership change, one replica at a time, with replica processes: n4 joins a group of n1–n3 and catches up, n1
 * leaves; with n1 gone and n2 killed, only n3 and n4 remain, and they still commit — so n4 is a real voter holding
 * the log. Under {@code -Pslow} only, to keep the default build's process tests under a minute and a half.
 */
@Tag("ACP-2")
@Tag("slow")
class MembershipProcessTest {
    private static final long WAIT_S = 30;

    @Test
    void aJoinedReplicaVotesAndARemovedOneIsNotNeeded(@TempDir Path dir) throws Exception {
        try (ReplicaCluster cluster = new ReplicaCluster(dir, 4, "300ms")) {
            String first3 = cluster.peers(0, 3);
            for (int i = 0; i < 3; i++) {
                cluster.launch(i, first3);
            }
            for (int i = 0; i < 3; i++) {
                cluster.awaitReady(i);
            }
            RatisConsensus client = cluster.client("client-m", "20s", first3);
            client.write("k", "v1").get(WAIT_S, TimeUnit.SECONDS);

            cluster.launch(3, cluster.peers(0, 4));
            cluster.awaitReady(3);
            client.setVoters(cluster.peers(0, 4)).get(WAIT_S, TimeUnit.SECONDS);   // add n4
            client.setVoters(cluster.peers(1, 4)).get(WAIT_S, TimeUnit.SECONDS);   // remove n1
            cluster.kill(0);
            cluster.kill(1);

            assertEquals("v1", client.read("k").get(WAIT_S, TimeUnit.SECONDS).value());
            client.write("k", "v2").get(WAIT_S, TimeUnit.SECONDS);
            assertEquals("v2", client.read("k").get(WAIT_S, TimeUnit.SECONDS).value());
        }
    }
}
