package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.state.VmState;
import io.dwcp.core.state.WritableRegion;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;

/*
 * A keyframe round's staging files in a FileReplicas directory: renamed over the replica files on publish (under the
 * inconsistency mark when there are several), deleted on close when not published. Created by
 * FileReplicas.openStaged, which has taken the key; owns the staging files and the state's regions, and gives the key
 * back at close(). Called by the round's decoder (publish, close).
 *
 * Locking: this object's monitor guards published and closed; publish and close hold it.
 */
final class StagedReplicaFiles implements ReplicaFactory.StagedReplica {
    private final ReplicaDirectory directory;
    private final ReplicaDescriptions descriptions;
    private final String key;
    private final VmState<WritableRegion> state;
    /** Staging file to replica file, in region order. */
    private final Map<Path, Path> renames;
    /** Guarded by this. */
    private boolean published;
    /** Guarded by this. */
    private boolean closed;

    StagedReplicaFiles(ReplicaDirectory directory, ReplicaDescriptions descriptions, String key,
                       VmState<WritableRegion> state, Map<Path, Path> renames) {
        this.directory = directory;
        this.descriptions = descriptions;
        this.key = key;
        this.state = state;
        this.renames = renames;
    }

    @Override
    public VmState<WritableRegion> state() {
        return state;
    }

    @Override
    public synchronized void publish() throws IOException {
        if (published) {
            return;
        }
        if (closed) {
            throw new DwcpException(ErrorCode.ILLEGAL_STATE, "staging replica of '" + key + "' was discarded");
        }
        for (WritableRegion r : state.regions()) {
            r.flush();
        }
        // One rename is atomic; several are not: a crash between them would leave regions of two versions.
        descriptions.forget(key);
        boolean several = renames.size() > 1;
        if (several) {
            directory.mark(key, descriptions);
        }
        for (Map.Entry<Path, Path> e : renames.entrySet()) {
            Files.move(e.getKey(), e.getValue(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
        directory.syncDirectory();
        published = true;
        directory.unmark(key);
    }

    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            state.close();
        } finally {
            try {
                if (!published) {
                    for (Path staging : renames.keySet()) {
                        Files.deleteIfExists(staging);
                    }
                }
            } finally {
                directory.release(key);
            }
        }
    }
}
