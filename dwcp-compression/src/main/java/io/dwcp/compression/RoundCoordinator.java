package io.dwcp.compression;

import io.dwcp.core.spi.BaselineRef;
import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.spi.EncodeOptions;
import io.dwcp.core.spi.EncodeResult;
import io.dwcp.core.spi.FrameSink;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.VmState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/*
 * One encode round of a key, from the decision to its bookkeeping: keyframe or delta (and why: the keyframe reasons
 * of HdeMetrics), the RoundEncoder run against the sender baseline, the produced baseline staged as pending until the
 * receiver acknowledges it, the keyframe-ratio rule (a delta larger than keyframe-ratio x the state's keyframe size
 * forces the next round to be a keyframe), the metrics and the level controller's ratio observation.
 *
 * Threading: encode runs on a coordinator thread of the codec with the key's lock held (HdeCodec.encodeNow), so rounds
 * of one key never overlap; rounds of different keys run concurrently and share only thread-safe collaborators (the
 * baseline store, metrics, level controller) and the codec's two per-key maps, which are concurrent; HdeCodec's adopt
 * (under the key's lock) and drop (without it) also remove a key's entries.
 */
final class RoundCoordinator {
    private static final Logger LOG = LoggerFactory.getLogger(RoundCoordinator.class);

    private final HdeCodec codec;
    private final ComponentContext context;
    private final HdeSettings settings;
    private final HdeMetrics metrics;
    private final BaselineStore baselines;
    private final LevelController levels;
    private final LevelPlanner levelPlanner;
    private final IndexBuilds indexBuilds;
    private final Path tempDir;
    private final ChunkPool chunks;
    /** Per key, the state ratio of its last keyframe (the codec's map: adopt and drop forget a key). */
    private final Map<String, Double> keyframeRatios;
    /** Keys whose next round must be a keyframe by the keyframe-ratio rule (the codec's map, as above). */
    private final Map<String, Boolean> ratioForcesKeyframe;

    RoundCoordinator(HdeCodec codec, ComponentContext context, IndexBuilds indexBuilds, LevelPlanner levelPlanner,
                     Map<String, Double> keyframeRatios, Map<String, Boolean> ratioForcesKeyframe) {
        this.codec = codec;
        this.context = context;
        this.settings = codec.settings();
        this.metrics = codec.metrics();
        this.baselines = codec.baselines();
        this.levels = codec.levels();
        this.levelPlanner = levelPlanner;
        this.indexBuilds = indexBuilds;
        this.tempDir = codec.tempDir();
        this.chunks = codec.chunks();
        this.keyframeRatios = keyframeRatios;
        this.ratioForcesKeyframe = ratioForcesKeyframe;
    }

