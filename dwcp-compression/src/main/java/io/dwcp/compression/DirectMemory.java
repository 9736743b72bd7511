package io.dwcp.compression;

import io.dwcp.core.memory.DirectBuffers;

import java.nio.ByteBuffer;

/**
 * Allocates and eagerly frees direct buffers (through core's {@link DirectBuffers}). Baselines of 1 GiB and more must
 * not wait for the garbage collector to return their memory (never rely on GC for native memory).
 *
 * <p>Pitfall: {@link #free(ByteBuffer)} must only see a buffer nothing else uses any more; a later access would read
 * freed memory. Callers guard with reference counts ({@link Baseline}).
 */
final class DirectMemory {
    private DirectMemory() {
    }

    /** A zero-filled direct buffer of {@code bytes}. */
    static ByteBuffer allocate(int bytes) {
        return DirectBuffers.allocate(bytes);
    }

    /** Frees a buffer from {@link #allocate(int)} or a whole mapping now; ignores heap buffers and {@code null}. */
    static void free(ByteBuffer buffer) {
        DirectBuffers.free(buffer);
    }
}
