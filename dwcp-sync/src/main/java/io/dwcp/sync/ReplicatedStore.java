package io.dwcp.sync;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.sync.crdt.Crdt;
import io.dwcp.sync.crdt.Dot;
import io.dwcp.sync.crdt.OrMap;

import java.util.ArrayList;
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

    /**
     * One key's entry. {@code changedAt} is the value of the store's change sequence when the entry last changed;
     * {@code collected} marks a removed key whose nested value was dropped at causal stability (see {@link #collect}).
     */
    private record Entry(OrMap state, long digest, int encodedBytes, long changedAt, boolean collected) {
    }

    /**
     * Keys starting with this character belong to the component itself (the membership set); users cannot write them
     * and {@link #keys()} leaves them out, but they replicate like any other key.
     */
    static final char RESERVED_PREFIX = '\0';

    private final String replicaId;
    private final long maxEntryBytes;
    private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();
    private final MerkleIndex index = new MerkleIndex();
    private final CausalBuffer buffer;
    private final java.util.concurrent.atomic.AtomicLong stateBytes = new java.util.concurrent.atomic.AtomicLong();
    /** The change sequence: incremented by every committed change of any entry (local update, merge, collection). */
    private final java.util.concurrent.atomic.AtomicLong changes = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong collectedTotal = new java.util.concurrent.atomic.AtomicLong();
    /** Called with the change sequence of every local update and removal, after it is installed. */
    private volatile java.util.function.LongConsumer localCommitListener = seq -> { };
    private volatile BiConsumer<String, OrMap> deltaListener = (k, d) -> { };
    private volatile java.util.function.Consumer<String> mergeListener = k -> { };
    /**
     * Node ids of retired members whose dots are pruned here (see {@link #pruneRetired}); their presence dots in
     * incoming messages are old news for entries that no longer mention them. Grows only; bounded by the retirements.
     */
    private final Set<String> prunedNodes = ConcurrentHashMap.newKeySet();
    /** The node ids this store knows to be retired (the membership's); their new dots are never installed. */
    private volatile java.util.function.Supplier<Set<String>> retiredNodes = Set::of;
    private final java.util.concurrent.atomic.AtomicLong prunedTotal = new java.util.concurrent.atomic.AtomicLong();
    /**
     * Where local updates (before they return) and received merges (before they are installed) are journaled
     * ({@code dwcp.sync.data-dir}); null: in memory only.
     */
    private volatile StoreJournal journal;

    ReplicatedStore(String replicaId, long maxEntryBytes, int causalBufferEntries) {
        this.replicaId = Objects.requireNonNull(replicaId, "replicaId");
        this.maxEntryBytes = maxEntryBytes;
        this.buffer = new CausalBuffer(causalBufferEntries);
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
        this.retiredNodes = Objects.requireNonNull(nodes, "nodes");
    }

    /** Whether {@code delta} adds a presence dot of {@code key} from a retired member. */
    private boolean fromRetired(String key, OrMap delta) {
        Set<String> retired = retiredNodes.get();
        if (retired.isEmpty()) {
            return false;
        }
        for (Dot d : delta.dots(key)) {
            if (retired.contains(nodeOf(d.replica()))) {
                return true;
            }
        }
        return false;
    }

    /** Journals every later local update's delta (inside the key's atomic section, before the update returns). */
    void journal(StoreJournal j) {
        this.journal = j;
    }

    /**
     * Called with the key after a received delta or state changed this replica's state (outside the key's atomic
     * section, on the receiving thread); for harnesses that time replication. One listener; replaces the previous.
     */
    void onMerged(java.util.function.Consumer<String> listener) {
        this.mergeListener = Objects.requireNonNull(listener, "listener");
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
        Entry e = entries.compute(key, (k, cur) -> {
            OrMap state = cur == null ? OrMap.EMPTY : cur.state;
            OrMap d = state.updateDelta(replicaId, key, empty, mutator);
            delta[0] = d;
            return installLocal(k, cur, state.merge(d), d);
        });
        localCommitListener.accept(e.changedAt);
        deltaListener.accept(key, delta[0]);
        return (V) e.state.get(key).orElseThrow();
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
        Entry e = entries.computeIfPresent(key, (k, cur) -> {
            OrMap d = cur.state.removeDelta(key);
            if (d.isEmpty()) {
                return cur;
            }
            delta[0] = d;
            return installLocal(k, cur, cur.state.merge(d), d);
        });
        if (delta[0] != null) {
            localCommitListener.accept(e.changedAt);
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
        Entry e = entries.get(key);
        return e == null ? Optional.empty() : e.state.get(key);
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
            if (!e.state.keys().isEmpty() && k.charAt(0) != RESERVED_PREFIX) {
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
        return stateBytes.get();
    }

    /**
     * Removed keys whose value is still held: their removal is not yet known to be causally stable, so they were not
     * garbage-collected. A collected key keeps only its causal context and is not counted.
     *
     * @return the number of tombstones
     */
    public int tombstoneCount() {
        int n = 0;
        for (Entry e : entries.values()) {
            if (e.state.keys().isEmpty() && !e.collected) {
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
        return changes.get();
    }

    /**
     * Garbage-collects the removed keys whose entry has not changed since change {@code stableSeq}: their nested values
     * are dropped and only their causal context is kept ({@link OrMap#withoutValues()}). The caller passes a
     * sequence that every live member is known to hold, together with every update concurrent with it (see
     * {@code StabilityTracker}); a collected key then never shows a different value here, and a delayed delta or
     * state that only repeats what its context has seen cannot bring the value or the key back ({@link #admissible}).
     *
     * @param stableSeq the causally stable change sequence
     * @return how many keys were collected
     */
    int collect(long stableSeq) {
        int n = 0;
        for (String key : new ArrayList<>(entries.keySet())) {
            boolean[] did = new boolean[1];
            entries.computeIfPresent(key, (k, cur) -> {
                if (cur.collected || !cur.state.keys().isEmpty() || cur.changedAt > stableSeq) {
                    return cur;
                }
                OrMap kept = cur.state.withoutValues();
                did[0] = true;
                return compacted(k, cur, kept, true);
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
        for (String key : new ArrayList<>(entries.keySet())) {
            boolean[] did = new boolean[1];
            entries.computeIfPresent(key, (k, cur) -> {
                if (cur.changedAt > stableSeq) {
                    return cur;
                }
                OrMap p = cur.state.pruneContext(drop);
                if (p == cur.state) {
                    return cur;
                }
                did[0] = true;
                return compacted(k, cur, p, cur.collected);
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
            w.string(k).bytes(entries.get(k).state.encode());
        }
        return w.toByteArray();
    }

    // ---------------------------------------------------------------- replication side

    /** The entry state of {@code key} (presence and value), or null when never held. */
    OrMap state(String key) {
        Entry e = entries.get(key);
        return e == null ? null : e.state;
    }

    /** Every key with an entry, present or removed; a snapshot in no particular order. */
    List<String> heldKeys() {
        return new ArrayList<>(entries.keySet());
    }

    MerkleIndex index() {
        return index;
    }

    int bufferedDeltas() {
        return buffer.size();
    }

    /**
     * Merges a delta received by gossip, holding it back while a causal predecessor from its origin (the origin's
     * previous presence dot for this key) is missing.
     *
     * @throws DwcpException {@code TYPE_MISMATCH} when it carries another type than the key holds (nothing changes)
     */
    Outcome mergeDelta(String key, OrMap delta) {
        checkKey(key);
        Entry e = entries.get(key);
        OrMap in = admissible(e, delta);
        if (fromRetired(key, in)) {
            return Outcome.RETIRED;
        }
        OrMap cur = e == null ? null : e.state;
        if (cur != null && cur.merge(in).equals(cur)) {
            return Outcome.DUPLICATE;
        }
        if (!deliverable(cur, key, in)) {
            return buffer.hold(key, in) ? Outcome.BUFFERED : Outcome.OVERFLOW;
        }
        mergeState(key, in);
        return Outcome.APPLIED;
    }

    /**
     * What of an incoming state or delta may be merged into {@code cur}. A collected key takes no nested value from a
     * message whose causal context it has already seen: such a message is older than the collection (every update
     * carries a fresh presence dot, so a value contribution always comes with a dot in its context), and taking its
     * value back would only undo the collection. A message with a dot not seen here is merged whole. Presence dots of a
     * pruned retired replica that this entry no longer mentions are stale ({@link #pruneRetired}) and are left out first.
     */
    private OrMap admissible(Entry cur, OrMap incoming) {
        if (!prunedNodes.isEmpty()) {
            java.util.Set<String> mentioned = cur == null ? Set.of() : cur.state.context().replicas();
            incoming = incoming.withoutPresenceOf(r -> prunedNodes.contains(nodeOf(r)) && !mentioned.contains(r));
        }
        if (cur != null && cur.collected && cur.state.context().includes(incoming.context())) {
            return incoming.withoutValues();
        }
        return incoming;
    }

    /**
     * Merges a whole entry state (anti-entropy) or a deliverable delta, then delivers any buffered deltas it unblocked.
     *
     * @return whether the local state changed
     * @throws DwcpException {@code TYPE_MISMATCH} when its type differs from the key's (nothing changes)
     */
    boolean mergeState(String key, OrMap incoming) {
        checkKey(key);
        boolean[] changed = new boolean[1];
        entries.compute(key, (k, cur) -> {
            OrMap state = cur == null ? OrMap.EMPTY : cur.state;
            OrMap in = admissible(cur, incoming);
            OrMap merged = state.merge(in);
            if (cur != null && merged.equals(state)) {
                return cur;
            }
            changed[0] = true;
            return installReceived(k, cur, merged, in);
        });
        if (drain(key) || changed[0]) {
            mergeListener.accept(key);
        }
        return changed[0];
    }

    /** Merges the buffered deltas of {@code key} that became deliverable; whether any was. */
    private boolean drain(String key) {
        boolean any = false;
        boolean progress = true;
        while (progress) {
            progress = false;
            List<OrMap> pending = buffer.take(key);
            List<OrMap> still = new ArrayList<>();
            for (OrMap d : pending) {
                if (fromRetired(key, d)) {
                    continue; // its origin was retired while it waited: dropped
                }
                if (deliverable(state(key), key, d)) {
                    entries.compute(key, (k, cur) -> {
                        OrMap in = admissible(cur, d);
                        return installReceived(k, cur, (cur == null ? OrMap.EMPTY : cur.state).merge(in), in);
                    });
                    progress = true;
                    any = true;
                } else {
                    still.add(d);
                }
            }
            for (OrMap d : still) {
                buffer.hold(key, d);
            }
        }
        return any;
    }

    /** A delta is deliverable when, for each presence dot (r, n) it adds, (r, n-1) is already here. */
    private static boolean deliverable(OrMap local, String key, OrMap delta) {
        for (Dot d : delta.dots(key)) {
            if (d.counter() > 1 && (local == null || !local.context().contains(new Dot(d.replica(), d.counter() - 1)))) {
                return false;
            }
        }
        return true;
    }

    /**
     * A local update's new state: checked, journaled (when a journal is set), then installed; called inside the key's
     * atomic section. A refused or unjournaled update changes nothing.
     */
    private Entry installLocal(String key, Entry cur, OrMap state, OrMap delta) {
        byte[] enc = encodeChecked(key, state);
        StoreJournal j = journal;
        if (j != null) {
            j.append(key, delta);
        }
        return commit(key, cur, state, enc, false);
    }

    /**
     * A received state or delta's merge result: checked, what was merged journaled (when a journal is set), then
     * installed; called inside the key's atomic section. Journaled like local updates so that a restarted replica
     * holds what it had received (an RGA element it inserted after a received one stays visible); an unjournaled
     * merge changes nothing (the sender, or anti-entropy, brings it again). A collected key stays collected while it
     * merges nothing but context (it is still removed and holds no value).
     */
    private Entry installReceived(String key, Entry cur, OrMap state, OrMap merged) {
        byte[] enc = encodeChecked(key, state);
        StoreJournal j = journal;
        if (j != null) {
            j.append(key, merged);
        }
        boolean collected = cur != null && cur.collected && state.keys().isEmpty() && state.valueKeys().isEmpty();
        return commit(key, cur, state, enc, collected);
    }

    private byte[] encodeChecked(String key, OrMap state) {
        byte[] enc = state.encode();
        if (enc.length > maxEntryBytes) {
            throw new DwcpException(ErrorCode.LIMIT_EXCEEDED, "key '" + key + "' would hold " + enc.length
                    + " encoded bytes, above dwcp.sync.max-message (" + maxEntryBytes + " bytes); split the value over several keys");
        }
        return enc;
    }

    private Entry commit(String key, Entry cur, OrMap state, byte[] enc, boolean collected) {
        long digest = MerkleIndex.digest(key, enc);
        index.update(key, cur == null ? 0 : cur.digest, digest);
        stateBytes.addAndGet(enc.length - (cur == null ? 0 : cur.encodedBytes));
        return new Entry(state, digest, enc.length, changes.incrementAndGet(), collected);
    }

    /**
     * Installs what collection or pruning made of {@code cur}: the entry keeps its {@code changedAt}, since the new
     * state is derived from the old one alone and is held wherever the old one is (so one pass may collect and prune an
     * entry); the store's change sequence still moves.
     */
    private Entry compacted(String key, Entry cur, OrMap state, boolean collected) {
        Entry e = commit(key, cur, state, state.encode(), collected);
        return new Entry(e.state, e.digest, e.encodedBytes, cur.changedAt, collected);
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
