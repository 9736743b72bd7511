package io.dwcp.sync;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.Tier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.LongFunction;

/*
 * Maintainer notes. When and with whom anti-entropy rounds run, for one run of the component.
 *  - Every anti-entropy.interval with the least recently synced peer; every full-reconciliation.interval with every
 *    peer; and at once with any peer not synced for half of max-staleness. Rounds run on the run's worker pool, at most
 *    one at a time per peer (SyncPeer.roundQueued, set under the peer's monitor), so a peer that does not answer (its
 *    requests wait for request-timeout) never delays the rounds with the others (AntiEntropy).
 *  - Reconnection: a failed round is retried after a short backoff (RETRY_MIN_MILLIS, doubling, capped at an eighth of
 *    the peer's max-staleness) rather than at the next staleness check, and the messenger drops the session a failed
 *    request used, so the retry opens a fresh connection instead of waiting on one that is still resuming towards a
 *    dead or cut-off peer. Any message that arrives from a peer whose last round failed is proof that the path is
 *    back: Inbound queues a round with it at once. After a partition heals, the two sides therefore reconcile within
 *    about one retry delay plus one round, not after max-staleness.
 *  - A successful round records what the peer acknowledged (StabilityTracker), the base of garbage collection.
 * Threads: the schedules on the timer, rounds on the workers; request() blocks a worker, never a transport thread.
 */

/** Anti-entropy scheduling, retries and rounds of one {@link SyncRun}. Thread-safe. */
final class AntiEntropyRounds {
    private static final Logger LOG = LoggerFactory.getLogger(AntiEntropyRounds.class);
    /** First retry delay after a failed round; it doubles per failure up to an eighth of the peer's max-staleness. */
    static final long RETRY_MIN_MILLIS = 50;

    private final SyncRun run;

    AntiEntropyRounds(SyncRun run) {
        this.run = run;
    }

    /** Starts the periodic schedules on the run's timer. */
    void schedule() {
        SyncSettings s = run.settings;
        run.every(s.antiEntropyInterval.toMillis(), this::scheduleOneRound);
        run.every(s.fullReconciliationInterval.toMillis(), this::scheduleAllRounds);
        run.every(Math.max(50, s.maxStaleness(Tier.LOCAL).toMillis() / 4), this::enforceStaleness);
    }

    private void scheduleOneRound() {
        SyncPeer oldest = null;
        for (SyncPeer p : run.peers.values()) {
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
        for (SyncPeer p : run.peers.values()) {
            if (p.failures == 0) {
                queueRound(p);
            }
        }
    }

    private void enforceStaleness() {
        long now = run.nowMillis();
        for (SyncPeer p : run.peers.values()) {
            if (p.failures > 0) {
                if (!p.retryScheduled && !p.roundQueued) {
                    retryLater(p); // safety net: a failing peer always has a retry pending or a round under way
                }
            } else if (now - p.lastSyncMillis > run.settings.maxStaleness(p.tier).toMillis() / 2) {
                queueRound(p);
            }
        }
    }

    /** Queues a round with {@code p} on the workers unless one is queued or running, or the peer is retired. */
    void queueRound(SyncPeer p) {
        synchronized (p) {
            if (p.roundQueued || !run.running || run.retiredPeer(p)) {
                return;
            }
            p.roundQueued = true;
        }
        try {
            run.worker.execute(() -> {
                try {
                    runRound(p, false);
                } catch (RuntimeException e) {
                    LOG.debug("anti-entropy with {} failed: {}", p.address, e.toString());
                } finally {
                    p.roundQueued = false;
                    if (p.failures > 0) {
                        retryLater(p); // after clearing roundQueued, or the retry could find the round still queued
                    }
                }
            });
        } catch (RejectedExecutionException e) {
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
    void retryLater(SyncPeer p) {
        synchronized (p) {
            if (p.retryScheduled || !run.running) {
                return;
            }
            p.retryScheduled = true;
        }
        long delay = retryDelayMillis(p.failures, run.settings.maxStaleness(p.tier));
        try {
            run.timer.schedule(SyncRun.guard(() -> {
                p.retryScheduled = false;
                queueRound(p);
            }), delay, TimeUnit.MILLISECONDS);
        } catch (RuntimeException e) {
            p.retryScheduled = false; // stopping (timer shut down or gone): no more rounds
        }
    }

    /**
     * Runs one round with {@code p} on the calling thread.
     *
     * @param flat exchange every key's digest instead of descending the hash tree (benchmarks only)
     */
    void runRound(SyncPeer p, boolean flat) {
        SyncMetrics metrics = run.metrics;
        Messenger messenger = run.messenger;
        long before = messenger.bytesSent.get();
        StabilityTracker.RoundStart start = run.stability.roundStarting(p.nodeId, run.store.changeSeq());
        try {
            AntiEntropy ae = new AntiEntropy(run.store, this::request, run.settings.maxMessageBytes);
            AntiEntropy.Result r = flat ? ae.runFlat(p.address, run.header(0)) : ae.run(p.address, run.header(0));
            String node = p.nodeId; // learnt from the round's answers
            if (node != null && !run.membership.isRetired(node)) {
                run.stability.roundSucceeded(node, start, r.pulledAll());
                metrics.convergenceLag.acknowledged(run.stability.heldByAll(run.membership.others()));
            }
            p.lastSyncMillis = run.nowMillis();
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

    private SyncMessage request(InetSocketAddress peer, LongFunction<SyncMessage> make) {
        Messenger messenger = run.messenger;
        long id = messenger.newCorrelationId();
        byte[] response = messenger.request(peer, id, SyncWire.encode(make.apply(id)), run.settings.requestTimeout.toMillis());
        SyncMessage m = SyncWire.decode(response, run.registry);
        run.observeClock(m.header());
        SyncPeer p = run.peers.get(peer);
        if (p != null) {
            p.nodeId = m.header().sender();
        }
        if (m instanceof SyncMessage.Error e) {
            throw new DwcpException(ErrorCode.ofNumber(e.code()), "peer " + peer + " answered: " + e.message());
        }
        return m;
    }
}
