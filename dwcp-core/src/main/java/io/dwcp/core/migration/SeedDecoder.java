package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.spi.DecodeResult;
import io.dwcp.core.spi.BlockCompressor;
import io.dwcp.core.spi.StateCodec;
import io.dwcp.core.spi.StateDecoder;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.function.ToLongFunction;

/**
 * The receiver's half of a replica-seeded round: collects the round's batches (compressed; on the heap within a
 * quarter of the receive budget, beyond it in a spill file beside the replica, see {@link SeedBatchStore}), then in {@link #finish()} first <em>verifies</em> the resulting state without writing anything — every
 * page it would hold is hashed into the state digest, which must equal the sender's — and only then writes: in place
 * into the key's replica (under {@link FileReplicas}' inconsistency mark, only the pages that differ, in page order;
 * a copy gets the seed's page as it was before the round, so the sources the round writes before their copy are read
 * into memory before anything is written), or, when the seed is an image or another key's replica, into a staging
 * replica that is published by rename. The codec's baseline of the key is dropped first (it may be the
 * replica's own pages); written in place, it is detached ({@link StateCodec#detachReceived}), so that the codec adopts
 * the result by hashing only the pages the round wrote. The hashes computed while verifying become the replica's new
 * description.
 *
 * <p>The seed's pages that the round keeps are hashed from the seed's file, except when the seed is the key's own
 * replica, its description was computed by this receiver's {@link FileReplicas} while it held the directory (from
 * the replica's bytes, or from the pages it wrote), and the replica's stamp has not changed since: then the
 * description's page hashes stand for them (see {@link FileReplicas#describedHere}). After a restart, and for images
 * and other keys' replicas, the file is read.
 *
 * <p>A failed round changes nothing: the verification reads only, and a failure while writing in place leaves the
 * replica marked inconsistent (its next round is full), as for any round.
 */
final class SeedDecoder implements StateDecoder {
    /*
     * Two classes: this one reads the round's frames (BASE, BATCH, END) on the decoder's thread, checks them, collects
     * the batches and starts the hashing ahead or the write-ahead at BASE; SeedRoundCommit, created by finish(), does
     * the verification, the writes and the adoption. This class owns the round's resources from creation to close():
     * the batch store (spill file), the receive-budget reservation (reserve(), also used by the commit), the hashing
     * ahead and the write-ahead (each with its thread) and the read buffers. The fields without "private" are read by
     * SeedRoundCommit; they are written only while frames are accepted, on the decoder's thread, and are fixed once
     * finish() runs.
     */
    /** Largest inflated batch: literal pages of one batch. */
    static final int MAX_BATCH_RAW_BYTES = 16 << 20;

    final String key;
    final int pageSize;
    final ReplicaFactory.RegionLayout layout;
    final FileReplicas replicas;
    final StateCodec codec;
    private final ReceiveBuffers buffers;
    final long pages;
    final long startNanos = System.nanoTime();
    final List<SeedBatch> batches = new ArrayList<>();
    /** Holds the batches' compressed bytes until the round ends; closed with the decoder. */
    final SeedBatchStore store;
    /** The free space of a directory's file system. */
    private final ToLongFunction<Path> usableSpace;
    final BitSet targets;
    FileReplicas.Seed seed;
    private long reserved;
    long encodedBytes;
    private int lastPage = -1;
    byte[] digest;
    /**
     * Hashes the seed's pages from its file while the round's batches arrive (from the BASE frame on), and the
     * batches' pages as they arrive, so that verification after the END frame only folds hashes. Null when not
     * started (a staged round, or no room in the receive budget).
     */
    SeedAheadHasher ahead;
    /** Whether the round's pages were written from {@link StagedPages} (for tests). */
    private boolean wroteStaged;
    /** Whether the seed's unchanged pages are taken from its description, which this receiver computed itself. */
    boolean trustedSeed;
    /**
     * Buffers the round's pages are read with, reused batch after batch (a new batch buffer each time made the heap
     * grow): the decoder's thread's ({@link #pagesOf}), and those of the one thread that reads batches as they arrive
     * (the hashing ahead's or the write-ahead's; a round has one of them at most), used only by that thread
     * ({@link #aheadPagesOf}).
     */
    private SeedPages.Scratch scratch;
    private volatile SeedPages.Scratch aheadScratch;

    /**
     * Where the key's rounds are written when not into {@link #replicas}' directory (a file another process maps), or
     * null. Its seed is then never the key's replica in the directory, and the round is written into it whole.
     */
    InPlaceReplica inPlace;
    /** With {@link #inPlace} and a seed that is another file: the round written as its batches arrive. */
    SeedWriteAhead writeAhead;

