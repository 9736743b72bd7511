package io.dwcp.sync;

import io.dwcp.core.DwcpException;
import io.dwcp.sync.crdt.Dot;
import io.dwcp.sync.crdt.OrMap;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Supplier;

/*
 * The receiving side of a ReplicatedStore: merges deltas received by gossip in causal order (a delta waits in the
 * CausalBuffer while its origin's previous presence dot for the key is missing), merges whole entry states from
 * anti-entropy, delivers the buffered deltas a merge unblocked, refuses what adds a retired member's dot, and leaves out
 * what collection or pruning made stale (admissible).
 *
 * Called through ReplicatedStore.mergeDelta/mergeState by the receiving threads (gossip, anti-entropy, whole-store
 * shipping, journal replay). Locking: an entry changes only in its key's atomic section of StoreEntries (see there);
 * the CausalBuffer has its own lock; `prunedNodes` is a concurrent set that only grows (ReplicatedStore.pruneRetired
 * adds to it); the two callbacks are volatile, each replaced whole.
 */
final class CausalDelivery {
    private final StoreEntries entries;
    private final CausalBuffer buffer;
    /** Node ids of retired members whose dots are pruned (shared with ReplicatedStore, which adds to it). */
    private final Set<String> prunedNodes;
    /** The node ids this store knows to be retired (the membership's); their new dots are never installed. */
    private volatile Supplier<Set<String>> retiredNodes = Set::of;
    private volatile Consumer<String> mergeListener = k -> { };

    CausalDelivery(StoreEntries entries, int causalBufferEntries, Set<String> prunedNodes) {
        this.entries = entries;
        this.buffer = new CausalBuffer(causalBufferEntries);
        this.prunedNodes = prunedNodes;
    }

    void retiredNodes(Supplier<Set<String>> nodes) {
        this.retiredNodes = Objects.requireNonNull(nodes, "nodes");
    }

    void onMerged(Consumer<String> listener) {
        this.mergeListener = Objects.requireNonNull(listener, "listener");
    }

    int bufferedDeltas() {
        return buffer.size();
    }

    /** Whether {@code delta} adds a presence dot of {@code key} from a retired member. */
    private boolean fromRetired(String key, OrMap delta) {
        Set<String> retired = retiredNodes.get();
        if (retired.isEmpty()) {
            return false;
        }
        for (Dot d : delta.dots(key)) {
            if (retired.contains(ReplicatedStore.nodeOf(d.replica()))) {
                return true;
            }
        }
        return false;
    }

    /**
     * Merges a delta received by gossip, holding it back while a causal predecessor from its origin (the origin's
     * previous presence dot for this key) is missing. The key is checked by the caller.
     *
     * @throws DwcpException {@code TYPE_MISMATCH} when it carries another type than the key holds (nothing changes)
     */
    ReplicatedStore.Outcome mergeDelta(String key, OrMap delta) {
        StoreEntries.Entry e = entries.get(key);
        OrMap in = admissible(e, delta);
        if (fromRetired(key, in)) {
            return ReplicatedStore.Outcome.RETIRED;
        }
        OrMap cur = e == null ? null : e.state();
        if (cur != null && cur.merge(in).equals(cur)) {
            return ReplicatedStore.Outcome.DUPLICATE;
        }
        if (!deliverable(cur, key, in)) {
            return buffer.hold(key, in) ? ReplicatedStore.Outcome.BUFFERED : ReplicatedStore.Outcome.OVERFLOW;
        }
        mergeState(key, in);
        return ReplicatedStore.Outcome.APPLIED;
    }

    /**
     * What of an incoming state or delta may be merged into {@code cur}. A collected key takes no nested value from a
     * message whose causal context it has already seen: such a message is older than the collection (every update
     * carries a fresh presence dot, so a value contribution always comes with a dot in its context), and taking its
     * value back would only undo the collection. A message with a dot not seen here is merged whole. Presence dots of a
     * pruned retired replica that this entry no longer mentions are stale (ReplicatedStore.pruneRetired) and are left
     * out first.
     */
    private OrMap admissible(StoreEntries.Entry cur, OrMap incoming) {
        if (!prunedNodes.isEmpty()) {
            Set<String> mentioned = cur == null ? Set.of() : cur.state().context().replicas();
            incoming = incoming.withoutPresenceOf(r -> prunedNodes.contains(ReplicatedStore.nodeOf(r)) && !mentioned.contains(r));
        }
        if (cur != null && cur.collected() && cur.state().context().includes(incoming.context())) {
            return incoming.withoutValues();
        }
        return incoming;
    }

    /**
     * Merges a whole entry state (anti-entropy) or a deliverable delta, then delivers any buffered deltas it unblocked.
     * The key is checked by the caller.
     *
     * @return whether the local state changed
     * @throws DwcpException {@code TYPE_MISMATCH} when its type differs from the key's (nothing changes)
     */
    boolean mergeState(String key, OrMap incoming) {
        boolean[] changed = new boolean[1];
        entries.compute(key, (k, cur) -> {
            OrMap state = cur == null ? OrMap.EMPTY : cur.state();
            OrMap in = admissible(cur, incoming);
            OrMap merged = state.merge(in);
            if (cur != null && merged.equals(state)) {
                return cur;
            }
            changed[0] = true;
            return entries.installReceived(k, cur, merged, in);
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
                if (deliverable(entries.state(key), key, d)) {
                    entries.compute(key, (k, cur) -> {
                        OrMap in = admissible(cur, d);
                        return entries.installReceived(k, cur, (cur == null ? OrMap.EMPTY : cur.state()).merge(in), in);
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
}
