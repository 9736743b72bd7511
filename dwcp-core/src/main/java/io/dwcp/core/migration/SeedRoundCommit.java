package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.spi.BaselineRef;
import io.dwcp.core.spi.DecodeResult;
import io.dwcp.core.spi.StateCodec;
import io.dwcp.core.state.VmState;
import io.dwcp.core.state.WritableRegion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.BitSet;
import java.util.List;

/*
 * The commit of one replica-seeded round, after its END frame: verifies the state the round produces (every page
 * hashed into the state digest, which must equal the sender's) without writing anything, then writes it (in place
 * into the key's replica, into a staging replica published by rename, or, with a write-ahead, publishes what was
 * written as the batches arrived), makes the result the codec's baseline and installs the new description. See
 * SeedDecoder's class comment for the whole round.
 *
 * Lifecycle: created by SeedDecoder.finish() once the frames were checked, run once, on the decoder's thread. It
 * borrows the decoder's round (batches, targets, digest, seed, the hashing ahead or write-ahead: the decoder keeps
 * owning them and closes them in its close()) and its budget (pages kept in memory are reserved through
 * SeedDecoder.reserve, released with the round). It owns only what it opens: the replica or staging replica, closed
 * on every path before run() returns, and the new description's staging file, discarded unless installed.
 *
 * Locking: none; confined to the decoder's thread. The key is held (one writer per key) from before the verification
 * until the write is done, by the replica or staging replica it opens: no other round can change the replica between
 * the two.
 */
final class SeedRoundCommit {
    /** Logs as {@link SeedDecoder}, the class whose logging users configure. */
    private static final Logger LOG = LoggerFactory.getLogger(SeedDecoder.class);

    private final SeedDecoder decoder;
    private final String key;
    private final int pageSize;
    private final ReplicaFactory.RegionLayout layout;
    private final long pages;
    private final FileReplicas replicas;
    private final StateCodec codec;
    private final List<SeedBatch> batches;
    private final BitSet targets;
    private final byte[] digest;
    private final FileReplicas.Seed seed;
    private final SeedAheadHasher ahead;
    private final SeedWriteAhead writeAhead;
    private final InPlaceReplica inPlace;
    private final boolean trustedSeed;
    private final long startNanos;
    private final long encodedBytes;
    /** For the log line: how much of the round was spilled. */
    private final SeedBatchStore store;
    /** Copies whose source the round writes before them: those sources are read into memory first. */
    private final int preserve;
    /** Whether the round's pages were written from {@link StagedPages}. */
    private boolean wroteStaged;

    SeedRoundCommit(SeedDecoder d, int preserve) {
        this.decoder = d;
        this.key = d.key;
        this.pageSize = d.pageSize;
        this.layout = d.layout;
        this.pages = d.pages;
        this.replicas = d.replicas;
        this.codec = d.codec;
        this.batches = d.batches;
        this.targets = d.targets;
        this.digest = d.digest;
        this.seed = d.seed;
        this.ahead = d.ahead;
        this.writeAhead = d.writeAhead;
        this.inPlace = d.inPlace;
        this.trustedSeed = d.trustedSeed;
        this.startNanos = d.startNanos;
        this.encodedBytes = d.encodedBytes;
        this.store = d.store;
        this.preserve = preserve;
    }

    /** {@return whether the round's pages were copied from where they were staged as they arrived} */
    boolean wroteStaged() {
        return wroteStaged;
    }

