package io.dwcp.core.migration;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/*
 * The descriptions of a FileReplicas directory's replicas and seeds, as far as they live in memory or are computed by
 * it: owns the background describer (one daemon thread, started on first use, stopped and awaited by close()), the
 * background descriptions queued or running by key, the record of which replica versions this object described itself
 * (describedHere), and the page indexes of seeds' descriptions by sidecar. Created and closed by FileReplicas; called by
 * FileReplicas (a round's acquire stops the key's background description; seed() waits for it and describes seeds),
 * by ReplicaDirectory.mark and StagedReplicaFiles.publish (forget, before a replica changes), by DeltaRoundGuard
 * (describeLater, after a round wrote a replica in place) and, through FileReplicas, by SeedDecoder and SeedService.
 *
 * Locking: describedHere, describing and pageIndexes are concurrent maps; pageIndexes' monitor guards building an
 * index (one build per sidecar at a time). A key's entries are written by the round that holds the key, by the seed
 * exchange of the key, or by the key's background description, which a round of the key stops first; a stopped
 * description may still finish its put (its stamp then no longer matches the replica's, see describedHere(key, seed)).
 */
final class ReplicaDescriptions {
    /** Logs as {@link FileReplicas}, the class whose logging users configure. */
    private static final Logger LOG = LoggerFactory.getLogger(FileReplicas.class);

