package io.dwcp.compression;

import io.dwcp.core.spi.BaselineRef;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;

/**
 * The baselines of every key on both ends (HDE-5), with the memory cap, LRU eviction, ageing and pruning.
 *
 * <p>Sender and receiver baselines live in separate maps, so one codec can encode and decode the same key (tests,
 * loopback). A sender key also has at most one {@link Pending} round awaiting acknowledgement.
 *
 * <p><b>Memory cap.</b> {@code baseline.max-memory} bounds the bytes of every retained baseline plus every reserved
 * one (a keyframe being encoded or decoded). A baseline of exactly the cap fits. Making room evicts other keys'
 * baselines in least-recently-used order, never a pinned pending round and never the key being replaced. A state
 * larger than the cap is still encoded and decoded, but through a temporary file and without keeping a baseline,
 * so every round of it is a keyframe. On the receiver a keyframe that replaces an existing baseline of the same key
 * stages in direct memory only when old + new fit; otherwise it stages in a temporary file (page cache, not Java
 * memory) that becomes the baseline after commit, because the old one must stay intact until the new one verified.
 *
 * <p><b>Time.</b> Ages are measured from the keyframe that started a chain, on the injected clock: a baseline older
 * than {@code max-age} is refused on lookup and deleted by {@link #prune()}, which runs every {@code prune-interval}
 * (called from the codec's pruner and opportunistically on lookups).
 *
 * <p>Thread-safe: one monitor guards the maps and the accounting; page data is touched outside it, protected by
 * baseline reference counts.
 */
final class BaselineStore {
    enum Side { SENDER, RECEIVER }

    /** A reservation for a new baseline's pages: where to stage them and whether they may be retained. */
    static final class Reservation {
        final long bytes;
        final boolean retain;
        final boolean direct;

        Reservation(long bytes, boolean retain, boolean direct) {
            this.bytes = bytes;
            this.retain = retain;
            this.direct = direct;
        }

        /** A store for the new baseline: pooled direct memory (not zero-filled), or a temporary file. */
        PageStore newStore(int pageSizeBytes, long pages, Path tempDir, ChunkPool pool) {
            return direct ? PageStore.pooled(pageSizeBytes, pages, pool) : PageStore.tempFile(pageSizeBytes, pages, tempDir);
        }
    }

    private static final class Entry {
        Baseline committed;
        Pending pending;
    }

    private final HdeSettings settings;
    private final Clock clock;
    private final HdeMetrics metrics;
    private final Map<String, Entry> sender = new HashMap<>();
    private final Map<String, Entry> receiver = new HashMap<>();
    private long committedBytes;
    private long reservedBytes;
    private long useCounter;
    private Instant lastPrune;

    BaselineStore(HdeSettings settings, Clock clock, HdeMetrics metrics) {
        this.settings = settings;
        this.clock = clock;
        this.metrics = metrics;
        this.lastPrune = clock.instant();
    }

    private Map<String, Entry> map(Side side) {
        return side == Side.SENDER ? sender : receiver;
    }

    /** Whether {@code b} has reached {@code max-age} at {@code now}. */
    boolean isAged(Baseline b, Instant now) {
        return Duration.between(b.chainStart, now).compareTo(settings.maxAge) >= 0;
    }

    /**
     * The committed baseline of a key, pinned (caller releases), or null when there is none or it has aged (an aged one
     * is deleted). Touches its LRU stamp.
     */
    synchronized Baseline acquire(Side side, String key) {
        return acquire(side, key, false);
    }

    /** As {@link #acquire(Side, String)}; with {@code includeAged} an aged baseline is returned (pinned) and kept. */
    synchronized Baseline acquire(Side side, String key, boolean includeAged) {
        if (!includeAged) {
            pruneIfDue();
        }
        Entry e = map(side).get(key);
        if (e == null || e.committed == null) {
            return null;
        }
        Baseline b = e.committed;
        if (!includeAged && isAged(b, clock.instant())) {
            removeCommitted(e);
            return null;
        }
        if (!b.retain()) {
            return null;
        }
        b.lastUse = ++useCounter;
        return b;
    }

    /** The committed baseline's ref, if any and not aged; no pin. */
    synchronized BaselineRef committedRef(Side side, String key) {
        Entry e = map(side).get(key);
        if (e == null || e.committed == null || isAged(e.committed, clock.instant())) {
            return null;
        }
        return e.committed.ref();
    }

    /** Sender: forgets the committed baseline of {@code key} (a keyframe starts a new chain) and any pending round. */
    synchronized void releaseSender(String key) {
        Entry e = sender.get(key);
        if (e != null) {
            removeCommitted(e);
            discardPending(e);
            sender.remove(key);
        }
    }

    /**
     * Reserves {@code bytes} for a new baseline of {@code key} on {@code side}, evicting other keys' baselines in LRU
     * order. The same key's committed baseline (to be replaced) is not counted against the new one but stays until
     * {@link #commit}.
     */
    synchronized Reservation reserve(Side side, String key, long bytes) {
        long cap = settings.baselineMaxMemoryBytes;
        Entry own = map(side).get(key);
        long ownBytes = own != null && own.committed != null ? own.committed.sizeBytes() : 0;
        if (bytes > cap) {
            return new Reservation(0, false, false);
        }
        while (committedBytes - ownBytes + reservedBytes + bytes > cap) {
            if (!evictOne(side, key)) {
                return new Reservation(0, false, false);
            }
        }
        reservedBytes += bytes;
        boolean direct = committedBytes + reservedBytes <= cap;
        return new Reservation(bytes, true, direct);
    }

