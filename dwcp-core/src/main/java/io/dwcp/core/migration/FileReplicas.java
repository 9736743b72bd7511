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
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;

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
    private static final Logger LOG = LoggerFactory.getLogger(FileReplicas.class);
    private static final Pattern SAFE_NAME = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}");
    private static final String LOCK_FILE = ".dwcp-replicas.lock";
    private static final String STAGING_SUFFIX = ".staging";
    private static final String INCONSISTENT_SUFFIX = ".inconsistent";
    private static final String DESCRIPTION_SUFFIX = ".desc";
    private static final String REGION_SEPARATOR = "~";
    private static final SecureRandom NONCES = new SecureRandom();

    private final Path dir;
    private final long maxStateBytes;
    private final int maxRegions;
    /** Per key: the file a seeded round of the key may use when the key has no replica of the state's size. */
    private final Map<String, Path> seedImages;
    private final Map<String, String> seedKeys;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final Set<String> busy = ConcurrentHashMap.newKeySet();
    private final Set<String> inconsistent = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean closed = new AtomicBoolean();
    /**
     * Describes a replica for seeded rounds after a round committed it in place, so that a later seed exchange
     * finds the description cached; one daemon thread at low priority, started on the first use.
     */
    private final java.util.concurrent.ExecutorService describer = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "dwcp-replica-describe");
        t.setDaemon(true);
        t.setPriority(Thread.MIN_PRIORITY);
        return t;
    });
    /**
     * Per key: the version (stamp) of the key's replica whose description this object computed itself, from the
     * replica's bytes or from the pages a round wrote, while it held the directory's lock. While the replica still has
     * that stamp, a seeded round in place takes the description's page hashes for the replica's unchanged pages instead
     * of reading and hashing the replica again (see {@link #describedHere}). Not persisted: after a restart the
     * replica is hashed again once. Cleared whenever the key's replica is written or its description dropped.
     */
    private final Map<String, SeedDescription.Stamp> describedHere = new ConcurrentHashMap<>();
    /** Page indexes of seeds' descriptions by sidecar (BLOCKS requests of version 5 on), one per sidecar. */
    private final Map<Path, SeedPageIndex> pageIndexes = new ConcurrentHashMap<>();
    /** {@link Builder#rereadOwnSeeds}: never take {@link #describedHere}'s page hashes for the replica's. */
    private final boolean rereadOwnSeeds;
    /** Background descriptions queued or running, by key; a round of the key stops its key's. */
    private final Map<String, Background> describing = new ConcurrentHashMap<>();

    /** A background description: its stop flag and completion. */
    private record Background(AtomicBoolean stop, java.util.concurrent.CompletableFuture<Void> done) {
    }

    private FileReplicas(Builder b) throws IOException {
        this.dir = Files.createDirectories(b.dir);
        this.maxStateBytes = b.maxStateBytes;
        this.maxRegions = b.maxRegions;
        this.seedImages = Map.copyOf(b.seedImages);
        this.seedKeys = Map.copyOf(b.seedKeys);
        this.rereadOwnSeeds = b.rereadOwnSeeds;
        this.lockChannel = FileChannel.open(dir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock l;
        try {
            l = lockChannel.tryLock();
        } catch (OverlappingFileLockException e) {
            l = null;
        }
        if (l == null) {
            lockChannel.close();
            throw new DwcpException(ErrorCode.KEY_BUSY, "replica directory " + dir + " is already used by another"
                    + " FileReplicas (this or another process holds " + LOCK_FILE + "); give each receiver its own directory");
        }
        this.lock = l;
        try {
            recover();
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

    /** Deletes staging files of rounds that never finished and reads the inconsistency markers. We hold the lock. */
    private void recover() throws IOException {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, ".*")) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                if (name.endsWith(STAGING_SUFFIX)) {
                    Files.deleteIfExists(f);
                    LOG.info("deleted {}: the staging file of a round that did not finish", f);
                } else if (name.endsWith(INCONSISTENT_SUFFIX)) {
                    String key = name.substring(1, name.length() - INCONSISTENT_SUFFIX.length());
                    inconsistent.add(key);
                    LOG.warn("replica '{}' in {} is marked inconsistent: a receiver stopped while writing it; its next"
                            + " round will be a full one", key, dir);
                }
            }
        }
    }

    /** {@return the directory} */
    public Path directory() {
        return dir;
    }

    /**
     * Keys whose replica may mix two versions (a receiver crashed or a write failed while a round wrote it in place),
     * in name order. Such a replica must not be used to run the VM; its next round is full and clears the mark.
     *
     * @return the keys, a copy
     */
    public Set<String> inconsistentKeys() {
        return new TreeSet<>(inconsistent);
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
        check(key, regions);
        // The builder checks the page size: before the key is taken, so that a refusal cannot leave it busy.
        VmState.Builder<WritableRegion> b = VmState.<WritableRegion>builder(key).pageSizeBytes(pageSizeBytes).lastPagePartial(true);
        acquire(key);
        RoundGuard guard = new RoundGuard(key, regions.size(), pageSizeBytes);
        List<WritableRegion> opened = new ArrayList<>();
        try {
            if (inconsistent.contains(key)) {
                throw new DwcpException(ErrorCode.BASELINE_MISSING, "the replica of '" + key + "' in " + dir + " is marked"
                        + " inconsistent (a receiver stopped while writing it): only a full round can repair it");
            }
            for (RegionLayout r : regions) {
                Path file = replicaFile(key, r.name(), regions.size());
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
            release(key);
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
        long total = check(key, regions);
        VmState.Builder<WritableRegion> b = VmState.<WritableRegion>builder(key).pageSizeBytes(pageSizeBytes).lastPagePartial(true);
        acquire(key);
        Map<Path, Path> renames = new LinkedHashMap<>();
        List<WritableRegion> opened = new ArrayList<>();
        try {
            long free = Files.getFileStore(dir).getUsableSpace();
            if (total > free) {
                throw new DwcpException(ErrorCode.RESOURCE_EXHAUSTED, "a full round of '" + key + "' needs " + total
                        + " bytes in " + dir + ", which has " + free + " bytes free");
            }
            String nonce = HexFormat.of().formatHex(NONCES.generateSeed(8));
            for (RegionLayout r : regions) {
                Path target = replicaFile(key, r.name(), regions.size());
                Path staging = dir.resolve("." + target.getFileName() + "." + nonce + STAGING_SUFFIX);
                Files.createFile(staging);
                renames.put(staging, target);
                WritableRegion region = StateRegions.fileReplica(r.name(), staging, r.sizeBytes());
                opened.add(region);
                b.region(region);
            }
            return new StagedFiles(key, b.build(), renames);
        } catch (IOException | RuntimeException e) {
            for (WritableRegion r : opened) {
                closeQuietly(r);
            }
            for (Path staging : renames.keySet()) {
                Files.deleteIfExists(staging);
            }
            release(key);
            throw e;
        }
    }

    /**
     * Creates a spill file for the batches of a seeded round of {@code key} that wait for the round's END frame: empty,
     * unique to the round, a staging file of this directory ({@code .KEY.NONCE.spill.staging}), so one left by a crash
     * is deleted when the directory is opened again. The round deletes it when it ends.
     */
    Path createSpillFile(String key) throws IOException {
        return createStagingFile(key, ".spill");
    }

    /**
     * Creates an empty staging file for the pages a seeded round of {@code key} produces while its batches arrive (see
     * {@link StagedPages}); as a spill file, the caller deletes it, and one left by a crash is deleted by the next
     * {@link #open}.
     */
    Path createPagesFile(String key) throws IOException {
        return createStagingFile(key, ".pages");
    }

    private Path createStagingFile(String key, String kind) throws IOException {
        if (closed.get()) {
            throw new DwcpException(ErrorCode.ILLEGAL_STATE, "replica directory " + dir + " is closed");
        }
        if (!SAFE_NAME.matcher(key).matches()) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "state key '" + key + "' is not a safe file name");
        }
        String nonce = HexFormat.of().formatHex(NONCES.generateSeed(8));
        return Files.createFile(dir.resolve("." + key + "." + nonce + kind + STAGING_SUFFIX));
    }

    /** Validates names and limits before any file operation; returns the state's total size. */
    private long check(String key, List<RegionLayout> regions) {
        if (closed.get()) {
            throw new DwcpException(ErrorCode.ILLEGAL_STATE, "replica directory " + dir + " is closed");
        }
        Objects.requireNonNull(key, "key");
        if (!SAFE_NAME.matcher(key).matches()) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "state key '" + key + "' is not a safe file name"
                    + " ([A-Za-z0-9._-], at most 200 characters, not starting with '.')");
        }
        if (regions.isEmpty() || regions.size() > maxRegions) {
            throw new DwcpException(ErrorCode.LIMIT_EXCEEDED, "a round of '" + key + "' announces " + regions.size()
                    + " regions; this replica directory takes 1 to " + maxRegions);
        }
        long total = 0;
        Set<String> names = new HashSet<>();
        for (RegionLayout r : regions) {
            if (!SAFE_NAME.matcher(r.name()).matches()) {
                throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "region name '" + r.name() + "' of '" + key
                        + "' is not a safe file name");
            }
            if (!names.add(r.name())) {
                // Two regions would be one file: refused before any file exists (it was a raw FileAlreadyExistsException).
                throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "a round of '" + key + "' names region '" + r.name()
                        + "' twice");
            }
            total += r.sizeBytes();
            if (r.sizeBytes() < 0 || total > maxStateBytes || total < 0) {
                throw new DwcpException(ErrorCode.LIMIT_EXCEEDED, "a round of '" + key + "' announces more than "
                        + maxStateBytes + " bytes of state (region '" + r.name() + "': " + r.sizeBytes()
                        + " bytes); raise FileReplicas.Builder.maxStateSize if that is meant");
            }
        }
        return total;
    }

    private Path replicaFile(String key, String region, int regionCount) {
        // '~' is in no key or region name: no two keys' files can be the same file.
        return dir.resolve(regionCount == 1 ? key : key + REGION_SEPARATOR + region);
    }

    private void acquire(String key) {
        if (!busy.add(key)) {
            throw new DwcpException(ErrorCode.KEY_BUSY, "a round of '" + key + "' is already being received into " + dir
                    + "; one writer per key: this round is refused and the replica is left to the other one");
        }
        Background b = describing.remove(key);
        if (b != null) {
            b.stop().set(true);
        }
    }

    /**
     * Describes the one-file replica of {@code key} in the background (after a round wrote it in place), unless its
     * description is cached or the replicas are closed. A round of the key stops it; a seed exchange waits for it.
     */
    private void describeLater(String key, int pageSize) {
        Path file = dir.resolve(key);
        if (closed.get() || !Files.isRegularFile(file)) {
            return;
        }
        Background b = new Background(new AtomicBoolean(), new java.util.concurrent.CompletableFuture<>());
        Background old = describing.put(key, b);
        if (old != null) {
            old.stop().set(true);
        }
        try {
            describer.execute(() -> {
                try {
                    if (!b.stop().get() && SeedDescription.load(descriptionFile(key), file, pageSize) == null) {
                        long t0 = System.nanoTime();
                        SeedDescription d = SeedDescription.compute(file, descriptionFile(key), pageSize, b.stop());
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
        } catch (java.util.concurrent.RejectedExecutionException e) {
            describing.remove(key, b);
            b.done().complete(null);
        }
    }

    private void release(String key) {
        busy.remove(key);
    }

    private Path marker(String key) {
        return dir.resolve("." + key + INCONSISTENT_SUFFIX);
    }

    /** Makes the inconsistency marker of {@code key} durable before anything is written in place. */
    private void mark(String key) throws IOException {
        inconsistent.add(key);
        describedHere.remove(key);
        pageIndexes.remove(descriptionFile(key));
        Files.deleteIfExists(descriptionFile(key));
        try (FileChannel ch = FileChannel.open(marker(key), StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(ByteBuffer.wrap(("the replica of '" + key + "' is being written in place; if this file survives,"
                    + " the replica may mix two versions\n").getBytes(StandardCharsets.UTF_8)));
            ch.force(true);
        }
        syncDirectory();
    }

    private void unmark(String key) throws IOException {
        if (Files.deleteIfExists(marker(key))) {
            syncDirectory();
        }
        inconsistent.remove(key);
    }

    private void syncDirectory() throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
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
        check(key, List.of(new RegionLayout("ram", stateBytes)));
        if (busy.contains(key)) {
            return null;
        }
        Path own = dir.resolve(key);
        Background background = describing.get(key);
        if (background != null) {
            background.done().join(); // computing it here too would only double the work
        }
        if (ownReplica && !inconsistent.contains(key) && Files.isRegularFile(own) && Files.size(own) == stateBytes) {
            Seed s = describe(own, descriptionFile(key), pageSize, true);
            if (s.computed()) {
                describedHere.put(key, s.description().stamp);
            }
            return s;
        }
        String other = seedKeys.get(key);
        if (other != null && !inconsistent.contains(other) && !busy.contains(other)) {
            Path file = dir.resolve(other);
            if (Files.isRegularFile(file) && Files.size(file) == stateBytes) {
                return describe(file, descriptionFile(other), pageSize, false);
            }
        }
        Path image = seedImages.get(key);
        if (image != null && Files.isRegularFile(image) && Files.size(image) > 0) {
            Path sidecar = dir.resolve("." + key + ".image" + DESCRIPTION_SUFFIX);
            if (Files.size(image) == stateBytes) {
                return describe(image, sidecar, pageSize, false);
            }
            return SeedImages.describeSized(image, sidecar, pageSize, stateBytes);
        }
        return null;
    }

    private static Seed describe(Path file, Path sidecar, int pageSize, boolean inPlace) throws IOException {
        SeedDescription d = SeedDescription.load(sidecar, file, pageSize);
        if (d != null) {
            return new Seed(file, d, inPlace, false);
        }
        long t0 = System.nanoTime();
        d = SeedDescription.compute(file, sidecar, pageSize);
        LOG.info("described {} for seeded rounds in {} ms ({} pages)", file, (System.nanoTime() - t0) / 1_000_000, d.pages);
        return new Seed(file, d, inPlace, true);
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
        return !rereadOwnSeeds && seed.inPlace() && seed.description().stamp.equals(describedHere.get(key))
                && seed.description().stamp.equals(SeedDescription.Stamp.of(replicaFile(key)));
    }

    /** Records that {@code d}, just installed for {@code key}'s replica, was computed from the pages a round wrote. */
    void describedHere(String key, SeedDescription d) {
        describedHere.put(key, d.stamp);
    }

    /** Waits until no background description of {@code key} is queued or running (for tests). */
    void awaitBackgroundDescription(String key) {
        Background b;
        while ((b = describing.get(key)) != null) {
            b.done().join();
        }
    }

    /** Deletes the cached description of {@code seed}: the file did not hold what it said. */
    void forgetDescription(Seed seed) {
        describedHere.values().remove(seed.description().stamp);
        try {
            Files.deleteIfExists(seed.description().sidecar);
        } catch (IOException e) {
            LOG.warn("cannot delete the stale description {}", seed.description().sidecar, e);
        }
    }

    /** {@return the sidecar that caches the description of {@code key}'s replica} */
    Path descriptionFile(String key) {
        return dir.resolve("." + key + DESCRIPTION_SUFFIX);
    }

    /** {@return the file of a one-region replica of {@code key}} */
    Path replicaFile(String key) {
        return dir.resolve(key);
    }

    /**
     * A seed: the file, its description, whether a seeded round writes it in place (the key's own replica) or into a
     * new replica of the key (an image or another key's replica, which stay as they are), and whether the description
     * was computed just now (not loaded from its sidecar).
     */
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

    record Seed(Path file, SeedDescription description, boolean inPlace, boolean computed) {
    }

    /**
     * Stops and waits for a background description, then releases the directory lock. Idempotent. Rounds still open
     * finish with their files.
     */
    @Override
    public void close() throws IOException {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        for (Background b : describing.values()) {
            b.stop().set(true);
        }
        describer.shutdown();
        try {
            // A stopped description ends within one chunk of hashing; wait for it, so that no thread of this object
            // writes into the directory after close() returned.
            if (!describer.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS)) {
                LOG.warn("a background description in {} did not stop within 30 s of close()", dir);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            if (lock != null && lock.isValid()) {
                lock.release();
            }
        } finally {
            lockChannel.close();
        }
    }

    @Override
    public String toString() {
        return "FileReplicas[" + dir + "]";
    }

    /**
     * One delta round's hold on a key: marks the replica before its first in-place write, and when the last region
     * closes, clears the mark if every written region was flushed, then releases the key.
     */
    private final class RoundGuard implements GuardedRegion.Guard {
        private final String key;
        /** Guarded by this. */
        private int open;
        /** Guarded by this. */
        private boolean marked;
        /** Guarded by this: a region was closed with writes it had not flushed. */
        private boolean unflushed;

        /** The round's page size, for the description after it; 0: none (more than one region). */
        private final int pageSize;

        RoundGuard(String key, int regions, int pageSize) {
            this.key = key;
            this.open = regions;
            this.pageSize = regions == 1 ? pageSize : 0;
        }

        @Override
        public synchronized void beforeWrite() throws IOException {
            if (!marked) {
                mark(key);
                marked = true;
            }
        }

        @Override
        public synchronized void closed(boolean dirty) {
            unflushed |= dirty;
            if (--open > 0) {
                return;
            }
            try {
                if (marked && !unflushed) {
                    unmark(key);
                } else if (marked) {
                    LOG.warn("the replica of '{}' in {} was left partly written; it is marked inconsistent and its next"
                            + " round will be a full one", key, dir);
                }
            } catch (IOException e) {
                LOG.warn("cannot clear the inconsistency mark of '{}' in {}; its next round will be a full one", key, dir, e);
            } finally {
                release(key);
            }
            if (marked && !unflushed && pageSize > 0 && !inconsistent.contains(key)) {
                describeLater(key, pageSize);
            }
        }
    }

    /** Staging files renamed over the replica files on publish, deleted on close when not published. */
    private final class StagedFiles implements StagedReplica {
        private final String key;
        private final VmState<WritableRegion> state;
        private final Map<Path, Path> renames;
        private boolean published;
        private boolean closed;

        StagedFiles(String key, VmState<WritableRegion> state, Map<Path, Path> renames) {
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
            describedHere.remove(key);
            pageIndexes.remove(descriptionFile(key));
            Files.deleteIfExists(descriptionFile(key));
            boolean several = renames.size() > 1;
            if (several) {
                mark(key);
            }
            for (Map.Entry<Path, Path> e : renames.entrySet()) {
                Files.move(e.getKey(), e.getValue(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
            syncDirectory();
            published = true;
            unmark(key);
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
                    release(key);
                }
            }
        }
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
            if (key == null || !SAFE_NAME.matcher(key).matches()) {
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
