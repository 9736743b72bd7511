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
 * The baselines of every key on both ends, with the memory cap, LRU eviction, ageing and pruning.
 *
 * <p>Sender and receiver baselines live in separate maps, so one codec can encode and decode the same key (tests,
 * loopback). A sender key also has at most one {@link Pending} round awaiting acknowledgement.
 *
 * <p><b>Memory cap.</b> {@code baseline.max-memory} bounds the direct memory of every retained baseline plus every
 * reserved one (a keyframe being encoded or decoded). A baseline of exactly the cap fits. Making room evicts other
 * keys' baselines in least-recently-used order, never a pinned pending round and never the key being replaced.
 * Baselines that live in files take none of the cap and are never evicted to make room: a sender's views of a
 * snapshot file, a receiver's keyframe decoded in place into its replica file, and a baseline that did not fit in
 * memory, which goes to a deleted temporary file (page cache, written back and evicted by the kernel, not Java
 * memory). So a state of any size keeps its baseline and gets delta rounds; only the direct-memory ones are capped.
 * A keyframe that replaces an existing baseline of the same key stages in direct memory only when old + new fit,
 * because the old one must stay intact until the new one verified.
 *
 * <p><b>Time.</b> Ages are measured from when both ends held the keyframe that started a chain (the sender's
 * acknowledgement, the receiver's decode), on the injected clock: a baseline older
 * than {@code max-age} is refused on lookup and deleted by {@link #prune()}, which runs every {@code prune-interval}
 * (called from the codec's pruner and opportunistically on lookups).
 *
 * <p>Thread-safe: one monitor guards the maps and the accounting; page data is touched outside it, protected by
 * baseline reference counts.
 */
final class BaselineStore {
    enum Side { SENDER, RECEIVER }

    /**
     * A reservation for a new baseline's pages: where to stage them, and how many bytes of the memory cap they take
     * (none for a store backed by a file, whose pages are page cache that the kernel can write back and evict).
     */
    static final class Reservation {
        /** A baseline in a file (a temporary file, or the replica the keyframe is decoded into): not counted. */
        static final Reservation FILE_BACKED = new Reservation(0, false);

        final long bytes;
        final boolean direct;

        private Reservation(long bytes, boolean direct) {
            this.bytes = bytes;
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
        return Duration.between(b.chainStart(), now).compareTo(settings.maxAge) >= 0;
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
     * Reserves {@code bytes} of direct memory for a new baseline of {@code key} on {@code side}, evicting other keys'
     * baselines in LRU order; when old (the same key's committed baseline, kept until {@link #commit}) and new do not
     * fit the cap together, the new baseline goes to a temporary file instead ({@link Reservation#FILE_BACKED}). Either
     * way the baseline is kept: a state larger than the memory cap still gets delta rounds.
     */
    synchronized Reservation reserve(Side side, String key, long bytes) {
        long cap = settings.baselineMaxMemoryBytes;
        if (bytes > cap) {
            return Reservation.FILE_BACKED;
        }
        Entry own = map(side).get(key);
        long ownBytes = own != null && own.committed != null ? own.committed.sizeBytes() : 0;
        while (committedBytes - ownBytes + reservedBytes + bytes > cap) {
            if (!evictOne(side, key)) {
                return Reservation.FILE_BACKED;
            }
        }
        if (committedBytes + reservedBytes + bytes > cap) {
            return Reservation.FILE_BACKED;
        }
        reservedBytes += bytes;
        return new Reservation(bytes, true);
    }

    /** Gives back a reservation that will not be committed (failed decode, discarded pending keyframe). */
    synchronized void unreserve(Reservation r) {
        reservedBytes -= r.bytes;
    }

    /**
     * Makes {@code b} the committed baseline of {@code key}, replacing (and releasing) the previous one. Takes over the
     * caller's reference of {@code b} and its reservation.
     */
    synchronized void commit(Side side, String key, Baseline b, Reservation r) {
        Entry e = map(side).computeIfAbsent(key, k -> new Entry());
        removeCommitted(e);
        reservedBytes -= r.bytes;
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
                // Held by both ends from now: however long the keyframe took to encode, send and verify, its age and
                // the refresh interval count from here (a 16 GiB keyframe over a slow link can take longer than the
                // interval, and its first delta must not be forced into another keyframe).
                b.chainStartsAt(clock.instant());
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
