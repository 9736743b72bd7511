package io.dwcp.compression;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.Tier;
import io.dwcp.core.config.CompressionKeys;
import io.dwcp.core.config.DwcpConfig;

import java.time.Duration;

/**
 * The codec's settings, read once from {@link DwcpConfig} through {@link CompressionKeys} at construction. Level
 * ceilings are dynamic keys, so they are read from the configuration on every round instead. The page size is the
 * state's own ({@code VmState.pageSizeBytes()}); {@code page-size} is not consulted. Immutable.
 */
final class HdeSettings {
    final DwcpConfig config;
    final boolean enabled;
    final int batchSizeBytes;
    final boolean deltaEnabled;
    /**
     * With {@code dwcp.compression.splice=auto}: SPLICE is on in every round from this many codec threads. Below it the
     * index build, the every-byte lookups and the round's denser anchors compete with the rounds for the cores: 1 GiB
     * over a 400 Mbit/s WAN on 2 cores (C1-only JIT, 5 repetitions each, one session, docs/benchmarks-hde-fresh.md),
     * 12.86 s with SPLICE on in every round against 11.44 s off, 19.3 against 15.8 CPU seconds, sender peak 601-735
     * MiB against 456-558 MiB, for 5 % fewer bytes. So below this many threads {@code auto} asks the CPU budget
     * instead ({@link #SPLICE_AUTO_MIN_LEVEL}).
     */
    static final int SPLICE_AUTO_MIN_THREADS = 4;
    /**
     * With {@code dwcp.compression.splice=auto} and fewer than {@link #SPLICE_AUTO_MIN_THREADS} codec threads: SPLICE
     * is on in a round whose zstd level is at least this. The level says what the round's CPU budget is: the level
     * controller raises it above 2 only where the link, not the codec, is the bottleneck (with two threads near
     * 100 Mbit/s and slower), and without a link rate (an offline encode) the configured ceiling is used. SPLICE
     * trades CPU for bytes as a level step does (fresh corpus A's s0→s30: the delta round's workers 2.4-2.7 CPU
     * seconds against 1.1, for 14 % fewer bytes; 2-17 % on the fresh corpora's pairs; zstd:2 to zstd:3 is 1.4 times
     * the compression CPU for about 4 %), so a round that pays for zstd:3 pays for it too; a round at zstd:2 or below
     * (a CPU-bound migration over a fast link, or the local tier's stored batches) does not.
     */
    static final int SPLICE_AUTO_MIN_LEVEL = 3;
    /**
     * A delta round with SPLICE cuts its batches at this many times {@code batch-size} of raw bytes (4 MiB at the
     * default): a larger zstd window for the pages SPLICE leaves literal, which repeat stretches of other changed pages
     * farther away than one batch. On fresh corpus A's s0→s30 4 MiB instead of 1 MiB took 0.7 % off the round, on
     * fresh corpus D's s0→s5 1.1 %. A delta's batches are a few per cent of a keyframe's, so the larger frame buffers
     * cost little; keyframes keep {@code batch-size}. Never more than {@code max-decoded-frame} allows
     * ({@link #rawBatchLimit}).
     */
    static final int SPLICE_BATCH_FACTOR = 4;
    /** SPLICE in every delta round: {@code on}, or {@code auto} with {@link #SPLICE_AUTO_MIN_THREADS} codec threads. */
    final boolean spliceAlways;
    /** {@code auto}: SPLICE in the rounds {@link #splice(int)} chooses. */
    final boolean spliceAuto;
    final Duration refreshInterval;
    final int maxDeltaChain;
    final Duration maxAge;
    final Duration pruneInterval;
    final double keyframeRatio;
    final long baselineMaxMemoryBytes;
    /** Heap budget of one baseline's similarity index. */
    final long indexMaxMemoryBytes;
    final boolean adaptiveEnabled;
    final double adaptiveMinRatio;
    final Duration reprobeInterval;
    final Duration adjustInterval;
    final int maxDecodedFrameBytes;

