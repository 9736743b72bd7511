package io.dwcp.core.migration;

import io.dwcp.core.DataSize;
import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.state.StateRegions;
import io.dwcp.core.state.VmState;
import io.dwcp.core.state.WritableRegion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Replicas as files in one directory: the {@link ReplicaFactory} a receiver that keeps its replicas on disk should use.
 * It keeps three promises that a plain file factory cannot:
 *
 * <ul>
 *   <li><b>Nothing is touched before verification.</b> A keyframe round is decoded into staging files of its own,
 *       {@code .NAME.NONCE.staging}, unique per round, that replace the replica by an atomic rename only after the
 *       round verified. A delta round opens the existing replica files as they are: it never creates, truncates or
 *       extends them, and a replica that is missing, marked inconsistent or of another size than the round announces
 *       refuses the delta with {@code BASELINE_MISSING}, so the sender resends the round in full. Sizes and region
 *       counts are checked against the limits, and a keyframe's size against the free disk space, before any file is
 *       created.</li>
 *   <li><b>One writer per key.</b> A second round of a key while one runs is refused with {@code KEY_BUSY}; the
 *       directory belongs to one {@code FileReplicas} (a lock file, {@code .dwcp-replicas.lock}), so a second
 *       process or instance on it is refused at {@link #open}.</li>
 *   <li><b>A crash never leaves an unmarked mix.</b> Before the first byte of a round is written into a replica in
 *       place (a delta, or a multi-region keyframe's renames), the marker {@code .KEY.inconsistent} is made durable;
 *       it is deleted only after every written region was flushed. A marker found at {@link #open} (a crash, a
 *       failed write) makes the key {@linkplain #inconsistentKeys() inconsistent}: its next round must be, and is,
 *       a full one, whose publication clears the marker. Staging files left by a crash are deleted at open.</li>
 * </ul>
 *
 * <p>Files: a one-region state {@code KEY} is the file {@code DIR/KEY}; a state of several regions is one file per
 * region, {@code DIR/KEY~REGION}. Keys and region names must be safe file names ({@code [A-Za-z0-9._-]}, at most 200
 * characters, not starting with a dot), so the {@code ~} that no key or region name contains keeps every key's files
 * apart: the one-region key {@code vm.ram} and region {@code ram} of key {@code vm} are different files.
 *
 * <p>Thread-safe. {@link #close()} releases the directory; rounds still open keep their files until they close.
 */
public final class FileReplicas implements ReplicaFactory, AutoCloseable {
    /*
     * The facade over three parts, each with its own class comment: ReplicaDirectory (the directory's lock, file names,
     * keys held by rounds, inconsistency markers), ReplicaDescriptions (descriptions in memory and the background
     * describer) and the rounds' holds, DeltaRoundGuard (a delta written in place) and StagedReplicaFiles (a keyframe
     * staged and published by rename). This class admits rounds (limits, one writer per key), chooses seeds and owns
     * the parts' lifecycle: both are created in the constructor and closed by close(), the describer first, so that no
     * thread of this object writes into the directory after its lock is released.
     */
    private static final Logger LOG = LoggerFactory.getLogger(FileReplicas.class);
    private final ReplicaDirectory directory;
    private final ReplicaDescriptions descriptions;
    /** Per key: the file a seeded round of the key may use when the key has no replica of the state's size. */
    private final Map<String, Path> seedImages;
    private final Map<String, String> seedKeys;

    private FileReplicas(Builder b) throws IOException {
        this.seedImages = Map.copyOf(b.seedImages);
        this.seedKeys = Map.copyOf(b.seedKeys);
        this.directory = new ReplicaDirectory(b.dir, b.maxStateBytes, b.maxRegions);
        this.descriptions = new ReplicaDescriptions(directory, b.rereadOwnSeeds);
        try {
            directory.recover();
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Opens (creating it if needed) a replica directory with the default limits.
     *
     * @param dir the directory
     * @return the replicas of that directory; close them when done
     * @throws IOException when the directory cannot be created or read
     * @throws DwcpException {@code KEY_BUSY} when another {@code FileReplicas} uses the directory
     */
    public static FileReplicas open(Path dir) throws IOException {
        return builder(dir).build();
    }

    /**
     * A builder for a replica directory.
     *
     * @param dir the directory
     * @return the builder
     */
    public static Builder builder(Path dir) {
        return new Builder(dir);
    }

    /** {@return the directory} */
    public Path directory() {
        return directory.path();
    }

    /**
     * Keys whose replica may mix two versions (a receiver crashed or a write failed while a round wrote it in place),
     * in name order. Such a replica must not be used to run the VM; its next round is full and clears the mark.
     *
     * @return the keys, a copy
     */
    public Set<String> inconsistentKeys() {
        return directory.inconsistentKeys();
    }

    /**
     * Opens the existing replica of {@code key} for a delta round, exactly as announced, without creating, truncating
     * or extending anything.
     *
     * @throws DwcpException {@code BASELINE_MISSING} when the replica is missing, marked inconsistent or of another
     *         shape (the sender then resends the round in full); {@code KEY_BUSY} when a round of the key runs;
     *         {@code LIMIT_EXCEEDED} or {@code PROTOCOL_ERROR} for a layout over the limits or with unsafe names
     */
    @Override
    public VmState<WritableRegion> open(String key, int pageSizeBytes, List<RegionLayout> regions) throws IOException {
        directory.check(key, regions);
        // The builder checks the page size: before the key is taken, so that a refusal cannot leave it busy.
        VmState.Builder<WritableRegion> b = VmState.<WritableRegion>builder(key).pageSizeBytes(pageSizeBytes).lastPagePartial(true);
        acquire(key);
        DeltaRoundGuard guard = new DeltaRoundGuard(directory, descriptions, key, regions.size(), pageSizeBytes);
        List<WritableRegion> opened = new ArrayList<>();
        try {
            if (directory.inconsistent(key)) {
                throw new DwcpException(ErrorCode.BASELINE_MISSING, "the replica of '" + key + "' in " + directory.path()
                        + " is marked inconsistent (a receiver stopped while writing it): only a full round can repair it");
            }
            for (RegionLayout r : regions) {
                Path file = directory.replicaFile(key, r.name(), regions.size());
                WritableRegion region;
                try {
                    region = StateRegions.existingFile(r.name(), file, r.sizeBytes());
                } catch (NoSuchFileException e) {
                    throw new DwcpException(ErrorCode.BASELINE_MISSING, "no replica of '" + key + "' at " + file
                            + ": a delta needs the replica it applies to", e);
                } catch (IOException e) {
                    if (Files.isRegularFile(file) && Files.size(file) != r.sizeBytes()) {
                        throw new DwcpException(ErrorCode.BASELINE_MISSING, "the replica " + file + " is " + Files.size(file)
                                + " bytes, the round announces " + r.sizeBytes() + ": a delta cannot change a region's size", e);
                    }
                    throw e;
                }
                opened.add(region);
                b.region(new GuardedRegion(region, guard));
            }
            return b.build();
        } catch (IOException | RuntimeException e) {
            for (WritableRegion r : opened) {
                closeQuietly(r);
            }
            directory.release(key);
            throw e;
        }
    }

    /**
     * Staging files for a keyframe round of {@code key}: fresh, unique to this round, created sparse at the announced
     * sizes; {@link StagedReplica#publish()} renames them over the replica.
     *
     * @throws DwcpException {@code RESOURCE_EXHAUSTED} when the directory's file system has less free space than the
     *         state; {@code KEY_BUSY}, {@code LIMIT_EXCEEDED}, {@code PROTOCOL_ERROR} as {@link #open}
     */
    @Override
    public StagedReplica openStaged(String key, int pageSizeBytes, List<RegionLayout> regions) throws IOException {
        long total = directory.check(key, regions);
        VmState.Builder<WritableRegion> b = VmState.<WritableRegion>builder(key).pageSizeBytes(pageSizeBytes).lastPagePartial(true);
        acquire(key);
        Map<Path, Path> renames = new LinkedHashMap<>();
        List<WritableRegion> opened = new ArrayList<>();
        try {
            long free = Files.getFileStore(directory.path()).getUsableSpace();
            if (total > free) {
                throw new DwcpException(ErrorCode.RESOURCE_EXHAUSTED, "a full round of '" + key + "' needs " + total
                        + " bytes in " + directory.path() + ", which has " + free + " bytes free");
            }
            for (RegionLayout r : regions) {
                Path target = directory.replicaFile(key, r.name(), regions.size());
                Path staging = directory.stagingFileFor(target);
                Files.createFile(staging);
                renames.put(staging, target);
                WritableRegion region = StateRegions.fileReplica(r.name(), staging, r.sizeBytes());
                opened.add(region);
                b.region(region);
            }
            return new StagedReplicaFiles(directory, descriptions, key, b.build(), renames);
        } catch (IOException | RuntimeException e) {
            for (WritableRegion r : opened) {
                closeQuietly(r);
            }
            for (Path staging : renames.keySet()) {
                Files.deleteIfExists(staging);
            }
            directory.release(key);
            throw e;
        }
    }

    /** Takes {@code key} for a round and stops its background description. */
    private void acquire(String key) {
        directory.acquire(key);
        descriptions.stopBackground(key);
    }

    /**
     * Creates a spill file for the batches of a seeded round of {@code key} that wait for the round's END frame: empty,
     * unique to the round, a staging file of this directory ({@code .KEY.NONCE.spill.staging}), so one left by a crash
     * is deleted when the directory is opened again. The round deletes it when it ends.
     */
    Path createSpillFile(String key) throws IOException {
        return directory.createStagingFile(key, ".spill");
    }

    /**
     * Creates an empty staging file for the pages a seeded round of {@code key} produces while its batches arrive (see
     * {@link StagedPages}); as a spill file, the caller deletes it, and one left by a crash is deleted by the next
     * {@link #open}.
     */
    Path createPagesFile(String key) throws IOException {
        return directory.createStagingFile(key, ".pages");
    }

    /** Closes {@code c} (if not null), logging a failure. */
    static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            LOG.debug("closing {} failed", c, e);
        }
    }

    /**
     * The seed a replica-seeded round of {@code key} can start from, with its description (computed from the file and
     * cached in a sidecar when there is none for the file as it is now): the key's own replica when it is one file of
     * {@code stateBytes} bytes and not marked inconsistent, else the image or other key's replica configured with
     * {@link Builder#seedImage} or {@link Builder#seedFrom}, when it has that size.
     *
     * @return the seed, or null when there is none (or a round of the key is running)
     */
    Seed seed(String key, int pageSize, long stateBytes) throws IOException {
        return seed(key, pageSize, stateBytes, true);
    }

    /**
     * As {@link #seed(String, int, long)}; without {@code ownReplica} the key's replica in this directory is not
     * considered (the key's rounds are written elsewhere, see {@link InPlaceReplica}). An image of another size than
     * the state seeds it as the image cut or extended with zeros to the state's size (see {@link SeedImages}).
     */
    Seed seed(String key, int pageSize, long stateBytes, boolean ownReplica) throws IOException {
        directory.check(key, List.of(new RegionLayout("ram", stateBytes)));
        if (directory.busy(key)) {
            return null;
        }
        Path own = directory.replicaFile(key);
        descriptions.joinBackground(key);
        if (ownReplica && !directory.inconsistent(key) && Files.isRegularFile(own) && Files.size(own) == stateBytes) {
            Seed s = ReplicaDescriptions.describe(own, directory.descriptionFile(key), pageSize, true);
            if (s.computed()) {
                descriptions.describedHere(key, s.description().stamp);
            }
            return s;
        }
        String other = seedKeys.get(key);
        if (other != null && !directory.inconsistent(other) && !directory.busy(other)) {
            Path file = directory.replicaFile(other);
            if (Files.isRegularFile(file) && Files.size(file) == stateBytes) {
                return ReplicaDescriptions.describe(file, directory.descriptionFile(other), pageSize, false);
            }
        }
        Path image = seedImages.get(key);
        if (image != null && Files.isRegularFile(image) && Files.size(image) > 0) {
            Path sidecar = directory.imageDescriptionFile(key);
            if (Files.size(image) == stateBytes) {
                return ReplicaDescriptions.describe(image, sidecar, pageSize, false);
            }
            return SeedImages.describeSized(image, sidecar, pageSize, stateBytes);
        }
        return null;
    }

    /**
     * {@return whether the description of {@code key}'s replica in {@code seed} was computed by this object (from the
     * replica's bytes, or from the pages a round wrote) while it held the directory's lock, and the replica has not
     * changed since} Then its page hashes may stand for the replica's pages: the replica has been written since only
     * through this object, which clears the record first. A replica changed behind the lock (another process ignoring
     * it, a restored copy keeping its stamp) is not caught this way; after a restart the record is gone and the replica
     * is hashed again.
     */
    boolean describedHere(String key, Seed seed) throws IOException {
        return descriptions.describedHere(key, seed);
    }

    /** Records that {@code d}, just installed for {@code key}'s replica, was computed from the pages a round wrote. */
    void describedHere(String key, SeedDescription d) {
        descriptions.describedHere(key, d.stamp);
    }

    /** Waits until no background description of {@code key} is queued or running (for tests). */
    void awaitBackgroundDescription(String key) {
        descriptions.awaitBackground(key);
    }

    /** Deletes the cached description of {@code seed}: the file did not hold what it said. */
    void forgetDescription(Seed seed) {
        descriptions.forgetDescription(seed);
    }

    /** {@return the sidecar that caches the description of {@code key}'s replica} */
    Path descriptionFile(String key) {
        return directory.descriptionFile(key);
    }

    /** {@return the file of a one-region replica of {@code key}} */
    Path replicaFile(String key) {
        return directory.replicaFile(key);
    }

    /**
     * {@return the index of the pages of {@code d} by their hash's first 8 bytes} built once per description version
     * and kept (one per sidecar; replaced when the sidecar describes another version)
     */
    SeedPageIndex pageIndex(SeedDescription d) throws IOException {
        return descriptions.pageIndex(d);
    }

    /**
     * A seed: the file, its description, whether a seeded round writes it in place (the key's own replica) or into a
     * new replica of the key (an image or another key's replica, which stay as they are), and whether the description
     * was computed just now (not loaded from its sidecar).
     */
    record Seed(Path file, SeedDescription description, boolean inPlace, boolean computed) {
    }

    /**
     * Stops and waits for a background description, then releases the directory lock. Idempotent. Rounds still open
     * finish with their files.
     */
    @Override
    public void close() throws IOException {
        if (!directory.close()) {
            return;
        }
        descriptions.close();
        directory.release();
    }

    @Override
    public String toString() {
        return "FileReplicas[" + directory.path() + "]";
    }

    /** Limits of a replica directory. */
    public static final class Builder {
        private final Path dir;
        private long maxStateBytes = DataSize.ofGibibytes(1024).bytes();
        private int maxRegions = 256;
        private final Map<String, Path> seedImages = new LinkedHashMap<>();
        private final Map<String, String> seedKeys = new LinkedHashMap<>();
        private boolean rereadOwnSeeds;

        private Builder(Path dir) {
            this.dir = Objects.requireNonNull(dir, "dir");
        }

        /**
         * A local image (for example a golden image) that a migration of {@code key} may start from when this
         * directory holds no replica of the key of the state's size: the sender then sends only the pages the image
         * does not have. The image is only read; its description is cached beside the replicas and recomputed when
         * the image's size, modification time or identity change.
         *
         * @param key the state key
         * @param image the image file
         * @return this builder
         */
        public Builder seedImage(String key, Path image) {
            checkName(key);
            seedImages.put(key, Objects.requireNonNull(image, "image").toAbsolutePath());
            return this;
        }

        /**
         * Another key's replica in this directory that a migration of {@code key} may start from (as
         * {@link #seedImage}); it is only read. Tried before an image of the same key.
         *
         * @param key the state key
         * @param otherKey the key whose replica seeds it
         * @return this builder
         */
        public Builder seedFrom(String key, String otherKey) {
            checkName(key);
            checkName(otherKey);
            if (key.equals(otherKey)) {
                throw new IllegalArgumentException("a key's own replica is always its seed; seedFrom needs another key");
            }
            seedKeys.put(key, otherKey);
            return this;
        }

        private static void checkName(String key) {
            if (key == null || !ReplicaDirectory.SAFE_NAME.matcher(key).matches()) {
                throw new IllegalArgumentException("'" + key + "' is not a safe key ([A-Za-z0-9._-], at most 200"
                        + " characters, not starting with '.')");
            }
        }

        /**
         * Whether a seeded round always reads and hashes the key's own replica again to verify its result. By default
         * (false) a replica whose description this object computed itself, from the replica's bytes or from the pages
         * a round wrote, and whose size, modification time and identity have not changed since, is not read again:
         * its description's page hashes stand for its unchanged pages, as a codec's baseline stands for them in a
         * delta round. True also catches a replica changed behind this object's directory lock by another writer that
         * kept its modification time, at the cost of reading the whole replica once per seeded round. After a
         * restart, and for images and other keys' replicas, the seed is read in any case.
         *
         * @param reread true to read the replica in every seeded round
         * @return this builder
         */
        public Builder rereadOwnSeeds(boolean reread) {
            this.rereadOwnSeeds = reread;
            return this;
        }

        /**
         * Largest state a round may announce (sum of its regions); larger ones are refused with
         * {@code LIMIT_EXCEEDED} before any file is touched. Default 1 TiB.
         *
         * @param size the largest state
         * @return this builder
         */
        public Builder maxStateSize(DataSize size) {
            Objects.requireNonNull(size, "size");
            if (size.bytes() <= 0) {
                throw new IllegalArgumentException("maxStateSize must be positive, got " + size);
            }
            this.maxStateBytes = size.bytes();
            return this;
        }

        /**
         * Most regions a round may announce, 1 to 4096. Default 256.
         *
         * @param regions the most regions
         * @return this builder
         */
        public Builder maxRegions(int regions) {
            if (regions < 1 || regions > MigrationWire.MAX_REGIONS) {
                throw new IllegalArgumentException("maxRegions must be 1 to " + MigrationWire.MAX_REGIONS + ", got " + regions);
            }
            this.maxRegions = regions;
            return this;
        }

        /**
         * Opens the directory (creating it): takes its lock, deletes leftover staging files and reads the
         * inconsistency markers.
         *
         * @return the replicas; close them when done
         * @throws IOException when the directory cannot be created or read
         * @throws DwcpException {@code KEY_BUSY} when another instance or process holds the directory
         */
        public FileReplicas build() throws IOException {
            return new FileReplicas(this);
        }
    }
}
