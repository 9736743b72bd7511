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
     * @param key state key
     * @param pageSizeBytes page size of the state
     * @param regions names and sizes of the regions, in order
     */
    VmState<WritableRegion> open(String key, int pageSizeBytes, List<RegionLayout> regions) throws IOException;

    /** Name and size of one region. */
    record RegionLayout(String name, long sizeBytes) {
    }
}
