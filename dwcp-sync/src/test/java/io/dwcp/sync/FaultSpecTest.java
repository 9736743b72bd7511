package io.dwcp.sync;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FaultSpecTest {
    @Test
    void parsesEveryItem() {
        FaultSpec f = FaultSpec.parse("partition=0+1/4,kill=2+3,delay=7ms,reset=0.02,drop=0.01,dup=0.05,reorder=0.1", 5);
        assertEquals(List.of(Set.of(0, 1), Set.of(4)), f.partition());
        assertEquals(Set.of(2, 3), f.kill());
        assertEquals(7, f.delayMillis());
        assertEquals(0.02, f.resetProbability());
        assertEquals(0.01, f.dropProbability());
        assertEquals(0.05, f.duplicateProbability());
        assertEquals(0.1, f.reorderProbability());
    }

    @Test
    void defaultCutsOffTheLastReplicaAndKillsTheFirst() {
        FaultSpec f = FaultSpec.parse("default", 5);
        assertEquals(List.of(Set.of(4)), f.partition());
        assertEquals(Set.of(0), f.kill());
        assertTrue(f.messageFaults());
        assertEquals(FaultSpec.NONE, FaultSpec.parse("none", 5));
        assertEquals(Set.of(), FaultSpec.parse("dup=0.1", 3).kill(), "items not given are off");
    }

    @Test
    void refusesWhatItCannotRunWithAMessageNamingTheItem() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FaultSpec.parse("kill=5", 5)).getMessage().contains("kill=5"));
        assertThrows(IllegalArgumentException.class, () -> FaultSpec.parse("partition=0+1+2", 3));
        assertThrows(IllegalArgumentException.class, () -> FaultSpec.parse("partition=0+1/1", 3));
        assertThrows(IllegalArgumentException.class, () -> FaultSpec.parse("drop=2", 3));
        assertThrows(IllegalArgumentException.class, () -> FaultSpec.parse("loss=0.1", 3));
        assertThrows(IllegalArgumentException.class, () -> FaultSpec.parse("partition", 3));
        assertThrows(IllegalArgumentException.class, () -> FaultSpec.parse("drop=0.5,dup=0.4,reorder=0.2", 3));
    }
}
