package io.dwcp.bench;

import com.sun.management.HotSpotDiagnosticMXBean;
import com.sun.management.VMOption;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;

/**
 * Lets a long-lived command give the heap it no longer uses back to the system while it waits. A receiver's rounds
 * fill the young generation, and with G1 the heap's pages stay resident at the JVM's initial size (1/64 of the
 * machine's memory) for as long as the process lives, although little of it is live between migrations. G1 returns
 * unused heap after a collection when it has run none for {@code G1PeriodicGCInterval} milliseconds (0, off, by
 * default): the command turns that on with {@value #INTERVAL_MILLIS} ms, a concurrent cycle at most that often and only
 * while idle. It is a manageable option of the running JVM, so no command-line flag is needed; an interval the user
 * chose ({@code -XX:G1PeriodicGCInterval=N}, 0 to keep it off) is left as it is, and another collector is left alone.
 */
final class IdleHeap {
    /** Idle time before G1 collects and uncommits the unused heap. */
    static final long INTERVAL_MILLIS = 5_000;
    private static final String OPTION = "G1PeriodicGCInterval";

    private IdleHeap() {
    }

    /**
     * Turns on G1's periodic collection in this JVM when it runs G1 and the user did not set the interval.
     *
     * @return whether it was turned on here
     */
    static boolean enable() {
        if (!usesG1()) {
            return false;
        }
        try {
            HotSpotDiagnosticMXBean hotspot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            VMOption o = hotspot.getVMOption(OPTION);
            if (o.getOrigin() != VMOption.Origin.DEFAULT || !"0".equals(o.getValue())) {
                return false;
            }
            hotspot.setVMOption(OPTION, Long.toString(INTERVAL_MILLIS));
            return true;
        } catch (RuntimeException e) {
            // Not a HotSpot JVM, or the option is not manageable there: the heap then stays as the JVM sizes it.
            return false;
        }
    }

    private static boolean usesG1() {
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (gc.getName().startsWith("G1 ")) {
                return true;
            }
        }
        return false;
    }
}
