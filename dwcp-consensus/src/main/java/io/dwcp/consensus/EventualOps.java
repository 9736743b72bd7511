package io.dwcp.consensus;

import io.dwcp.core.DwcpException;
import io.dwcp.core.DwcpManager;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.spi.Consensus;
import io.dwcp.core.spi.MetadataStore;

import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Operations declared EVENTUAL: counters (commutative increments) and last-writer-wins registers, which need no
 * agreement. They go to the metadata-replication component (ASS, {@code dwcp-sync}, through the core
 * {@link MetadataStore} interface) when one is present: applied locally at once, replicated by gossip, available
 * during partitions. Without it they are ordered through a {@link Consensus} scope instead, which is linearizable —
 * stronger than what was declared, never weaker.
 *
 * <p>On the consensus route a counter is the register {@code eventual/counter/<key>} holding a decimal number,
 * incremented by compare-and-set retried until it applies; a register is {@code eventual/register/<key>}. The two
 * routes keep separate data: choose one per deployment.
 *
 * <p>Thread-safe. Futures complete on the store caller's thread (ASS applies locally) or the consensus provider's
 * threads.
 */
public final class EventualOps {
    /** Register prefix of counters on the consensus route. */
    static final String COUNTER_PREFIX = "eventual/counter/";
    /** Register prefix of registers on the consensus route. */
    static final String REGISTER_PREFIX = "eventual/register/";

    private final MetadataStore store;
    private final Consensus consensus;

    private EventualOps(MetadataStore store, Consensus consensus) {
        this.store = store;
        this.consensus = consensus;
    }

    /**
     * EVENTUAL operations on the sync component's store.
     *
     * @param store the replicated store, e.g. {@code manager.sync().metadata()}
     * @return the operations
     */
    public static EventualOps over(MetadataStore store) {
        return new EventualOps(Objects.requireNonNull(store, "store"), null);
    }

    /**
     * EVENTUAL operations ordered through a consensus scope (no sync component).
     *
     * @param consensus the scope, e.g. {@code manager.consensus()} or {@code scoped.local()}
     * @return the operations
     */
    public static EventualOps over(Consensus consensus) {
        return new EventualOps(null, Objects.requireNonNull(consensus, "consensus"));
    }

    /**
     * The route a manager offers: its sync component's store when it has one, else its consensus service.
     *
     * @param manager the manager
     * @return the operations
     * @throws DwcpException {@code ILLEGAL_STATE} when the manager has neither
     */
    public static EventualOps route(DwcpManager manager) {
        try {
            return over(manager.sync().metadata());
        } catch (DwcpException noSync) {
            if (noSync.code() != ErrorCode.ILLEGAL_STATE) {
                throw noSync;
            }
            return over(manager.consensus());
        }
    }

    /**
     * Whether the operations go to the sync component (true) or through consensus (false).
     *
     * @return the route
     */
    public boolean viaSync() {
        return store != null;
    }

    /**
     * Adds {@code delta} to a counter.
     *
     * @param key the counter
     * @param delta the increment (negative to decrement)
     * @return completes once applied (locally, on the sync route; committed, on the consensus route)
     */
    public CompletableFuture<Void> addToCounter(String key, long delta) {
        requireKey(key);
        if (store != null) {
            return CompletableFuture.runAsync(() -> store.addToCounter(key, delta), Runnable::run);
        }
        return increment(COUNTER_PREFIX + key, delta);
    }

    /** Compare-and-set from the value read until one applies (another adder changed it in between: read again). */
    private CompletableFuture<Void> increment(String register, long delta) {
        return consensus.read(register).thenCompose(now -> {
            long next = Math.addExact(parse(register, now.value()), delta);
            return consensus.compareAndSet(register, now.value(), Long.toString(next))
                    .thenCompose(r -> r.applied() ? CompletableFuture.<Void>completedFuture(null) : increment(register, delta));
        });
    }

    /**
     * A counter's value (this node's view on the sync route; the linearizable value on the consensus route).
     *
     * @param key the counter
     * @return its value, 0 when never added to
     */
    public CompletableFuture<Long> counter(String key) {
        requireKey(key);
        if (store != null) {
            return CompletableFuture.supplyAsync(() -> store.counter(key), Runnable::run);
        }
        String register = COUNTER_PREFIX + key;
        return consensus.read(register).thenApply(v -> parse(register, v.value()));
    }

    /**
     * Sets a last-writer-wins register.
     *
     * @param key the register
     * @param value the value, not {@code null}
     * @return completes once applied
     */
    public CompletableFuture<Void> putRegister(String key, String value) {
        requireKey(key);
        Objects.requireNonNull(value, "value");
        if (store != null) {
            return CompletableFuture.runAsync(() -> store.putRegister(key, value), Runnable::run);
        }
        return consensus.write(REGISTER_PREFIX + key, value).thenApply(v -> null);
    }

    /**
     * A register's value.
     *
     * @param key the register
     * @return its value, empty when never set
     */
    public CompletableFuture<Optional<String>> register(String key) {
        requireKey(key);
        if (store != null) {
            return CompletableFuture.supplyAsync(() -> store.register(key), Runnable::run);
        }
        return consensus.read(REGISTER_PREFIX + key).thenApply(v -> Optional.ofNullable(v.value()));
    }

    private static long parse(String register, String value) {
        if (value == null) {
            return 0;
        }
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "register '" + register + "' holds '" + value
                    + "', not a counter; something else wrote it");
        }
    }

    private static void requireKey(String key) {
        if (key == null || key.isEmpty()) {
            throw new IllegalArgumentException("key must be a non-empty string");
        }
    }
}