    /** Reads literal data in its format besides DEFLATE; null: DEFLATE only. */
    private final BlockCompressor compressor;

    SeedDecoder(String key, int pageSize, List<ReplicaFactory.RegionLayout> regions, FileReplicas replicas,
                StateCodec codec, ReceiveBuffers buffers, BlockCompressor compressor) {
        this(key, pageSize, regions, replicas, codec, buffers, compressor, SeedBatchStore::usableSpace);
    }

    /** As above, with the free space of the replica directory's file system given (tests give a full disk). */
    SeedDecoder(String key, int pageSize, List<ReplicaFactory.RegionLayout> regions, FileReplicas replicas,
                StateCodec codec, ReceiveBuffers buffers, BlockCompressor compressor, ToLongFunction<Path> usableSpace) {
        this.compressor = compressor;
        if (regions.size() != 1) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "a seeded round of '" + key + "' announces "
                    + regions.size() + " regions; seeded rounds have one");
        }
        this.key = key;
        this.pageSize = pageSize;
        this.layout = regions.get(0);
        this.replicas = replicas;
        this.codec = codec;
        this.buffers = buffers;
        SeedWire.checkShape(pageSize, layout.sizeBytes());
        this.pages = SeedHashes.pages(layout.sizeBytes(), pageSize);
        this.targets = new BitSet((int) pages);
        this.store = new SeedBatchStore(key, buffers, buffers.maxBytes() / 4, () -> replicas.createSpillFile(key), usableSpace);
        this.usableSpace = usableSpace;
    }

    /** Free space a staging file of the round's produced pages leaves at least, beyond the state's size. */
    static final long STAGING_HEADROOM = 256L << 20;

    /**
     * A staging file for the pages the round's batches produce ({@link StagedPages}), when the replica directory's
     * file system has room for a whole state and {@link #STAGING_HEADROOM} besides (the staged pages are at most the
     * state): staging never takes the room the replica's own writes need.
     */
    private Path stagingFile() throws IOException {
        Path dir = replicas.replicaFile(key).toAbsolutePath().getParent();
        long free = usableSpace.applyAsLong(dir);
        if (free - STAGING_HEADROOM < layout.sizeBytes()) {
            throw new IOException(free + " bytes free in " + dir + ", less than the state and " + STAGING_HEADROOM
                    + " bytes besides");
        }
        return replicas.createPagesFile(key);
    }

    /**
     * The key's rounds go into {@code target} (in place), not into the directory: the seed is an image or another
     * key's replica, read only, and the round's every page is written into {@code target} once verified.
     */
    SeedDecoder writeInto(InPlaceReplica target) {
        this.inPlace = target;
        return this;
    }

    @Override
    public void accept(ByteBuffer frame) {
        encodedBytes += frame.remaining();
        if (!frame.hasRemaining()) {
            throw SeedWire.malformed("empty seeded-round frame");
        }
        int type = frame.get() & 0xff;
        if (digest != null) {
            throw SeedWire.malformed("frame after the END frame of a seeded round");
        }
        if (seed == null && type != SeedWire.FRAME_BASE) {
            throw SeedWire.malformed("a seeded round must start with a BASE frame, got type " + type);
        }
        try {
            switch (type) {
                case SeedWire.FRAME_BASE -> base(frame);
                case SeedWire.FRAME_BATCH -> batch(frame, SeedWire.FORMAT_DEFLATE);
                case SeedWire.FRAME_FORMAT_BATCH -> batch(frame, format(frame));
                case SeedWire.FRAME_END -> end(frame);
                default -> throw SeedWire.malformed("seeded-round frame type " + type);
            }
        } catch (IOException e) {
            throw new DwcpException(ErrorCode.IO_ERROR, "reading the seed of '" + key + "' failed: " + e.getMessage(), e);
        }
    }

    private void base(ByteBuffer f) throws IOException {
        if (seed != null || f.remaining() != 24) {
            throw SeedWire.malformed("BASE frame repeated or of " + (f.remaining() + 1) + " bytes");
        }
        byte[] version = new byte[16];
        f.get(version);
        long stateBytes = f.getLong();
        if (stateBytes != layout.sizeBytes()) {
            throw SeedWire.malformed("BASE frame says " + stateBytes + " bytes, the round header " + layout.sizeBytes());
        }
        FileReplicas.Seed s = replicas.seed(key, pageSize, stateBytes, inPlace == null);
        if (s == null || !Arrays.equals(s.description().version, version)) {
            throw new DwcpException(ErrorCode.BASELINE_MISSING, "the seed of '" + key + "' the sender planned against"
                    + (s == null ? " is gone" : " changed since it was described") + "; a full round is needed");
        }
        seed = s;
        if (inPlace != null && !s.inPlace()) {
            // Written in place as the batches arrive (see SeedWriteAhead); verified by the same digest after END.
            ReplicaFactory.StagedReplica target = inPlace.openStaged(key, pageSize, List.of(layout));
            try {
                // The codec's page hashes of what is written, when the state is whole pages: its adoption then reads
                // nothing again.
                ToLongFunction<ByteBuffer> codecHash = layout.sizeBytes() % pageSize != 0 ? null
                        : codec.receivedPageHash(pageSize).orElse(null);
                writeAhead = new SeedWriteAhead(key, s.file(), pageSize, layout.sizeBytes(), target, buffers,
                        this::aheadPagesOf, codecHash);
            } catch (IOException | RuntimeException e) {
                FileReplicas.closeQuietly(target);
                throw e;
            }
        }
        if (s.inPlace()) {
            // A replica this receiver described itself and has not changed since is not read again: its description's
            // page hashes stand for its unchanged pages (FileReplicas.describedHere says why that is safe).
            trustedSeed = replicas.describedHere(key, s);
            ahead = SeedAheadHasher.start(key, s.file(), trustedSeed ? s.description() : null, layout.sizeBytes(),
                    pageSize, buffers, this::aheadPagesOf, this::stagingFile);
        }
    }

    /** {@return whether the round's pages were copied from where they were staged as they arrived} (for tests) */
    boolean wroteStagedPages() {
        return wroteStaged;
    }

    /** {@return whether the seed's unchanged pages were taken from its description, not read} (for tests) */
    boolean seedFromDescription() {
        return trustedSeed;
    }

    /** {@return how many batches wait in the spill file} (for tests) */
    int spilledBatches() {
        return store.spilledBatches();
    }

    /** Waits until the seed's hashing ahead (if started) ended; for tests. {@return whether it was started} */
    boolean awaitHashedAhead() {
        if (ahead == null) {
            return false;
        }
        ahead.awaitSeedHashed();
        return true;
    }

    /** Reads a format batch's format: one this receiver reads, and not DEFLATE (which has its own frame type). */
    private int format(ByteBuffer f) {
        if (!f.hasRemaining()) {
            throw SeedWire.malformed("empty format BATCH frame");
        }
        int format = f.get() & 0xff;
        if (compressor == null || format != compressor.formatId()) {
            throw SeedWire.malformed("BATCH frame with literal format " + format + ", which this receiver does not read ("
                    + (compressor == null ? "it has no block compressor: add dwcp-compression to its class path"
                    : "its block compressor '" + compressor.name() + "' reads format " + compressor.formatId()) + ")");
        }
        return format;
    }

    private void batch(ByteBuffer f, int format) {
        if (f.remaining() < 4) {
            throw SeedWire.malformed("BATCH frame of " + f.remaining() + " bytes");
        }
        int count = f.getInt();
        if (count <= 0 || count > SeedWire.MAX_BATCH_OPS || f.remaining() < 8L * count + 8) {
            throw new DwcpException(ErrorCode.LIMIT_EXCEEDED, "BATCH frame of " + count + " ops (1 to "
                    + SeedWire.MAX_BATCH_OPS + ") in " + f.remaining() + " bytes");
        }
        int[] ps = new int[count];
        int[] sources = new int[count];
        int literals = 0;
        long literalBytes = 0;
        long minBytes = 0;
        for (int i = 0; i < count; i++) {
            ps[i] = f.getInt();
            sources[i] = f.getInt();
            if (ps[i] <= lastPage || ps[i] >= pages) {
                throw SeedWire.malformed("op for page " + ps[i] + " (pages ascend, after " + lastPage + ", below " + pages + ")");
            }
            if (sources[i] >= pages || sources[i] < SeedWire.SOURCE_FINE_PATCH) {
                throw SeedWire.malformed("op source " + sources[i] + " for page " + ps[i]);
            }
            if (sources[i] == SeedWire.SOURCE_LITERAL) {
                literals++;
                literalBytes += pageLength(ps[i]);
                minBytes += pageLength(ps[i]);
            } else if (sources[i] == SeedWire.SOURCE_PATCH) {
                literals++;
                literalBytes += 1 + pageLength(ps[i]);
                minBytes += 1;
            } else if (sources[i] == SeedWire.SOURCE_FINE_PATCH) {
                literals++;
                literalBytes += 1 + SeedWire.BLOCKS_PER_PAGE + pageLength(ps[i]);
                minBytes += 1;
            }
            lastPage = ps[i];
            targets.set(ps[i]);
        }
        int declaredLiterals = f.getInt();
        int rawBytes = f.getInt();
        if (declaredLiterals != literals || rawBytes < minBytes || rawBytes > literalBytes || rawBytes > MAX_BATCH_RAW_BYTES) {
            throw SeedWire.malformed("BATCH frame declares " + declaredLiterals + " literal pages of " + rawBytes
                    + " bytes; its ops have " + literals + " of " + literalBytes + " (at most " + MAX_BATCH_RAW_BYTES + ")");
        }
        // No encoder makes more than this of rawBytes (zstd's bound is raw + raw/256 + 64, DEFLATE's raw + 5 bytes per
        // 16 KiB), so a batch held on the heap until END is never larger than about MAX_BATCH_RAW_BYTES.
        long compressedBound = rawBytes + (rawBytes >>> 7) + 1024;
        if (f.remaining() > compressedBound) {
            throw SeedWire.malformed("BATCH frame carries " + f.remaining() + " compressed bytes for " + rawBytes
                    + " raw bytes; no encoder makes more than " + compressedBound);
        }
        // The ops stay on the heap; the compressed bytes too while they fit a quarter of the budget, else on disk.
        long cost = 8L * count;
        buffers.reserve(cost, "seeded round of " + key);
        reserved += cost;
        SeedBatch batch = store.add(ps, sources, literals, rawBytes, format, f);
        batches.add(batch);
        if (ahead != null) {
            ahead.batchArrived(batch);
        }
        if (writeAhead != null) {
            writeAhead.batchArrived(batch);
        }
    }

    private void end(ByteBuffer f) {
        if (f.remaining() != 40) {
            throw SeedWire.malformed("END frame of " + (f.remaining() + 1) + " bytes");
        }
        byte[] d = new byte[32];
        f.get(d);
        long count = f.getLong();
        if (count != pages) {
            throw SeedWire.malformed("END frame counts " + count + " pages, the state has " + pages);
        }
        digest = d;
    }

    private int pageLength(long page) {
        return (int) Math.min(pageSize, layout.sizeBytes() - page * pageSize);
    }

    @Override
    public DecodeResult finish() {
        if (digest == null) {
            throw new DwcpException(ErrorCode.TRANSFER_INCOMPLETE, "seeded round of '" + key + "' ended without its END frame");
        }
        // Copies of pages that moved: a source the round writes before its copy is kept in memory until then.
        int preserve = 0;
        for (SeedBatch b : batches) {
            for (int k = 0; k < b.pages().length; k++) {
                int s = b.sources()[k];
                if (s >= 0 && targets.get(s) && s <= b.pages()[k]) {
                    if (s == b.pages()[k]) {
                        throw SeedWire.malformed("page " + s + " is a copy of itself");
                    }
                    preserve++;
                }
            }
        }
        if (seed.inPlace() && preserve > SeedWire.maxPreservedPages(pageSize)) {
            throw new DwcpException(ErrorCode.LIMIT_EXCEEDED, "a seeded round of '" + key + "' copies " + preserve
                    + " pages from pages it writes before them; at most " + SeedWire.maxPreservedPages(pageSize));
        }
        SeedRoundCommit commit = new SeedRoundCommit(this, preserve);
        try {
            return commit.run();
        } finally {
            wroteStaged = commit.wroteStaged();
        }
    }

    /** Reserves {@code cost} bytes of the receive budget for this round; released by {@link #close()}. */
    void reserve(long cost, String what) {
        buffers.reserve(cost, what);
        reserved += cost;
    }

    @Override
    public void close() {
        if (writeAhead != null) {
            writeAhead.close(); // first: its thread may read spilled batches
        }
        if (ahead != null) {
            ahead.close(); // first: its thread may read spilled batches
        }
        store.close();
        buffers.release(reserved);
        reserved = 0;
        batches.clear();
    }

    /** The round's pages, read with the decoder's thread's buffers ({@link SeedRoundCommit}'s verification and writes). */
    SeedPages pagesOf(FileChannel in, List<SeedBatch> of) {
        if (scratch == null) {
            scratch = new SeedPages.Scratch(pageSize);
        }
        return new SeedPages(key, pageSize, layout.sizeBytes(), compressor, in, of, scratch);
    }

    /**
     * As {@link #pagesOf}, for the thread that reads batches as they arrive (the hashing ahead's or the write-ahead's,
     * one batch at a time), with buffers of its own.
     */
    private SeedPages aheadPagesOf(FileChannel in, List<SeedBatch> of) {
        SeedPages.Scratch s = aheadScratch;
        if (s == null) {
            s = new SeedPages.Scratch(pageSize);
            aheadScratch = s;
        }
        return new SeedPages(key, pageSize, layout.sizeBytes(), compressor, in, of, s);
    }
}
