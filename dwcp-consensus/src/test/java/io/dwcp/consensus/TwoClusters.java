package io.dwcp.consensus;

import java.nio.file.Path;

/**
 * Two proxied 3-replica groups of separate JVM processes, started together (the six JVMs start in parallel) and each
 * waited for until it committed once: the fixture of the multi-group process tests.
 */
final class TwoClusters implements AutoCloseable {
    final ReplicaCluster a;
    final ReplicaCluster b;

    /** Starts groups {@code groupA} (replicas {@code idA}1–3) and {@code groupB} under {@code dir}. */
    TwoClusters(Path dir, String electionMin, String groupA, String idA, String groupB, String idB) throws Exception {
        a = new ReplicaCluster(dir.resolve("a"), 3, electionMin, true, groupA, idA);
        b = new ReplicaCluster(dir.resolve("b"), 3, electionMin, true, groupB, idB);
        try {
            for (int i = 0; i < 3; i++) {
                a.launch(i);
                b.launch(i);
            }
            for (int i = 0; i < 3; i++) {
                a.awaitReady(i);
                b.awaitReady(i);
            }
            // Both groups have elected and committed once (a busy machine can delay the first election past a timeout).
            CheckClients.awaitFirstCommit(a.client("warm-a", "30s"));
            CheckClients.awaitFirstCommit(b.client("warm-b", "30s"));
        } catch (Exception | Error e) {
            close();
            throw e;
        }
    }

    @Override
    public void close() throws InterruptedException {
        try {
            a.close();
        } finally {
            b.close();
        }
    }
}
