package io.dwcp.sync;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Replication between separate JVM processes over real loopback sockets, each link behind a fault-injecting proxy
 * ({@link SyncScenario}): delays and connection resets, duplicated and reordered messages, a partition with writes on both sides, kill -9 and restart of
 * a replica, heal. Every replica must end with identical canonical state, equal to the model.
 */
class MultiProcessSyncTest {
    @Test
    @Tag("ASS-5")
    void threeProcessesConvergeAfterPartitionKillAndFaults() throws Exception {
        // 40 % of messages sent twice: with delta gossip a fast run sends only a few dozen messages, and at the
        // scenario's 5 % none might be duplicated, so the seen-cache would go untested.
        SyncScenario.Result r = SyncScenario.run(3, 42, 4, 100, java.time.Duration.ofMillis(1600),
                FaultSpec.parse("partition=2,kill=0,delay=5ms,reset=0.01,drop=0.01,dup=0.4,reorder=0.1", 3), List.of(),
                Path.of("target", "sync-processes", "seed-42"), 30_000);
        assertTrue(r.convergenceMillis() >= 0, "did not converge: " + r);
        assertEquals(0, r.divergentReplicas(), r.toString());
        assertEquals(0, r.divergentKeys(), r.toString());
        // Not asserted: whether a read bounded by max-staleness succeeds 2 x max-staleness after the heal depends on
        // how fast a restarted JVM's handshakes complete on this machine. It is a benchmark figure (sync-bench's
        // stalenessViolations), not a condition of the protocol's correctness.
        assertEquals(List.of(), r.modelViolations());
        assertTrue(r.ops() > 100);
        for (int type = 0; type < AllTypes.PREFIXES.size(); type++) {
            assertTrue(r.opsByType()[type] > 0, "the workload issued no " + AllTypes.prefix(type) + " operation");
        }
        assertTrue(r.duplicatesReceived() > 0, "duplicates (injected and from rumours) reached the seen-cache: " + r);
    }

    @Test
    void antiEntropyRepairsAFewDifferingKeysWithAFractionOfAFlatDigest() throws Exception {
        List<SyncScenario.TreeVsFlat> r = SyncScenario.antiEntropyTreeVsFlat(20_000, 20, 1, 1,
                Path.of("target", "sync-processes", "ae"), "256m");
        assertEquals(1, r.size(), r.toString());
        SyncScenario.TreeVsFlat c = r.get(0);
        assertTrue(c.repaired(), c.toString());
        assertTrue(c.treeBytes() > 0 && c.treeBytes() < c.flatResponderBytes() / 5, c.toString());
    }
}