    HdeSettings(DwcpConfig config, int workerThreads) {
        this.config = config;
        this.enabled = config.get(CompressionKeys.ENABLED);
        this.batchSizeBytes = (int) config.get(CompressionKeys.BATCH_SIZE).bytes();
        this.deltaEnabled = config.get(CompressionKeys.DELTA_ENABLED);
        String splice = config.get(CompressionKeys.SPLICE);
        this.spliceAuto = splice.equals("auto");
        this.spliceAlways = splice.equals("on") || (spliceAuto && workerThreads >= SPLICE_AUTO_MIN_THREADS);
        this.refreshInterval = config.get(CompressionKeys.REFRESH_INTERVAL);
        this.maxDeltaChain = config.get(CompressionKeys.MAX_DELTA_CHAIN);
        this.maxAge = config.get(CompressionKeys.MAX_AGE);
        this.pruneInterval = config.get(CompressionKeys.PRUNE_INTERVAL);
        this.keyframeRatio = config.get(CompressionKeys.KEYFRAME_RATIO);
        this.baselineMaxMemoryBytes = config.get(CompressionKeys.BASELINE_MAX_MEMORY).bytes();
        this.indexMaxMemoryBytes = config.get(CompressionKeys.INDEX_MAX_MEMORY).bytes();
        this.adaptiveEnabled = config.get(CompressionKeys.ADAPTIVE_ENABLED);
        this.adaptiveMinRatio = config.get(CompressionKeys.ADAPTIVE_MIN_RATIO);
        this.reprobeInterval = config.get(CompressionKeys.ADAPTIVE_REPROBE_INTERVAL);
        this.adjustInterval = config.get(CompressionKeys.ADJUST_INTERVAL);
        this.maxDecodedFrameBytes = (int) config.get(CompressionKeys.MAX_DECODED_FRAME).bytes();
    }

    /**
     * Whether a delta round coded at {@code level} (0 = stored) uses SPLICE: always with {@code on}, never with
     * {@code off}; with {@code auto} from {@link #SPLICE_AUTO_MIN_THREADS} codec threads, and below that in rounds
     * whose level is at least {@link #SPLICE_AUTO_MIN_LEVEL}.
     */
    boolean splice(int level) {
        return spliceAlways || (spliceAuto && level >= SPLICE_AUTO_MIN_LEVEL);
    }

    /**
     * The raw bytes at which a round's batch is cut: {@code batch-size}, or {@link #SPLICE_BATCH_FACTOR} times it for a
     * delta with SPLICE.
     */
    int batchBytes(boolean delta, boolean splice) {
        return delta && splice ? batchSizeBytes * SPLICE_BATCH_FACTOR : batchSizeBytes;
    }

    /**
     * The largest raw batch the encoder may produce for {@code pageSizeBytes}: a batch always holds one whole page
     * plus its control bytes, so the decoder's limit must leave room for that.
     *
     * @throws DwcpException {@code LIMIT_EXCEEDED} when one page cannot fit under {@code max-decoded-frame}
     */
    int rawBatchLimit(int statePageSizeBytes) {
        long onePage = statePageSizeBytes + 64L;
        if (onePage > maxDecodedFrameBytes) {
            throw new DwcpException(ErrorCode.LIMIT_EXCEEDED, "page size " + statePageSizeBytes
                    + " B does not fit dwcp.compression.max-decoded-frame = " + maxDecodedFrameBytes
                    + " B: raise max-decoded-frame or use smaller pages");
        }
        return maxDecodedFrameBytes;
    }

    /** The ceiling level word for {@code tier} ({@code none} or {@code zstd:N}). */
    String ceiling(Tier tier) {
        switch (tier) {
            case LOCAL:
                return config.get(CompressionKeys.LEVEL_LOCAL, tier);
            case REGIONAL:
                return config.get(CompressionKeys.LEVEL_REGIONAL, tier);
            default:
                return config.get(CompressionKeys.LEVEL_WAN, tier);
        }
    }
}
