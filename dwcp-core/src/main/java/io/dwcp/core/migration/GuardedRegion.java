package io.dwcp.core.migration;

import io.dwcp.core.state.WritableRegion;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A replica region whose writes are announced to its round's {@link Guard} before they happen (so a replica is marked
 * inconsistent before its first byte changes) and whose close tells the guard whether writes were left unflushed.
 * Reads, views and flushes go straight to the region. Shared by {@link FileReplicas} and {@link InPlaceReplica}.
 *
 * <p>Thread-safe as the region it wraps; {@link #close()} is idempotent.
 */
final class GuardedRegion implements WritableRegion {
    /** What a round does around its regions' writes. */
    interface Guard {
        /** Before any byte of the replica changes; throws when the round may not write. */
        void beforeWrite() throws IOException;

        /** The region closed; {@code unflushed}: written since its last successful flush. */
        void closed(boolean unflushed);
    }

    private final WritableRegion region;
    private final Guard guard;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Written since the last successful flush. */
    private volatile boolean dirty;

    GuardedRegion(WritableRegion region, Guard guard) {
        this.region = region;
        this.guard = guard;
    }

    @Override
    public String name() {
        return region.name();
    }

    @Override
    public long sizeBytes() {
        return region.sizeBytes();
    }

    @Override
    public void read(long offsetBytes, ByteBuffer dst) throws IOException {
        region.read(offsetBytes, dst);
    }

    @Override
    public ByteBuffer view(long offsetBytes, int lengthBytes) throws IOException {
        return region.view(offsetBytes, lengthBytes);
    }

    @Override
    public void write(long offsetBytes, ByteBuffer src) throws IOException {
        guard.beforeWrite();
        dirty = true;
        region.write(offsetBytes, src);
    }

    @Override
    public void flush() throws IOException {
        region.flush();
        dirty = false;
    }

    @Override
    public boolean parallelWrites() {
        return region.parallelWrites();
    }

    @Override
    public boolean mappable() {
        return region.mappable();
    }

    @Override
    public ByteBuffer mapWritable(long offsetBytes, int lengthBytes) throws IOException {
        guard.beforeWrite();
        dirty = true;
        return region.mapWritable(offsetBytes, lengthBytes);
    }

    @Override
    public void close() throws IOException {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            region.close();
        } finally {
            guard.closed(dirty);
        }
    }

    @Override
    public String toString() {
        return region.toString();
    }
}
