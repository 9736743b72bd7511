package io.dwcp.sync;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.time.HybridLogicalClock;
import io.dwcp.core.transport.Session;
import io.dwcp.core.transport.Transport;
import io.dwcp.sync.crdt.TypeRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/*
 * Maintainer notes. One run of the sync component, from start() to stop(): the settings read at that start, the
 * messenger, the de-duplication cache, the timer and the worker pool, and the three parts that do the work — Gossip
 * (push, forwarding, rumour rounds), AntiEntropyRounds (scheduling, retries, the rounds themselves) and Inbound
 * (dispatch of received messages). Every field is final: a run's parts never see another run's messenger or threads.
 * What outlives a run (store, membership, peers, rumour buffer, stability table, metrics, clock) is owned by AssSync
 * and handed in. `running` turns true once start() completed and false at stop(); every callback checks it, so a
 * stopped run does no work even while its transport threads still deliver.
 */

/** One run of {@link AssSync} and the state its parts share; created by {@code start()}, closed by {@code stop()}. */
final class SyncRun {
    private static final Logger LOG = LoggerFactory.getLogger(SyncRun.class);
    /** Bound of the de-duplication cache (about 8 MiB); past it the oldest ids are forgotten before their TTL. */
    private static final int SEEN_MAX_ENTRIES = 100_000;
    /**
     * Most anti-entropy worker threads: rounds with different peers run in parallel, each blocking on its requests, so
     * peers that do not answer cannot hold up the others. Threads are created on demand and end after a minute idle.
     */
    private static final int WORKERS = 16;

    final ComponentContext context;
    final SyncSettings settings;
    final TypeRegistry registry;
    final HybridLogicalClock hlc;
    final ReplicatedStore store;
    final Membership membership;
    final Map<InetSocketAddress, SyncPeer> peers;
    final RumourBuffer rumours;
    final SyncMetrics metrics;
    final StabilityTracker stability;
    final SeenCache seen;
    final Messenger messenger;
    final ScheduledExecutorService timer;
    final ExecutorService worker;
    final Gossip gossip;
    final AntiEntropyRounds rounds;
    final Inbound inbound;
    volatile boolean running;

    SyncRun(ComponentContext context, Transport transport, SyncSettings settings, TypeRegistry registry,
            HybridLogicalClock hlc, ReplicatedStore store, Membership membership, Map<InetSocketAddress, SyncPeer> peers,
            RumourBuffer rumours, SyncMetrics metrics, StabilityTracker stability) {
        this.context = context;
        this.settings = settings;
        this.registry = registry;
        this.hlc = hlc;
        this.store = store;
        this.membership = membership;
        this.peers = peers;
        this.rumours = rumours;
        this.metrics = metrics;
        this.stability = stability;
        this.seen = new SeenCache(settings.seenTtl.toMillis(), SEEN_MAX_ENTRIES);
        this.gossip = new Gossip(this);
        this.rounds = new AntiEntropyRounds(this);
        this.inbound = new Inbound(this);
        this.messenger = new Messenger(transport, settings.maxMessageBytes, settings.connectTimeout.toMillis(),
                settings.sendWindow, new Messenger.Listener() {
            @Override
            public void onMessage(Session session, byte[] message) {
                inbound.handle(session, message);
            }

            @Override
            public void onReject(Messenger.Reject reason, String detail) {
                reject(reason, detail);
            }
        });
        this.timer = new ScheduledThreadPoolExecutor(1, r -> daemon(r, "dwcp-sync-timer-0"));
        // unbounded queue, bounded use: at most one queued round per peer (SyncPeer.roundQueued) plus explicit calls
        AtomicInteger workerIds = new AtomicInteger();
        ThreadPoolExecutor pool = new ThreadPoolExecutor(WORKERS, WORKERS, 1, TimeUnit.MINUTES, new LinkedBlockingQueue<>(),
                r -> daemon(r, "dwcp-sync-worker-" + workerIds.getAndIncrement()));
        pool.allowCoreThreadTimeOut(true);
        this.worker = pool;
    }

