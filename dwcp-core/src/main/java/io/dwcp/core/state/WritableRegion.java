package io.dwcp.core.state;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A region that can also be written: the replica side of a migration. Writes are positional; callers (the codec)
 * serialise writes to overlapping ranges.
 */
public interface WritableRegion extends StateRegion {
    /**
     * Writes {@code src.remaining()} bytes at {@code offsetBytes}, advancing {@code src}'s position.
     *
     * @throws IndexOutOfBoundsException when the range leaves the region
     */
    void write(long offsetBytes, ByteBuffer src) throws IOException;

    /** Makes written bytes durable where the backing store supports it (fsync for files). */
    void flush() throws IOException;

    /**
     * Whether writes to disjoint ranges from several threads run in parallel (memory) rather than one after another
     * (a file, whose writers take one lock in the kernel and spin on it). A writer with large amounts to copy splits
     * its work across threads only when this is true. The default is false.
     */
    default boolean parallelWrites() {
        return false;
    }
}