    /** Verifies, writes and adopts the round; {@return its result} */
    DecodeResult run() {
        // The key is held (one writer per key) from before the verification until the write is done: no other round
        // can change the replica between the two.
        if (writeAhead != null) {
            return finishWrittenAhead();
        }
        VmState<WritableRegion> replica = null;
        ReplicaFactory.StagedReplica staged = null;
        long ended = System.nanoTime();
        try (FileChannel in = FileChannel.open(seed.file(), StandardOpenOption.READ)) {
            if (seed.inPlace()) {
                replica = replicas.open(key, pageSize, List.of(layout));
            } else {
                staged = inPlace != null ? inPlace.openStaged(key, pageSize, List.of(layout))
                        : replicas.openStaged(key, pageSize, List.of(layout));
            }
            SeedDescription.Writer next = new SeedDescription.Writer(replicas.descriptionFile(key), pageSize, layout.sizeBytes());
            try {
                long written;
                long verified;
                long flushed;
                boolean copiedStaged = false;
                long awaited = ended;
                boolean hashedAhead = false;
                BaselineRef detached = null;
                if (replica != null) {
                    long[] known = ahead == null ? null : ahead.seedHashesIfCurrent();
                    long[] writtenHashes = known == null ? null : ahead.batchHashes();
                    awaited = System.nanoTime();
                    hashedAhead = known != null;
                    if (writtenHashes != null) {
                        verifyHashed(next, known, writtenHashes);
                    } else {
                        verify(in, next, known);
                    }
                    verified = System.nanoTime();
                    // The pages as the batches produced them while they arrived (hashed then): copied, not inflated again.
                    StagedPages producedPages = writtenHashes == null ? null : ahead.stagedPages();
                    copiedStaged = producedPages != null;
                    wroteStaged = copiedStaged;
                    SeedPages.Preserved kept = preserve == 0 || producedPages != null ? null : preserve(in, preserve);
                    // The baseline may be the replica's own pages: dropped before they change. The codec may keep its
                    // page hashes, so that adopting the result costs only the pages written.
                    detached = codec.detachReceived(key).orElse(null);
                    try {
                        written = producedPages != null
                                ? producedPages.writeTo(replica.region(0), targets, layout.sizeBytes())
                                : applyInPlace(in, replica.region(0), kept);
                        flushed = System.nanoTime();
                        replica.region(0).flush();
                    } catch (IOException | RuntimeException e) {
                        codec.drop(key); // nothing of the detached baseline is kept for a replica partly written
                        throw e;
                    }
                } else {
                    // The seed is not the key's (an image, another key's replica): hash what is written into the
                    // staging replica, in one pass, and publish only a verified copy.
                    written = writeStaged(in, staged.state().region(0), next);
                    check(next);
                    verified = System.nanoTime();
                    codec.drop(key);
                    flushed = System.nanoTime();
                    staged.publish();
                }
                long applied = System.nanoTime();
                // Before the description is installed: a codec that maps the replica marks it as being written.
                BaselineRef adopted = adopt(replica != null ? replica : staged.state(), detached, null);
                long adoptedAt = System.nanoTime();
                // While the key is still held: no other round can write the replica between the stamp and the install.
                // A replica written in place elsewhere is not described (it is no seed of this directory).
                if (inPlace == null) {
                    replicas.describedHere(key, next.install(SeedDescription.Stamp.of(replicas.replicaFile(key))));
                }
                if (replica != null) {
                    replica.close();
                    replica = null;
                } else {
                    staged.close();
                    staged = null;
                }
                LOG.info("seeded round of '{}': {} ms from its start to its END frame ({} batches of {} bytes spilled); then"
                        + " verified in {} ms ({} ms of it waiting for the hashing ahead; seed hashed {}), {} pages written{} in {} ms and"
                        + " flushed in {} ms, codec baseline"
                        + " adopted in {} ms{}, description installed in {} ms", key, (ended - startNanos) / 1_000_000,
                        store.spilledBatches(), store.spilledBytes(), (verified - ended) / 1_000_000,
                        (awaited - ended) / 1_000_000,
                        hashedAhead ? (trustedSeed ? "from its description" : "ahead") : "now", written,
                        copiedStaged ? " (staged as they arrived)" : "",
                        (flushed - verified) / 1_000_000, (applied - flushed) / 1_000_000, (adoptedAt - applied) / 1_000_000,
                        detached != null ? " (from the detached baseline's hashes)" : "", (System.nanoTime() - adoptedAt) / 1_000_000);
                return new DecodeResult(key, adopted, encodedBytes, layout.sizeBytes(), written,
                        Duration.ofNanos(System.nanoTime() - startNanos));
            } finally {
                next.discard();
            }
        } catch (IOException e) {
            throw new DwcpException(ErrorCode.IO_ERROR, "seeded round of '" + key + "' failed: " + e.getMessage(), e);
        } finally {
            FileReplicas.closeQuietly(replica);
            FileReplicas.closeQuietly(staged);
        }
    }

