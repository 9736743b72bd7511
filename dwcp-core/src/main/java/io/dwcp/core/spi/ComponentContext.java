package io.dwcp.core.spi;

import io.dwcp.core.config.DwcpConfig;
import io.micrometer.core.instrument.MeterRegistry;

import java.time.Clock;

/**
 * What the manager gives a provider when it creates a component: configuration, metrics, time, the CPU budget, and a
 * way to report a run-time failure. Thread-safe.
 */
public interface ComponentContext {
    DwcpConfig config();

    /** Registry for meters named {@code dwcp.<module>.*}; components remove their meters on stop. */
    MeterRegistry meterRegistry();

    /** The clock time-driven logic reads (injectable for tests). */
    Clock clock();

    /** Worker threads this component may use for CPU work ({@code dwcp.cpu.max-threads}). */
    int workerThreads();

    /**
     * Reports that the component failed while running. The manager marks it FAILED and restarts it with backoff
     * (CORE-4). Safe from any thread; never throws.
     */
    void reportFailure(Throwable cause);
}
