package io.dwcp.core.migration;

import io.dwcp.core.state.VmState;
import io.dwcp.core.state.WritableRegion;

import java.io.IOException;
import java.util.List;

/**
 * Opens the replica a round is decoded into, given the layout the sender announced. The receiver closes the returned
 * state after the round (commit or failure).
 */
@FunctionalInterface
public interface ReplicaFactory {
    /**
     * Opens the replica of {@code key} for a round to write into.
     *
     * @param key state key
     * @param pageSizeBytes page size of the state
     * @param regions names and sizes of the regions, in order
     * @return the replica, open for writing
     * @throws IOException when it cannot be opened or created
     */
    VmState<WritableRegion> open(String key, int pageSizeBytes, List<RegionLayout> regions) throws IOException;

    /**
     * A staging copy for a keyframe round, which replaces the whole replica: the decoder fills it while frames arrive
     * and {@link StagedReplica#publish()} makes it the replica only after the round verified, so the replica a failed
     * round leaves behind is the old one. The default returns null: the factory cannot stage, and keyframes are
     * decoded like deltas (in memory, written to the replica after verification).
     *
     * <p>When the staging state is one {@link WritableRegion#mappable() mappable} region, the codec may decode into
     * its mapping and keep those pages as its baseline after publish. Then nothing else may write or truncate the
     * published file while the migration goes on: a write is caught by the next delta's digest (the sender resends
     * that round as a keyframe), a truncation fails the next access with an {@code InternalError}.
     *
     * @param key state key
     * @param pageSizeBytes page size of the state
     * @param regions names and sizes of the regions, in order
     * @return the staging replica, or null when the factory cannot stage
     * @throws IOException when it cannot be created
     */
    default StagedReplica openStaged(String key, int pageSizeBytes, List<RegionLayout> regions) throws IOException {
        return null;
    }

    /** Name and size of one region. */
    record RegionLayout(String name, long sizeBytes) {
    }

    /**
     * A staging replica (see {@link #openStaged}). {@link #close()} discards it unless it was published; both are
     * idempotent.
     */
    interface StagedReplica extends AutoCloseable {
        /** {@return the staging state the decoder writes} */
        VmState<WritableRegion> state();

        /**
         * Makes the staged content durable and atomically the replica (for files: fsync, then rename).
         *
         * @throws IOException when it cannot be made durable or renamed; the old replica stays
         */
        void publish() throws IOException;

        @Override
        void close() throws IOException;
    }
}
