package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
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
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;

/*
 * The directory of a FileReplicas and what it holds on disk: owns the directory's lock file (taken at construction,
 * released by release()), the names of every file in it (replicas, description sidecars, inconsistency markers,
 * staging files), the keys a round holds (one writer per key), and the inconsistency markers with their in-memory
 * mirror. Created and closed by FileReplicas; used by FileReplicas (admission of a round: check, acquire), by
 * DeltaRoundGuard and StagedReplicaFiles (mark, unmark, release at a round's end) and by ReplicaDescriptions (names,
 * closed()).
 *
 * Locking: no lock of its own. busy and inconsistent are concurrent sets; busy.add is the one-writer-per-key gate, and
 * a key's marker file is written and deleted only by the round that holds the key (or by recover(), before the
 * directory is shared). closed is set once, by FileReplicas.close().
 */
final class ReplicaDirectory {
    /** Logs as {@link FileReplicas}, the class whose logging users configure. */
    private static final Logger LOG = LoggerFactory.getLogger(FileReplicas.class);
    /** Keys and region names: safe file names that do not start with a dot. */
    static final Pattern SAFE_NAME = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}");
    private static final String LOCK_FILE = ".dwcp-replicas.lock";
    private static final String STAGING_SUFFIX = ".staging";
    private static final String INCONSISTENT_SUFFIX = ".inconsistent";
    private static final String DESCRIPTION_SUFFIX = ".desc";
    private static final String REGION_SEPARATOR = "~";
    private static final SecureRandom NONCES = new SecureRandom();

    private final Path dir;
    private final long maxStateBytes;
    private final int maxRegions;
    private final FileChannel lockChannel;
    private final FileLock lock;
    /** Keys a round holds. */
    private final Set<String> busy = ConcurrentHashMap.newKeySet();
    /** Keys whose marker exists (or was found at open): their replica may mix two versions. */
    private final Set<String> inconsistent = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean closed = new AtomicBoolean();

    /**
     * Creates {@code dir} if needed and takes its lock; the caller then runs {@link #recover()} and, when that fails,
     * {@link #release()}.
     *
     * @throws DwcpException {@code KEY_BUSY} when another instance or process holds the directory
     */
    ReplicaDirectory(Path dir, long maxStateBytes, int maxRegions) throws IOException {
        this.dir = Files.createDirectories(dir);
        this.maxStateBytes = maxStateBytes;
        this.maxRegions = maxRegions;
        this.lockChannel = FileChannel.open(this.dir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock l;
        try {
            l = lockChannel.tryLock();
        } catch (OverlappingFileLockException e) {
            l = null;
        }
        if (l == null) {
            lockChannel.close();
            throw new DwcpException(ErrorCode.KEY_BUSY, "replica directory " + this.dir + " is already used by another"
                    + " FileReplicas (this or another process holds " + LOCK_FILE + "); give each receiver its own directory");
        }
        this.lock = l;
    }

    /** Deletes staging files of rounds that never finished and reads the inconsistency markers. We hold the lock. */
    void recover() throws IOException {
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
    Path path() {
        return dir;
    }

    /** {@return whether {@link #close()} ran} */
    boolean closed() {
        return closed.get();
    }

    /** {@return the key's replica may mix two versions (a marker exists or was found at open)} */
    boolean inconsistent(String key) {
        return inconsistent.contains(key);
    }

    /** {@return the inconsistent keys in name order, a copy} */
    Set<String> inconsistentKeys() {
        return new TreeSet<>(inconsistent);
    }

    /** {@return whether a round holds {@code key}} */
    boolean busy(String key) {
        return busy.contains(key);
    }

    /**
     * Takes {@code key} for a round: one writer per key.
     *
     * @throws DwcpException {@code KEY_BUSY} when a round holds it
     */
    void acquire(String key) {
        if (!busy.add(key)) {
            throw new DwcpException(ErrorCode.KEY_BUSY, "a round of '" + key + "' is already being received into " + dir
                    + "; one writer per key: this round is refused and the replica is left to the other one");
        }
    }

    /** Gives {@code key} back after its round. */
    void release(String key) {
        busy.remove(key);
    }

    /** Validates names and limits before any file operation; returns the state's total size. */
    long check(String key, List<ReplicaFactory.RegionLayout> regions) {
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
        for (ReplicaFactory.RegionLayout r : regions) {
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

    /** {@return the file of a one-region replica of {@code key}} */
    Path replicaFile(String key) {
        return dir.resolve(key);
    }

    /** {@return the file of region {@code region} of a replica of {@code key} that has {@code regionCount} regions} */
    Path replicaFile(String key, String region, int regionCount) {
        // '~' is in no key or region name: no two keys' files can be the same file.
        return dir.resolve(regionCount == 1 ? key : key + REGION_SEPARATOR + region);
    }

    /** {@return the sidecar that caches the description of {@code key}'s replica} */
    Path descriptionFile(String key) {
        return dir.resolve("." + key + DESCRIPTION_SUFFIX);
    }

    /** {@return the sidecar that caches the description of the image that seeds {@code key}} */
    Path imageDescriptionFile(String key) {
        return dir.resolve("." + key + ".image" + DESCRIPTION_SUFFIX);
    }

    /** {@return a new name, unique to one round, for the staging file of {@code target}} */
    Path stagingFileFor(Path target) {
        return dir.resolve("." + target.getFileName() + "." + nonce() + STAGING_SUFFIX);
    }

    /**
     * Creates an empty staging file {@code .KEY.NONCE.KIND.staging}: unique to one round; one left by a crash is
     * deleted by the next {@link #recover()}.
     */
    Path createStagingFile(String key, String kind) throws IOException {
        if (closed.get()) {
            throw new DwcpException(ErrorCode.ILLEGAL_STATE, "replica directory " + dir + " is closed");
        }
        if (!SAFE_NAME.matcher(key).matches()) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "state key '" + key + "' is not a safe file name");
        }
        return Files.createFile(dir.resolve("." + key + "." + nonce() + kind + STAGING_SUFFIX));
    }

    private static String nonce() {
        return HexFormat.of().formatHex(NONCES.generateSeed(8));
    }

    private Path marker(String key) {
        return dir.resolve("." + key + INCONSISTENT_SUFFIX);
    }

    /**
     * Makes the inconsistency marker of {@code key} durable before anything is written in place: the key counts as
     * inconsistent first, then its description is dropped from {@code descriptions} and its sidecar deleted (the replica
     * is about to change), then the marker is written and forced. The caller holds the key.
     */
    void mark(String key, ReplicaDescriptions descriptions) throws IOException {
        inconsistent.add(key);
        descriptions.forget(key);
        try (FileChannel ch = FileChannel.open(marker(key), StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(ByteBuffer.wrap(("the replica of '" + key + "' is being written in place; if this file survives,"
                    + " the replica may mix two versions\n").getBytes(StandardCharsets.UTF_8)));
            ch.force(true);
        }
        syncDirectory();
    }

    /** Deletes the marker of {@code key} (durably) and counts the key consistent again. The caller holds the key. */
    void unmark(String key) throws IOException {
        if (Files.deleteIfExists(marker(key))) {
            syncDirectory();
        }
        inconsistent.remove(key);
    }

    /** Forces the directory's entries (renames, creations, deletions) to disk. */
    void syncDirectory() throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    /** Refuses every later round ({@code ILLEGAL_STATE}); {@return whether this call closed it} */
    boolean close() {
        return closed.compareAndSet(false, true);
    }

    /** Releases the directory's lock. */
    void release() throws IOException {
        try {
            if (lock != null && lock.isValid()) {
                lock.release();
            }
        } finally {
            lockChannel.close();
        }
    }
}
