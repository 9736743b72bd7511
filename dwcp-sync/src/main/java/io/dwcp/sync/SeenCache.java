package io.dwcp.sync;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Gossip message ids seen recently: remembered for {@code ttlMillis} and at most {@code maxEntries} (the
 * oldest is forgotten first), so memory stays bounded however fast rumours arrive. Thread-safe (synchronized).
 */
final class SeenCache {
    private final long ttlMillis;
    private final int maxEntries;
    private final LinkedHashMap<Long, Long> expiries = new LinkedHashMap<>();

    SeenCache(long ttlMillis, int maxEntries) {
        this.ttlMillis = ttlMillis;
        this.maxEntries = maxEntries;
    }

    /** Records {@code id} at {@code nowMillis}; returns false when it was already seen (a duplicate). */
    synchronized boolean firstSight(long id, long nowMillis) {
        for (Iterator<Map.Entry<Long, Long>> it = expiries.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Long, Long> e = it.next();
            if (e.getValue() > nowMillis && expiries.size() < maxEntries) {
                break;
            }
            it.remove();
        }
        return expiries.putIfAbsent(id, nowMillis + ttlMillis) == null;
    }

    synchronized int size() {
        return expiries.size();
    }
}
