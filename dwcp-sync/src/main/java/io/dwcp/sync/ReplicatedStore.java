package io.dwcp.sync;

import io.dwcp.core.DwcpException;
import io.dwcp.sync.crdt.Crdt;
import io.dwcp.sync.crdt.OrMap;

import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * The replicated key-value store: each key holds one CRDT value of a type fixed by its first update. Each key's
 * entry is a one-key {@link OrMap}, so key removal is itself a CRDT operation (it removes the presence dots observed
 * here; an update concurrent with it survives) and propagates like any update. Updates and merges are atomic per key.
 * A removed key keeps its value until the removal is causally stable (held by every live member, with everything
 * concurrent with it); the sync component then collects it: the value is dropped and only the key's causal context is
 * kept, so nothing old can bring it back.
 *
 * <pre>{@code
 * ReplicatedStore store = sync.store();
 * store.update("vm-17/site", LwwRegister.EMPTY, r -> r.writeDelta(store.replicaId(), "eu-west", hlc));
 * long running = ((PNCounter) store.get("vms/running").orElseThrow()).value();
 * }</pre>
 *
 * <p>Thread-safe. Local updates are visible to local reads at once (read-your-writes); the delta of every update is
 * handed to the replicator, which pushes it to peers.
 */
public final class ReplicatedStore {
    /** What became of a received delta ({@code RETIRED}: it adds a dot of a retired member, refused). */
    enum Outcome { APPLIED, BUFFERED, OVERFLOW, DUPLICATE, RETIRED }

    /*
     * Split by job: this class is the user's API, local updates and removals, and collection and pruning at causal
     * stability; StoreEntries holds the entries with what is derived from them (index, sizes, change sequence, journal)
     * and says which atomic section guards what; CausalDelivery is the receiving side (causal order, the buffer,
     * retired members). Entries change only inside StoreEntries' per-key atomic sections.
     */

    /**
     * Keys starting with this character belong to the component itself (the membership set); users cannot write them
     * and {@link #keys()} leaves them out, but they replicate like any other key.
     */
    static final char RESERVED_PREFIX = '\0';

    private final String replicaId;
    private final StoreEntries entries;
    private final CausalDelivery delivery;
    private final java.util.concurrent.atomic.AtomicLong collectedTotal = new java.util.concurrent.atomic.AtomicLong();
    /** Called with the change sequence of every local update and removal, after it is installed. */
    private volatile java.util.function.LongConsumer localCommitListener = seq -> { };
    private volatile BiConsumer<String, OrMap> deltaListener = (k, d) -> { };
    /**
     * Node ids of retired members whose dots are pruned here (see {@link #pruneRetired}); their presence dots in
     * incoming messages are old news for entries that no longer mention them. Grows only; bounded by the retirements.
     * Shared with {@code CausalDelivery}, which reads it.
     */
    private final Set<String> prunedNodes = ConcurrentHashMap.newKeySet();
    private final java.util.concurrent.atomic.AtomicLong prunedTotal = new java.util.concurrent.atomic.AtomicLong();

    ReplicatedStore(String replicaId, long maxEntryBytes, int causalBufferEntries) {
        this.replicaId = Objects.requireNonNull(replicaId, "replicaId");
        this.entries = new StoreEntries(maxEntryBytes);
        this.delivery = new CausalDelivery(entries, causalBufferEntries, prunedNodes);
    }

    /**
     * The replica id this store stamps its dots with (the node id plus an incarnation, unique per start).
     *
     * @return the replica id
     */
    public String replicaId() {
        return replicaId;
    }

    void onLocalDelta(BiConsumer<String, OrMap> listener) {
        this.deltaListener = Objects.requireNonNull(listener, "listener");
    }

    /** Reports the change sequence of every later local update and removal (the convergence-lag clock). */
    void onLocalCommit(java.util.function.LongConsumer listener) {
        this.localCommitListener = Objects.requireNonNull(listener, "listener");
    }

