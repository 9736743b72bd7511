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
     * @param offsetBytes where to write in the region
     * @param src the bytes
     * @throws IOException when writing fails
     * @throws IndexOutOfBoundsException when the range leaves the region
     */
    void write(long offsetBytes, ByteBuffer src) throws IOException;

    /**
     * Makes written bytes durable where the backing store supports it (fsync for files).
     *
     * @throws IOException when the bytes cannot be made durable
     */
    void flush() throws IOException;

    /**
     * Whether writes to disjoint ranges from several threads run in parallel (memory) rather than one after another
     * (a file, whose writers take one lock in the kernel and spin on it). A writer with large amounts to copy splits
     * its work across threads only when this is true. The default is false.
     *
     * @return whether disjoint writes from several threads run in parallel
     */
    default boolean parallelWrites() {
        return false;
    }

    /**
     * Whether {@link #mapWritable} is supported. The default is false.
     *
     * @return whether {@link #mapWritable} is supported
     */
    default boolean mappable() {
        return false;
    }

    /**
     * A view of {@code [offsetBytes, offsetBytes + lengthBytes)} that is this region's storage itself: bytes put into
     * it are written to the region, and {@link #flush()} makes them durable (for a file: a shared mapping of its pages).
     * A codec can then decode straight into the replica and keep the same pages as its baseline instead of a second
     * copy. The view outlives {@link #close()}; its user frees it (for a mapping: unmaps it).
     *
     * <p>Pitfall: shrinking the file underneath a live mapping makes later access to the lost range fail with a JVM
     * error ({@code InternalError}, from SIGBUS); the owner of the file must not truncate it while a view exists.
     *
     * @param offsetBytes where the mapping starts in the region
     * @param lengthBytes the mapping's length
     * @return the mapping
     * @throws IOException when the region cannot be mapped
     * @throws UnsupportedOperationException when {@link #mappable()} is false
     * @throws IndexOutOfBoundsException when the range leaves the region
     */
    default ByteBuffer mapWritable(long offsetBytes, int lengthBytes) throws IOException {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot be mapped");
    }
}
