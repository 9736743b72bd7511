package io.dwcp.sync;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.Health;
import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.spi.MetadataStore;
import io.dwcp.core.spi.SyncService;
import io.dwcp.core.spi.VmMetadata;
import io.dwcp.core.time.HybridLogicalClock;
import io.dwcp.core.transport.Transport;
import io.dwcp.core.transport.TransportListener;
import io.dwcp.sync.crdt.OrMap;
import io.dwcp.sync.crdt.TypeRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/*
 * Maintainer notes. The sync component: a ReplicatedStore kept convergent with the configured peers. This class owns
 * the lifecycle and the public API; the work of a run is split by job:
 *  - SyncRun: one run, start() to stop(): settings, messenger, seen cache, timer and workers, and the parts below;
 *  - Gossip: δ push to `fanout` peers, push forwarding, rumour rounds, full-state shipping;
 *  - AntiEntropyRounds: when and with whom Merkle anti-entropy runs, retries after failures, the rounds themselves;
 *  - Inbound: decoding and dispatch of received messages, answers to anti-entropy requests.
 * What outlives a run is held here: the store (created at the first start), the membership, the peers (SyncPeer), the
 * rumour buffer (cleared at stop), the stability table, the metrics, the clock; and two parts with a job of their own:
 *  - JournalKeeper: the journal while running (replayed at start, compacted, snapshotted and closed at stop);
 *  - StoreCollector: retirements, garbage collection and pruning (below), created with the store.
 *  - Membership and garbage collection: the node joins the replicated membership set at start (Membership). Every
 *    successful round this node runs records what the peer acknowledged (StabilityTracker); every gc-interval the
 *    removed keys that are causally stable at every live member drop their values (ReplicatedStore.collect), and
 *    members silent past replica-retirement are retired (when this node hears from a majority). Messages from retired
 *    members are refused and counted; retired peers get no rounds and no pushes. Once a retirement is causally stable
 *    (retiredSeenAt <= the stable frontier) the retired member's dots are pruned from the keys' contexts.
 *  - All traffic goes through Messenger over the Transport SPI; nothing takes an in-process path.
 * Locking: `lifecycle` guards start/stop (the journal's attach and detach with them), the listener list, the peer
 * gauges and the swap of `run`; everything else is
 * lock-free (concurrent maps, volatile fields, the store's own locks). Threads: "dwcp-sync-timer-0" (schedules),
 * "dwcp-sync-worker-N" (anti-entropy rounds, at most 16, on demand); inbound messages are handled on the transport's
 * delivery threads. These threads exist only between start() and stop().
 */

/**
 * The ASS sync component: a replicated store of δ-CRDTs kept convergent with its peers over the DWCP transport by
 * delta gossip and Merkle anti-entropy. Created by {@link AssSyncProvider}, normally through {@code DwcpManager}.
 *
 * <pre>{@code
 * AssSync sync = (AssSync) dwcp.sync();
 * sync.listen(new InetSocketAddress(7500)).join();
 * sync.addPeer(new InetSocketAddress("site-b", 7500));
 * sync.store().update("vms/running", PNCounter.EMPTY, c -> c.addDelta(sync.store().replicaId(), 1));
 * }</pre>
 *
 * <p>Thread-safe. Reads {@code dwcp.node-id} (a random name, warned about, when unset); the replica id that stamps
 * dots is the node id plus an incarnation
 * chosen when the component is created, so a node that restarts without its data never reuses a dot.
 */
public final class AssSync implements SyncService {
    private static final Logger LOG = LoggerFactory.getLogger(AssSync.class);
    private static final int RUMOUR_QUEUE_MAX = 10_000;
    /** The journal is snapshotted once it is larger than this and than the store's encoded state. */
    static final long JOURNAL_COMPACT_MIN_BYTES = 16L << 20;

    private final ComponentContext context;
    private final Transport transport;
    private final TypeRegistry registry = TypeRegistry.defaults();
    private final HybridLogicalClock hlc;
    private final Map<InetSocketAddress, SyncPeer> peers = new ConcurrentHashMap<>();
    private final Object lifecycle = new Object();

