package io.dwcp.compression;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.spi.BaselineRef;
import io.dwcp.core.spi.DecodeResult;
import io.dwcp.core.spi.StateCodec;
import io.dwcp.core.spi.StateDecoder;
import io.dwcp.core.state.VmState;
import io.dwcp.core.state.WritableRegion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/*
 * Decoding of one round. Maintainer notes.
 *
 * Every frame is checked before anything is allocated for it: length, magic, version, CRC32C, type, flags, sequence,
 * round id, the baseline triple, then the type's own fields against the replica's shape and the limits
 * (max-decoded-frame bounds the one buffer a batch may need). Pages are decoded into scratch only:
 *  - a keyframe into a new page store (direct memory when the baseline budget allows it, else a deleted temporary
 *    file), which becomes the receiver's baseline after commit, so a keyframe needs no second copy;
 *  - a delta into SlotPages (the replaced pages in direct memory); moved and XOR pages read the pinned baseline,
 *    which does not change before commit. With scratch files (a receiver's replica directory), each completed batch's
 *    pages move to a file and are read back through a read-only mapping (SlotFile), so the round's memory is its
 *    batches in flight, not all of its pages.
 * finish() compares the state digest, updated page by page from the baseline's page hashes, with the sender's, and only
 * then writes the replica and commits the baseline. Any failure before that leaves replica and baseline as they were;
 * the scratch is freed by close().
 *
 * A keyframe decoded into a staging replica (newKeyframeDecoder) is the exception that keeps that rule: nobody reads
 * the staging copy before publish, so its pages are written behind the decode as batches complete (one write at a
 * time, in page order), and finish() only waits for the last write, publishes, then commits the baseline. When the
 * staging replica is one mappable region of whole pages (a file), the decode goes further: the page store *is* the
 * staging file's mapping, the decoded pages go straight into the file (positional writes, see StagingWrites), so
 * there is nothing to write behind, and after publish the receiver's baseline and its replica are the same pages (one
 * copy of the state instead of two). Later deltas still write the replica and then the baseline (which skips a page
 * the replica write already put in its file), so correctness never depends on that sharing.
 *
 * Parts: this class runs the round's phases, keeps its state and scratch and commits it, on the thread that feeds it;
 * RoundHeader holds the round's identity from BEGIN and checks each frame's fields against it and the replica;
 * BatchDecoder is the worker side (decompress a batch, apply its pages into scratch); BatchJob carries one batch
 * between the two; ReplicaWriter writes verified pages to the replica and then the baseline; PayloadBuffers owns the
 * direct buffers the batches' payloads are copied into; WriteBehind queues a staged keyframe's writes (or msyncs).
 *
 * Threading: every field here is confined to the feeding thread (accept, finish, close), except cpuNanos, which workers
 * add to under this object's monitor (addCpu). Workers run BatchDecoder.decode (final fields only; each job writes just
 * the pages and hashes it owns) and the write-behind tasks (which read final fields and the store they were handed).
 * The feeding thread reads a job's results only after its future completed, and frees the scratch only after every
 * submitted job ended (releaseScratch), so no worker writes into freed memory.
 */
final class HdeDecoder implements StateDecoder {
    private static final Logger LOG = LoggerFactory.getLogger(HdeDecoder.class);
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final int SLOT_CHUNK_BYTES = 1 << 20;

    private enum Phase { NEW, BEGUN, ENDED, FINISHED, FAILED, CLOSED }

    private final HdeCodec codec;
    private final VmState<? extends WritableRegion> replica;
    /** Non-null: {@link #replica} is a staging copy for a keyframe, written behind the decode and published in finish(). */
    private final StateCodec.Publisher publish;
    /** Non-null: a delta's replaced pages are staged in a file from here, batch by batch (see SlotFile). */
    private final StateCodec.ScratchFiles scratch;
    /** Staged keyframe: the replica writes (or, in place, the msyncs) behind the decode. */
    private final WriteBehind writeBehind;
    /** Staged keyframe decoded straight into the staging replica's mapping: no write-behind. */
    private boolean inPlace;
    private final Layout layout;
    /** Writes decoded pages to the replica (stateless, any thread). */
    private final ReplicaWriter writer;
    private final int pageSize;
    private final int rawLimit;
    private Phase phase = Phase.NEW;

