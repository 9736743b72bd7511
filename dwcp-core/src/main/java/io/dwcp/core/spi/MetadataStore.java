package io.dwcp.core.spi;

import java.time.Duration;
import java.util.Optional;
import java.util.Set;

/**
 * The replicated metadata store as the other modules and the migration API see it: named keys, each holding
 * one conflict-free replicated value of a fixed type. Updates apply locally at once (read-your-writes) and reach the
 * other replicas asynchronously; every replica converges to the same value once messages flow.
 *
 * <p>The typed operations here cover the common metadata shapes: counters (PN-Counter), single values
 * (last-writer-wins register ordered by the hybrid logical clock) and sets (add-wins observed-remove set). The
 * provider offers every type of its library through its own API.
 *
 * <p>Thread-safe. A key's type is fixed by its first update (local or received); an operation of another type on it
 * throws {@code DwcpException} with {@code TYPE_MISMATCH} and changes nothing.
 */
public interface MetadataStore {
    /**
     * Adds {@code delta} (may be negative) to the counter at {@code key}, creating it at 0.
     *
     * @param key the key
     * @param delta the amount to add
     */
    void addToCounter(String key, long delta);

    /**
     * The counter's value.
     *
     * @param key the key
     * @return the value, 0 when the key is absent or removed
     */
    long counter(String key);

    /**
     * Writes {@code value} to the register at {@code key}; the write with the highest timestamp wins.
     *
     * @param key the key
     * @param value the value, not null
     */
    void putRegister(String key, String value);

    /**
     * The register's value.
     *
     * @param key the key
     * @return the value, empty when the key is absent or removed
     */
    Optional<String> register(String key);

    /**
     * Adds {@code element} to the set at {@code key}; a concurrent remove of it does not win (add-wins).
     *
     * @param key the key
     * @param element the element to add
     */
    void addToSet(String key, String element);

    /**
     * Removes {@code element} from the set at {@code key} as observed here; an add not yet seen here survives.
     *
     * @param key the key
     * @param element the element to remove
     */
    void removeFromSet(String key, String element);

    /**
     * The set's elements.
     *
     * @param key the key
     * @return an immutable snapshot, empty when the key is absent or removed
     */
    Set<String> set(String key);

    /**
     * Removes the key on every replica; an update concurrent with the removal survives it.
     *
     * @param key the key
     */
    void remove(String key);

    /**
     * Keys present here.
     *
     * @return an immutable snapshot, removed keys excluded
     */
    Set<String> keys();

    /**
     * The longest time since the last successful exchange with a configured peer (zero without peers): the bound on
     * how stale a local read may be.
     *
     * @return that time, {@link Duration#ZERO} without peers
     */
    Duration staleness();
}
