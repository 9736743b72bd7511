package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.spi.BaselineRef;
import io.dwcp.core.spi.DecodeResult;
import io.dwcp.core.spi.BlockCompressor;
import io.dwcp.core.spi.StateCodec;
import io.dwcp.core.spi.StateDecoder;
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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * The receiver's half of a replica-seeded round: collects the round's batches (compressed, within the receive
 * budget), then in {@link #finish()} first <em>verifies</em> the resulting state without writing anything — every
 * page it would hold is read (the seed's pages from the file itself, not from the cached description) and hashed
 * into the state digest, which must equal the sender's — and only then writes: in place into the key's replica
 * (under {@link FileReplicas}' inconsistency mark, only the pages that differ; copies come only from pages the round
 * does not write, so the order does not matter), or, when the seed is an image or another key's replica, into a
 * staging replica that is published by rename. The codec's baseline of the key is dropped first (it may be the
 * replica's own pages). The hashes computed while verifying become the replica's new description.
 *
 * <p>A failed round changes nothing: the verification reads only, and a failure while writing in place leaves the
 * replica marked inconsistent (its next round is full), as for any round.
 */
final class SeedDecoder implements StateDecoder {
    private static final Logger LOG = LoggerFactory.getLogger(SeedDecoder.class);
    /** Largest inflated batch: literal pages of one batch. */
    static final int MAX_BATCH_RAW_BYTES = 16 << 20;

    private final String key;
    private final int pageSize;
    private final ReplicaFactory.RegionLayout layout;
    private final FileReplicas replicas;
    private final StateCodec codec;
    private final ReceiveBuffers buffers;
    private final long pages;
    private final long startNanos = System.nanoTime();
    private final List<Batch> batches = new ArrayList<>();
    private final BitSet targets;
    private FileReplicas.Seed seed;
    private long reserved;
    private long encodedBytes;
    private int lastPage = -1;
    private byte[] digest;
    /**
     * The seed's page hashes, computed from its file while the round's batches arrive (from the BASE frame on), so
     * that verification after the END frame hashes only the pages the round writes. Null when not started.
     */
    private CompletableFuture<long[]> seedPageHashes;
    /** The seed file as it was when {@link #seedPageHashes} started: they count only if it is still so. */
    private SeedDescription.Stamp seedStamp;
    private final AtomicBoolean stopHashing = new AtomicBoolean();
    /**
     * The hashes (hi, lo) of the pages the round writes, computed on {@link #batchHasher} as each batch arrives (from
     * the batch and the seed's file, which nothing writes before the round is verified), so that verification after
     * the END frame only folds hashes. Null when the seed is not hashed ahead; a failed batch leaves the work to the
     * verification after END, which then reports the batch's fault.
     */
    private long[] targetHashes;
    private java.util.concurrent.ExecutorService batchHasher;
    private java.util.concurrent.Future<?> lastBatchHash;

    /** Reads literal data in its format besides DEFLATE; null: DEFLATE only. */
    private final BlockCompressor compressor;

    /** One batch, its data still compressed in {@code format}. */
    private record Batch(int[] pages, int[] sources, int literals, int rawBytes, int format, byte[] deflated) {
    }

    SeedDecoder(String key, int pageSize, List<ReplicaFactory.RegionLayout> regions, FileReplicas replicas,
                StateCodec codec, ReceiveBuffers buffers, BlockCompressor compressor) {
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
        FileReplicas.Seed s = replicas.seed(key, pageSize, stateBytes);
        if (s == null || !Arrays.equals(s.description().version, version)) {
            throw new DwcpException(ErrorCode.BASELINE_MISSING, "the seed of '" + key + "' the sender planned against"
                    + (s == null ? " is gone" : " changed since it was described") + "; a full round is needed");
        }
        seed = s;
        if (s.inPlace()) {
            hashSeedAhead(s);
        }
    }

    /**
     * Starts hashing the seed's pages on threads of their own (see {@link #seedPageHashes}); within the receive budget
     * (16 bytes a page), else verification hashes the whole state after the END frame.
     */
    private void hashSeedAhead(FileReplicas.Seed s) throws IOException {
        long cost = 2L * Long.BYTES * pages;
        try {
            buffers.reserve(cost, "seed page hashes of " + key);
        } catch (DwcpException e) {
            LOG.debug("seeded round of '{}': no room to hash the seed ahead ({}); it is hashed after the round", key, e.getMessage());
            return;
        }
        reserved += cost;
        try {
            buffers.reserve(cost, "result page hashes of " + key);
            reserved += cost;
            targetHashes = new long[(int) (2 * pages)];
            batchHasher = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "dwcp-seed-batch-hash");
                t.setDaemon(true);
                return t;
            });
        } catch (DwcpException e) {
            LOG.debug("seeded round of '{}': no room to hash the batches as they arrive ({})", key, e.getMessage());
        }
        seedStamp = SeedDescription.Stamp.of(s.file());
        CompletableFuture<long[]> f = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                f.complete(FilePageHashes.hash(s.file(), layout.sizeBytes(), pageSize, stopHashing));
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        }, "dwcp-seed-verify");
        t.setDaemon(true);
        t.start();
        seedPageHashes = f;
    }

    /** Waits until the seed's hashing ahead (if started) ended; for tests. {@return whether it was started} */
    boolean awaitHashedAhead() {
        if (seedPageHashes == null) {
            return false;
        }
        seedPageHashes.handle((r, e) -> null).join();
        return true;
    }

    /**
     * The seed's page hashes computed ahead, if they were and the seed file has not changed since they started (the
     * key is held now, so it cannot change any more); null otherwise.
     */
    private long[] seedHashesIfCurrent() throws IOException {
        if (seedPageHashes == null) {
            return null;
        }
        try {
            long[] h = seedPageHashes.join();
            if (SeedDescription.Stamp.of(seed.file()).equals(seedStamp)) {
                return h;
            }
            LOG.info("seeded round of '{}': the seed changed while it was hashed ahead; hashing it again", key);
        } catch (java.util.concurrent.CompletionException e) {
            LOG.info("seeded round of '{}': hashing the seed ahead failed ({}); hashing it again", key, e.getCause().toString());
        }
        return null;
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
            if (sources[i] >= pages || sources[i] < SeedWire.SOURCE_PATCH) {
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
        byte[] deflated = new byte[f.remaining()];
        long cost = deflated.length + 8L * count;
        buffers.reserve(cost, "seeded round of " + key);
        reserved += cost;
        f.get(deflated);
        Batch batch = new Batch(ps, sources, literals, rawBytes, format, deflated);
        batches.add(batch);
        if (batchHasher != null) {
            java.util.concurrent.Future<?> before = lastBatchHash;
            lastBatchHash = batchHasher.submit(() -> {
                if (before != null) {
                    before.get(); // one failed batch fails every later one: verification then does it all again
                }
                hashBatch(batch);
                return null;
            });
        }
    }

    /** Hashes the pages one batch produces into {@link #targetHashes} (on {@link #batchHasher}). */
    private void hashBatch(Batch b) throws IOException {
        SeedHashes hashes = new SeedHashes();
        long[] h = new long[2];
        try (FileChannel in = FileChannel.open(seed.file(), StandardOpenOption.READ); Pages p = new Pages(in, List.of(b))) {
            for (int page : b.pages) {
                if (stopHashing.get()) {
                    throw new java.util.concurrent.CancellationException("seeded round closed");
                }
                hashes.pageHash(p.page(page), h, 0);
                targetHashes[2 * page] = h[0];
                targetHashes[2 * page + 1] = h[1];
            }
        }
    }

    /** {@return whether every batch's pages were hashed as they arrived} (waits for the last one) */
    private boolean batchesHashed() {
        if (batchHasher == null) {
            return false;
        }
        if (lastBatchHash == null) {
            return true;
        }
        try {
            lastBatchHash.get();
            return true;
        } catch (java.util.concurrent.ExecutionException e) {
            LOG.debug("seeded round of '{}': hashing a batch on arrival failed ({}); verifying from the batches",
                    key, e.getCause().toString());
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DwcpException(ErrorCode.CANCELLED, "interrupted while verifying the seeded round of '" + key + "'");
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
        for (Batch b : batches) {
            for (int s : b.sources) {
                if (s >= 0 && targets.get(s)) {
                    throw SeedWire.malformed("page " + s + " is both written by the round and the source of a copy");
                }
            }
        }
        // The key is held (one writer per key) from before the verification until the write is done: no other round
        // can change the replica between the two.
        VmState<WritableRegion> replica = null;
        ReplicaFactory.StagedReplica staged = null;
        long ended = System.nanoTime();
        try (FileChannel in = FileChannel.open(seed.file(), StandardOpenOption.READ)) {
            if (seed.inPlace()) {
                replica = replicas.open(key, pageSize, List.of(layout));
            } else {
                staged = replicas.openStaged(key, pageSize, List.of(layout));
            }
            SeedDescription.Writer next = new SeedDescription.Writer(replicas.descriptionFile(key), pageSize, layout.sizeBytes());
            try {
                long written;
                long verified;
                boolean ahead = false;
                if (replica != null) {
                    long[] known = seedHashesIfCurrent();
                    ahead = known != null;
                    if (known != null && batchesHashed()) {
                        verifyHashed(next, known);
                    } else if (known != null) {
                        verifyKnown(in, next, known);
                    } else {
                        verify(in, next);
                    }
                    verified = System.nanoTime();
                    codec.drop(key);
                    written = applyInPlace(in, replica.region(0));
                } else {
                    // The seed is not the key's (an image, another key's replica): hash what is written into the
                    // staging replica, in one pass, and publish only a verified copy.
                    written = writeStaged(in, staged.state().region(0), next);
                    check(next);
                    verified = System.nanoTime();
                    codec.drop(key);
                    staged.publish();
                }
                long applied = System.nanoTime();
                // Before the description is installed: a codec that maps the replica marks it as being written.
                BaselineRef adopted = adopt(replica != null ? replica : staged.state());
                long adoptedAt = System.nanoTime();
                // While the key is still held: no other round can write the replica between the stamp and the install.
                next.install(SeedDescription.Stamp.of(replicas.replicaFile(key)));
                if (replica != null) {
                    replica.close();
                    replica = null;
                } else {
                    staged.close();
                    staged = null;
                }
                LOG.info("seeded round of '{}': {} ms from its start to its END frame; then verified in {} ms (seed hashed {}), {} pages"
                        + " written in {} ms, codec baseline adopted in {} ms, description installed in {} ms", key,
                        (ended - startNanos) / 1_000_000, (verified - ended) / 1_000_000,
                        ahead ? "ahead" : "now", written, (applied - verified) / 1_000_000,
                        (adoptedAt - applied) / 1_000_000, (System.nanoTime() - adoptedAt) / 1_000_000);
                return new DecodeResult(key, adopted, encodedBytes, layout.sizeBytes(), written,
                        Duration.ofNanos(System.nanoTime() - startNanos));
            } finally {
                next.discard();
            }
        } catch (IOException e) {
            throw new DwcpException(ErrorCode.IO_ERROR, "seeded round of '" + key + "' failed: " + e.getMessage(), e);
        } finally {
            closeQuietly(replica);
            closeQuietly(staged);
        }
    }

    /**
     * The committed replica becomes the codec's baseline of the key, so the sender's next round can be an ordinary
     * delta (the sender adopts the state it sent under the same chain id). A failure costs only that: the round is
     * committed, and the next round is seeded or full again.
     */
    private BaselineRef adopt(VmState<WritableRegion> committed) {
        try {
            BaselineRef ref = codec.adoptReceived(committed, SeedHashes.chainId(digest)).orElse(null);
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

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            LOG.warn("closing {} failed", c, e);
        }
    }

    /** Hashes every page the round would produce, writing nothing but the new description's staging file. */
    private void verify(FileChannel in, SeedDescription.Writer next) throws IOException {
        try (Pages p = new Pages(in)) {
            for (long i = 0; i < pages; i++) {
                next.addPage(p.page(i));
            }
        }
        check(next);
    }

    /**
     * As {@link #verify}, with the seed's page hashes computed ahead from its file: only the pages the round writes are
     * built and hashed now.
     */
    private void verifyKnown(FileChannel in, SeedDescription.Writer next, long[] known) throws IOException {
        try (Pages p = new Pages(in)) {
            for (int i = 0; i < pages; i++) {
                if (targets.get(i)) {
                    next.addPage(p.page(i));
                } else {
                    next.addHash(known[2 * i], known[2 * i + 1]);
                }
            }
        }
        check(next);
    }

    /**
     * As {@link #verifyKnown}, with the round's own pages hashed as the batches arrived: nothing is read or hashed
     * again, only the hashes are folded.
     */
    private void verifyHashed(SeedDescription.Writer next, long[] known) throws IOException {
        for (int i = 0; i < pages; i++) {
            long[] from = targets.get(i) ? targetHashes : known;
            next.addHash(from[2 * i], from[2 * i + 1]);
        }
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

    /** Writes the differing pages into the key's replica; returns how many. */
    private long applyInPlace(FileChannel in, WritableRegion r) throws IOException {
        long written = 0;
        try (Pages p = new Pages(in)) {
            for (Batch b : batches) {
                for (int page : b.pages) {
                    r.write((long) page * pageSize, p.page(page));
                    written++;
                }
            }
        }
        r.flush();
        return written;
    }

    /** Writes every page into the staging replica, hashing it on the way; returns how many. */
    private long writeStaged(FileChannel in, WritableRegion r, SeedDescription.Writer next) throws IOException {
        long written = 0;
        try (Pages p = new Pages(in)) {
            for (long i = 0; i < pages; i++) {
                ByteBuffer page = p.page(i);
                next.addPage(page);
                r.write(i * pageSize, page);
                written++;
            }
        }
        return written;
    }

    @Override
    public void close() {
        stopHashing.set(true);
        if (batchHasher != null) {
            batchHasher.shutdownNow();
            try {
                if (!batchHasher.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS)) {
                    LOG.warn("seeded round of '{}': a batch was still being hashed 30 s after close", key);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            batchHasher = null;
        }
        if (seedPageHashes != null) {
            // The hashing threads stop at their next chunk; the budget they use is given back only then.
            seedPageHashes.handle((r, e) -> null).join();
            seedPageHashes = null;
        }
        buffers.release(reserved);
        reserved = 0;
        batches.clear();
    }

    /**
     * The pages of the round's result, asked for in ascending order: the seed's page, or what the batch says (a
     * literal, zeros, a copy of another seed page). Reads the seed in blocks; inflates one batch at a time.
     */
    private final class Pages implements AutoCloseable {
        private final FileChannel in;
        /** The batches whose pages are asked for (all of the round's, or one). */
        private final List<Batch> batches;
        private final ByteBuffer block = ByteBuffer.allocateDirect(pageSize * SeedHashes.CHUNK_PAGES);
        private final ByteBuffer copy = ByteBuffer.allocateDirect(pageSize);
        private final ByteBuffer zero = ByteBuffer.allocateDirect(pageSize);
        private final Inflater inflater = new Inflater(true);
        private long blockFirst = -1;
        private int batch;
        private int op;
        private ByteBuffer raw;
        private int rawPosition;

        Pages(FileChannel in) {
            this(in, SeedDecoder.this.batches);
        }

        Pages(FileChannel in, List<Batch> batches) {
            this.in = in;
            this.batches = batches;
        }

        @Override
        public void close() {
            inflater.end();
        }

        ByteBuffer page(long i) throws IOException {
            int len = pageLength(i);
            Batch b = batch < batches.size() ? batches.get(batch) : null;
            if (b != null && b.pages[op] == i) {
                if (op == 0) {
                    inflate(b);
                }
                int source = b.sources[op];
                ByteBuffer result;
                if (source == SeedWire.SOURCE_ZERO) {
                    result = zero.clear().limit(len);
                } else if (source == SeedWire.SOURCE_LITERAL) {
                    need(b, len);
                    result = raw.duplicate();
                    result.position(rawPosition).limit(rawPosition + len);
                    rawPosition += len;
                } else if (source == SeedWire.SOURCE_PATCH) {
                    result = patch(b, i, len);
                } else {
                    result = null;
                }
                if (++op == b.pages.length) {
                    op = 0;
                    batch++;
                    if (rawPosition != b.rawBytes) {
                        throw SeedWire.malformed("a BATCH frame declares " + b.rawBytes + " literal bytes, its ops use "
                                + rawPosition);
                    }
                }
                if (result != null) {
                    return result;
                }
                if (pageLength(source) != len) {
                    throw SeedWire.malformed("copy of page " + source + " into page " + i + " of another length");
                }
                copy.clear().limit(len);
                SeedDescription.readFully(in, copy, (long) source * pageSize);
                return copy.flip();
            }
            long first = i - i % SeedHashes.CHUNK_PAGES;
            if (first != blockFirst) {
                long off = first * pageSize;
                block.clear().limit((int) Math.min(block.capacity(), layout.sizeBytes() - off));
                SeedDescription.readFully(in, block, off);
                blockFirst = first;
            }
            ByteBuffer page = block.duplicate();
            int at = (int) (i - first) * pageSize;
            page.position(at).limit(at + len);
            return page;
        }

        private void need(Batch b, int n) {
            if (rawPosition + n > b.rawBytes) {
                throw SeedWire.malformed("the ops of a BATCH frame need more than its " + b.rawBytes + " literal bytes");
            }
        }

        /** The seed's page {@code i} with the blocks the patch carries. */
        private ByteBuffer patch(Batch b, long i, int len) throws IOException {
            need(b, 1);
            int mask = raw.get(rawPosition++) & 0xff;
            copy.clear().limit(len);
            SeedDescription.readFully(in, copy, i * pageSize);
            int bs = pageSize / SeedWire.BLOCKS_PER_PAGE;
            for (int k = 0; k < SeedWire.BLOCKS_PER_PAGE; k++) {
                if ((mask & (1 << k)) == 0) {
                    continue;
                }
                int from = k * bs;
                int n = Math.min(bs, len - from);
                if (n <= 0) {
                    throw SeedWire.malformed("a patch of page " + i + " carries block " + k + ", past the page's end");
                }
                need(b, n);
                copy.put(from, raw.array(), rawPosition, n);
                rawPosition += n;
            }
            return copy.clear().limit(len);
        }

        private void inflate(Batch b) {
            if (raw == null || raw.capacity() < b.rawBytes) {
                raw = ByteBuffer.allocate(Math.max(b.rawBytes, 1));
            }
            raw.clear();
            rawPosition = 0;
            if (b.format() != SeedWire.FORMAT_DEFLATE) {
                try {
                    compressor.decompress(b.deflated(), 0, b.deflated().length, raw.array(), 0, b.rawBytes());
                } catch (DwcpException e) {
                    throw new DwcpException(ErrorCode.CORRUPT_FRAME, "a BATCH frame of a seeded round of '" + key
                            + "' in literal format " + b.format() + " is corrupt: " + e.getMessage(), e);
                }
                return;
            }
            inflater.reset();
            inflater.setInput(b.deflated);
            try {
                int n = 0;
                while (n < b.rawBytes) {
                    int got = inflater.inflate(raw.array(), n, b.rawBytes - n);
                    if (got == 0 && (inflater.finished() || inflater.needsInput() || inflater.needsDictionary())) {
                        break;
                    }
                    n += got;
                }
                if (n != b.rawBytes) {
                    throw new DwcpException(ErrorCode.CORRUPT_FRAME, "a BATCH frame of a seeded round of '" + key
                            + "' inflates to " + n + " bytes, it declares " + b.rawBytes);
                }
            } catch (DataFormatException e) {
                throw new DwcpException(ErrorCode.CORRUPT_FRAME, "a BATCH frame of a seeded round of '" + key
                        + "' is not valid DEFLATE data", e);
            }
        }
    }
}