    /** The round's identity, from its BEGIN frame (null before it); every later frame is checked against it. */
    private RoundHeader round;
    /** {@code round.keyframe}, kept here for the per-page paths. */
    private boolean keyframe;

    private Baseline base;
    /** The worker side of this round's batches; made at BEGIN, immutable (see its locking note). */
    private BatchDecoder batches;
    private BaselineStore.Reservation reservation;
    private PageStore staging;
    private long[] hashes;
    private SlotPages slots;
    private final ArrayDeque<Future<BatchJob>> inflight = new ArrayDeque<>();
    private final int maxInflight;
    /** The batches' payload buffers: lent to the jobs in {@link #inflight}, freed after every job ended. */
    private final PayloadBuffers payloads;

    private int nextSequence;
    private long nextPage;
    private long nextSlot;
    private long digest;
    private long expectedDigest;
    private long encodedBytes;
    /** Guarded by this object's monitor (addCpu): workers add to it too. */
    private long cpuNanos;
    private Instant started;

    HdeDecoder(HdeCodec codec, VmState<? extends WritableRegion> replica) {
        this(codec, replica, null);
    }

    HdeDecoder(HdeCodec codec, VmState<? extends WritableRegion> replica, StateCodec.Publisher publish) {
        this(codec, replica, publish, null);
    }

    HdeDecoder(HdeCodec codec, VmState<? extends WritableRegion> replica, StateCodec.Publisher publish,
               StateCodec.ScratchFiles scratch) {
        this.codec = codec;
        this.scratch = scratch;
        this.replica = replica;
        this.publish = publish;
        this.layout = Layout.of(replica);
        this.writer = new ReplicaWriter(replica, layout, codec.workers());
        this.writeBehind = new WriteBehind(codec, writer, layout);
        this.pageSize = layout.pageSizeBytes;
        this.rawLimit = codec.settings().rawBatchLimit(pageSize);
        this.maxInflight = 2 * Math.max(1, ((java.util.concurrent.ThreadPoolExecutor) codec.workers()).getMaximumPoolSize()) + 2;
        this.payloads = new PayloadBuffers(maxInflight);
    }

    @Override
    public void accept(ByteBuffer frame) {
        if (frame == null) {
            throw new IllegalArgumentException("frame must not be null");
        }
        if (phase == Phase.FAILED || phase == Phase.CLOSED || phase == Phase.FINISHED) {
            throw new DwcpException(ErrorCode.ILLEGAL_STATE, "decoder of " + replica.key() + " is " + phase
                    + " and accepts no more frames");
        }
        long cpu0 = THREADS.getCurrentThreadCpuTime();
        if (started == null) {
            started = codec.clock().instant();
        }
        try {
            ByteBuffer f = frame.slice().order(ByteOrder.BIG_ENDIAN);
            long maxFrame = (long) rawLimit + (rawLimit >>> 7) + 1024 + Wire.BATCH_PAYLOAD_OFFSET + Wire.CRC_LENGTH;
            if (f.remaining() > maxFrame) {
                throw new DwcpException(ErrorCode.LIMIT_EXCEEDED, "frame of " + f.remaining()
                        + " bytes exceeds the " + maxFrame + "-byte limit from max-decoded-frame");
            }
            int type = Wire.check(f, 0);
            checkRound(f, type);
            switch (type) {
                case Wire.TYPE_BEGIN:
                    begin(f);
                    break;
                case Wire.TYPE_BATCH:
                    batch(f);
                    break;
                default:
                    end(f);
                    break;
            }
            nextSequence++;
            if (type != Wire.TYPE_END) {
                encodedBytes += f.remaining();
            }
        } catch (DwcpException e) {
            fail(e);
            throw e;
        } catch (RuntimeException | Error e) {
            DwcpException d = classify("decoding a frame of " + replica.key(), e);
            fail(d);
            throw d;
        } finally {
            addCpu(THREADS.getCurrentThreadCpuTime() - cpu0);
        }
    }