    private final ReplicaDirectory directory;
    /** {@link FileReplicas.Builder#rereadOwnSeeds}: never take {@link #describedHere}'s page hashes for the replica's. */
    private final boolean rereadOwnSeeds;
    /**
     * Describes a replica for seeded rounds after a round committed it in place, so that a later seed exchange
     * finds the description cached; one daemon thread at low priority, started on the first use.
     */
    private final ExecutorService describer = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "dwcp-replica-describe");
        t.setDaemon(true);
        t.setPriority(Thread.MIN_PRIORITY);
        return t;
    });
    /**
     * Per key: the version (stamp) of the key's replica whose description this object computed itself, from the
     * replica's bytes or from the pages a round wrote, while it held the directory's lock. While the replica still has
     * that stamp, a seeded round in place takes the description's page hashes for the replica's unchanged pages instead
     * of reading and hashing the replica again (see {@link #describedHere(String, FileReplicas.Seed)}). Not persisted:
     * after a restart the replica is hashed again once. Cleared whenever the key's replica is written or its
     * description dropped.
     */
    private final Map<String, SeedDescription.Stamp> describedHere = new ConcurrentHashMap<>();
    /** Page indexes of seeds' descriptions by sidecar (BLOCKS requests of version 5 on), one per sidecar. */
    private final Map<Path, SeedPageIndex> pageIndexes = new ConcurrentHashMap<>();
    /** Background descriptions queued or running, by key; a round of the key stops its key's. */
    private final Map<String, Background> describing = new ConcurrentHashMap<>();

    /** A background description: its stop flag and completion. */
    private record Background(AtomicBoolean stop, CompletableFuture<Void> done) {
    }

    ReplicaDescriptions(ReplicaDirectory directory, boolean rereadOwnSeeds) {
        this.directory = directory;
        this.rereadOwnSeeds = rereadOwnSeeds;
    }

    /** Drops what is known of {@code key}'s replica's description, and its sidecar: the replica is about to change. */
    void forget(String key) throws IOException {
        describedHere.remove(key);
        pageIndexes.remove(directory.descriptionFile(key));
        Files.deleteIfExists(directory.descriptionFile(key));
    }

    /** Stops the background description of {@code key}, if one is queued or running (a round of the key starts). */
    void stopBackground(String key) {
        Background b = describing.remove(key);
        if (b != null) {
            b.stop().set(true);
        }
    }

    /** Waits for the background description of {@code key} queued or running now, if any. */
    void joinBackground(String key) {
        Background background = describing.get(key);
        if (background != null) {
            background.done().join(); // computing it here too would only double the work
        }
    }

    /** Waits until no background description of {@code key} is queued or running (for tests). */
    void awaitBackground(String key) {
        Background b;
        while ((b = describing.get(key)) != null) {
            b.done().join();
        }
    }

    /**
     * Describes the one-file replica of {@code key} in the background (after a round wrote it in place), unless its
     * description is cached or the replicas are closed. A round of the key stops it; a seed exchange waits for it.
     */
    void describeLater(String key, int pageSize) {
        Path file = directory.replicaFile(key);
        if (directory.closed() || !Files.isRegularFile(file)) {
            return;
        }
        Background b = new Background(new AtomicBoolean(), new CompletableFuture<>());
        Background old = describing.put(key, b);
        if (old != null) {
            old.stop().set(true);
        }
        try {
            describer.execute(() -> {
                try {
                    Path sidecar = directory.descriptionFile(key);
                    if (!b.stop().get() && SeedDescription.load(sidecar, file, pageSize) == null) {
                        long t0 = System.nanoTime();
                        SeedDescription d = SeedDescription.compute(file, sidecar, pageSize, b.stop());
                        describedHere.put(key, d.stamp);
                        LOG.info("described {} in the background in {} ms ({} pages)", file, (System.nanoTime() - t0) / 1_000_000, d.pages);
                    }
                } catch (IOException | RuntimeException e) {
                    LOG.debug("background description of {} stopped: {}", file, e.toString());
                } finally {
                    describing.remove(key, b);
                    b.done().complete(null);
                }
            });
        } catch (RejectedExecutionException e) {
            describing.remove(key, b);
            b.done().complete(null);
        }
    }

    /**
     * The seed {@code file} with its description: loaded from {@code sidecar} when that describes the file as it is
     * now, else computed (and cached there).
     */
    static FileReplicas.Seed describe(Path file, Path sidecar, int pageSize, boolean inPlace) throws IOException {
        SeedDescription d = SeedDescription.load(sidecar, file, pageSize);
        if (d != null) {
            return new FileReplicas.Seed(file, d, inPlace, false);
        }
        long t0 = System.nanoTime();
        d = SeedDescription.compute(file, sidecar, pageSize);
        LOG.info("described {} for seeded rounds in {} ms ({} pages)", file, (System.nanoTime() - t0) / 1_000_000, d.pages);
        return new FileReplicas.Seed(file, d, inPlace, true);
    }

    /** Records that this object computed {@code stamp}'s description of {@code key}'s replica itself. */
    void describedHere(String key, SeedDescription.Stamp stamp) {
        describedHere.put(key, stamp);
    }

    /** As {@link FileReplicas#describedHere(String, FileReplicas.Seed)}. */
    boolean describedHere(String key, FileReplicas.Seed seed) throws IOException {
        return !rereadOwnSeeds && seed.inPlace() && seed.description().stamp.equals(describedHere.get(key))
                && seed.description().stamp.equals(SeedDescription.Stamp.of(directory.replicaFile(key)));
    }

    /** Deletes the cached description of {@code seed}: the file did not hold what it said. */
    void forgetDescription(FileReplicas.Seed seed) {
        describedHere.values().remove(seed.description().stamp);
        try {
            Files.deleteIfExists(seed.description().sidecar);
        } catch (IOException e) {
            LOG.warn("cannot delete the stale description {}", seed.description().sidecar, e);
        }
    }

    /**
     * {@return the index of the pages of {@code d} by their hash's first 8 bytes} built once per description version
     * and kept (one per sidecar; replaced when the sidecar describes another version)
     */
    SeedPageIndex pageIndex(SeedDescription d) throws IOException {
        SeedPageIndex index = pageIndexes.get(d.sidecar);
        if (index != null && index.indexes(d)) {
            return index;
        }
        synchronized (pageIndexes) {
            index = pageIndexes.get(d.sidecar);
            if (index == null || !index.indexes(d)) {
                pageIndexes.remove(d.sidecar); // released before the new one is built
                index = SeedPageIndex.of(d);
                pageIndexes.put(d.sidecar, index);
            }
            return index;
        }
    }

    /** Stops every background description and waits (30 s at most) until the describer's thread ended. */
    void close() {
        for (Background b : describing.values()) {
            b.stop().set(true);
        }
        describer.shutdown();
        try {
            // A stopped description ends within one chunk of hashing; wait for it, so that no thread of this object
            // writes into the directory after close() returned.
            if (!describer.awaitTermination(30, TimeUnit.SECONDS)) {
                LOG.warn("a background description in {} did not stop within 30 s of close()", directory.path());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
