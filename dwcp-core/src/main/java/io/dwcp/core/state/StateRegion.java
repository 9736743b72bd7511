package io.dwcp.core.state;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * One contiguous region of a VM state (a RAM block, a disk), addressed by byte offset. Reads are positional, so several
 * threads may read one region at once; nothing ever loads the whole region onto the heap.
 *
 * <p>Implementations: {@link StateRegions}. Thread-safe for concurrent reads. A region opened from a path owns its
 * file and must be closed; one made over a caller's buffer or channel borrows it.
 */
public interface StateRegion extends java.io.Closeable {
    /**
     * Name of the region, unique within its state (e.g. {@code pc.ram}).
     *
     * @return the name
     */
    String name();

    /** {@return size in bytes} */
    long sizeBytes();

    /**
     * Reads {@code dst.remaining()} bytes starting at {@code offsetBytes} into {@code dst}, advancing its position.
     *
     * @param offsetBytes where to read in the region
     * @param dst where to put the bytes
     * @throws IndexOutOfBoundsException when the range leaves the region
     * @throws IOException when the backing file cannot be read
     */
    void read(long offsetBytes, ByteBuffer dst) throws IOException;

    /**
     * A read-only view of {@code [offsetBytes, offsetBytes + lengthBytes)} that shares the region's memory, indexed from
     * 0, for regions backed by a buffer or a mapping (the range must lie in one mapped window); null when the region
     * cannot offer one, and then {@link #read} is the way. Saves a copy when a codec only compares most of the bytes.
     * Valid until the region is closed; it shows later changes of the memory it shares.
     *
     * @param offsetBytes where the view starts in the region
     * @param lengthBytes the view's length
     * @return the view
     * @throws IOException when the region cannot be read
     * @throws IndexOutOfBoundsException when the range leaves the region
     */
    default ByteBuffer view(long offsetBytes, int lengthBytes) throws IOException {
        return null;
    }

    /**
     * Whether the region is an immutable snapshot: its bytes never change, and its {@link #view views} stay valid and
     * unchanged after {@link #close()} for as long as they are reachable (a read-only mapping of a file nobody writes).
     * A codec may then keep views of the region as its baseline instead of a copy of it (HDE does when the state is
     * this one region of whole pages and it offers views). The default is false; of the built-in regions only
     * {@link StateRegions#mappedSnapshot}'s is immutable.
     *
     * <p>Pitfall: this is the caller's promise, not something the region can enforce. A snapshot changed after it was
     * sent leaves the sender's baseline different from the receiver's, and a later delta can then omit a page the
     * receiver does not have; a truncated one makes the next read of a lost page fail with the JVM's
     * {@code InternalError} (SIGBUS).
     *
     * @return whether the region never changes while in use
     */
    default boolean immutable() {
        return false;
    }

    /** Releases the backing file or mapping, if this region owns one. Idempotent; the default does nothing. */
    @Override
    default void close() throws IOException {
    }
}