    /** Commits a round written in place as it arrived ({@link SeedWriteAhead}). */
    private DecodeResult finishWrittenAhead() {
        long ended = System.nanoTime();
        SeedDescription.Writer next = null;
        try {
            next = new SeedDescription.Writer(replicas.descriptionFile(key), pageSize, layout.sizeBytes());
            long written = writeAhead.finish(targets, next);
            check(next);
            long verified = System.nanoTime();
            codec.drop(key);
            writeAhead.publish();
            long published = System.nanoTime();
            long[] pageHashes = writeAhead.codecHashes();
            BaselineRef adopted = adopt(writeAhead.staged().state(), null, pageHashes);
            writeAhead.close();
            LOG.info("seeded round of '{}' written in place as it arrived: {} ms from its start to its END frame; then"
                    + " the rest written and verified in {} ms, published in {} ms, codec baseline adopted in {} ms{}", key,
                    (ended - startNanos) / 1_000_000, (verified - ended) / 1_000_000, (published - verified) / 1_000_000,
                    (System.nanoTime() - published) / 1_000_000, pageHashes != null ? " (from the hashes of the pages written)" : "");
            return new DecodeResult(key, adopted, encodedBytes, layout.sizeBytes(), written,
                    Duration.ofNanos(System.nanoTime() - startNanos));
        } catch (IOException e) {
            throw new DwcpException(ErrorCode.IO_ERROR, "seeded round of '" + key + "' failed: " + e.getMessage(), e);
        } finally {
            writeAhead.close(); // unpublished (a failure): the in-place replica stays marked inconsistent
            if (next != null) {
                try {
                    next.discard();
                } catch (IOException e) {
                    LOG.debug("discarding the description of '{}' failed", key, e);
                }
            }
        }
    }

    /**
     * The committed replica becomes the codec's baseline of the key, so the sender's next round can be an ordinary
     * delta (the sender adopts the state it sent under the same chain id). With {@code detached} (the key's receiver
     * baseline before the round, from {@link StateCodec#detachReceived}) the replica differs from it only in the
     * round's {@code targets}. With {@code pageHashes} (the codec's hash of every page, computed from the bytes
     * written) the codec need not read the replica. A failure costs only that: the round is committed, and the next
     * round is seeded or full again.
     */
    private BaselineRef adopt(VmState<WritableRegion> committed, BaselineRef detached, long[] pageHashes) {
        try {
            long chainId = SeedHashes.chainId(digest);
            BaselineRef ref = (detached != null ? codec.adoptReceived(committed, chainId, detached, targets)
                    : pageHashes != null ? codec.adoptReceived(committed, chainId, pageHashes)
                    : codec.adoptReceived(committed, chainId)).orElse(null);
            // A codec that maps the replica's pages announces writes it does not make (its mappings are writable,
            // as after a keyframe decoded in place): the replica is as verified and durable, so say so before it
            // closes, or it would count as left unflushed (marked inconsistent, its next round full).
            for (WritableRegion r : committed.regions()) {
                r.flush();
            }
            return ref;
        } catch (IOException | RuntimeException e) {
            LOG.warn("the codec could not adopt the replica of '{}' as its baseline; the next round is seeded or full: {}",
                    key, e.toString());
            codec.drop(key);
            return null;
        }
    }

