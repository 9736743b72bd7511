package io.dwcp.compression;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.Tier;
import io.dwcp.core.config.CompressionKeys;
import io.dwcp.core.spi.BaselineRef;
import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.spi.EncodeOptions;
import io.dwcp.core.spi.EncodeResult;
import io.dwcp.core.spi.ForecastAdvisor;
import io.dwcp.core.spi.FrameSink;
import io.dwcp.core.Health;
import io.dwcp.core.spi.StateCodec;
import io.dwcp.core.spi.StateDecoder;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.VmState;
import io.dwcp.core.state.WritableRegion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.util.BitSet;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * The HDE state codec: page classes + XOR delta + zstd, with per-key baselines. Created by
 * {@link HdeCodecProvider}; see {@link RoundEncoder} and {@link HdeDecoder} for the algorithms and
 * {@code docs/hde-wire-format.md} for the frames.
 *
 * <p>Threads: {@code start()} creates a pool of {@code workerThreads()} workers ({@code dwcp-compression-worker-N}, each
 * with its own zstd contexts), a coordinator pool ({@code dwcp-compression-coord-N}) that runs one round per thread and
 * waits on workers, one pruner ({@code dwcp-compression-pruner}) and one flusher ({@code dwcp-compression-flusher}) that
 * makes in-place keyframes durable behind their decode (all four: {@code CodecThreads}). {@code stop()} shuts them
 * down, fails queued rounds with {@code CANCELLED}, frees every baseline and removes the meters; the codec may start
 * again (receivers then answer {@code BASELINE_MISSING} and senders send keyframes).
 *
 * <p>Thread-safe. Rounds of different keys run concurrently; rounds of one key are serialised by a per-key lock.
 */
final class HdeCodec implements StateCodec {
    private static final Logger LOG = LoggerFactory.getLogger(HdeCodec.class);
    /** Free frame buffers kept between rounds: more than a round has in flight (pipe, code-ahead, workers). */
    static final long FRAME_POOL_BYTES = 64L << 20;
    /**
     * How long a pooled chunk may wait unused before it is freed: longer than the gap between the rounds of one
     * migration, short against the hours a receiver waits for its next migration.
     */
    static final long IDLE_CHUNK_MILLIS = 5_000;

    private final ComponentContext context;
    private final HdeSettings settings;
    private final HdeMetrics metrics;
    private final BaselineStore baselines;
    private final LevelController levels;
    /** Reads the path's bandwidth forecast (advice) when a predictor runs beside the codec. */
    private final ForecastAdvisor advisor;
    private final LongSupplier ids;
    private final ChunkPool chunks;
    /** Batch frames lent to the round's sink (64 MiB of free buffers at most: a pipe's worth plus the code-ahead). */
    private final FramePool frames = new FramePool(FRAME_POOL_BYTES);
    private final RoundTables roundTables = new RoundTables();
    private final Path tempDir;
    private final Map<String, ReentrantLock> keyLocks = new ConcurrentHashMap<>();
    private final Map<String, Double> keyframeRatios = new ConcurrentHashMap<>();
    private final Map<String, Boolean> ratioForcesKeyframe = new ConcurrentHashMap<>();
    /** Page hashes of receiver baselines detached before their replica was partly rewritten. */
    private final DetachedHashes detached = new DetachedHashes();
    private final EntropyGate entropyGate;
    private final LevelPlanner levelPlanner;
    /** Builds baseline indexes on the workers, each build with its baseline pinned. */
    private final IndexBuilds indexBuilds;
    /** Runs each round of a key, under that key's lock. */
    private final RoundCoordinator rounds;
    private final Object lifecycle = new Object();
    /** The executors while started; written under {@code lifecycle} (start, stop), read anywhere. */
    private volatile CodecThreads threads;
    private volatile boolean running;

    HdeCodec(ComponentContext context, LongSupplier ids) {
        this.context = Objects.requireNonNull(context, "context");
        this.settings = new HdeSettings(context.config(), Math.max(1, context.workerThreads()));
        this.metrics = new HdeMetrics(context.clock());
        this.baselines = new BaselineStore(settings, context.clock(), metrics);
        this.levels = new LevelController(context.clock(), settings.adjustInterval, metrics);
        this.advisor = ForecastAdvisor.of(context);
        this.ids = ids;
        this.chunks = new ChunkPool(settings.baselineMaxMemoryBytes);
        this.entropyGate = new EntropyGate(settings, context.clock());
        this.levelPlanner = new LevelPlanner(context, settings, levels, advisor);
        this.indexBuilds = new IndexBuilds(this, settings);
        this.tempDir = Path.of(context.config().get(CompressionKeys.STAGING_DIR)
                .orElse(System.getProperty("java.io.tmpdir")));
        // Last: it takes the collaborators above from this codec.
        this.rounds = new RoundCoordinator(this, context, indexBuilds, levelPlanner, keyframeRatios, ratioForcesKeyframe);
    }

