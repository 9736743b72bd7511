package io.dwcp.sync;

import io.dwcp.core.spi.MetadataStore;
import io.dwcp.core.time.HybridLogicalClock;
import io.dwcp.sync.crdt.LwwRegister;
import io.dwcp.sync.crdt.OrSet;
import io.dwcp.sync.crdt.PNCounter;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/** The core {@link MetadataStore} view of a {@link ReplicatedStore}: PN-Counters, LWW-Registers, OR-Sets. */
final class AssMetadataStore implements MetadataStore {
    private final ReplicatedStore store;
    private final HybridLogicalClock hlc;
    private final Supplier<Duration> staleness;

    AssMetadataStore(ReplicatedStore store, HybridLogicalClock hlc, Supplier<Duration> staleness) {
        this.store = store;
        this.hlc = hlc;
        this.staleness = staleness;
    }

    @Override
    public void addToCounter(String key, long delta) {
        store.update(key, PNCounter.EMPTY, c -> c.addDelta(store.replicaId(), delta));
    }

    @Override
    public long counter(String key) {
        return store.get(key).map(c -> as(c, PNCounter.class, key).value()).orElse(0L);
    }

    @Override
    public void putRegister(String key, String value) {
        Objects.requireNonNull(value, "value");
        store.update(key, LwwRegister.EMPTY, r -> r.writeDelta(store.replicaId(), value, hlc));
    }

    @Override
    public Optional<String> register(String key) {
        return store.get(key).flatMap(c -> as(c, LwwRegister.class, key).value());
    }

    @Override
    public void addToSet(String key, String element) {
        Objects.requireNonNull(element, "element");
        store.update(key, OrSet.EMPTY, s -> s.addDelta(store.replicaId(), element));
    }

    @Override
    public void removeFromSet(String key, String element) {
        if (!set(key).contains(element)) {
            return; // nothing observed to remove; do not create the key
        }
        store.update(key, OrSet.EMPTY, s -> s.removeDelta(element));
    }

    @Override
    public Set<String> set(String key) {
        return store.get(key).map(c -> (Set<String>) Set.copyOf(as(c, OrSet.class, key).value())).orElse(Set.of());
    }

    @Override
    public void remove(String key) {
        store.remove(key);
    }

    @Override
    public Set<String> keys() {
        return store.keys();
    }

    @Override
    public Duration staleness() {
        return staleness.get();
    }

    private static <T> T as(Object value, Class<T> type, String key) {
        if (!type.isInstance(value)) {
            throw new io.dwcp.core.DwcpException(io.dwcp.core.ErrorCode.TYPE_MISMATCH, "key '" + key + "' holds a "
                    + ((io.dwcp.sync.crdt.Crdt<?>) value).type() + ", not a " + type.getSimpleName());
        }
        return type.cast(value);
    }
}