    /** The current run, or the last one after stop() (its counters stay readable); null before the first start. */
    private volatile SyncRun run;
    private volatile ReplicatedStore store;
    /** The store on disk while running with dwcp.sync.data-dir. */
    private final JournalKeeper journal = new JournalKeeper();
    /** Guarded by lifecycle. */
    private final List<TransportListener> listeners = new ArrayList<>();
    private final RumourBuffer rumours = new RumourBuffer(RUMOUR_QUEUE_MAX);
    private final SyncMetrics metrics = new SyncMetrics();
    /** What each member acknowledged of this store; the causally stable frontier. */
    private final StabilityTracker stability = new StabilityTracker();
    /** The replicated membership; exists with the store. */
    private volatile Membership membership;
    /** Retirements, garbage collection and pruning; exists with the store. */
    private volatile StoreCollector collector;

    AssSync(ComponentContext context, Transport transport) {
        this.context = context;
        this.transport = transport;
        this.hlc = new HybridLogicalClock(context.clock());
    }

    @Override
    public String name() {
        return "sync";
    }

    private boolean running() {
        SyncRun r = run;
        return r != null && r.running;
    }

    @Override
    public void start() {
        synchronized (lifecycle) {
            if (running()) {
                return;
            }
            SyncSettings s = new SyncSettings(context.config());
            if (!s.nodeIdExplicit) {
                LOG.warn("dwcp.node-id is not set: sync runs as '{}', a random name that changes at every restart; "
                        + "set dwcp.node-id to a stable name for this replica", s.nodeId);
            }
            if (store == null) {
                String incarnation = Long.toString(context.clock().millis(), 36) + "-"
                        + Integer.toString(ThreadLocalRandom.current().nextInt(1 << 30), 36);
                store = new ReplicatedStore(s.nodeId + "@" + incarnation, s.maxMessageBytes - 1024L, s.causalBufferEntries);
                store.onLocalDelta(this::onLocalDelta);
                store.onLocalCommit(this::onLocalCommit);
                membership = new Membership(store, s.nodeId);
                Membership m = membership;
                store.retiredNodes(m::retired);
                collector = new StoreCollector(store, m, stability, peers, context.clock());
            }
            journal.attach(s, store, registry);
            SyncRun r = new SyncRun(context, transport, s, registry, hlc, store, membership, peers, rumours, metrics,
                    stability);
            run = r;
            try {
                membership.join();
                schedule(r);
            } catch (RuntimeException | Error e) {
                // a failed start releases what it acquired (Component contract)
                journal.detach(false, store);
                r.abort();
                metrics.unregister();
                throw e;
            }
            r.running = true;
            // a (re)started replica reconciles at once, not at max-staleness / 2
            peers.values().forEach(r.rounds::queueRound);
            LOG.info("sync started as replica {} with {} peer(s)", store.replicaId(), peers.size());
        }
    }

    /** Starts the periodic tasks and registers the meters; called under the lifecycle lock. */
    private void schedule(SyncRun r) {
        SyncSettings s = r.settings;
        long gossipMs = s.gossipInterval.toMillis();
        r.every(gossipMs, r.gossip::rumourRound);
        r.rounds.schedule();
        metrics.register(context.meterRegistry(), store, () -> staleness().toNanos() / 1e9);
        peers.values().forEach(this::registerPeerGauge);
        if (journal.attached()) {
            r.every(gossipMs, () -> journal.compactIfDue(store));
        }
        r.every(s.gcInterval.toMillis(), this::collectGarbage);
    }

    /**
     * One garbage-collection pass now (the run's timer makes one every gc-interval; see {@code StoreCollector}).
     *
     * @return how many keys were collected
     */
    int collectGarbage() {
        return collector.collect(run);
    }

    /** A local update's delta goes to the current run's push path (nothing while stopped). */
    private void onLocalDelta(String key, OrMap delta) {
        SyncRun r = run;
        if (r != null) {
            r.gossip.onLocalDelta(key, delta);
        }
    }

    /** Sequences of local updates feed the convergence-lag clock while there is anyone to acknowledge them. */
    private void onLocalCommit(long seq) {
        Membership m = membership;
        if (m != null && !m.others().isEmpty()) {
            metrics.convergenceLag.updated(seq);
        }
    }

    @Override
    public void stop() throws InterruptedException {
        synchronized (lifecycle) {
            SyncRun r = run;
            if (r == null || !r.running) {
                return;
            }
            r.running = false;
            for (TransportListener l : listeners) {
                l.close();
            }
            listeners.clear();
            r.close();
            rumours.clear();
            metrics.unregister();
            journal.detach(true, store);
            LOG.info("sync stopped");
        }
    }

