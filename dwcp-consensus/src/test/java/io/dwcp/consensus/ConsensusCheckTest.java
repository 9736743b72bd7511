package io.dwcp.consensus;

import io.dwcp.consensus.check.Operation;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The parts of the consensus check that need no processes: fault lists, options, the lost-write rule. */
class ConsensusCheckTest {
    private static final int FINAL = 1000;

    private static Operation write(int process, String key, String value, long version) {
        return new Operation(process, Operation.Kind.WRITE, key, null, value, value, false, version, Operation.Outcome.OK, 0, 1);
    }

    private static Operation finalRead(String key, String value, long version) {
        return new Operation(FINAL, Operation.Kind.READ, key, null, null, value, false, version, Operation.Outcome.OK, 2, 3);
    }

    @Test
    void anAcknowledgedWriteAboveTheFinalVersionIsLost() {
        List<Operation> h = List.of(write(1, "k0", "v1", 3), write(2, "k0", "v2", 7), write(3, "k1", "v3", 4),
                new Operation(4, Operation.Kind.CAS, "k0", "v1", "v9", "v2", false, 7, Operation.Outcome.OK, 0, 1),
                finalRead("k0", "v1", 5), finalRead("k1", "v3", 4));
        assertEquals(List.of("k0: write of 'v2' by p2 acknowledged at version 7, final version 5"), ConsensusCheck.lostWrites(h, FINAL));
    }

    @Test
    void writesOrderedBeforeTheFinalValueAreNotLost() {
        List<Operation> h = List.of(write(1, "k0", "v1", 3), write(2, "k0", "v2", 7), finalRead("k0", "v2", 7));
        assertTrue(ConsensusCheck.lostWrites(h, FINAL).isEmpty());
    }

    @Test
    void faultListsParse() {
        assertEquals(EnumSet.of(ConsensusCheck.Fault.KILL, ConsensusCheck.Fault.PAUSE), ConsensusCheck.Fault.parse("kill, PAUSE"));
        assertEquals(EnumSet.allOf(ConsensusCheck.Fault.class), ConsensusCheck.Fault.parse("all"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ConsensusCheck.Fault.parse("kill,drop"));
        assertTrue(e.getMessage().contains("'drop'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ConsensusCheck.Fault.parse(" , "));
    }

    @Test
    void optionsOutOfRangeAreRefused() {
        Set<ConsensusCheck.Fault> all = ConsensusCheck.Fault.parse("all");
        Path dir = Path.of("unused");
        assertThrows(IllegalArgumentException.class, () -> new ConsensusCheck.Options(2, 4, Duration.ZERO, 0, all,
                Duration.ZERO, Duration.ofMillis(300), 1, dir));
        assertThrows(IllegalArgumentException.class, () -> new ConsensusCheck.Options(5, 0, Duration.ZERO, 0, all,
                Duration.ZERO, Duration.ofMillis(300), 1, dir));
        assertThrows(IllegalArgumentException.class, () -> new ConsensusCheck.Options(5, 4, Duration.ZERO, 0, Set.of(),
                Duration.ZERO, Duration.ofMillis(300), 1, dir));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ConsensusCheck.Options(5, 4,
                Duration.ZERO, 0, all, Duration.ZERO, Duration.ofMillis(300), 1, dir, Duration.ofSeconds(9)));
        assertTrue(e.getMessage().contains("start timeout"), e.getMessage());
        assertEquals(ConsensusCheck.DEFAULT_START_TIMEOUT, new ConsensusCheck.Options(5, 4, Duration.ZERO, 0, all,
                Duration.ZERO, Duration.ofMillis(300), 1, dir).startTimeout());
    }
}