    /** Gives back a reservation that will not be committed (failed decode, discarded pending keyframe). */
    synchronized void unreserve(Reservation r) {
        reservedBytes -= r.bytes;
    }

    /**
     * Makes {@code b} the committed baseline of {@code key}, replacing (and releasing) the previous one. Takes over the
     * caller's reference of {@code b} and its reservation; with a non-retaining reservation, {@code b} is released
     * and the key keeps no baseline.
     */
    synchronized void commit(Side side, String key, Baseline b, Reservation r) {
        Entry e = map(side).computeIfAbsent(key, k -> new Entry());
        removeCommitted(e);
        reservedBytes -= r.bytes;
        if (!r.retain) {
            b.release();
            if (e.pending == null) {
                map(side).remove(key);
            }
            return;
        }
        e.committed = b;
        committedBytes += b.sizeBytes();
        b.lastUse = ++useCounter;
    }

    /** Sender: replaces the pending round of {@code key}, discarding an older one. */
    synchronized void setPending(String key, Pending p) {
        Entry e = sender.computeIfAbsent(key, k -> new Entry());
        discardPending(e);
        e.pending = p;
    }

    /**
     * Sender: the receiver holds {@code ref}. Promotes the matching pending round (a delta's pages applied on
     * {@code pool}); true when something changed.
     */
    synchronized boolean acknowledge(BaselineRef ref, ExecutorService pool) {
        Entry e = sender.get(ref.key());
        if (e == null) {
            return false;
        }
        Pending p = e.pending;
        if (p != null && p.ref.equals(ref)) {
            e.pending = null;
            if (p.isKeyframe()) {
                Reservation r = p.keyframeReservation;
                Baseline b = p.keyframe;
                // The store takes over the pending's reference of the keyframe.
                commit(Side.SENDER, ref.key(), b, r);
                if (p.slots != null) {
                    p.slots.close();
                }
                return true;
            }
            Baseline base = e.committed;
            if (base == p.base && base.version() == p.baseVersion) {
                try {
                    base.apply(p.slots, p.targetViews, ref.version(), ref.digest(), pool);
                } catch (RuntimeException ex) {
                    // Some pages may be the new version's under the old version number: never encode against it.
                    p.close();
                    drop(Side.SENDER, ref.key());
                    throw ex;
                }
                base.lastUse = ++useCounter;
            }
            p.close();
            return true;
        }
        if (e.committed != null && e.committed.matches(ref)) {
            e.committed.lastUse = ++useCounter;
        }
        return false;
    }

    /** Forgets both ends' baselines of {@code key}. */
    synchronized void drop(String key) {
        for (Side side : Side.values()) {
            drop(side, key);
        }
    }

    /** Forgets {@code side}'s baseline of {@code key}. */
    synchronized void drop(Side side, String key) {
        Entry e = map(side).remove(key);
        if (e != null) {
            removeCommitted(e);
            discardPending(e);
        }
    }

    /** Deletes aged baselines now (and resets the prune timer). */
    synchronized int prune() {
        lastPrune = clock.instant();
        int removed = 0;
        for (Map<String, Entry> m : List.of(sender, receiver)) {
            List<String> empty = new ArrayList<>();
            for (Map.Entry<String, Entry> me : m.entrySet()) {
                Entry e = me.getValue();
                if (e.committed != null && isAged(e.committed, lastPrune)) {
                    removeCommitted(e);
                    removed++;
                }
                if (e.committed == null && e.pending == null) {
                    empty.add(me.getKey());
                }
            }
            empty.forEach(m::remove);
        }
        return removed;
    }

    /** Runs {@link #prune()} when {@code prune-interval} passed since the last one. */
    synchronized void pruneIfDue() {
        if (Duration.between(lastPrune, clock.instant()).compareTo(settings.pruneInterval) >= 0) {
            prune();
        }
    }

    /** Releases everything (codec stop). */
    synchronized void clear() {
        for (Map<String, Entry> m : List.of(sender, receiver)) {
            for (Entry e : m.values()) {
                removeCommitted(e);
                discardPending(e);
            }
            m.clear();
        }
    }

    synchronized int count() {
        int n = 0;
        for (Map<String, Entry> m : List.of(sender, receiver)) {
            for (Entry e : m.values()) {
                if (e.committed != null) {
                    n++;
                }
            }
        }
        return n;
    }

    /** Bytes of committed plus reserved baselines. */
    synchronized long bytes() {
        return committedBytes + reservedBytes;
    }

    private boolean evictOne(Side side, String exceptKey) {
        Entry victim = null;
        long oldest = Long.MAX_VALUE;
        for (Side s : Side.values()) {
            for (Map.Entry<String, Entry> me : map(s).entrySet()) {
                if (s == side && me.getKey().equals(exceptKey)) {
                    continue;
                }
                Baseline b = me.getValue().committed;
                if (b != null && b.lastUse < oldest) {
                    oldest = b.lastUse;
                    victim = me.getValue();
                }
            }
        }
        if (victim == null) {
            return false;
        }
        removeCommitted(victim);
        metrics.evictions.increment();
        return true;
    }

    private void removeCommitted(Entry e) {
        if (e.committed != null) {
            committedBytes -= e.committed.sizeBytes();
            e.committed.release();
            e.committed = null;
        }
    }

    private void discardPending(Entry e) {
        if (e.pending != null) {
            if (e.pending.isKeyframe()) {
                reservedBytes -= e.pending.keyframeReservation.bytes;
            }
            e.pending.close();
            e.pending = null;
        }
    }
}