    @Override
    public Health health() {
        SyncRun r = run;
        if (r == null || !r.running) {
            return Health.unknown("sync not running");
        }
        int stale = 0;
        long now = context.clock().millis();
        for (SyncPeer p : peers.values()) {
            if (!retired(p, membership) && now - p.lastSyncMillis > r.settings.maxStaleness(p.tier).toMillis()) {
                stale++; // a retired peer is not synced any more, and does not count
            }
        }
        if (stale > 0) {
            return Health.degraded(stale + " of " + peers.size() + " peer(s) not synced within max-staleness");
        }
        return Health.healthy(peers.isEmpty() ? "no peers" : peers.size() + " peer(s) synced within max-staleness");
    }

    @Override
    public CompletableFuture<InetSocketAddress> listen(InetSocketAddress bindAddress) {
        SyncRun r = requireRunning("listen");
        return transport.listen(bindAddress, r.messenger).thenApply(l -> {
            synchronized (lifecycle) {
                if (!r.running) {
                    l.close();
                    throw new DwcpException(ErrorCode.ILLEGAL_STATE, "sync stopped while binding " + bindAddress);
                }
                listeners.add(l);
            }
            return l.localAddress();
        });
    }

    @Override
    public void addPeer(InetSocketAddress address) {
        Objects.requireNonNull(address, "address");
        synchronized (lifecycle) {
            SyncPeer p = peers.computeIfAbsent(address, a -> new SyncPeer(a, context.clock().millis()));
            if (running()) {
                registerPeerGauge(p);
            }
        }
    }

    @Override
    public void removePeer(InetSocketAddress address) {
        synchronized (lifecycle) {
            SyncRun r = run;
            if (peers.remove(address) != null && r != null) {
                r.messenger.disconnect(address);
            }
            metrics.removePeer(address);
        }
    }

    /** Guarded by lifecycle. */
    private void registerPeerGauge(SyncPeer p) {
        metrics.addPeer(p.address, () -> (context.clock().millis() - p.lastSyncMillis) / 1e3);
    }

    @Override
    public Set<InetSocketAddress> peers() {
        return Set.copyOf(peers.keySet());
    }

    @Override
    public MetadataStore metadata() {
        return new AssMetadataStore(store(), hlc, this::staleness);
    }

    /**
     * The cluster-metadata schema over this store ({@link ClusterMetadata}), as the core's VM metadata.
     *
     * @return the schema, empty before the first {@link #start()}
     */
    @Override
    public Optional<VmMetadata> vmMetadata() {
        ReplicatedStore s = store;
        return s == null ? Optional.empty() : Optional.of(new ClusterMetadata(s, hlc));
    }

    /**
     * The replicated store.
     *
     * @return the store this component replicates
     * @throws DwcpException {@code ILLEGAL_STATE} before the first {@link #start()}
     */
    public ReplicatedStore store() {
        ReplicatedStore s = store;
        if (s == null) {
            throw new DwcpException(ErrorCode.ILLEGAL_STATE, "sync has not started yet: the store exists from the first start()");
        }
        return s;
    }

    /**
     * The hybrid logical clock that stamps this node's messages and LWW writes.
     *
     * @return the clock
     */
    public HybridLogicalClock clock() {
        return hlc;
    }

    /**
     * Reads {@code key} with bounded staleness.
     *
     * @param key the key
     * @param bound the largest staleness accepted
     * @return the value (empty when absent or removed) and the staleness at the read
     * @throws DwcpException {@code STALE} when this replica has not synced with every peer within {@code bound}
     */
    public ReadResult read(String key, Duration bound) {
        Duration st = staleness();
        if (st.compareTo(bound) > 0) {
            metrics.stalenessViolations.incrementAndGet();
            throw new DwcpException(ErrorCode.STALE, "replica is " + st.toMillis() + " ms stale, above the bound of "
                    + bound.toMillis() + " ms for key '" + key + "'");
        }
        return new ReadResult(store().get(key), st);
    }

    /**
     * The longest time since the last successful exchange with a configured peer; zero without peers.
     *
     * @return the staleness, millisecond precision
     */
    public Duration staleness() {
        long now = context.clock().millis();
        long worst = 0;
        for (SyncPeer p : peers.values()) {
            if (!retired(p, membership)) { // a retired peer gets no rounds: it does not make this replica stale
                worst = Math.max(worst, now - p.lastSyncMillis);
            }
        }
        return Duration.ofMillis(worst);
    }