    /**
     * Hashes every page the round would produce, writing nothing but the new description's staging file; with the
     * seed's page hashes computed ahead from its file ({@code known}, else null), only the pages the round writes.
     */
    private void verify(FileChannel in, SeedDescription.Writer next, long[] known) throws IOException {
        try (SeedPages p = decoder.pagesOf(in, batches)) {
            for (int i = 0; i < pages; i++) {
                if (known == null || targets.get(i)) {
                    next.addPage(p.page(i));
                } else {
                    next.addHash(known[2 * i], known[2 * i + 1]);
                }
            }
        }
        check(next);
    }

    /**
     * As {@link #verify}, with the round's own pages hashed as the batches arrived: nothing is read or hashed
     * again, only the hashes are folded (a chunk at a time). {@code known} becomes the result's page hashes (the
     * written pages' hashes replace the seed's there; the array is this round's, used for nothing else).
     */
    private void verifyHashed(SeedDescription.Writer next, long[] known, long[] written) throws IOException {
        for (int i = targets.nextSetBit(0); i >= 0; i = targets.nextSetBit(i + 1)) {
            known[2 * i] = written[2 * i];
            known[2 * i + 1] = written[2 * i + 1];
        }
        next.addHashes(known);
        check(next);
    }

    private void check(SeedDescription.Writer next) throws IOException {
        if (!MessageDigest.isEqual(next.digest(), digest)) {
            replicas.forgetDescription(seed);
            throw new DwcpException(ErrorCode.CHECKSUM_MISMATCH, "seeded round of '" + key + "': the state it produces"
                    + " does not have the sender's digest (the seed on this side is not what its description says, or"
                    + " the sender's state changed while it was sent); nothing was written");
        }
    }

    /** Writes the differing pages into the key's replica (not flushed); returns how many. */
    private long applyInPlace(FileChannel in, WritableRegion r, SeedPages.Preserved kept) throws IOException {
        long written = 0;
        try (SeedPages p = decoder.pagesOf(in, batches)) {
            p.preserved(kept);
            PageRunWriter runs = runWriter(r);
            for (SeedBatch b : batches) {
                for (int page : b.pages()) {
                    runs.add(page, p.page(page));
                    written++;
                }
            }
            runs.flush();
        }
        return written;
    }

    /** Writes every page into the staging replica, hashing it on the way; returns how many. */
    private long writeStaged(FileChannel in, WritableRegion r, SeedDescription.Writer next) throws IOException {
        long written = 0;
        try (SeedPages p = decoder.pagesOf(in, batches)) {
            PageRunWriter runs = runWriter(r);
            for (long i = 0; i < pages; i++) {
                ByteBuffer page = p.page(i);
                next.addPage(page);
                runs.add(i, page);
                written++;
            }
            runs.flush();
        }
        return written;
    }

    /**
     * Reads the seed's pages that the round both writes and copies into a later page, within the receive budget (the
     * reservation is released with the round's).
     */
    private SeedPages.Preserved preserve(FileChannel in, int count) throws IOException {
        long cost = (long) count * pageSize;
        decoder.reserve(cost, "pages that moved, of a seeded round of " + key);
        SeedPages.Preserved kept = new SeedPages.Preserved(count, pageSize);
        for (SeedBatch b : batches) {
            for (int k = 0; k < b.pages().length; k++) {
                int s = b.sources()[k];
                if (s >= 0 && s < b.pages()[k] && targets.get(s)) {
                    kept.read(in, s, Math.min(pageSize, layout.sizeBytes() - (long) s * pageSize));
                }
            }
        }
        return kept;
    }

    /** Consecutive pages go to the replica in one write of up to a chunk ({@value SeedHashes#CHUNK_PAGES} pages). */
    private PageRunWriter runWriter(WritableRegion r) {
        return new PageRunWriter(r, pageSize, SeedHashes.runPages(pageSize));
    }

}
