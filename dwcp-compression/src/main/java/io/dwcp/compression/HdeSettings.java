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
     * With {@code dwcp.compression.splice=auto}: SPLICE is on from this many codec threads. Below it the index build,
     * the every-byte lookups and the round's denser anchors compete with the rounds. 1 GiB over a 400 Mbit/s WAN on
     * 2 cores (C1-only JIT, 5 repetitions each, one session, docs/benchmarks-hde-fresh.md): with the pages read once as
     * words and an index thinned to a quarter (one anchor per 256 bytes, cheaper than the one per 64 kept), 12.86 s
     * with SPLICE on against 11.44 s off, 313.8 against 328.4 MB, 19.3 against 15.8 CPU seconds, sender
     * peak 601-735 MiB against 456-558 MiB (one session earlier, without the words: 12.97 against 11.26 s). 5 % fewer
     * bytes do not pay for 12 % more time and a sender past its memory target, so 2 cores stay off.
     */
    static final int SPLICE_AUTO_MIN_THREADS = 4;
    final boolean spliceEnabled;
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
        this.spliceEnabled = splice.equals("on") || (splice.equals("auto") && workerThreads >= SPLICE_AUTO_MIN_THREADS);
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