    /**
     * Where the store learns which members are retired: a gossip delta that adds a presence dot of one of them is
     * refused ({@link Outcome#RETIRED}), also when it was buffered before the retirement was known. So once a member
     * knows of a retirement, its state gains the retired member's dots only from other states — which is what lets
     * {@link #pruneRetired} treat those dots as complete once that knowledge is causally stable.
     */
    void retiredNodes(java.util.function.Supplier<Set<String>> nodes) {
        delivery.retiredNodes(nodes);
    }

    /** Journals every later local update's delta (inside the key's atomic section, before the update returns). */
    void journal(StoreJournal j) {
        entries.journal(j);
    }

    /**
     * Called with the key after a received delta or state changed this replica's state (outside the key's atomic
     * section, on the receiving thread); for harnesses that time replication. One listener; replaces the previous.
     */
    void onMerged(java.util.function.Consumer<String> listener) {
        delivery.onMerged(listener);
    }

    /**
     * Applies a δ-mutation to the value at {@code key} (created as {@code empty} when absent) and returns the new
     * value. The mutator gets the current value and returns its delta (e.g. {@code c -> c.addDelta(replicaId, 1)}).
     *
     * @param <V> the value's type
     * @param key the key, 1 to 1024 chars
     * @param empty the empty value of the key's type, used when the key is absent
     * @param mutator maps the current value to its delta
     * @return the value at {@code key} after the update
     * @throws DwcpException {@code TYPE_MISMATCH} when the key holds another type (nothing changes);
     *     {@code LIMIT_EXCEEDED} when the key's encoded state would exceed {@code dwcp.sync.max-message};
     *     {@code IO_ERROR} when {@code dwcp.sync.data-dir} is set and the update cannot be journaled (nothing changes)
     * @throws IllegalArgumentException when {@code key} is empty, longer than 1024 chars or starts with the reserved
     *     character {@code '\0'}
     */
    public <V extends Crdt<V>> V update(String key, V empty, Function<V, V> mutator) {
        checkUserKey(key);
        return updateAny(key, empty, mutator);
    }

    /** {@link #update} without the reserved-key check: the component's own keys (the membership set) use it. */
    @SuppressWarnings("unchecked")
    <V extends Crdt<V>> V updateAny(String key, V empty, Function<V, V> mutator) {
        checkKey(key);
        Objects.requireNonNull(empty, "empty");
        Objects.requireNonNull(mutator, "mutator");
        OrMap[] delta = new OrMap[1];
        StoreEntries.Entry e = entries.compute(key, (k, cur) -> {
            OrMap state = cur == null ? OrMap.EMPTY : cur.state();
            OrMap d = state.updateDelta(replicaId, key, empty, mutator);
            delta[0] = d;
            return entries.installLocal(k, cur, state.merge(d), d);
        });
        localCommitListener.accept(e.changedAt());
        deltaListener.accept(key, delta[0]);
        return (V) e.state().get(key).orElseThrow();
    }

    /**
     * Removes {@code key} here and, through replication, everywhere; an update concurrent with it survives.
     *
     * @param key the key, 1 to 1024 chars
     * @throws DwcpException {@code IO_ERROR} when {@code dwcp.sync.data-dir} is set and the removal cannot be journaled
     *     (nothing changes)
     * @throws IllegalArgumentException when {@code key} is empty, longer than 1024 chars or starts with {@code '\0'}
     */
    public void remove(String key) {
        checkUserKey(key);
        OrMap[] delta = new OrMap[1];
        StoreEntries.Entry e = entries.computeIfPresent(key, (k, cur) -> {
            OrMap d = cur.state().removeDelta(key);
            if (d.isEmpty()) {
                return cur;
            }
            delta[0] = d;
            return entries.installLocal(k, cur, cur.state().merge(d), d);
        });
        if (delta[0] != null) {
            localCommitListener.accept(e.changedAt());
            deltaListener.accept(key, delta[0]);
        }
    }

