package io.dwcp.consensus;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Linearizability and hand-over safety of a 3-process group under SIGKILL, network partition and SIGSTOP of the leader,
 * checked on the recorded history. The default build runs one short seed; {@code -Pslow} adds a longer campaign.
 */
@Tag("ACP-2")
class LinearizabilityProcessTest {
    @Test
    void historyUnderLeaderKillsIsLinearizableWithOneOwnerPerEpoch(@TempDir Path dir) throws Exception {
        LinearizabilityCampaign.Outcome o = LinearizabilityCampaign.run(dir, 3, 4, Duration.ofSeconds(15), Duration.ofSeconds(3), 1);
        System.out.println("campaign seed 1: " + o);
        assertTrue(o.kills() >= 1 && o.partitions() >= 1 && o.pauses() >= 1, o::toString);
        assertTrue(o.count(io.dwcp.consensus.check.Operation.Outcome.OK) > 50, o::toString);
        assertTrue(o.verdict().linearizable(), () -> o + "\n"
                + new io.dwcp.consensus.check.LinearizabilityChecker().minimize(o.verdict().failingHistory(), 5000));
        assertEquals(java.util.List.of(), o.ownershipConflicts());
        // Replicas run with snapshot.entries=200, so the run also exercised snapshots (and restarts loaded them).
        try (java.util.stream.Stream<Path> files = java.nio.file.Files.walk(dir)) {
            assertTrue(files.anyMatch(f -> f.getFileName().toString().startsWith("snapshot.")), "no state-machine snapshot written");
        }
    }

    @Test
    @Tag("slow")
    void longCampaignOverSeveralSeedsAndFiveReplicas(@TempDir Path dir) throws Exception {
        int seeds = Integer.getInteger("dwcp.acp.campaign.seeds", 5);
        long seconds = Long.getLong("dwcp.acp.campaign.seconds", 30);
        for (int seed = 1; seed <= seeds; seed++) {
            LinearizabilityCampaign.Outcome o = LinearizabilityCampaign.run(dir.resolve("seed-" + seed), 5, 6,
                    Duration.ofSeconds(seconds), Duration.ofSeconds(5), seed);
            System.out.println("campaign seed " + seed + ": " + o);
            assertTrue(o.verdict().linearizable(), () -> o + "\n"
                + new io.dwcp.consensus.check.LinearizabilityChecker().minimize(o.verdict().failingHistory(), 5000));
            assertEquals(java.util.List.of(), o.ownershipConflicts());
        }
    }
}