    /**
     * The code of a failure inside the decoder: zstd refusing a payload is the peer's corrupt data; anything else that
     * is not already a {@code DwcpException} happened here (memory, disk, a defect) and must not blame the peer.
     */
    private static DwcpException classify(String what, Throwable t) {
        if (t instanceof com.github.luben.zstd.ZstdException) {
            return new DwcpException(ErrorCode.CORRUPT_FRAME, what + ": zstd cannot decode the payload: " + t.getMessage(), t);
        }
        return DwcpException.local(what, t);
    }

    private void fail(DwcpException e) {
        if (e.code() == ErrorCode.CHECKSUM_MISMATCH) {
            codec.metrics().checksumFailures.increment();
        }
        if (e.code() == ErrorCode.BASELINE_MISSING) {
            codec.metrics().misses.increment();
        }
        releaseScratch();
        phase = Phase.FAILED;
    }

    private void checkRound(ByteBuffer f, int type) {
        int seq = f.getInt(Wire.SEQUENCE_OFFSET);
        if (seq != nextSequence) {
            throw Wire.corrupt("frame sequence " + Integer.toUnsignedString(seq) + " where " + nextSequence
                    + " was expected (missing, repeated or reordered frame)");
        }
        if (phase == Phase.NEW) {
            if (type != Wire.TYPE_BEGIN) {
                throw Wire.corrupt("round starts with frame type " + type + ", expected BEGIN");
            }
            return;
        }
        if (phase == Phase.ENDED) {
            throw Wire.corrupt("frame after END");
        }
        if (type == Wire.TYPE_BEGIN) {
            throw Wire.corrupt("second BEGIN frame in one round");
        }
        round.checkSameRound(f);
    }

    // ---------------------------------------------------------------- BEGIN

