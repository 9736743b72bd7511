package io.dwcp.compression;

import io.dwcp.core.spi.BaselineRef;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The page hashes of receiver baselines detached before their replica is partly rewritten (a replica-seeded round
 * written in place), by key, until the adoption of the rewritten replica takes them: it then hashes only the pages
 * the round wrote. At most one entry per key (8 bytes a page); an entry is removed by the next adoption or drop of
 * its key, or replaced by the next detach. Thread-safe.
 */
final class DetachedHashes {
    /** A detached baseline's identity, layout and page hashes (a copy, owned by the entry). */
    record Entry(BaselineRef ref, Layout layout, long[] pageHashes) {
    }

    private final Map<String, Entry> byKey = new ConcurrentHashMap<>();

    void put(String key, Entry e) {
        byKey.put(key, e);
    }

    /**
     * {@return the entry of {@code key} if it is the baseline {@code ref} of layout {@code layout}, else null}; the
     * key's entry is removed either way.
     */
    Entry take(String key, BaselineRef ref, Layout layout) {
        Entry e = byKey.remove(key);
        return e != null && e.ref().equals(ref) && e.layout().sameAs(layout) ? e : null;
    }

    void remove(String key) {
        byKey.remove(key);
    }
}
