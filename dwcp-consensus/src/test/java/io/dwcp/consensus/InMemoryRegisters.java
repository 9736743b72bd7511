package io.dwcp.consensus;

import io.dwcp.core.Health;
import io.dwcp.core.spi.Consensus;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * A register map in one JVM with the {@link Consensus} contract's semantics (each call is atomic, versions grow), for
 * testing helpers that only use the contract. Not a replica: the Raft-backed behaviour is tested with processes.
 */
final class InMemoryRegisters implements Consensus {
    private final Map<String, Versioned> values = new HashMap<>();
    private long index;

    @Override
    public String name() {
        return "consensus";
    }

    @Override
    public void start() {
    }

    @Override
    public void stop() {
    }

    @Override
    public Health health() {
        return Health.healthy("in memory");
    }

    @Override
    public synchronized CompletableFuture<Versioned> read(String key) {
        return CompletableFuture.completedFuture(values.getOrDefault(key, Versioned.absent()));
    }

    @Override
    public synchronized CompletableFuture<Versioned> write(String key, String value) {
        Versioned v = new Versioned(Objects.requireNonNull(value), ++index);
        values.put(key, v);
        return CompletableFuture.completedFuture(v);
    }

    @Override
    public synchronized CompletableFuture<CasResult> compareAndSet(String key, String expected, String newValue) {
        Versioned now = values.getOrDefault(key, Versioned.absent());
        if (!Objects.equals(now.value(), expected)) {
            return CompletableFuture.completedFuture(new CasResult(false, now));
        }
        Versioned v = new Versioned(Objects.requireNonNull(newValue), ++index);
        values.put(key, v);
        return CompletableFuture.completedFuture(new CasResult(true, v));
    }
}
