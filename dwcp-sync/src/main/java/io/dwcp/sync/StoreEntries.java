package io.dwcp.sync;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.sync.crdt.OrMap;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;

/*
 * The entries of a ReplicatedStore and what is derived from them: the Merkle index, the total encoded size, the change
 * sequence, and the journal a change is written to before it is installed.
 *
 * Owned by one ReplicatedStore (local updates, collection, pruning) and its CausalDelivery (received deltas and
 * states); both change an entry only through compute/computeIfPresent here, and inside that function only through
 * installLocal, installReceived or compacted.
 *
 * Locking: the map's per-key atomic section (ConcurrentHashMap.compute) guards one key's entry, its index leaf and its
 * share of `stateBytes`; the install methods update those three together and must be called only inside the atomic
 * section of their key. `changes` and `stateBytes` are atomics (many keys at once); `journal` is volatile, set once
 * at start. Reads (get, state, keys) see the last installed entry of each key, without a lock.
 */
final class StoreEntries {
    /**
     * One key's entry. {@code changedAt} is the value of the store's change sequence when the entry last changed;
     * {@code collected} marks a removed key whose nested value was dropped at causal stability.
     */
    record Entry(OrMap state, long digest, int encodedBytes, long changedAt, boolean collected) {
    }

    private final long maxEntryBytes;
    private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();
    private final MerkleIndex index = new MerkleIndex();
    private final AtomicLong stateBytes = new AtomicLong();
    /** The change sequence: incremented by every committed change of any entry (local update, merge, collection). */
    private final AtomicLong changes = new AtomicLong();
    /**
     * Where local updates (before they return) and received merges (before they are installed) are journaled
     * ({@code dwcp.sync.data-dir}); null: in memory only.
     */
    private volatile StoreJournal journal;

    StoreEntries(long maxEntryBytes) {
        this.maxEntryBytes = maxEntryBytes;
    }

    void journal(StoreJournal j) {
        this.journal = j;
    }

    Entry get(String key) {
        return entries.get(key);
    }

    /** The entry state of {@code key} (presence and value), or null when never held. */
    OrMap state(String key) {
        Entry e = entries.get(key);
        return e == null ? null : e.state();
    }

    /** Runs {@code f} in {@code key}'s atomic section (see the class comment); what it returns is installed. */
    Entry compute(String key, BiFunction<String, Entry, Entry> f) {
        return entries.compute(key, f);
    }

    /** {@link #compute} for a key that has an entry; null when it has none. */
    Entry computeIfPresent(String key, BiFunction<String, Entry, Entry> f) {
        return entries.computeIfPresent(key, f);
    }

    /** Every key with an entry, present or removed; a snapshot in no particular order. */
    List<String> keys() {
        return new ArrayList<>(entries.keySet());
    }

    void forEach(BiConsumer<String, Entry> action) {
        entries.forEach(action);
    }

    Set<String> keySet() {
        return entries.keySet();
    }

    Collection<Entry> values() {
        return entries.values();
    }

    int size() {
        return entries.size();
    }

    MerkleIndex index() {
        return index;
    }

    long stateBytes() {
        return stateBytes.get();
    }

    long changeSeq() {
        return changes.get();
    }

    /**
     * A local update's new state: checked, journaled (when a journal is set), then installed; called inside the key's
     * atomic section. A refused or unjournaled update changes nothing.
     */
    Entry installLocal(String key, Entry cur, OrMap state, OrMap delta) {
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
    Entry installReceived(String key, Entry cur, OrMap state, OrMap merged) {
        byte[] enc = encodeChecked(key, state);
        StoreJournal j = journal;
        if (j != null) {
            j.append(key, merged);
        }
        boolean collected = cur != null && cur.collected() && state.keys().isEmpty() && state.valueKeys().isEmpty();
        return commit(key, cur, state, enc, collected);
    }

    /**
     * Installs what collection or pruning made of {@code cur}: the entry keeps its {@code changedAt}, since the new
     * state is derived from the old one alone and is held wherever the old one is (so one pass may collect and prune an
     * entry); the store's change sequence still moves. Called inside the key's atomic section.
     */
    Entry compacted(String key, Entry cur, OrMap state, boolean collected) {
        Entry e = commit(key, cur, state, state.encode(), collected);
        return new Entry(e.state(), e.digest(), e.encodedBytes(), cur.changedAt(), collected);
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
        index.update(key, cur == null ? 0 : cur.digest(), digest);
        stateBytes.addAndGet(enc.length - (cur == null ? 0 : cur.encodedBytes()));
        return new Entry(state, digest, enc.length, changes.incrementAndGet(), collected);
    }
}
