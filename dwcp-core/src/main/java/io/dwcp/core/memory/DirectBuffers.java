package io.dwcp.core.memory;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;

/**
 * Allocates and eagerly frees direct buffers, for the modules' own off-heap scratch (frame buffers, baselines). Large
 * direct buffers must not wait for the garbage collector to return their memory, so {@link #free(ByteBuffer)} runs the
 * buffer's cleaner through {@code sun.misc.Unsafe.invokeCleaner} (module {@code jdk.unsupported}, as Netty does). When
 * that is unavailable the buffer is left to the collector, which is correct but later.
 *
 * <p>Pitfall: {@link #free(ByteBuffer)} must only see a buffer that nothing uses any more (no slice, duplicate or
 * worker still reading it); a later access would read freed memory. Callers own each buffer they allocate and free it
 * once. Thread-safe (stateless).
 */
public final class DirectBuffers {
    private static final Object UNSAFE;
    private static final Method INVOKE_CLEANER;

    static {
        Object unsafe;
        Method m;
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

    private DirectBuffers() {
    }

    /**
     * A zero-filled direct buffer.
     *
     * @param bytes its capacity
     * @return the buffer, owned by the caller, who frees it with {@link #free(ByteBuffer)}
     */
    public static ByteBuffer allocate(int bytes) {
        return ByteBuffer.allocateDirect(bytes);
    }

    /**
     * Frees a buffer from {@link #allocate(int)} (or a whole mapping) now; ignores heap buffers and {@code null}.
     *
     * @param buffer the buffer; nothing may use it afterwards
     */
    public static void free(ByteBuffer buffer) {
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
