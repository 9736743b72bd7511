package io.dwcp.transport.testing;

import io.netty.buffer.AbstractByteBuf;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Fails a test class when Netty's leak detector (paranoid in the surefire argLine) reports a leaked buffer.
 * Registered for every test class of this module by ServiceLoader auto-detection. After each class it runs the GC
 * and allocates a few buffers so that pending reports are processed. Detection rides on the GC, so a leak may be
 * reported one class late, but a report is never invented.
 */
public final class LeakCheckExtension implements AfterAllCallback {
    private static final List<String> LEAKS = new CopyOnWriteArrayList<>();

    static {
        try {
            Field f = AbstractByteBuf.class.getDeclaredField("leakDetector");
            f.setAccessible(true);
            ResourceLeakDetector<?> d = (ResourceLeakDetector<?>) f.get(null);
            d.setLeakListener((type, records) -> LEAKS.add(type + " leaked:\n" + records));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * Runs the GC and allocates until a leak report arrives whose text contains {@code marker} (the allocation trace
     * names the leaking test), at most {@code rounds} times; returns those reports and removes them, so a test that
     * leaks on purpose does not fail its class.
     */
    public static List<String> awaitReports(String marker, int rounds) {
        List<String> found = new ArrayList<>();
        for (int round = 0; round < rounds && found.isEmpty(); round++) {
            System.gc();
            for (int i = 0; i < 64; i++) {
                ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(64);
                b.release();
            }
            for (String r : LEAKS) {
                if (r.contains(marker)) {
                    found.add(r);
                }
            }
        }
        LEAKS.removeAll(found);
        return found;
    }

    @Override
    public void afterAll(ExtensionContext context) {
        for (int round = 0; round < 3 && LEAKS.isEmpty(); round++) {
            System.gc();
            for (int i = 0; i < 64; i++) {
                ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(64);
                b.release();
            }
        }
        if (!LEAKS.isEmpty()) {
            List<String> found = new ArrayList<>(LEAKS);
            LEAKS.clear();
            throw new AssertionError(found.size() + " Netty buffer leak(s) reported after " + context.getDisplayName()
                    + ":\n" + String.join("\n", found));
        }
    }
}
