package io.dwcp.sync;

import io.dwcp.sync.crdt.OrMap;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Deltas received before their causal predecessors, held per key up to a global bound. A delta that would
 * overflow the bound is not kept, and its key's pending deltas are dropped too: the key is then left to anti-entropy,
 * which ships whole states (the fall-back the spec asks for). Guarded by its own monitor; callers hold no other lock
 * while calling in.
 */
final class CausalBuffer {
    private final int maxEntries;
    private final Map<String, List<OrMap>> pending = new HashMap<>();
    private int size;
    private long overflows;

    CausalBuffer(int maxEntries) {
        if (maxEntries < 1) {
            throw new IllegalArgumentException("maxEntries must be >= 1, got " + maxEntries);
        }
        this.maxEntries = maxEntries;
    }

    /** Holds a delta; false when the bound is reached (the key's pending deltas are then dropped). */
    synchronized boolean hold(String key, OrMap delta) {
        if (size >= maxEntries) {
            List<OrMap> dropped = pending.remove(key);
            if (dropped != null) {
                size -= dropped.size();
            }
            overflows++;
            return false;
        }
        pending.computeIfAbsent(key, k -> new ArrayList<>()).add(delta);
        size++;
        return true;
    }

    /** Removes and returns the deltas pending for {@code key} (empty list when none). */
    synchronized List<OrMap> take(String key) {
        List<OrMap> l = pending.remove(key);
        if (l == null) {
            return List.of();
        }
        size -= l.size();
        return l;
    }

    /** Deltas held now. */
    synchronized int size() {
        return size;
    }

    /** Deltas refused because the buffer was full. */
    synchronized long overflows() {
        return overflows;
    }
}
