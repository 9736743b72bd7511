package io.dwcp.compression;

import com.github.luben.zstd.Zstd;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The frames of one round ({@code docs/hde-wire-format.md}): BEGIN and END as small heap arrays handed over to the
 * sink, each BATCH in a pooled direct buffer ({@link FramePool}) that the sink releases. Every frame carries the round's
 * header (round id, keyframe flag, and for a delta the baseline it applies to). Immutable; {@link #batch} runs on the
 * codec's workers concurrently, {@link #begin} and {@link #end} on the round's coordinator.
 */
final class RoundFrames {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private final HdeCodec codec;
    private final String stateKey;
    private final Layout layout;
    /** The baseline a delta applies to; null for a keyframe. */
    private final Baseline base;
    private final int level;
    /** Re-plans the level per batch while the round runs (a forecast that became advice); null: the round's level. */
    private volatile java.util.function.IntSupplier levelSource;
    private final long roundId;
    private final long producedId;
    private final long producedVersion;
    private final boolean keyframe;
    private final int flags;

    RoundFrames(HdeCodec codec, String stateKey, Layout layout, Baseline base, int level, long roundId,
                long producedId, long producedVersion) {
        this.codec = codec;
        this.stateKey = stateKey;
        this.layout = layout;
        this.base = base;
        this.level = level;
        this.roundId = roundId;
        this.producedId = producedId;
        this.producedVersion = producedVersion;
        this.keyframe = base == null;
        this.flags = keyframe ? Wire.FLAG_KEYFRAME : 0;
    }

    /**
     * Lets {@code source} choose the level of each batch from now on, instead of the round's level (the decoder reads
     * each batch's level from its frame). {@code null} restores the round's level.
     */
    void levelSource(java.util.function.IntSupplier source) {
        this.levelSource = source;
    }

    /** The level of the next batch. */
    private int batchLevel() {
        java.util.function.IntSupplier s = levelSource;
        return s == null ? level : s.getAsInt();
    }

    /**
     * Compresses {@code raw} when it pays and wraps it in a sealed BATCH frame, built in a pooled direct buffer (zstd
     * writes straight into it, no copy); the caller lends it to the sink.
     */
    FramePool.Lease batch(ByteBuffer raw, int rawLength, int controlLength, long firstPage, long pageCount,
                          long firstSlot, int seq, int sentPages) {
        int level = batchLevel();
        boolean tryZstd = level != 0 && rawLength > 0 && codec.worthCompressing(raw, controlLength, rawLength);
        int room = tryZstd ? (int) Math.max(rawLength, Zstd.compressBound(rawLength)) : rawLength;
        FramePool.Lease lease = codec.frames().take(Wire.BATCH_PAYLOAD_OFFSET + room + Wire.CRC_LENGTH);
        try {
            ByteBuffer f = lease.buffer();
            int codecId = Wire.CODEC_STORED;
            int payloadLength = rawLength;
            if (tryZstd) {
                int n = compress(raw, rawLength, f, Wire.BATCH_PAYLOAD_OFFSET, room, level);
                if ((double) rawLength / n >= codec.settings().adaptiveMinRatio || !codec.settings().adaptiveEnabled) {
                    codecId = Wire.CODEC_ZSTD;
                    payloadLength = n;
                } else {
                    codec.markIncompressible();
                }
            }
            if (codecId == Wire.CODEC_STORED) {
                f.put(Wire.BATCH_PAYLOAD_OFFSET, raw, 0, rawLength);
                if (level != 0) {
                    codec.metrics().incompressible.increment();
                    codec.metrics().pages[PageClass.STORED.ordinal()].add(sentPages);
                }
            }
            int frameLength = Wire.BATCH_PAYLOAD_OFFSET + payloadLength + Wire.CRC_LENGTH;
            f.limit(frameLength);
            header(f, Wire.TYPE_BATCH, frameLength, seq);
            f.putLong(Wire.BATCH_FIRST_PAGE_OFFSET, firstPage);
            f.putInt(Wire.BATCH_PAGE_COUNT_OFFSET, (int) pageCount);
            f.putInt(Wire.BATCH_RESERVED_OFFSET, 0);
            f.putLong(Wire.BATCH_FIRST_SLOT_OFFSET, firstSlot);
            f.put(Wire.BATCH_CODEC_OFFSET, (byte) codecId);
            f.put(Wire.BATCH_LEVEL_OFFSET, (byte) (codecId == Wire.CODEC_ZSTD ? level : 0));
            f.putShort(Wire.BATCH_RESERVED2_OFFSET, (short) 0);
            f.putInt(Wire.BATCH_RAW_LENGTH_OFFSET, rawLength);
            f.putInt(Wire.BATCH_CONTROL_LENGTH_OFFSET, controlLength);
            Wire.seal(f, frameLength);
            return fitted(lease, frameLength);
        } catch (RuntimeException | Error e) {
            lease.run();
            throw e;
        }
    }

    /**
     * The frame in a buffer of its own size class. It was built in one for the worst case (zstd's bound of the raw
     * batch: the 2 MiB class for a 1 MiB batch), and a sink holds frames by their length (the migration's pipe up to
     * 32 MiB of them), so a compressed frame left in that buffer held 3-6 times its bytes of direct memory while it
     * waited: about 170 MiB of 2 MiB and 1 MiB buffers behind the sender's 32 MiB pipe in a keyframe over a WAN. One
     * copy of the frame (a small fraction of compressing it) when its own class is smaller; the build buffer goes
     * back to the pool at once for the next batch. On failure {@code built} is left to the caller.
     */
    private FramePool.Lease fitted(FramePool.Lease built, int frameLength) {
        int own = FramePool.classOf(frameLength);
        int current = FramePool.classOf(built.buffer().capacity());
        if (own < 0 || (current >= 0 && own >= current)) {
            return built;
        }
        FramePool.Lease small = codec.frames().take(frameLength);
        try {
            small.buffer().put(0, built.buffer(), 0, frameLength);
        } catch (RuntimeException | Error e) {
            small.run();
            throw e;
        }
        built.run();
        return small;
    }

    /** zstd at the batch's level into {@code dst[dstOff, dstOff + room)}; feeds the level controller's speed estimate. */
    private int compress(ByteBuffer raw, int rawLength, ByteBuffer dst, int dstOff, int room, int level) {
        long c0 = THREADS.getCurrentThreadCpuTime();
        int n = Worker.current().compressor(level).compressDirectByteBuffer(dst, dstOff, room, raw, 0, rawLength);
        codec.levels().observe(level, rawLength, THREADS.getCurrentThreadCpuTime() - c0);
        return n;
    }

    private void header(ByteBuffer f, int type, int frameLength, int seq) {
        if (keyframe) {
            Wire.header(f, type, flags, frameLength, seq, roundId, 0, 0, 0);
        } else {
            Wire.header(f, type, flags, frameLength, seq, roundId, base.id, base.version(), base.digest());
        }
    }

    /** The BEGIN frame: the state's key, page size and region sizes, and the version the round produces. */
    byte[] begin() {
        byte[] key = stateKey.getBytes(StandardCharsets.UTF_8);
        if (key.length > Wire.MAX_KEY_BYTES) {
            throw new IllegalArgumentException("state key is " + key.length + " bytes in UTF-8, the limit is "
                    + Wire.MAX_KEY_BYTES);
        }
        if (layout.regionCount() > Wire.MAX_REGIONS) {
            throw new IllegalArgumentException("state has " + layout.regionCount() + " regions, the limit is " + Wire.MAX_REGIONS);
        }
        int length = Wire.BEGIN_KEY_OFFSET + key.length + 8 * layout.regionCount() + Wire.CRC_LENGTH;
        byte[] frame = new byte[length];
        ByteBuffer f = ByteBuffer.wrap(frame);
        header(f, Wire.TYPE_BEGIN, length, 0);
        f.putLong(Wire.BEGIN_PRODUCED_ID_OFFSET, producedId);
        f.putLong(Wire.BEGIN_PRODUCED_VERSION_OFFSET, producedVersion);
        f.putInt(Wire.BEGIN_PAGE_SIZE_OFFSET, layout.pageSizeBytes);
        f.putInt(Wire.BEGIN_DICTIONARY_ID_OFFSET, 0);
        f.putLong(Wire.BEGIN_TOTAL_BYTES_OFFSET, layout.totalBytes);
        f.putInt(Wire.BEGIN_REGION_COUNT_OFFSET, layout.regionCount());
        f.putShort(Wire.BEGIN_KEY_LENGTH_OFFSET, (short) key.length);
        f.put(Wire.BEGIN_KEY_OFFSET, key);
        int p = Wire.BEGIN_KEY_OFFSET + key.length;
        for (long size : layout.regionBytes) {
            f.putLong(p, size);
            p += 8;
        }
        Wire.seal(frame, length);
        return frame;
    }

    /**
     * The END frame after {@code batches} batches: the slot count, the state's digest after the round and the bytes of
     * every frame before it.
     */
    byte[] end(int batches, long slotCount, long digest, long encodedBytes) {
        byte[] frame = new byte[Wire.END_LENGTH];
        ByteBuffer f = ByteBuffer.wrap(frame);
        header(f, Wire.TYPE_END, Wire.END_LENGTH, batches + 1);
        f.putInt(Wire.END_BATCH_COUNT_OFFSET, batches);
        f.putInt(Wire.END_RESERVED_OFFSET, 0);
        f.putLong(Wire.END_SLOT_COUNT_OFFSET, slotCount);
        f.putLong(Wire.END_DIGEST_OFFSET, digest);
        f.putLong(Wire.END_ENCODED_BYTES_OFFSET, encodedBytes);
        Wire.seal(frame, Wire.END_LENGTH);
        return frame;
    }
}