    private void begin(ByteBuffer f) {
        round = RoundHeader.begin(f, replica.key(), layout);
        keyframe = round.keyframe;
        String key = round.key;
        if (publish != null && !keyframe) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "round of " + key + " is a delta, but it was announced as a"
                    + " keyframe and is being decoded into a staging replica that lacks the unchanged pages");
        }
        if (keyframe) {
            long bytes = layout.totalPages() * pageSize;
            staging = publish != null ? inPlaceStore(bytes) : null;
            inPlace = staging != null;
            if (inPlace) {
                // The baseline will be the replica file's own pages: page cache, not memory of ours.
                reservation = BaselineStore.Reservation.FILE_BACKED;
            } else {
                reservation = codec.baselines().reserve(BaselineStore.Side.RECEIVER, replica.key(), bytes);
                staging = reservation.newStore(pageSize, layout.totalPages(), codec.tempDir(), codec.chunks());
            }
            hashes = new long[(int) layout.totalPages()];
            digest = 0;
        } else {
            BaselineRef wanted = round.against();
            Baseline b = codec.baselines().acquire(BaselineStore.Side.RECEIVER, key);
            if (b == null) {
                throw new DwcpException(ErrorCode.BASELINE_MISSING, "delta against " + wanted
                        + " but this receiver holds no baseline of '" + key + "' (never received, evicted or aged)");
            }
            if (!b.matches(wanted) || !b.layout.sameAs(layout)) {
                BaselineRef held = b.ref();
                b.release();
                throw new DwcpException(ErrorCode.BASELINE_MISSING, "delta against " + wanted + " but this receiver holds "
                        + held);
            }
            base = b;
            round.checkDeltaChain();
            slots = new SlotPages(pageSize, new Arena(codec.chunks()),
                    scratch == null ? null : new SlotFile(scratch, codec.chunks(), key, maxInflight + 1));
            digest = b.digest();
        }
        batches = new BatchDecoder(replica, layout, keyframe, keyframe ? staging : null, inPlace, hashes, base, slots,
                this::addCpu);
        phase = Phase.BEGUN;
    }

    /**
     * Staged keyframe: a store over the staging replica's own pages when it is one mappable region of whole pages and
     * its first chunk maps (a filesystem without shared writable mappings falls back to a store of our own).
     */
    private PageStore inPlaceStore(long bytes) {
        if (layout.regionCount() != 1 || bytes == 0) {
            return null;
        }
        WritableRegion r = replica.region(0);
        if (!r.mappable() || r.sizeBytes() != bytes) {
            return null;
        }
        PageStore store = PageStore.inRegion(pageSize, layout.totalPages(), r);
        try {
            store.chunk(0);
            return store;
        } catch (UncheckedIOException | UnsupportedOperationException e) {
            store.close();
            LOG.debug("cannot map the staging replica of {}; decoding it into a store of its own", replica.key(), e);
            return null;
        }
    }

    // ---------------------------------------------------------------- BATCH

    private void batch(ByteBuffer f) {
        int length = f.remaining();
        if (length < Wire.BATCH_PAYLOAD_OFFSET + Wire.CRC_LENGTH) {
            throw Wire.corrupt("BATCH frame of " + length + " bytes is too short");
        }
        long firstPage = f.getLong(Wire.BATCH_FIRST_PAGE_OFFSET);
        long pageCount = f.getInt(Wire.BATCH_PAGE_COUNT_OFFSET) & 0xFFFFFFFFL;
        long firstSlot = f.getLong(Wire.BATCH_FIRST_SLOT_OFFSET);
        int codecId = f.get(Wire.BATCH_CODEC_OFFSET) & 0xFF;
        int rawLength = f.getInt(Wire.BATCH_RAW_LENGTH_OFFSET);
        int controlLength = f.getInt(Wire.BATCH_CONTROL_LENGTH_OFFSET);
        int payloadLength = length - Wire.BATCH_PAYLOAD_OFFSET - Wire.CRC_LENGTH;
        long totalPages = layout.totalPages();
        round.checkBatch(f, firstPage, pageCount, firstSlot, codecId, rawLength, controlLength, payloadLength, nextPage,
                totalPages, rawLimit);
        // The frame is borrowed: the job owns a copy of the payload.
        ByteBuffer payload = payloads.take(payloadLength);
        payload.put(0, f, Wire.BATCH_PAYLOAD_OFFSET, payloadLength);
        BatchJob job = new BatchJob(firstPage, firstPage + pageCount, firstSlot, codecId, rawLength, controlLength, payload,
                payloadLength);
        if (!keyframe && (f.get(Wire.VERSION_OFFSET) & 0xFF) >= Wire.ROUND_SPLICE_VERSION) {
            job.roundCopies = new Splice.RoundCopies();
        }
        nextPage = firstPage + pageCount;
        BatchDecoder d = batches;
        inflight.addLast(codec.workers().submit(() -> d.decode(job)));
        while (inflight.size() > maxInflight) {
            complete(inflight.removeFirst());
        }
    }

    /** Waits for a job and takes over its pages, in batch order (the feeding thread). */
    private void complete(Future<BatchJob> f) {
        BatchJob j;
        try {
            j = f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DwcpException(ErrorCode.CANCELLED, "interrupted while decoding " + replica.key(), e);
        } catch (ExecutionException e) {
            throw classify("decoding a batch of " + replica.key(), e.getCause());
        }
        if (j.firstSlot != nextSlot) {
            throw Wire.corrupt("batch starts at slot " + j.firstSlot + ", expected " + nextSlot);
        }
        digest += j.digestPart;
        int ci = -1;
        if (!keyframe && j.count > 0) {
            ci = slots.addChunk(j.chunk);
            for (int k = 0; k < j.count; k++) {
                slots.add(j.pages[k], j.hashes[k], ci, k * pageSize);
            }
        }
        nextSlot += j.count;
        payloads.giveBack(j.payload);
        // Every earlier batch is complete (this runs in batch order), so copies of their pages can be made now.
        resolveDeferred(j);
        if (ci >= 0) {
            // Nothing writes the batch's pages any more: to the scratch file, when there is one.
            slots.stage(ci, j.count * pageSize);
            j.chunk = null;
        }
        if (publish != null && writeBehind.failed()) {
            // The staging copy cannot be written (disk full, I/O error): fail now, not after the last frame.
            try {
                writeBehind.await();
            } catch (IOException e) {
                throw new DwcpException(ErrorCode.IO_ERROR, "writing the staging replica of " + replica.key()
                        + " failed; the replica and the baseline were not changed", e);
            }
        }
        writeBehind.batchCompleted(j.endPage, staging, publish != null, inPlace);
    }

    private synchronized void addCpu(long nanos) {
        cpuNanos += nanos;
    }

    /**
     * Copies each duplicate of batch {@code j} whose source was in an earlier batch or was itself deferred, and makes
     * the round copies of its splices, in slot order (sources precede their copies).
     */
    private void resolveDeferred(BatchJob j) {
        int copy = 0;
        for (int d = 0; d < j.deferredCount; d++) {
            long slot = j.firstSlot + j.deferred[d];
            long ref = j.deferredRef[d];
            if (ref == BatchJob.SPLICE) {
                copy = roundCopies(j, j.deferred[d], (int) slot, copy);
                continue;
            }
            if (keyframe) {
                if (inPlace) {
                    batches.copyStagingPage(slot, ref);
                } else {
                    staging.chunk(slot).put(staging.offset(slot), staging.chunk(ref), staging.offset(ref), pageSize);
                }
                hashes[(int) slot] = hashes[(int) ref];
                digest += PageHash.mix(slot, hashes[(int) ref]);
            } else {
                int s = (int) slot;
                int r = (int) ref;
                slots.chunk(s).put(slots.offset(s), slots.chunk(r), slots.offset(r), pageSize);
                slots.hash(s, slots.hash(r));
                digest += PageHash.mix(slots.page(s), slots.hash(r));
            }
        }
    }

    /** Makes the round copies of splice entry {@code entry} (slot {@code slot}) from index {@code copy} on. */
    private int roundCopies(BatchJob j, int entry, int slot, int copy) {
        Splice.RoundCopies copies = j.roundCopies;
        ByteBuffer dst = slots.chunk(slot);
        int off = slots.offset(slot);
        while (copy < copies.size() && copies.entry(copy) == entry) {
            Splice.copyFromRound(slots, pageSize, copies.source(copy), dst, off + copies.position(copy), copies.length(copy));
            copy++;
        }
        long h = PageHash.hash(dst, off, pageSize);
        slots.hash(slot, h);
        digest += PageHash.mix(slots.page(slot), h);
        return copy;
    }

    // ---------------------------------------------------------------- END

    private void end(ByteBuffer f) {
        if (f.remaining() != Wire.END_LENGTH) {
            throw Wire.corrupt("END frame of " + f.remaining() + " bytes, expected " + Wire.END_LENGTH);
        }
        while (!inflight.isEmpty()) {
            complete(inflight.removeFirst());
        }
        payloads.freeAll(); // every job ended, and no batch follows END
        round.checkEnd(f, nextSequence - 1, nextSlot, encodedBytes, nextPage, layout.totalPages());
        expectedDigest = f.getLong(Wire.END_DIGEST_OFFSET);
        encodedBytes += f.remaining();
        phase = Phase.ENDED;
    }

    // ---------------------------------------------------------------- finish

    @Override
    public DecodeResult finish() {
        if (phase != Phase.ENDED) {
            Phase was = phase;
            if (was == Phase.NEW || was == Phase.BEGUN) {
                releaseScratch();
                phase = Phase.FAILED;
                throw new DwcpException(ErrorCode.TRANSFER_INCOMPLETE, "round of " + replica.key() + " ended after "
                        + nextSequence + " frames without its END frame");
            }
            throw new DwcpException(ErrorCode.ILLEGAL_STATE, "decoder of " + replica.key() + " is " + was);
        }
        if (digest != expectedDigest) {
            codec.metrics().checksumFailures.increment();
            releaseScratch();
            phase = Phase.FAILED;
            throw new DwcpException(ErrorCode.CHECKSUM_MISMATCH, "reconstructed state of " + replica.key() + " has digest "
                    + Long.toHexString(digest) + ", the sender's is " + Long.toHexString(expectedDigest));
        }
        long cpu0 = THREADS.getCurrentThreadCpuTime();
        long pagesWritten;
        try {
            if (publish != null) {
                pagesWritten = writeBehind.await();
                if (inPlace) {
                    // The file's own sync (fdatasync): the msyncs behind the decode left it only the tail.
                    replica.region(0).flush();
                }
                publish.publish();
            } else {
                pagesWritten = keyframe ? writer.writeKeyframe(staging) : writer.writeDelta(slots, base);
            }
        } catch (IOException | RuntimeException e) {
            releaseScratch();
            phase = Phase.FAILED;
            if (publish != null) {
                throw new DwcpException(ErrorCode.IO_ERROR, "writing or publishing the staging replica of " + replica.key()
                        + " failed; the replica and the baseline were not changed", e);
            }
            // The replica may hold some of this round's pages (and a baseline that shares the replica's pages, some of
            // them too): a later delta would leave those pages wrong. Without a baseline the next round is a keyframe.
            codec.baselines().drop(BaselineStore.Side.RECEIVER, replica.key());
            throw new DwcpException(ErrorCode.IO_ERROR, "writing the replica of " + replica.key() + " failed; it may be"
                    + " partly written, so this receiver dropped its baseline and the next round will be a keyframe", e);
        }
        BaselineRef produced = new BaselineRef(replica.key(), round.producedId, round.producedVersion, digest);
        if (keyframe) {
            Baseline b = new Baseline(replica.key(), round.producedId, 0, digest, layout, staging, hashes, codec.clock().instant(), 0);
            codec.baselines().commit(BaselineStore.Side.RECEIVER, replica.key(), b, reservation);
            staging = null;
            reservation = null;
        } else {
            base.applied(round.producedVersion, digest);
            slots.close();
            slots = null;
            base.release();
            base = null;
        }
        addCpu(THREADS.getCurrentThreadCpuTime() - cpu0);
        codec.metrics().decodeRounds.increment();
        codec.metrics().decodeCpuNanos.add(cpuNanos);
        phase = Phase.FINISHED;
        Duration took = Duration.between(started, codec.clock().instant());
        return new DecodeResult(replica.key(), produced, encodedBytes, layout.totalBytes, pagesWritten, took);
    }

    /** Waits for running jobs (they write into the scratch), then frees the scratch and unpins the baseline. */
    private void releaseScratch() {
        // Replica writes read the staging pages: they finish before the pages are freed.
        writeBehind.drain();
        // Jobs write into the staging store and the slots: every one must have ended before they are freed, through
        // interrupts too (an interrupt must not free memory a worker still writes). Their own errors add nothing here.
        boolean interrupted = false;
        while (!inflight.isEmpty()) {
            interrupted |= Await.ended(inflight.removeFirst());
        }
        Await.restore(interrupted);
        payloads.freeAll();
        if (staging != null) {
            staging.close();
            staging = null;
        }
        if (reservation != null) {
            codec.baselines().unreserve(reservation);
            reservation = null;
        }
        if (slots != null) {
            slots.close();
            slots = null;
        }
        if (base != null) {
            base.release();
            base = null;
        }
        hashes = null;
        batches = null;
    }

    @Override
    public void close() {
        if (phase == Phase.CLOSED || phase == Phase.FINISHED) {
            phase = phase == Phase.FINISHED ? Phase.FINISHED : Phase.CLOSED;
            return;
        }
        releaseScratch();
        phase = Phase.CLOSED;
    }

    @Override
    public String toString() {
        return "HdeDecoder{key=" + replica.key() + ", phase=" + phase + ", seq=" + nextSequence + ", page=" + nextPage + "}";
    }
}
