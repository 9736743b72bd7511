package io.dwcp.compression;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.LongConsumer;

/*
 * The indexes of a sender baseline that a delta uses (content, similar-page, sub-page), built ahead of the round that
 * needs them: in the background on the codec's workers after a keyframe or an acknowledged adoption, or on the calling
 * thread (awaitBackgroundWork). A background build pins its baseline for its whole run (retain before it is queued,
 * release in its finally, or at once when it could not be queued), so eviction cannot free pages under it; a failed
 * build only costs the round that would have used it (that round builds what it needs itself).
 *
 * Threading: thread-safe; no state of its own. Each Baseline builds each index at most once (its own locking).
 */
final class IndexBuilds {
    private static final Logger LOG = LoggerFactory.getLogger(IndexBuilds.class);

    private final HdeCodec codec;
    private final HdeSettings settings;

    IndexBuilds(HdeCodec codec, HdeSettings settings) {
        this.codec = codec;
        this.settings = settings;
    }

    /**
     * Builds the sender-side indexes of a new keyframe baseline in the background: the next round (a delta against
     * it) needs them at its start, and while the keyframe drains over the link and the receiver verifies it, this
     * side's cores are otherwise idle. Pinned for the build, so eviction cannot free pages under it. The sub-page
     * index only with {@code splice}: the next delta is likely to use SPLICE (see {@link HdeSettings#splice}).
     */
    void prebuild(Baseline b, boolean splice) {
        inBackground(b, "the indexes", zeroHash -> build(b, zeroHash, splice));
    }

    /** Builds every index of {@code b} a delta uses, on the calling thread (each one only once). */
    void build(Baseline b, long zeroHash, boolean splice) {
        b.contentIndex(zeroHash);
        b.similarIndex(zeroHash, settings.indexMaxMemoryBytes);
        if (splice) {
            b.prebuildSpliceIndex(zeroHash);
        }
    }

    /** Runs {@code work} on a worker with {@code b} pinned; a failure only costs the round that would have used it. */
    private void inBackground(Baseline b, String what, LongConsumer work) {
        if (!b.retain()) {
            return;
        }
        long zeroHash = PageHash.zeroHash(b.layout.pageSizeBytes);
        try {
            codec.workers().execute(() -> {
                try {
                    work.accept(zeroHash);
                } catch (RuntimeException e) {
                    LOG.debug("building {} of {} failed; a later round builds them", what, b, e);
                } finally {
                    b.release();
                }
            });
        } catch (RuntimeException e) {
            b.release();
            LOG.debug("building {} of {} not started", what, b, e);
        }
    }

    /**
     * Starts building {@code b}'s sub-page index in the background unless it exists or a build is under way (a delta
     * found none: the keyframe's prebuild failed or has not got that far).
     */
    void spliceIndexInBackground(Baseline b) {
        if (b.spliceIndexIfReady() == null && !b.spliceIndexBuilding()) {
            inBackground(b, "the sub-page index", b::prebuildSpliceIndex);
        }
    }
}