    @Override
    public String name() {
        return "compression";
    }

    @Override
    public void start() {
        synchronized (lifecycle) {
            if (running) {
                throw new DwcpException(ErrorCode.ILLEGAL_STATE, "HDE codec is already running");
            }
            int workerThreads = Math.max(1, context.workerThreads());
            frames.open();
            long period = settings.pruneInterval.toMillis();
            threads = new CodecThreads(workerThreads, period, this::pruneSafely, IDLE_CHUNK_MILLIS, this::trimSafely);
            metrics.register(context.meterRegistry(), baselines);
            running = true;
            LOG.info("HDE codec started: {} worker threads, batch {} B, baseline cap {} B", workerThreads,
                    settings.batchSizeBytes, settings.baselineMaxMemoryBytes);
        }
    }

    /** Frees pooled chunks that no round took for {@link #IDLE_CHUNK_MILLIS}; see {@link ChunkPool#trimIdle}. */
    private void trimSafely() {
        try {
            long freed = chunks.trimIdle(System.nanoTime(), TimeUnit.MILLISECONDS.toNanos(IDLE_CHUNK_MILLIS));
            if (freed > 0) {
                LOG.debug("freed {} bytes of pooled chunks idle for {} ms", freed, IDLE_CHUNK_MILLIS);
            }
        } catch (Throwable t) {
            // Thread boundary: as for the pruner.
            context.reportFailure(t);
        }
    }

    private void pruneSafely() {
        try {
            int removed = baselines.prune();
            if (removed > 0) {
                LOG.debug("pruned {} aged baselines", removed);
            }
        } catch (Throwable t) {
            // Thread boundary: a pruner failure must not kill the scheduler; report it to the manager.
            context.reportFailure(t);
        }
    }

    @Override
    public void stop() throws InterruptedException {
        synchronized (lifecycle) {
            if (!running && threads == null) {
                return;
            }
            running = false;
            long timeoutMillis = 30_000;
            threads.shutdown(timeoutMillis);
            baselines.clear();
            chunks.clear();
            frames.close();
            roundTables.clear();
            metrics.remove(context.meterRegistry());
            threads = null;
            LOG.info("HDE codec stopped");
        }
    }

    @Override
    public Health health() {
        if (!running) {
            return Health.unknown("not running");
        }
        return Health.healthy(baselines.count() + " baselines, " + baselines.bytes() + " bytes");
    }

    // ---------------------------------------------------------------- package-private collaborators

    HdeSettings settings() {
        return settings;
    }

    HdeMetrics metrics() {
        return metrics;
    }

    BaselineStore baselines() {
        return baselines;
    }

    LevelController levels() {
        return levels;
    }

    Clock clock() {
        return context.clock();
    }

    Path tempDir() {
        return tempDir;
    }

    ChunkPool chunks() {
        return chunks;
    }

    FramePool frames() {
        return frames;
    }

    RoundTables roundTables() {
        return roundTables;
    }

    /** One thread that waits on the disk (msync of in-place keyframes) so that no worker or decode has to. */
    ExecutorService flusher() {
        CodecThreads t = threads;
        ExecutorService f = t == null ? null : t.flusher;
        if (f == null) {
            throw new DwcpException(ErrorCode.ILLEGAL_STATE, "HDE codec is not running");
        }
        return f;
    }

    ExecutorService workers() {
        CodecThreads t = threads;
        ExecutorService w = t == null ? null : t.workers;
        if (w == null) {
            throw new DwcpException(ErrorCode.ILLEGAL_STATE, "HDE codec is not running");
        }
        return w;
    }

    /** Whether zstd is worth trying on a batch (see {@link EntropyGate}). */
    boolean worthCompressing(ByteBuffer raw, int controlLength, int rawLength) {
        return entropyGate.worthCompressing(raw, controlLength, rawLength);
    }

    /** A trial of a batch did not reach min-ratio: high-entropy batches are stored until the next re-probe. */
    void markIncompressible() {
        entropyGate.markIncompressible();
    }

    // ---------------------------------------------------------------- StateCodec

