package io.dwcp.core.migration;

import java.io.IOException;

/**
 * Where a receiver's seeds come from: the {@link FileReplicas} it writes to, or, for an {@link InPlaceReplica}, the
 * {@link FileReplicas} of its other keys (the in-place key's seed is then an image or another key's replica, never
 * a replica of the key in that directory, which the key's rounds do not write).
 */
final class SeedSources {
    private SeedSources() {
    }

    /** {@return the directory whose seeds {@code replicas} offers, or null: none} */
    static FileReplicas files(ReplicaFactory replicas) {
        if (replicas instanceof FileReplicas f) {
            return f;
        }
        if (replicas instanceof InPlaceReplica p && p.others() instanceof FileReplicas f) {
            return f;
        }
        return null;
    }

    /** {@return whether {@code key}'s rounds are written in place by {@code replicas}, not into its directory} */
    static boolean inPlace(ReplicaFactory replicas, String key) {
        return replicas instanceof InPlaceReplica p && p.key().equals(key);
    }

    /** {@return the seed of {@code key} for a state of {@code stateBytes} bytes, or null} */
    static FileReplicas.Seed seed(ReplicaFactory replicas, String key, int pageSize, long stateBytes) throws IOException {
        FileReplicas f = files(replicas);
        return f == null ? null : f.seed(key, pageSize, stateBytes, !inPlace(replicas, key));
    }
}
