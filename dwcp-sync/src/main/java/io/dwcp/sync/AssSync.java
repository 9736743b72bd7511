package io.dwcp.sync;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.Tier;
import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.Health;
import io.dwcp.core.spi.MetadataStore;
import io.dwcp.core.transport.Session;
import io.dwcp.core.spi.SyncService;
import io.dwcp.core.transport.Transport;
import io.dwcp.core.transport.TransportListener;
import io.dwcp.core.time.HybridLogicalClock;
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
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/*
 * Maintainer notes. The sync component: a ReplicatedStore kept convergent with the configured peers.
 *  - Push: every local update's delta goes at once, as one DELTA message, to `fanout` random peers, and into
 *    the rumour buffer with those peers as holders. Received deltas that were new here join the buffer with the
 *    message's path as holders. Every gossip.interval the buffer is drained into one δ-group message per chosen peer
 *    (RumourBuffer: only what that peer is not known to hold; at most `fanout` peers; hop limit max-hops). A failed
 *    send queues its deltas again for that peer. Received messages are de-duplicated by id (SeenCache).
 *    push-mode entry-state ships whole entries the same way; full-state ships the whole store every round instead.
 *  - Anti-entropy: every anti-entropy.interval with the least recently synced peer; every
 *    full-reconciliation.interval with every peer; and at once with any peer not synced for half of max-staleness.
 *    Rounds run on a small worker pool, at most one at a time per peer, so a peer that does not answer (its requests
 *    wait for request-timeout) never delays the rounds with the others (AntiEntropy).
 *  - Reconnection: a failed round is retried after a short backoff (RETRY_MIN_MILLIS, doubling, capped at an eighth of
 *    the peer's max-staleness) rather than at the next staleness check, and the messenger drops the session a failed
 *    request used, so the retry opens a fresh connection instead of waiting on one that is still resuming towards a
 *    dead or cut-off peer. Any message that arrives from a peer whose last round failed is proof that the path is
 *    back: a round with it is queued at once. After a partition heals, the two sides therefore reconcile within about
 *    one retry delay plus one round, not after max-staleness.
 *  - Membership and garbage collection: the node joins the replicated membership set at start (Membership). Every
 *    successful round this node runs records what the peer acknowledged (StabilityTracker); every gc-interval the
 *    removed keys that are causally stable at every live member drop their values (ReplicatedStore.collect), and
 *    members silent past replica-retirement are retired (when this node hears from a majority). Messages from retired
 *    members are refused and counted; retired peers get no rounds and no pushes.
 *  - All traffic goes through Messenger over the Transport SPI; nothing takes an in-process path.
 * Threads: "dwcp-sync-timer-0" (schedules), "dwcp-sync-worker-N" (anti-entropy rounds, at most 16, on demand);
 * inbound messages are handled on the transport's delivery threads. These threads exist only between start() and
 * stop().
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
    /** Bound of the de-duplication cache (about 8 MiB); past it the oldest ids are forgotten before their TTL. */
    private static final int SEEN_MAX_ENTRIES = 100_000;
    /**
     * Most anti-entropy worker threads: rounds with different peers run in parallel, each blocking on its requests, so
     * peers that do not answer cannot hold up the others. Threads are created on demand and end after a minute idle.
     */
    private static final int WORKERS = 16;
    /** First retry delay after a failed round; it doubles per failure up to an eighth of the peer's max-staleness. */
    static final long RETRY_MIN_MILLIS = 50;
    /** The journal is snapshotted once it is larger than this and than the store's encoded state. */
    static final long JOURNAL_COMPACT_MIN_BYTES = 16L << 20;

    private final ComponentContext context;
    private final Transport transport;
    private final TypeRegistry registry = TypeRegistry.defaults();
    private final HybridLogicalClock hlc;
    private final Map<InetSocketAddress, Peer> peers = new ConcurrentHashMap<>();
    private final Object lifecycle = new Object();

    private volatile SyncSettings settings;
    private volatile ReplicatedStore store;
    private volatile Messenger messenger;
    private volatile SeenCache seen;
    private volatile boolean running;
    private volatile ScheduledExecutorService timer;
    private volatile ExecutorService worker;
    /** The store on disk while running with dwcp.sync.data-dir; null otherwise. */
    private volatile StoreJournal journal;
    private final List<TransportListener> listeners = new ArrayList<>();
    private final RumourBuffer rumours = new RumourBuffer(RUMOUR_QUEUE_MAX);
    /** push-mode full-state: the whole store, streamed in chunks. */
    private final WholeStoreShipper wholeStore = new WholeStoreShipper();
    private final SyncMetrics metrics = new SyncMetrics();
    /** What each member acknowledged of this store; the causally stable frontier. */
    private final StabilityTracker stability = new StabilityTracker();
    /** The replicated membership; exists with the store. */
    private volatile Membership membership;

    /** Per-peer bookkeeping. */
    private static final class Peer {
        final InetSocketAddress address;
        volatile long lastSyncMillis;
        /** A round is queued or running; at most one per peer at a time. */
        volatile boolean roundQueued;
        /** Rounds failed in a row since the last successful one; while above 0 the retry timer owns the peer. */
        volatile int failures;
        /** A retry is scheduled (one chain of retries per peer). */
        volatile boolean retryScheduled;
        volatile Tier tier = Tier.WAN;
        /** The peer's node id, learned from its answers; null until then. */
        volatile String nodeId;

        Peer(InetSocketAddress address, long nowMillis) {
            this.address = address;
            this.lastSyncMillis = nowMillis;
        }
    }

    AssSync(ComponentContext context, Transport transport) {
        this.context = context;
        this.transport = transport;
        this.hlc = new HybridLogicalClock(context.clock());
    }

    @Override
    public String name() {
        return "sync";
    }

    @Override
    public void start() {
        synchronized (lifecycle) {
            if (running) {
                return;
            }
            SyncSettings s = new SyncSettings(context.config());
            this.settings = s;
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
            }
            if (s.dataDir != null) {
                StoreJournal j = new StoreJournal(s.dataDir, registry);
                StoreJournal.Recovery r;
                try {
                    r = j.recover(store::mergeState);
                } catch (RuntimeException e) {
                    j.close();
                    throw e;
                }
                store.journal(j);
                journal = j;
                LOG.info("sync store recovered from {}: {} snapshot entries, {} journaled updates", s.dataDir,
                        r.snapshotEntries(), r.journalRecords());
            }
            seen = new SeenCache(s.seenTtl.toMillis(), SEEN_MAX_ENTRIES);
            messenger = new Messenger(transport, s.maxMessageBytes, s.connectTimeout.toMillis(), new Messenger.Listener() {
                @Override
                public void onMessage(Session session, byte[] message) {
                    handle(session, message);
                }

                @Override
                public void onReject(Messenger.Reject reason, String detail) {
                    reject(reason, detail);
                }
            });
            timer = new ScheduledThreadPoolExecutor(1, r -> daemon(r, "dwcp-sync-timer-0"));
            // unbounded queue, bounded use: at most one queued round per peer (Peer.roundQueued) plus explicit calls
            java.util.concurrent.atomic.AtomicInteger workerIds = new java.util.concurrent.atomic.AtomicInteger();
            ThreadPoolExecutor pool = new ThreadPoolExecutor(WORKERS, WORKERS, 1, TimeUnit.MINUTES, new LinkedBlockingQueue<>(),
                    r -> daemon(r, "dwcp-sync-worker-" + workerIds.getAndIncrement()));
            pool.allowCoreThreadTimeOut(true);
            worker = pool;
            try {
                membership.join();
                schedule(s);
            } catch (RuntimeException | Error e) {
                // a failed start releases what it acquired (Component contract)
                detachJournal(false);
                timer.shutdownNow();
                worker.shutdownNow();
                timer = null;
                worker = null;
                metrics.unregister();
                throw e;
            }
            running = true;
            peers.values().forEach(this::queueRound); // a (re)started replica reconciles at once, not at max-staleness / 2
            LOG.info("sync started as replica {} with {} peer(s)", store.replicaId(), peers.size());
        }
    }

    /** Starts the periodic tasks and registers the meters; called under the lifecycle lock. */
    private void schedule(SyncSettings s) {
        long gossipMs = s.gossipInterval.toMillis();
        timer.scheduleAtFixedRate(guard(this::rumourRound), gossipMs, gossipMs, TimeUnit.MILLISECONDS);
        long aeMs = s.antiEntropyInterval.toMillis();
        timer.scheduleAtFixedRate(guard(this::scheduleOneRound), aeMs, aeMs, TimeUnit.MILLISECONDS);
        long fullMs = s.fullReconciliationInterval.toMillis();
        timer.scheduleAtFixedRate(guard(this::scheduleAllRounds), fullMs, fullMs, TimeUnit.MILLISECONDS);
        long checkMs = Math.max(50, s.maxStaleness(Tier.LOCAL).toMillis() / 4);
        timer.scheduleAtFixedRate(guard(this::enforceStaleness), checkMs, checkMs, TimeUnit.MILLISECONDS);
        metrics.register(context.meterRegistry(), store, () -> staleness().toNanos() / 1e9);
        peers.values().forEach(this::registerPeerGauge);
        if (journal != null) {
            timer.scheduleAtFixedRate(guard(this::compactIfDue), gossipMs, gossipMs, TimeUnit.MILLISECONDS);
        }
        long gcMs = s.gcInterval.toMillis();
        timer.scheduleAtFixedRate(guard(this::collectGarbage), gcMs, gcMs, TimeUnit.MILLISECONDS);
    }

    /**
     * One garbage-collection pass (every gc-interval): retires members silent past replica-retirement (only while
     * this node hears from a majority), then drops the values of removed keys whose removal is causally stable at
     * every live member.
     *
     * @return how many keys were collected
     */
    int collectGarbage() {
        long now = context.clock().millis();
        Set<String> peerIds = new java.util.HashSet<>();
        for (Peer p : peers.values()) {
            if (p.nodeId != null) {
                peerIds.add(p.nodeId);
            }
        }
        for (String m : membership.silent(stability, now, now - settings.replicaRetirement.toMillis())) {
            if (!peerIds.contains(m)) {
                continue; // silence is only judged for members this node syncs with directly
            }
            LOG.warn("sync: retiring member '{}': not heard from for more than dwcp.sync.replica-retirement ({})",
                    m, settings.replicaRetirement);
            retireMember(m);
        }
        for (String r : membership.retired()) {
            stability.forget(r); // retirements made elsewhere: their entries leave this node's table too
        }
        int n = store.collect(stability.stableAtAll(membership.others()));
        if (n > 0) {
            LOG.debug("sync: collected {} causally stable removed key(s)", n);
        }
        return n;
    }

    /** Sequences of local updates feed the convergence-lag clock while there is anyone to acknowledge them. */
    private void onLocalCommit(long seq) {
        Membership m = membership;
        if (m != null && !m.others().isEmpty()) {
            metrics.convergenceLag.updated(seq);
        }
    }

    /** Snapshots the store once the journal outgrows both a floor and the store's own encoded size. */
    private void compactIfDue() {
        StoreJournal j = journal;
        if (j != null && j.journalBytes() > Math.max(JOURNAL_COMPACT_MIN_BYTES, store.stateBytes())) {
            j.compact(store::canonicalSnapshot);
        }
    }

    /** Optionally snapshots, then closes the journal and stops journaling; under the lifecycle lock. */
    private void detachJournal(boolean snapshot) {
        StoreJournal j = journal;
        if (j != null) {
            if (snapshot) {
                j.compact(store::canonicalSnapshot);
            }
            store.journal(null);
            j.close();
            journal = null;
        }
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    private Runnable guard(Runnable r) {
        return () -> {
            try {
                r.run();
            } catch (RuntimeException e) {
                LOG.warn("sync background task failed; it runs again at its next period", e);
            }
        };
    }

    @Override
    public void stop() throws InterruptedException {
        synchronized (lifecycle) {
            if (!running && timer == null) {
                return;
            }
            running = false;
            for (TransportListener l : listeners) {
                l.close();
            }
            listeners.clear();
            timer.shutdownNow();
            worker.shutdownNow();
            long waitMs = settings.shutdownTimeout.toMillis();
            messenger.close(waitMs);
            timer.awaitTermination(waitMs, TimeUnit.MILLISECONDS);
            worker.awaitTermination(waitMs, TimeUnit.MILLISECONDS);
            timer = null;
            worker = null;
            rumours.clear();
            metrics.unregister();
            detachJournal(true);
            LOG.info("sync stopped");
        }
    }

    @Override
    public Health health() {
        if (!running) {
            return Health.unknown("sync not running");
        }
        int stale = 0;
        long now = context.clock().millis();
        for (Peer p : peers.values()) {
            if (!retiredPeer(p) && now - p.lastSyncMillis > settings.maxStaleness(p.tier).toMillis()) {
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
        requireRunning("listen");
        return transport.listen(bindAddress, messenger).thenApply(l -> {
            synchronized (lifecycle) {
                if (!running) {
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
        java.util.Objects.requireNonNull(address, "address");
        synchronized (lifecycle) {
            Peer p = peers.computeIfAbsent(address, a -> new Peer(a, context.clock().millis()));
            if (running) {
                registerPeerGauge(p);
            }
        }
    }

    @Override
    public void removePeer(InetSocketAddress address) {
        synchronized (lifecycle) {
            if (peers.remove(address) != null && messenger != null) {
                messenger.disconnect(address);
            }
            metrics.removePeer(address);
        }
    }

    /** Guarded by lifecycle. */
    private void registerPeerGauge(Peer p) {
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
        for (Peer p : peers.values()) {
            if (!retiredPeer(p)) { // a retired peer gets no rounds: it does not make this replica stale
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
        return retireMember(nodeId);
    }

    private boolean retireMember(String nodeId) {
        boolean did = membership.retire(nodeId);
        stability.forget(nodeId); // its clock entries leave the stability table
        for (Peer p : peers.values()) {
            if (nodeId.equals(p.nodeId) && messenger != null) {
                messenger.disconnect(p.address);
            }
        }
        return did;
    }

    /**
     * The live members of the sync cluster (joined and not retired), as known here; this node included.
     *
     * @return a sorted snapshot of node ids
     * @throws DwcpException {@code ILLEGAL_STATE} before the first {@link #start()}
     */
    public Set<String> members() {
        store();
        return Collections.unmodifiableSet(new java.util.TreeSet<>(membership.live()));
    }

    /**
     * The retired members, as known here.
     *
     * @return a sorted snapshot of node ids
     * @throws DwcpException {@code ILLEGAL_STATE} before the first {@link #start()}
     */
    public Set<String> retiredMembers() {
        store();
        return Collections.unmodifiableSet(new java.util.TreeSet<>(membership.retired()));
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
        Messenger m = messenger;
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
        requireRunning("antiEntropy");
        Peer p = peers.get(peer);
        if (p == null) {
            throw new IllegalArgumentException(peer + " is not a peer; addPeer() it first");
        }
        return CompletableFuture.runAsync(() -> runRound(p), worker).whenComplete((v, e) -> {
            if (e != null) {
                retryLater(p);
            }
        });
    }

    /**
     * Runs one round with {@code peer} that exchanges every key's digest instead of descending the hash tree: the
     * flat exchange the tree avoids, kept for benchmarks that compare the two in the same code. Not used by the
     * component itself.
     */
    CompletableFuture<Void> antiEntropyFlat(InetSocketAddress peer) {
        requireRunning("antiEntropyFlat");
        Peer p = peers.get(peer);
        if (p == null) {
            throw new IllegalArgumentException(peer + " is not a peer; addPeer() it first");
        }
        return CompletableFuture.runAsync(() -> runRound(p, true), worker);
    }

    private void requireRunning(String op) {
        if (!running) {
            throw new DwcpException(ErrorCode.ILLEGAL_STATE, op + " needs a running sync component (start it first)");
        }
    }

    // ---------------------------------------------------------------- gossip

    private void onLocalDelta(String key, OrMap delta) {
        if (!running || settings.pushMode == SyncSettings.PushMode.FULL_STATE) {
            // while stopped updates stay local (anti-entropy ships them after the next start); state-based
            // replication ships the whole store at its next round instead
            return;
        }
        // push-mode entry-state ships the key's whole entry instead (a baseline for benchmarks; same merge path)
        boolean whole = settings.pushMode == SyncSettings.PushMode.ENTRY_STATE;
        SyncMessage.KeyState entry = new SyncMessage.KeyState(key, whole ? store.state(key) : delta);
        List<Peer> targets = randomPeers(settings.fanout, p -> true);
        Set<String> holders = new java.util.TreeSet<>();
        holders.add(settings.nodeId);
        for (Peer p : targets) {
            if (p.nodeId != null) {
                holders.add(p.nodeId);
            }
        }
        List<String> path = new ArrayList<>(holders);
        path.remove(settings.nodeId);
        path.add(settings.nodeId);
        long messageId = ThreadLocalRandom.current().nextLong();
        // the recipients forward at once to the peers this push misses (PushForwarding); they count as holders here
        Map<String, List<String>> plan = forwardPlan(messageId, path.subList(0, path.size() - 1), holders);
        Set<String> rumourHolders = new java.util.TreeSet<>(holders);
        rumourHolders.addAll(PushForwarding.covered(plan));
        SyncMessage.Delta m = new SyncMessage.Delta(header(0), messageId, 0, whole, path, List.of(entry));
        seen.firstSight(m.messageId(), context.clock().millis());
        byte[] bytes = SyncWire.encode(m);
        for (Peer p : targets) {
            sendDelta(p, bytes, List.of(entry), whole, 1, rumourHolders,
                    p.nodeId == null ? List.of() : plan.getOrDefault(p.nodeId, List.of()));
        }
        rumours.add(entry, whole, 0, rumourHolders);
    }

    /**
     * The forwarding plan of a push (see {@link PushForwarding}): the peers this node knows by node id that are not on
     * the push's path, spread over its recipients. Empty in push-mode full-state.
     *
     * @param recipients the push's path without its origin
     * @param onPath every node on the push's path, origin included
     */
    private Map<String, List<String>> forwardPlan(long messageId, List<String> recipients, Set<String> onPath) {
        if (settings.pushMode == SyncSettings.PushMode.FULL_STATE) {
            return Map.of();
        }
        List<String> uncovered = new ArrayList<>();
        for (Peer p : peers.values()) {
            String id = p.nodeId;
            if (id != null && !onPath.contains(id) && !id.equals(settings.nodeId)) {
                uncovered.add(id);
            }
        }
        return PushForwarding.plan(messageId, recipients, uncovered, settings.fanout);
    }

    /** Rumour rounds run so far (a load-independent clock for harnesses: under CPU starvation timers fire late). */
    long rumourRoundsRun() {
        return metrics.rumourRounds.get();
    }

    /** Gossip messages handed to the transport so far, delivered or not. */
    long gossipSendsStarted() {
        return metrics.deltaSendsStarted.get();
    }

    /**
     * The rumour round: every delta queued since the last round goes, as one δ-group message per peer, to up to
     * {@code fanout} random peers that are not known to hold all of it (see {@link RumourBuffer}). In push-mode
     * full-state the round ships the whole store instead.
     */
    void rumourRound() { // package-private: tests run a round deterministically
        metrics.rumourRounds.incrementAndGet();
        if (settings.pushMode == SyncSettings.PushMode.FULL_STATE) {
            shipWholeStore();
            return;
        }
        List<RumourBuffer.Item> items = new ArrayList<>();
        for (RumourBuffer.Item it : rumours.drain()) {
            if (it.hops() + 1 > settings.maxHops) {
                metrics.ttlExpired.incrementAndGet();
            } else {
                items.add(it);
            }
        }
        if (items.isEmpty()) {
            return;
        }
        List<Peer> targets = randomPeers(settings.fanout,
                p -> p.nodeId == null || items.stream().anyMatch(it -> !it.holders().contains(p.nodeId)));
        List<String> targetIds = new ArrayList<>();
        for (Peer p : targets) {
            if (p.nodeId != null) {
                targetIds.add(p.nodeId);
            }
        }
        int maxEntries = settings.maxMessageBytes - 1024;
        for (Peer p : targets) {
            for (RumourBuffer.Group g : RumourBuffer.groupsFor(items, p.nodeId, settings.nodeId, targetIds, maxEntries)) {
                SyncMessage.Delta m = new SyncMessage.Delta(header(0), ThreadLocalRandom.current().nextLong(), g.hops(),
                        g.whole(), g.path(), g.entries());
                sendDelta(p, SyncWire.encode(m), g.entries(), g.whole(), g.hops(), g.path(), List.of());
            }
        }
    }

    /**
     * State-based replication (push-mode full-state): every held entry, as whole states, to {@code fanout} random peers,
     * streamed in acknowledged chunks ({@link WholeStoreShipper}); skipped while the previous round's stream runs.
     */
    private void shipWholeStore() {
        List<java.util.function.Function<byte[], CompletableFuture<?>>> targets = new ArrayList<>();
        for (Peer p : randomPeers(settings.fanout, x -> true)) {
            targets.add(bytes -> sendDelta(p, bytes, List.of(), true, 0, List.of(), List.of()));
        }
        wholeStore.ship(store.heldKeys(), store::state, Math.min(WholeStoreShipper.CHUNK_BYTES, settings.maxMessageBytes - 1024),
                batch -> SyncWire.encode(new SyncMessage.Delta(header(0), ThreadLocalRandom.current().nextLong(), 0, true,
                        List.of(settings.nodeId), batch)), targets, timer);
    }

    /** Up to {@code n} distinct random peers that pass {@code filter}. */
    private List<Peer> randomPeers(int n, java.util.function.Predicate<Peer> filter) {
        List<Peer> all = new ArrayList<>(peers.values());
        Collections.shuffle(all, ThreadLocalRandom.current());
        List<Peer> out = new ArrayList<>(n);
        for (Peer p : all) {
            if (out.size() >= n) {
                break;
            }
            if (filter.test(p) && !retiredPeer(p)) {
                out.add(p);
            }
        }
        return out;
    }

    /**
     * Sends one gossip message. When it fails (the session broke before the transfer completed), its entries are
     * queued again without the peer among their holders, one hop further, so the next rumour round retries that peer
     * — until max-hops, after which anti-entropy repairs it. Naming a peer on the path is a promise that it was sent
     * the message, and a failed send breaks it.
     */
    private CompletableFuture<Void> sendDelta(Peer p, byte[] bytes, List<SyncMessage.KeyState> entries, boolean whole, int hops,
                           java.util.Collection<String> holders, java.util.Collection<String> reachedThrough) {
        metrics.deltaSendsStarted.incrementAndGet();
        return messenger.send(p.address, bytes).whenComplete((v, e) -> {
            if (e == null) {
                // counted once delivered: a message to an unreachable peer never reached the wire
                metrics.deltaMessagesSent.incrementAndGet();
                metrics.deltaBytesSent.addAndGet(bytes.length);
                return;
            }
            LOG.debug("delta push to {} failed: {}", p.address, e.toString());
            metrics.deltaSendsFailed.incrementAndGet();
            if (!entries.isEmpty() && running) {
                Set<String> h = new java.util.HashSet<>(holders);
                String id = p.nodeId;
                if (id != null) {
                    h.remove(id);
                }
                h.removeAll(reachedThrough); // peers the failed recipient should have forwarded it to
                for (SyncMessage.KeyState ks : entries) {
                    rumours.add(ks, whole, hops, h);
                }
            }
        });
    }

    // ---------------------------------------------------------------- anti-entropy scheduling

    private void scheduleOneRound() {
        Peer oldest = null;
        for (Peer p : peers.values()) {
            if (p.failures > 0) {
                continue; // retried by its own timer (retryLater)
            }
            if (oldest == null || p.lastSyncMillis < oldest.lastSyncMillis) {
                oldest = p;
            }
        }
        if (oldest != null) {
            queueRound(oldest);
        }
    }

    private void scheduleAllRounds() {
        for (Peer p : peers.values()) {
            if (p.failures == 0) {
                queueRound(p);
            }
        }
    }

    private void enforceStaleness() {
        long now = context.clock().millis();
        for (Peer p : peers.values()) {
            if (p.failures > 0) {
                if (!p.retryScheduled && !p.roundQueued) {
                    retryLater(p); // safety net: a failing peer always has a retry pending or a round under way
                }
            } else if (now - p.lastSyncMillis > settings.maxStaleness(p.tier).toMillis() / 2) {
                queueRound(p);
            }
        }
    }

    /** A peer whose node id is a retired member: it gets no rounds and no pushes. */
    private boolean retiredPeer(Peer p) {
        String id = p.nodeId;
        return id != null && membership.isRetired(id);
    }

    private void queueRound(Peer p) {
        synchronized (p) {
            if (p.roundQueued || !running || retiredPeer(p)) {
                return;
            }
            p.roundQueued = true;
        }
        try {
            worker.execute(() -> {
                try {
                    runRound(p);
                } catch (RuntimeException e) {
                    LOG.debug("anti-entropy with {} failed: {}", p.address, e.toString());
                } finally {
                    p.roundQueued = false;
                    if (p.failures > 0) {
                        retryLater(p); // after clearing roundQueued, or the retry could find the round still queued
                    }
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            p.roundQueued = false; // stopping
        }
    }

    /**
     * The wait before the next round with a peer after {@code failures} failed rounds in a row: 50 ms doubling per
     * failure, at most an eighth of the peer's max-staleness (so a healed path is used within that, and a cut-off peer
     * costs at most eight connection attempts per max-staleness).
     */
    static long retryDelayMillis(int failures, Duration maxStaleness) {
        long cap = Math.max(RETRY_MIN_MILLIS, maxStaleness.toMillis() / 8);
        int doublings = Math.max(0, Math.min(20, failures) - 1);
        return Math.min(cap, RETRY_MIN_MILLIS << doublings);
    }

    /** Schedules the next attempt after a failed round (one pending retry per peer). */
    private void retryLater(Peer p) {
        synchronized (p) {
            if (p.retryScheduled || !running) {
                return;
            }
            p.retryScheduled = true;
        }
        long delay = retryDelayMillis(p.failures, settings.maxStaleness(p.tier));
        try {
            timer.schedule(guard(() -> {
                p.retryScheduled = false;
                queueRound(p);
            }), delay, TimeUnit.MILLISECONDS);
        } catch (RuntimeException e) {
            p.retryScheduled = false; // stopping (timer shut down or gone): no more rounds
        }
    }

    private void runRound(Peer p) {
        runRound(p, false);
    }

    private void runRound(Peer p, boolean flat) {
        long before = messenger.bytesSent.get();
        StabilityTracker.RoundStart start = stability.roundStarting(p.nodeId, store.changeSeq());
        try {
            AntiEntropy ae = new AntiEntropy(store, this::request, settings.maxMessageBytes);
            AntiEntropy.Result r = flat ? ae.runFlat(p.address, header(0)) : ae.run(p.address, header(0));
            String node = p.nodeId; // learnt from the round's answers
            if (node != null && !membership.isRetired(node)) {
                stability.roundSucceeded(node, start, r.pulledAll());
                metrics.convergenceLag.acknowledged(stability.heldByAll(membership.others()));
            }
            p.lastSyncMillis = context.clock().millis();
            p.failures = 0;
            metrics.roundsOk.incrementAndGet();
            metrics.keysExchanged.addAndGet(r.pulled() + r.pushed());
            if (r.pulled() + r.pushed() > 0) {
                LOG.debug("anti-entropy with {}: {} leaves differed, pulled {}, pushed {} in {} round trips",
                        p.address, r.differingLeaves(), r.pulled(), r.pushed(), r.roundTrips());
            }
        } catch (RuntimeException e) {
            p.failures++;
            metrics.roundsFailed.incrementAndGet();
            throw e;
        } finally {
            metrics.aeBytesSent.addAndGet(messenger.bytesSent.get() - before);
        }
    }

    private SyncMessage request(InetSocketAddress peer, java.util.function.LongFunction<SyncMessage> make) {
        long id = messenger.newCorrelationId();
        byte[] response = messenger.request(peer, id, SyncWire.encode(make.apply(id)), settings.requestTimeout.toMillis());
        SyncMessage m = SyncWire.decode(response, registry);
        observeClock(m.header());
        Peer p = peers.get(peer);
        if (p != null) {
            p.nodeId = m.header().sender();
        }
        if (m instanceof SyncMessage.Error e) {
            throw new DwcpException(ErrorCode.ofNumber(e.code()), "peer " + peer + " answered: " + e.message());
        }
        return m;
    }

    // ---------------------------------------------------------------- inbound

    private void handle(Session session, byte[] bytes) {
        if (!running) {
            return; // a session accepted before stop() may still deliver; a stopped component does no work
        }
        SyncMessage m;
        try {
            m = SyncWire.decode(bytes, registry);
        } catch (DwcpException e) {
            // a well-formed header with a message type or CRDT type tag this build does not know: unknown-type
            boolean unknownType = e.code() == ErrorCode.PROTOCOL_ERROR && SyncWire.headerValid(bytes);
            reject(unknownType ? Messenger.Reject.UNKNOWN_TYPE : Messenger.Reject.MALFORMED, e.getMessage());
            return;
        }
        String sender = m.header().sender();
        Membership members = membership;
        if (members.isRetired(sender)) {
            reject(Messenger.Reject.RETIRED, "message from retired member '" + sender + "'");
            return;
        }
        if (members.live().contains(sender)) { // only members: a flood of made-up sender ids allocates nothing
            stability.heard(sender, context.clock().millis());
        }
        observeClock(m.header());
        for (Peer p : peers.values()) {
            if (p.address.equals(session.remoteAddress())) {
                p.tier = session.tier();
            }
            if (p.failures > 0 && sender.equals(p.nodeId)) {
                // the path to this peer is back (it reached us): reconcile now rather than at the next retry
                queueRound(p);
            }
        }
        long corr = m.header().correlationId();
        if (m instanceof SyncMessage.Delta d) {
            onDelta(d);
        } else if (m instanceof SyncMessage.TreeRequest q) {
            reply(session, AntiEntropy.answer(store.index(), q, header(corr)));
        } else if (m instanceof SyncMessage.LeafRequest q) {
            reply(session, AntiEntropy.answer(store.index(), q, header(corr)));
        } else if (m instanceof SyncMessage.PullRequest q) {
            reply(session, AntiEntropy.answer(store, q, header(corr), settings.maxMessageBytes));
        } else if (m instanceof SyncMessage.PushRequest q) {
            int merged = 0;
            for (SyncMessage.KeyState ks : q.entries()) {
                if (mergeChecked(ks, false)) {
                    merged++;
                }
            }
            metrics.keysExchanged.addAndGet(merged);
            reply(session, new SyncMessage.PushAck(header(corr), merged));
        } else if (!messenger.complete(corr, bytes)) {
            reject(Messenger.Reject.UNSOLICITED, "response with correlation id " + corr + " nobody waits for");
        }
    }

    private void onDelta(SyncMessage.Delta d) {
        metrics.gossipReceived.incrementAndGet();
        if (!seen.firstSight(d.messageId(), context.clock().millis())) {
            metrics.duplicates.incrementAndGet();
            return;
        }
        // state-based replication ships whole stores every round; nothing is forwarded
        boolean forward = settings.pushMode != SyncSettings.PushMode.FULL_STATE;
        Set<String> holders = new java.util.HashSet<>(d.path());
        holders.add(d.header().sender());
        holders.add(settings.nodeId);
        List<String> forwardTo = List.of();
        if (forward && d.hops() == 0 && settings.maxHops >= 1) {
            // a push from its origin: this node may be the one the plan names to forward it at once to a peer the push
            // missed; every recipient computes the same plan and counts the covered peers as holders (PushForwarding)
            List<String> recipients = new ArrayList<>(d.path());
            recipients.remove(d.header().sender());
            Map<String, List<String>> plan = forwardPlan(d.messageId(), recipients, holders);
            holders.addAll(PushForwarding.covered(plan));
            forwardTo = plan.getOrDefault(settings.nodeId, List.of());
        }
        for (SyncMessage.KeyState ks : d.entries()) {
            // only what was new here is queued for rumour rounds: a delta already held is not re-sent
            if (mergeChecked(ks, !d.wholeStates()) && forward) {
                if (d.hops() >= settings.maxHops) {
                    metrics.ttlExpired.incrementAndGet();
                    continue;
                }
                rumours.add(ks, d.wholeStates(), d.hops(), holders);
            }
        }
        if (!forwardTo.isEmpty()) {
            forwardPush(d, holders, forwardTo);
        }
        metrics.deltasReceived.addAndGet(d.entries().size());
    }

    /**
     * Forwards a push at once, one hop further, to the peers the plan gave this node. Every entry of the push goes
     * (the first sight of a push: its peers count on this node for all of it). The path names every holder the plan
     * knows of, so the receivers' rumour rounds do not send it back.
     */
    private void forwardPush(SyncMessage.Delta d, Set<String> holders, List<String> forwardTo) {
        java.util.TreeSet<String> known = new java.util.TreeSet<>(holders);
        known.remove(settings.nodeId);
        List<String> path = new ArrayList<>(known);
        path.add(settings.nodeId);
        SyncMessage.Delta m = new SyncMessage.Delta(header(0), ThreadLocalRandom.current().nextLong(), 1, d.wholeStates(),
                path, d.entries());
        seen.firstSight(m.messageId(), context.clock().millis());
        byte[] bytes = SyncWire.encode(m);
        for (Peer p : peers.values()) {
            if (p.nodeId != null && forwardTo.contains(p.nodeId)) {
                metrics.pushForwards.incrementAndGet();
                sendDelta(p, bytes, d.entries(), d.wholeStates(), 1, holders, List.of());
            }
        }
    }

    /**
     * Merges one received entry; a type mismatch is counted and alarmed, never applied.
     *
     * @return whether the entry was new here (it changed the state, or was held for a missing predecessor)
     */
    private boolean mergeChecked(SyncMessage.KeyState ks, boolean delta) {
        try {
            if (delta) {
                return store.mergeDelta(ks.key(), ks.state()) != ReplicatedStore.Outcome.DUPLICATE;
            }
            return store.mergeState(ks.key(), ks.state());
        } catch (DwcpException e) {
            if (e.code() == ErrorCode.TYPE_MISMATCH) {
                reject(Messenger.Reject.TYPE_MISMATCH, e.getMessage());
                LOG.warn("sync alarm: {} (the local value is kept)", e.getMessage());
            } else {
                reject(Messenger.Reject.MALFORMED, e.getMessage());
            }
            return false;
        }
    }

    private void reply(Session session, SyncMessage m) {
        byte[] bytes = SyncWire.encode(m);
        metrics.aeBytesSent.addAndGet(bytes.length);
        messenger.send(session, bytes).whenComplete(Messenger.logFailure("sync response"));
    }

    private void reject(Messenger.Reject reason, String detail) {
        metrics.rejected.get(reason).incrementAndGet();
        LOG.debug("sync message dropped ({}): {}", reason, detail);
    }

    private void observeClock(SyncMessage.Header h) {
        if (hlc.skewMillis(h.hlc()) > settings.maxClockSkew.toMillis()) {
            metrics.skewAlarms.incrementAndGet();
            LOG.warn("sync alarm: clock of {} is {} ms ahead of this node (dwcp.sync.max-clock-skew {}); accepted",
                    h.sender(), hlc.skewMillis(h.hlc()), settings.maxClockSkew);
        }
        hlc.update(h.hlc());
    }

    private SyncMessage.Header header(long correlationId) {
        return new SyncMessage.Header(correlationId, hlc.now(), settings.nodeId);
    }
}
