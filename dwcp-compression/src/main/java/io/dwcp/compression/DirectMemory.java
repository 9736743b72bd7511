package io.dwcp.compression;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;

/**
 * Allocates and eagerly frees direct buffers. Baselines of 1 GiB and more must not wait for the garbage collector to
 * return their memory (never rely on GC for native memory), so {@link #free(ByteBuffer)} runs the buffer's
 * cleaner through {@code sun.misc.Unsafe.invokeCleaner} (module {@code jdk.unsupported}, as Netty does). When that is
 * unavailable the buffer is left to the collector, which is correct but later.
 *
 * <p>Pitfall: {@link #free(ByteBuffer)} must only see a buffer nothing else uses any more; a later access would read
 * freed memory. Callers guard with reference counts ({@link Baseline}).
 */
final class DirectMemory {
    private static final Object UNSAFE;
    private static final Method INVOKE_CLEANER;

    static {
        Object unsafe = null;
        Method m = null;
        try {
            Class<?> c = Class.forName("sun.misc.Unsafe");
            Field f = c.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            unsafe = f.get(null);
            m = c.getMethod("invokeCleaner", ByteBuffer.class);
        } catch (ReflectiveOperationException | RuntimeException e) {
            // No eager free available: direct memory is then returned by the collector (correct, only later).
            unsafe = null;
            m = null;
        }
        UNSAFE = unsafe;
        INVOKE_CLEANER = m;
    }

    private DirectMemory() {
    }

    /** A zero-filled direct buffer of {@code bytes}. */
    static ByteBuffer allocate(int bytes) {
        return ByteBuffer.allocateDirect(bytes);
    }

    /** Frees a buffer from {@link #allocate(int)} or a whole mapping now; ignores heap buffers and {@code null}. */
    static void free(ByteBuffer buffer) {
        if (buffer == null || !buffer.isDirect() || INVOKE_CLEANER == null) {
            return;
        }
        try {
            INVOKE_CLEANER.invoke(UNSAFE, buffer);
        } catch (ReflectiveOperationException | RuntimeException e) {
            // A slice or duplicate has no cleaner of its own; its memory goes with the parent. Nothing to do.
        }
    }
}
