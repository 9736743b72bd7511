package io.dwcp.consensus;

import io.dwcp.consensus.check.LinearizabilityChecker;
import io.dwcp.consensus.check.Operation;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Linearizability, no lost acknowledged write and one VM owner at every instant, for a 3-process group under SIGKILL,
 * SIGSTOP, partitions, one-way cuts and delays, checked on the recorded history ({@link ConsensusCheck}). The run is
 * paced by events (each fault waits for client progress), so a busy machine makes it longer, not flaky; the election
 * timeout (1 s, not the 300 ms a quiet machine allows) keeps a CPU-starved group able to elect a leader. The default
 * build runs one seed; {@code -Pslow} adds five replicas over several seeds.
 */
@Tag("ACP-2")
class LinearizabilityProcessTest {
    @Test
    void historyUnderEveryFaultIsLinearizableWithOneOwnerAtATime(@TempDir Path dir) throws Exception {
        ConsensusCheck.Result o = ConsensusCheck.run(new ConsensusCheck.Options(3, 4, Duration.ZERO, 250,
                ConsensusCheck.Fault.parse("all"), Duration.ofMillis(700), Duration.ofSeconds(1), 1, dir));
        System.out.println("consensus check seed 1: " + o);
        ConsensusCheck.writeHistory(Path.of("target", "acp-histories", "n3-seed-1.jsonl"), o);
        for (ConsensusCheck.Fault f : ConsensusCheck.Fault.values()) {
            assertTrue(o.injected().getOrDefault(f, 0) >= 1, () -> f + " never injected: " + o);
        }
        assertTrue(o.count(Operation.Outcome.OK) >= 250, o::toString);
        assertTrue(o.verdict().linearizable(), () -> o + "\n"
                + new LinearizabilityChecker().minimize(o.verdict().failingHistory(), 5000));
        assertEquals(List.of(), o.lostWrites());
        assertEquals(List.of(), o.epochConflicts());
        assertEquals(List.of(), o.ownerOverlaps());
        assertEquals(List.of(), o.stalls());
        // Replicas run with snapshot.entries=200 and the run committed more entries than that, so it wrote snapshots.
        try (Stream<Path> files = Files.walk(dir)) {
            assertTrue(files.anyMatch(f -> f.getFileName().toString().startsWith("snapshot.")), "no state-machine snapshot written");
        }
    }

    @Test
    @Tag("slow")
    void campaignOverSeveralSeedsAndFiveReplicas(@TempDir Path dir) throws Exception {
        int seeds = Integer.getInteger("dwcp.acp.campaign.seeds", 5);
        long seconds = Long.getLong("dwcp.acp.campaign.seconds", 20);
        for (int seed = 1; seed <= seeds; seed++) {
            ConsensusCheck.Result o = ConsensusCheck.run(new ConsensusCheck.Options(5, 4, Duration.ofSeconds(seconds), 0,
                    ConsensusCheck.Fault.parse("all"), Duration.ofSeconds(1), Duration.ofMillis(300), seed, dir.resolve("seed-" + seed)));
            System.out.println("consensus check seed " + seed + ": " + o);
            assertTrue(o.safe(), () -> o + "\n" + new LinearizabilityChecker().minimize(o.verdict().failingHistory(), 5000)
                    + "\n" + o.lostWrites() + o.epochConflicts() + o.ownerOverlaps());
        }
    }
}
