package io.dwcp.sync;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The longer campaign (slow profile, {@code ./mvnw -Pslow ...}): five replica processes, many seeds, the same fault
 * scenario as {@link MultiProcessSyncTest} with more operations per phase. Each seed must converge to the model.
 */
@Tag("slow")
class MultiProcessSyncIT {
    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
    void fiveProcessesConvergeAfterPartitionKillAndFaults(long seed) throws Exception {
        Duration d = MultiProcessSyncTest.scenario(5, seed, 150, Path.of("target", "sync-processes", "it-seed-" + seed));
        System.out.println("seed " + seed + ": converged " + d.toMillis() + " ms after the heal");
    }
}