    /** Encodes one round of {@code state} into {@code sink}; the caller holds the key's lock. */
    EncodeResult encode(VmState<? extends StateRegion> state, EncodeOptions options, FrameSink sink) throws Exception {
        long t0 = System.nanoTime();
        String key = state.key();
        Layout layout = Layout.of(state);
        Instant now = context.clock().instant();
        Optional<BaselineRef> peer = options.peerBaseline();
        Baseline base = baselines.acquire(BaselineStore.Side.SENDER, key, true);
        PageStore nextViews = null;
        String reason = null;
        if (base != null && baselines.isAged(base, now)) {
            reason = "age";
        } else if (base == null) {
            reason = peer.isPresent() ? "miss" : "first";
            if (peer.isPresent()) {
                metrics.misses.increment();
            }
        } else if (!base.matches(peer.orElse(null))) {
            reason = "miss";
            metrics.misses.increment();
        } else if (!base.layout.sameAs(layout)) {
            reason = "first";
        } else if (options.forceKeyframe()) {
            reason = "miss";
        } else if (Duration.between(base.chainStart(), now).compareTo(settings.refreshInterval) >= 0) {
            reason = "interval";
        } else if (base.chainLength() >= settings.maxDeltaChain) {
            reason = "chain";
        } else if (ratioForcesKeyframe.remove(key) != null) {
            reason = "ratio";
        } else if (!settings.enabled || !settings.deltaEnabled) {
            reason = "first";
        } else if (base.store.isViews() && (nextViews = HdeCodec.snapshotViews(state, layout)) == null) {
            // A baseline of snapshot views cannot take pages that are not a snapshot: start again from this state.
            reason = "first";
        }
        int level = settings.enabled ? codec.levelFor(options.tier(), options) : 0;
        long roundId = codec.nextId();
        RoundEncoder enc;
        EncodeResult result;
        if (reason != null) {
            if (base != null) {
                base.release();
                base = null;
            }
            baselines.releaseSender(key);
            // Views of a snapshot take no memory of the codec's: nothing to reserve against the cap.
            PageStore views = HdeCodec.snapshotViews(state, layout);
            long bytes = views != null ? 0 : layout.totalPages() * layout.pageSizeBytes;
            BaselineStore.Reservation reservation = baselines.reserve(BaselineStore.Side.SENDER, key, bytes);
            PageStore target = views != null ? views
                    : reservation.newStore(layout.pageSizeBytes, layout.totalPages(), tempDir, chunks);
            long producedId = codec.nextId();
            enc = new RoundEncoder(codec, state, layout, null, target, options.dirtyPages().orElse(null), level, false, sink,
                    roundId, producedId, 0);
            enc.levelSource(levelPlanner.batchLevels(options, level));
            try {
                enc.run();
            } catch (Exception | Error e) {
                target.close();
                baselines.unreserve(reservation);
                throw e;
            }
            Baseline produced = new Baseline(key, producedId, 0, enc.digest, layout, target, enc.newHashes, now, 0);
            produced.zeroPages(enc.zeroPages);
            baselines.setPending(key, Pending.keyframe(produced, reservation));
            // A keyframe at a level that pays for SPLICE: the next delta very likely does too.
            indexBuilds.prebuild(produced, settings.splice(level));
            metrics.keyframes[reasonIndex(reason)].increment();
            // Any keyframe satisfies the keyframe-ratio rule, also one sent for another reason after the large delta
            // that set it (the full round resent when the receiver refused that delta).
            ratioForcesKeyframe.remove(key);
            result = result(key, true, null, produced.ref(), layout, enc, t0);
            if (result.encodedBytes() > 0) {
                keyframeRatios.put(key, result.ratio());
            }
        } else {
            try {
                long producedVersion = base.version() + 1;
                enc = new RoundEncoder(codec, state, layout, base, null, options.dirtyPages().orElse(null), level,
                        settings.splice(level), sink,
                        roundId, base.id, producedVersion);
                enc.levelSource(levelPlanner.batchLevels(options, level));
                try {
                    enc.run();
                } catch (Exception | Error e) {
                    enc.slots.close();
                    if (nextViews != null) {
                        nextViews.close();
                    }
                    throw e;
                }
                BaselineRef producedRef = new BaselineRef(key, base.id, producedVersion, enc.digest);
                baselines.setPending(key, Pending.delta(producedRef, base, base.version(), enc.slots, nextViews));
                result = result(key, false, base.ref(), producedRef, layout, enc, t0);
                long[] cc = enc.classCounts;
                long sent = cc[PageClass.ZERO.ordinal()] + cc[PageClass.MOVED.ordinal()] + cc[PageClass.DUPLICATE.ordinal()]
                        + cc[PageClass.XOR.ordinal()] + cc[PageClass.SPLICE.ordinal()] + cc[PageClass.LITERAL.ordinal()];
                metrics.deltaChangedPages.add(sent);
                metrics.deltaHits.add(cc[PageClass.MOVED.ordinal()] + cc[PageClass.DUPLICATE.ordinal()]
                        + cc[PageClass.XOR.ordinal()] + cc[PageClass.SPLICE.ordinal()]);
                Double keyframeRatio = keyframeRatios.get(key);
                if (keyframeRatio != null && keyframeRatio > 0
                        && result.encodedBytes() > settings.keyframeRatio * (layout.totalBytes / keyframeRatio)) {
                    ratioForcesKeyframe.put(key, Boolean.TRUE);
                }
            } finally {
                base.release();
            }
        }
        for (PageClass pc : PageClass.values()) {
            if (pc != PageClass.STORED) {
                metrics.pages[pc.ordinal()].add(enc.classCounts[pc.ordinal()]);
            }
        }
        metrics.encoded(result.inputBytes(), result.encodedBytes());
        metrics.encodeRounds.increment();
        metrics.encodeCpuNanos.add(enc.cpuNanos);
        // The level is sized by what zstd itself must take in per wire byte, not by the state ratio: unchanged pages
        // of a delta never reach zstd, and a state ratio of 500 would ask for a level fast enough for 500x the link.
        if (enc.encodedBytes > 0 && enc.offeredBytes > 0) {
            levels.observeRatio(level, (double) enc.offeredBytes / enc.encodedBytes);
        }
        if (LOG.isDebugEnabled()) {
            LOG.debug("{} round of {}: level {}, {} B offered to the compressor, {} B encoded, state ratio {}, "
                    + "{} ms of worker CPU", result.keyframe() ? "keyframe" : "delta", key, level, enc.offeredBytes,
                    enc.encodedBytes, String.format("%.1f", result.ratio()), enc.cpuNanos / 1_000_000);
        }
        baselines.pruneIfDue();
        safeProgress(options, layout.totalBytes);
        return result;
    }

    private static void safeProgress(EncodeOptions options, long total) {
        try {
            options.progress().onProgress(total, total);
        } catch (RuntimeException e) {
            LOG.warn("progress listener failed; ignored", e);
        }
    }

    private static int reasonIndex(String reason) {
        for (int i = 0; i < HdeMetrics.KEYFRAME_REASONS.length; i++) {
            if (HdeMetrics.KEYFRAME_REASONS[i].equals(reason)) {
                return i;
            }
        }
        throw new IllegalArgumentException(reason);
    }

    private static EncodeResult result(String key, boolean keyframe, BaselineRef against, BaselineRef produced, Layout layout,
                                       RoundEncoder enc, long t0) {
        long[] counts = enc.classCounts.clone();
        return new EncodeResult(key, keyframe, against, produced, layout.totalBytes, enc.encodedBytes,
                PageClass.toMap(counts), Duration.ofNanos(System.nanoTime() - t0));
    }
}