    /**
     * The value at {@code key}; empty when absent or removed.
     *
     * @param key the key
     * @return the value, or empty
     */
    public Optional<Crdt<?>> get(String key) {
        StoreEntries.Entry e = entries.get(key);
        return e == null ? Optional.empty() : e.state().get(key);
    }

    /**
     * Present keys (removed ones excluded), sorted; a snapshot. The component's own keys (starting with {@code '\0'})
     * are left out.
     *
     * @return an unmodifiable sorted copy of the present keys
     */
    public Set<String> keys() {
        TreeSet<String> out = new TreeSet<>();
        entries.forEach((k, e) -> {
            if (!e.state().keys().isEmpty() && k.charAt(0) != RESERVED_PREFIX) {
                out.add(k);
            }
        });
        return Collections.unmodifiableSet(out);
    }

    /**
     * Keys held, present or removed (a removed key's entry is its tombstone).
     *
     * @return the number of entries
     */
    public int entryCount() {
        return entries.size();
    }

    /**
     * Bytes of the canonical encodings of every entry held.
     *
     * @return the total encoded size, in bytes
     */
    public long stateBytes() {
        return entries.stateBytes();
    }

    /**
     * Removed keys whose value is still held: their removal is not yet known to be causally stable, so they were not
     * garbage-collected. A collected key keeps only its causal context and is not counted.
     *
     * @return the number of tombstones
     */
    public int tombstoneCount() {
        int n = 0;
        for (StoreEntries.Entry e : entries.values()) {
            if (e.state().keys().isEmpty() && !e.collected()) {
                n++;
            }
        }
        return n;
    }

    /**
     * Removed keys garbage-collected so far (counted each time a key's value was dropped).
     *
     * @return the number of collections since creation
     */
    public long collectedCount() {
        return collectedTotal.get();
    }

    /**
     * The store's change sequence: it grows by one with every change of any entry.
     *
     * @return the number of entry changes since creation
     */
    long changeSeq() {
        return entries.changeSeq();
    }

    /**
     * Garbage-collects the removed keys whose entry has not changed since change {@code stableSeq}: their nested values
     * are dropped and only their causal context is kept ({@link OrMap#withoutValues()}). The caller passes a
     * sequence that every live member is known to hold, together with every update concurrent with it (see
     * {@code StabilityTracker}); a collected key then never shows a different value here, and a delayed delta or
     * state that only repeats what its context has seen cannot bring the value or the key back (see
     * {@code CausalDelivery}).
     *
     * @param stableSeq the causally stable change sequence
     * @return how many keys were collected
     */
    int collect(long stableSeq) {
        int n = 0;
        for (String key : entries.keys()) {
            boolean[] did = new boolean[1];
            entries.computeIfPresent(key, (k, cur) -> {
                if (cur.collected() || !cur.state().keys().isEmpty() || cur.changedAt() > stableSeq) {
                    return cur;
                }
                OrMap kept = cur.state().withoutValues();
                did[0] = true;
                return entries.compacted(k, cur, kept, true);
            });
            if (did[0]) {
                n++;
            }
        }
        collectedTotal.addAndGet(n);
        return n;
    }