    @Override
    public CompletableFuture<EncodeResult> encode(VmState<? extends StateRegion> state, EncodeOptions options, FrameSink sink) {
        if (state == null || options == null || sink == null) {
            throw new IllegalArgumentException("state, options and sink must not be null");
        }
        CodecThreads started = threads;
        ThreadPoolExecutor c = started == null ? null : started.coordinators;
        if (!running || c == null) {
            throw new DwcpException(ErrorCode.ILLEGAL_STATE, "HDE codec is not running: start() it first");
        }
        CompletableFuture<EncodeResult> result = new CompletableFuture<>();
        try {
            c.execute(() -> {
                try {
                    result.complete(encodeNow(state, options, sink));
                } catch (Throwable t) {
                    result.completeExceptionally(t);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            result.completeExceptionally(new DwcpException(ErrorCode.CANCELLED, "HDE codec stopped", e));
        }
        return result;
    }

    /**
     * Views of {@code state} as a page store when it is one immutable snapshot region of whole pages (a baseline that
     * costs no copy), else null.
     */
    static PageStore snapshotViews(VmState<? extends StateRegion> state, Layout layout) throws java.io.IOException {
        if (state.regions().size() != 1) {
            return null;
        }
        return PageStore.views(layout.pageSizeBytes, layout.totalPages(), state.region(0));
    }

    private ReentrantLock lock(String key) {
        return keyLocks.computeIfAbsent(key, k -> new ReentrantLock());
    }

    private EncodeResult encodeNow(VmState<? extends StateRegion> state, EncodeOptions options, FrameSink sink) throws Exception {
        ReentrantLock lock = lock(state.key());
        lock.lock();
        try {
            return rounds.encode(state, options, sink);
        } finally {
            lock.unlock();
        }
    }

    /** A new non-zero id (of a round or a baseline chain). */
    long nextId() {
        long id;
        do {
            id = ids.getAsLong();
        } while (id == 0);
        return id;
    }

    /** Throws ILLEGAL_STATE unless the codec was started and not stopped. */
    private void requireRunning() {
        if (!running) {
            throw new DwcpException(ErrorCode.ILLEGAL_STATE, "HDE codec is not running: start() it first");
        }
    }

    @Override
    public StateDecoder newDecoder(VmState<? extends WritableRegion> replica) {
        if (replica == null) {
            throw new IllegalArgumentException("replica must not be null");
        }
        requireRunning();
        return new HdeDecoder(this, replica);
    }

    @Override
    public StateDecoder newDecoder(VmState<? extends WritableRegion> replica, ScratchFiles scratch) {
        if (replica == null || scratch == null) {
            throw new IllegalArgumentException("replica and scratch must not be null");
        }
        requireRunning();
        return new HdeDecoder(this, replica, null, scratch);
    }

    @Override
    public StateDecoder newKeyframeDecoder(VmState<? extends WritableRegion> staging, Publisher publish) {
        if (staging == null || publish == null) {
            throw new IllegalArgumentException("staging and publish must not be null");
        }
        requireRunning();
        return new HdeDecoder(this, staging, publish);
    }

    @Override
    public void acknowledge(BaselineRef ref) {
        if (ref == null) {
            throw new IllegalArgumentException("ref must not be null");
        }
        ReentrantLock lock = lock(ref.key());
        lock.lock();
        try {
            CodecThreads t = threads;
            if (!baselines.acknowledge(ref, t == null ? null : t.workers)) {
                // An adopted baseline (adoptSent) the receiver now holds: build its indexes for the next delta.
                Baseline b = baselines.acquire(BaselineStore.Side.SENDER, ref.key(), true);
                if (b != null) {
                    try {
                        if (b.matches(ref)) {
                            indexBuilds.prebuild(b, settings.spliceAlways);
                        }
                    } finally {
                        b.release();
                    }
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * The receiver's committed baseline of {@code key} (what a sender may encode against), else the sender's own
     * acknowledged one; empty when neither exists or it has aged.
     */
    @Override
    public Optional<BaselineRef> baseline(String key) {
        if (key == null) {
            throw new IllegalArgumentException("key must not be null");
        }
        BaselineRef r = baselines.committedRef(BaselineStore.Side.RECEIVER, key);
        if (r == null) {
            r = baselines.committedRef(BaselineStore.Side.SENDER, key);
        }
        return Optional.ofNullable(r);
    }

    /**
     * The state becomes the key's sender baseline: views when it is an immutable snapshot (no copy), else a copy in
     * direct memory or a temporary file, as a keyframe's; its indexes are built in the background once it is
     * {@link #acknowledge acknowledged}.
     */
    @Override
    public Optional<BaselineRef> adoptSent(VmState<? extends StateRegion> state, long chainId) {
        checkAdopt(state, chainId);
        return Optional.of(adopt(BaselineStore.Side.SENDER, state, chainId, layout -> {
            try {
                return snapshotViews(state, layout);
            } catch (java.io.IOException e) {
                throw new DwcpException(ErrorCode.IO_ERROR, "adopting the baseline of " + state.key() + " failed", e);
            }
        }, null, null));
    }

    /**
     * The replica becomes the key's receiver baseline: its own pages when it is one mappable region of whole pages (as
     * a keyframe decoded in place), else a copy.
     */
    @Override
    public Optional<BaselineRef> adoptReceived(VmState<? extends WritableRegion> replica, long chainId) {
        checkAdopt(replica, chainId);
        detached.remove(replica.key());
        return Optional.of(adopt(BaselineStore.Side.RECEIVER, replica, chainId, ownPages(replica), null, null));
    }

    /**
     * Keeps a copy of the receiver baseline's page hashes (8 bytes a page) for the adoption that follows, then drops
     * the key's baselines.
     */
    @Override
    public Optional<BaselineRef> detachReceived(String key) {
        if (key == null) {
            throw new IllegalArgumentException("key must not be null");
        }
        ReentrantLock lock = lock(key);
        lock.lock();
        try {
            Baseline b = baselines.acquire(BaselineStore.Side.RECEIVER, key, true);
            DetachedHashes.Entry e = null;
            if (b != null) {
                try {
                    // Under the key's lock: no delta changes the hashes while they are copied.
                    e = new DetachedHashes.Entry(b.ref(), b.layout, b.pageHashes.clone());
                } finally {
                    b.release();
                }
            }
            drop(key);
            if (e == null) {
                return Optional.empty();
            }
            detached.put(key, e);
            return Optional.of(e.ref());
        } finally {
            lock.unlock();
        }
    }

    /**
     * As {@link #adoptReceived(VmState, long)}; when {@code previous} is the baseline {@link #detachReceived} last
     * detached for the key, of the same layout, and the replica's own pages become the baseline, only the pages
     * {@code changed} are hashed again.
     */
    @Override
    public Optional<BaselineRef> adoptReceived(VmState<? extends WritableRegion> replica, long chainId,
                                               BaselineRef previous, BitSet changed) {
        checkAdopt(replica, chainId);
        if (changed == null) {
            throw new IllegalArgumentException("changed must not be null");
        }
        DetachedHashes.Entry e = previous == null ? null : detached.take(replica.key(), previous, Layout.of(replica));
        if (e == null) {
            return adoptReceived(replica, chainId);
        }
        return Optional.of(adopt(BaselineStore.Side.RECEIVER, replica, chainId, ownPages(replica), e, changed));
    }

    /** {@link PageHash#hash}: two CRC32C halves of the page. */
    @Override
    public Optional<java.util.function.ToLongFunction<ByteBuffer>> receivedPageHash(int pageSizeBytes) {
        if (pageSizeBytes <= 0) {
            throw new IllegalArgumentException("pageSizeBytes must be positive, got " + pageSizeBytes);
        }
        return Optional.of(b -> {
            if (b.remaining() != pageSizeBytes) {
                throw new IllegalArgumentException("a page of " + b.remaining() + " bytes, pages have " + pageSizeBytes);
            }
            return PageHash.hash(b, b.position(), pageSizeBytes);
        });
    }

    /**
     * As {@link #adoptReceived(VmState, long)}; when the replica's own pages become the baseline and {@code pageHashes}
     * has one hash a page, the baseline takes (a copy of) them and nothing is read.
     */
    @Override
    public Optional<BaselineRef> adoptReceived(VmState<? extends WritableRegion> replica, long chainId, long[] pageHashes) {
        checkAdopt(replica, chainId);
        if (pageHashes == null) {
            throw new IllegalArgumentException("pageHashes must not be null");
        }
        Layout layout = Layout.of(replica);
        if (pageHashes.length != layout.totalPages()) {
            return adoptReceived(replica, chainId);
        }
        long digest = 0;
        for (int p = 0; p < pageHashes.length; p++) {
            digest += PageHash.mix(p, pageHashes[p]);
        }
        // As a detached baseline the replica differs from in no page: the incremental adoption rehashes nothing.
        DetachedHashes.Entry given = new DetachedHashes.Entry(new BaselineRef(replica.key(), chainId, 0, digest), layout,
                pageHashes.clone());
        detached.remove(replica.key());
        return Optional.of(adopt(BaselineStore.Side.RECEIVER, replica, chainId, ownPages(replica), given, new BitSet()));
    }

    /** The replica's own pages as a store, when it is one mappable region of whole pages; else null (a copy). */
    private static java.util.function.Function<Layout, PageStore> ownPages(VmState<? extends WritableRegion> replica) {
        return layout -> {
            WritableRegion r = replica.regions().size() == 1 ? replica.region(0) : null;
            long bytes = layout.totalPages() * layout.pageSizeBytes;
            return r != null && r.mappable() && r.sizeBytes() == bytes && bytes > 0
                    ? PageStore.inRegion(layout.pageSizeBytes, layout.totalPages(), r) : null;
        };
    }

    /**
     * Makes {@code state} the committed baseline of {@code side} under the key's lock: in the store {@code own} gives
     * for its layout (one that holds the pages already: views or the replica's mappings), else in a reserved one it is
     * copied into. With {@code known} (a detached baseline the state equals except in {@code changed}) and a store
     * that holds the pages already, only the changed pages are hashed.
     */
    private BaselineRef adopt(BaselineStore.Side side, VmState<? extends StateRegion> state, long chainId,
                              java.util.function.Function<Layout, PageStore> own, DetachedHashes.Entry known,
                              BitSet changed) {
        String key = state.key();
        ReentrantLock lock = lock(key);
        lock.lock();
        try {
            Layout layout = Layout.of(state);
            if (side == BaselineStore.Side.SENDER) {
                baselines.releaseSender(key);
            } else {
                baselines.drop(side, key);
            }
            PageStore filled = own.apply(layout);
            BaselineStore.Reservation reservation = filled != null ? BaselineStore.Reservation.FILE_BACKED
                    : baselines.reserve(side, key, layout.totalPages() * layout.pageSizeBytes);
            PageStore store = filled != null ? filled
                    : reservation.newStore(layout.pageSizeBytes, layout.totalPages(), tempDir, chunks);
            boolean incremental = known != null && filled != null;
            long[] hashes = incremental ? known.pageHashes() : new long[(int) layout.totalPages()];
            long digest;
            try {
                digest = incremental ? Adoption.update(state, layout, store, hashes, known.ref().digest(), changed, workers())
                        : Adoption.build(state, layout, store, filled != null, hashes, workers());
            } catch (RuntimeException | Error e) {
                store.close();
                baselines.unreserve(reservation);
                throw e;
            }
            keyframeRatios.remove(key);
            ratioForcesKeyframe.remove(key);
            Baseline b = new Baseline(key, chainId, 0, digest, layout, store, hashes, context.clock().instant(), 0);
            // A sender's indexes are built once the receiver confirmed the round (acknowledge), not while it runs.
            baselines.commit(side, key, b, reservation);
            return b.ref();
        } finally {
            lock.unlock();
        }
    }

    private void checkAdopt(VmState<?> state, long chainId) {
        if (state == null || chainId == 0) {
            throw new IllegalArgumentException("state must not be null and chainId not 0");
        }
        requireRunning();
    }

    @Override
    public void drop(String key) {
        if (key == null) {
            throw new IllegalArgumentException("key must not be null");
        }
        baselines.drop(key);
        detached.remove(key);
        keyframeRatios.remove(key);
        ratioForcesKeyframe.remove(key);
    }

    @Override
    public void awaitBackgroundWork(String key) throws InterruptedException {
        if (key == null) {
            throw new IllegalArgumentException("key must not be null");
        }
        Baseline b = baselines.acquire(BaselineStore.Side.SENDER, key, true);
        if (b == null) {
            return;
        }
        try {
            // With auto the next round's level decides whether it splices; build the sub-page index so that, if it
            // does, its output does not depend on how far a background build got.
            indexBuilds.build(b, PageHash.zeroHash(b.layout.pageSizeBytes), settings.spliceAlways || settings.spliceAuto);
        } finally {
            b.release();
        }
    }

    /**
     * Starts building {@code b}'s sub-page index in the background unless it exists or a build is under way (a delta
     * found none: the keyframe's prebuild failed or has not got that far).
     */
    void buildSpliceIndexInBackground(Baseline b) {
        indexBuilds.spliceIndexInBackground(b);
    }

    /** Level the next round on {@code tier} uses with {@code options}: planned from the forecast when there is advice. */
    int levelFor(Tier tier, EncodeOptions options) {
        return levelPlanner.levelFor(tier, options);
    }

    @Override
    public String toString() {
        return "HdeCodec{running=" + running + ", baselines=" + baselines.count() + "}";
    }
}
