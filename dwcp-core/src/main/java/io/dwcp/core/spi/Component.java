package io.dwcp.core.spi;

import io.dwcp.core.config.ConfigKey;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.Health;

/**
 * A unit the {@code DwcpManager} starts, stops, health-checks and restarts. Providers create
 * components; the manager owns them.
 *
 * <p>Contract: {@link #start()} either leaves the component running or throws having released what it acquired;
 * {@link #stop()} is idempotent, releases every thread, socket and native handle, completes every pending future
 * (exceptionally with {@code CANCELLED}), and may be followed by another {@link #start()} (every component is
 * restartable). A component that fails while running calls {@link ComponentContext#reportFailure(Throwable)}; it
 * does not restart itself.
 */
public interface Component {
    /**
     * {@return stable component name, used in logs, metrics tags and error messages ({@code transport}, {@code
     * compression})}
     */
    String name();

    /**
     * Acquires resources and starts work; called by the manager, never concurrently with {@link #stop()}.
     *
     * @throws Exception when it cannot start; the manager stops what it started and fails
     */
    void start() throws Exception;

    /**
     * Releases everything; idempotent; returns within {@code dwcp.shutdown.timeout}.
     *
     * @throws Exception when it cannot release everything; the manager reports it and goes on
     */
    void stop() throws Exception;

    /** {@return health computed from live state; cheap, never does I/O on a data path} */
    Health health();

    /**
     * A dynamic key changed while this component runs ({@code DwcpManager.updateConfig}). A component that read the
     * key once (at start) applies the new value here; one that reads it from its context's configuration when it uses
     * it needs do nothing. The default does nothing. Called on the caller's thread, never concurrently with
     * {@link #start()} or {@link #stop()}.
     *
     * @param config the configuration with the change (the same live view as {@code ComponentContext.config()})
     * @param key the key that changed
     */
    default void configChanged(DwcpConfig config, ConfigKey<?> key) {
    }
}
