package io.dwcp.bench;

import com.sun.management.HotSpotDiagnosticMXBean;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A receiver turns on G1's idle collection once, and never overrides an interval already set. */
class IdleHeapTest {
    @Test
    void turnsOnThePeriodicCollectionOnceAndLeavesASetIntervalAlone() {
        boolean g1 = ManagementFactory.getGarbageCollectorMXBeans().stream().anyMatch(b -> b.getName().startsWith("G1 "));
        HotSpotDiagnosticMXBean hotspot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        if (!g1) {
            assertFalse(IdleHeap.enable(), "only G1 has the periodic collection");
            return;
        }
        boolean unset = hotspot.getVMOption("G1PeriodicGCInterval").getOrigin()
                == com.sun.management.VMOption.Origin.DEFAULT;
        String before = hotspot.getVMOption("G1PeriodicGCInterval").getValue();
        assertEquals(unset, IdleHeap.enable());
        String expected = unset ? Long.toString(IdleHeap.INTERVAL_MILLIS) : before;
        assertEquals(expected, hotspot.getVMOption("G1PeriodicGCInterval").getValue());
        // Now set (by the first call or by the user): a second call changes nothing.
        assertFalse(IdleHeap.enable());
        assertEquals(expected, hotspot.getVMOption("G1PeriodicGCInterval").getValue());
        assertTrue(hotspot.getVMOption("G1PeriodicGCInterval").isWriteable());
    }
}