    /** Stops the threads at once (a start that failed); the messenger was never used. */
    void abort() {
        running = false;
        timer.shutdownNow();
        worker.shutdownNow();
    }

    /** Stops the threads and closes the messenger, waiting up to shutdown-timeout for each. */
    void close() throws InterruptedException {
        running = false;
        timer.shutdownNow();
        worker.shutdownNow();
        long waitMs = settings.shutdownTimeout.toMillis();
        messenger.close(waitMs);
        timer.awaitTermination(waitMs, TimeUnit.MILLISECONDS);
        worker.awaitTermination(waitMs, TimeUnit.MILLISECONDS);
    }

    long nowMillis() {
        return context.clock().millis();
    }

    /** Runs {@code r} every {@code periodMillis} on the timer, first after one period. */
    void every(long periodMillis, Runnable r) {
        timer.scheduleAtFixedRate(guard(r), periodMillis, periodMillis, TimeUnit.MILLISECONDS);
    }

    /** {@code r}, with a failure logged rather than ending a periodic task. */
    static Runnable guard(Runnable r) {
        return () -> {
            try {
                r.run();
            } catch (RuntimeException e) {
                LOG.warn("sync background task failed; it runs again at its next period", e);
            }
        };
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** A peer whose node id is a retired member: it gets no rounds and no pushes. */
    boolean retiredPeer(SyncPeer p) {
        return AssSync.retired(p, membership);
    }

    /** Up to {@code n} distinct random peers that pass {@code filter}. */
    List<SyncPeer> randomPeers(int n, Predicate<SyncPeer> filter) {
        List<SyncPeer> all = new ArrayList<>(peers.values());
        Collections.shuffle(all, ThreadLocalRandom.current());
        List<SyncPeer> out = new ArrayList<>(n);
        for (SyncPeer p : all) {
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
     * Merges one received entry; a type mismatch is counted and alarmed, never applied.
     *
     * @return whether the entry was new here (it changed the state, or was held for a missing predecessor)
     */
    boolean mergeChecked(SyncMessage.KeyState ks, boolean delta) {
        try {
            if (delta) {
                ReplicatedStore.Outcome o = store.mergeDelta(ks.key(), ks.state());
                return o != ReplicatedStore.Outcome.DUPLICATE && o != ReplicatedStore.Outcome.RETIRED;
            }
            return store.mergeState(ks.key(), ks.state());
        } catch (DwcpException e) {
            if (e.code() == ErrorCode.IO_ERROR) {
                // not journaled, so not merged: the sender's retry or anti-entropy brings it again
                LOG.warn("sync: a received state of '{}' was not merged: {}", ks.key(), e.getMessage());
            } else if (e.code() == ErrorCode.TYPE_MISMATCH) {
                reject(Messenger.Reject.TYPE_MISMATCH, e.getMessage());
                LOG.warn("sync alarm: {} (the local value is kept)", e.getMessage());
            } else {
                reject(Messenger.Reject.MALFORMED, e.getMessage());
            }
            return false;
        }
    }

    void reject(Messenger.Reject reason, String detail) {
        metrics.rejected.get(reason).incrementAndGet();
        LOG.debug("sync message dropped ({}): {}", reason, detail);
    }

    void observeClock(SyncMessage.Header h) {
        if (hlc.skewMillis(h.hlc()) > settings.maxClockSkew.toMillis()) {
            metrics.skewAlarms.incrementAndGet();
            LOG.warn("sync alarm: clock of {} is {} ms ahead of this node (dwcp.sync.max-clock-skew {}); accepted",
                    h.sender(), hlc.skewMillis(h.hlc()), settings.maxClockSkew);
        }
        hlc.update(h.hlc());
    }

    SyncMessage.Header header(long correlationId) {
        return new SyncMessage.Header(correlationId, hlc.now(), settings.nodeId);
    }
}