    /**
     * Retires {@code nodeId} from the sync membership: a replicated, final operation. A retired member no longer holds
     * back garbage collection anywhere, its later messages are refused (counted as {@code dwcp.ass.rejected{reason=retired}}),
     * and it gets no anti-entropy rounds or pushes. It can never join again under the same id. Members silent for
     * {@code dwcp.sync.replica-retirement} are retired automatically.
     *
     * <pre>{@code
     * sync.retire("site-c-1"); // site-c-1 was decommissioned
     * }</pre>
     *
     * @param nodeId the member's {@code dwcp.node-id}
     * @return whether this call retired it ({@code false} when it was retired already)
     * @throws DwcpException {@code ILLEGAL_STATE} when the component is not running
     * @throws IllegalArgumentException when {@code nodeId} is not a member known here
     */
    public boolean retire(String nodeId) {
        requireRunning("retire");
        return collector.retire(nodeId, run);
    }

    /**
     * The live members of the sync cluster (joined and not retired), as known here; this node included.
     *
     * @return a sorted snapshot of node ids
     * @throws DwcpException {@code ILLEGAL_STATE} before the first {@link #start()}
     */
    public Set<String> members() {
        store();
        return Collections.unmodifiableSet(new TreeSet<>(membership.live()));
    }

    /**
     * The retired members, as known here.
     *
     * @return a sorted snapshot of node ids
     * @throws DwcpException {@code ILLEGAL_STATE} before the first {@link #start()}
     */
    public Set<String> retiredMembers() {
        store();
        return Collections.unmodifiableSet(new TreeSet<>(membership.retired()));
    }

    /** The convergence-lag clock (for tests). */
    ConvergenceLag convergenceLag() {
        return metrics.convergenceLag;
    }

    /**
     * Counters since creation.
     *
     * @return a snapshot of the counters
     */
    public SyncStats stats() {
        SyncRun r = run;
        Messenger m = r == null ? null : r.messenger;
        return metrics.snapshot(m == null ? 0 : m.bytesSent.get(), m == null ? 0 : m.bytesReceived.get());
    }

    /**
     * Runs one anti-entropy round with {@code peer} now, on the worker thread.
     *
     * @param peer the address of a peer added before
     * @return completes when the round ended, exceptionally when it failed
     * @throws DwcpException {@code ILLEGAL_STATE} when the component is not running
     * @throws IllegalArgumentException when {@code peer} is not a configured peer
     */
    public CompletableFuture<Void> antiEntropy(InetSocketAddress peer) {
        SyncRun r = requireRunning("antiEntropy");
        SyncPeer p = peers.get(peer);
        if (p == null) {
            throw new IllegalArgumentException(peer + " is not a peer; addPeer() it first");
        }
        return CompletableFuture.runAsync(() -> r.rounds.runRound(p, false), r.worker).whenComplete((v, e) -> {
            if (e != null) {
                r.rounds.retryLater(p);
            }
        });
    }

    /**
     * Runs one round with {@code peer} that exchanges every key's digest instead of descending the hash tree: the
     * flat exchange the tree avoids, kept for benchmarks that compare the two in the same code. Not used by the
     * component itself.
     */
    CompletableFuture<Void> antiEntropyFlat(InetSocketAddress peer) {
        SyncRun r = requireRunning("antiEntropyFlat");
        SyncPeer p = peers.get(peer);
        if (p == null) {
            throw new IllegalArgumentException(peer + " is not a peer; addPeer() it first");
        }
        return CompletableFuture.runAsync(() -> r.rounds.runRound(p, true), r.worker);
    }

    private SyncRun requireRunning(String op) {
        SyncRun r = run;
        if (r == null || !r.running) {
            throw new DwcpException(ErrorCode.ILLEGAL_STATE, op + " needs a running sync component (start it first)");
        }
        return r;
    }

    /** Whether {@code p}'s node id is a retired member: it gets no rounds and no pushes, and makes nothing stale. */
    static boolean retired(SyncPeer p, Membership membership) {
        String id = p.nodeId;
        return id != null && membership.isRetired(id);
    }

    /** Rumour rounds run so far (a load-independent clock for harnesses: under CPU starvation timers fire late). */
    long rumourRoundsRun() {
        return metrics.rumourRounds.get();
    }

    /** Gossip messages handed to the transport so far, delivered or not. */
    long gossipSendsStarted() {
        return metrics.deltaSendsStarted.get();
    }

    /** Deltas queued for the next rumour round, and deltas the full queue dropped so far (harness diagnostics). */
    long[] rumourQueue() {
        return new long[]{rumours.size(), rumours.dropped()};
    }

    /** Runs one rumour round now, on the calling thread (tests run rounds deterministically). */
    void rumourRound() {
        requireRunning("rumourRound").gossip.rumourRound();
    }
}