    /**
     * Prunes retired members' dots: from every entry unchanged since {@code stableSeq}, the key-presence context
     * entries of the replicas of {@code nodes} are dropped, except where such a replica's presence dot is still there
     * (a key it wrote that nobody wrote or removed since). Nested values keep their own contexts.
     *
     * <p>The caller guarantees causal stability: each of {@code nodes} is retired, and every live member held that
     * retirement before a round that then pulled all of its state here, so every dot of those nodes that any live member
     * holds is here (a retired member's messages are refused, so no new one appears); and {@code stableSeq} is a change
     * sequence every live member holds (see {@code StabilityTracker}), so each pruned entry's removals of their dots are
     * held everywhere. From then on the presence dots of a pruned node in a received state or delta are stale and are
     * dropped for entries that no longer mention that replica; everything else merges as before.
     *
     * @param nodes node ids of retired members whose retirement is causally stable (added to the pruned set)
     * @param stableSeq the causally stable change sequence
     * @return how many entries were pruned
     */
    int pruneRetired(Set<String> nodes, long stableSeq) {
        prunedNodes.addAll(nodes);
        if (prunedNodes.isEmpty()) {
            return 0;
        }
        java.util.function.Predicate<String> drop = r -> prunedNodes.contains(nodeOf(r));
        int n = 0;
        for (String key : entries.keys()) {
            boolean[] did = new boolean[1];
            entries.computeIfPresent(key, (k, cur) -> {
                if (cur.changedAt() > stableSeq) {
                    return cur;
                }
                OrMap p = cur.state().pruneContext(drop);
                if (p == cur.state()) {
                    return cur;
                }
                did[0] = true;
                return entries.compacted(k, cur, p, cur.collected());
            });
            if (did[0]) {
                n++;
            }
        }
        prunedTotal.addAndGet(n);
        return n;
    }

    /**
     * Entries whose context was pruned of retired members' dots so far.
     *
     * @return the number of prunings since creation
     */
    long prunedCount() {
        return prunedTotal.get();
    }

    /** The node id of a replica id ({@code node@incarnation}). */
    static String nodeOf(String replicaId) {
        int at = replicaId.lastIndexOf('@');
        return at < 0 ? replicaId : replicaId.substring(0, at);
    }

    /**
     * The canonical encoding of the whole store: keys in order, each with its entry's encoding (for comparing replicas).
     *
     * @return a new array with the encoding
     */

    public byte[] canonicalSnapshot() {
        io.dwcp.sync.crdt.CanonicalWriter w = new io.dwcp.sync.crdt.CanonicalWriter();
        TreeSet<String> all = new TreeSet<>(entries.keySet());
        w.varint(all.size());
        for (String k : all) {
            w.string(k).bytes(entries.get(k).state().encode());
        }
        return w.toByteArray();
    }

    // ---------------------------------------------------------------- replication side

    /** The entry state of {@code key} (presence and value), or null when never held. */
    OrMap state(String key) {
        return entries.state(key);
    }

    /** Every key with an entry, present or removed; a snapshot in no particular order. */
    List<String> heldKeys() {
        return entries.keys();
    }

    MerkleIndex index() {
        return entries.index();
    }

    int bufferedDeltas() {
        return delivery.bufferedDeltas();
    }

    /**
     * Merges a delta received by gossip, holding it back while a causal predecessor from its origin (the origin's
     * previous presence dot for this key) is missing.
     *
     * @throws DwcpException {@code TYPE_MISMATCH} when it carries another type than the key holds (nothing changes)
     */
    Outcome mergeDelta(String key, OrMap delta) {
        checkKey(key);
        return delivery.mergeDelta(key, delta);
    }

    /**
     * Merges a whole entry state (anti-entropy) or a deliverable delta, then delivers any buffered deltas it unblocked.
     *
     * @return whether the local state changed
     * @throws DwcpException {@code TYPE_MISMATCH} when its type differs from the key's (nothing changes)
     */
    boolean mergeState(String key, OrMap incoming) {
        checkKey(key);
        return delivery.mergeState(key, incoming);
    }

    private static void checkUserKey(String key) {
        checkKey(key);
        if (key.charAt(0) == RESERVED_PREFIX) {
            throw new IllegalArgumentException("keys starting with '\\0' are reserved for the sync component's own metadata");
        }
    }

    private static void checkKey(String key) {
        Objects.requireNonNull(key, "key");
        if (key.isEmpty() || key.length() > 1024) {
            throw new IllegalArgumentException("key must be 1..1024 chars, got " + key.length());
        }
    }
}
