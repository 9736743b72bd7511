package io.dwcp.core.spi;

import io.dwcp.core.config.DwcpConfig;
import io.micrometer.core.instrument.MeterRegistry;

import java.time.Clock;

/**
 * What the manager gives a provider when it creates a component: configuration, metrics, time, the CPU budget, and a
 * way to report a run-time failure. Thread-safe.
 */
public interface ComponentContext {
    /** @return the manager's configuration */
    DwcpConfig config();

    /**
     * Registry for meters named {@code dwcp.<module>.*}; components remove their meters on stop. Under a
     * {@code DwcpManager} it is the manager's own: it adds the tag {@code node} = the node id to every meter and
     * forwards it to the application's registry, and the manager removes whatever is left when it stops.
     *
     * @return the registry
     */
    MeterRegistry meterRegistry();

    /** {@return the clock time-driven logic reads (injectable for tests)} */
    Clock clock();

    /** {@return worker threads this component may use for CPU work ({@code dwcp.cpu.max-threads})} */
    int workerThreads();

    /**
     * Reports that the component failed while running. The manager marks it FAILED and restarts it with backoff
     *. Safe from any thread; never throws.
     *
     * @param cause what failed
     */
    void reportFailure(Throwable cause);

    /**
     * The path monitor where a component records what it measured on each peer's path (the transport's goodput,
     * RTT and loss per controller period) and where the predictor reads it; empty when the component runs outside a
     * {@code DwcpManager} and nobody reads the samples.
     *
     * @return the path monitor, or empty
     */
    default java.util.Optional<io.dwcp.core.path.PathMonitor> pathMonitor() {
        return java.util.Optional.empty();
    }

    /**
     * The node's bandwidth predictor, when one runs beside this component: consumers (the transport's stream
     * controller, the codec's level controller) read forecasts through it as advice, usually via
     * {@link ForecastAdvisor}. Look it up when a decision is made, not at construction: the manager creates the
     * predictor after the transport and the codec. Empty outside a {@code DwcpManager} and when no predictor is on
     * the class path; then consumers act on measurement alone, exactly as without the prediction module.
     *
     * @return the predictor, or empty
     */
    default java.util.Optional<BandwidthPredictor> predictor() {
        return java.util.Optional.empty();
    }

    /**
     * TLS material given in code ({@code DwcpManager.Builder.tls}); when present the transport uses it instead of the
     * PEM files named by {@code dwcp.transport.tls.*}. Empty by default.
     *
     * @return the credentials, or empty
     */
    default java.util.Optional<io.dwcp.core.TlsCredentials> tlsCredentials() {
        return java.util.Optional.empty();
    }

    /**
     * A context for running one component outside a {@code DwcpManager} (command-line tools, benchmarks): the system
     * UTC clock, and run-time failures logged at ERROR (nothing restarts the component).
     *
     * @param config the configuration
     * @param registry where meters go
     * @param workerThreads the CPU budget
     * @return the context
     */
    static ComponentContext standalone(DwcpConfig config, MeterRegistry registry, int workerThreads) {
        return standalone(config, registry, workerThreads, Clock.systemUTC());
    }

    /**
     * A standalone context (see {@link #standalone(DwcpConfig, MeterRegistry, int)}) whose components read
     * {@code clock}, e.g. a replay clock that follows a recorded trace.
     *
     * @param config the configuration
     * @param registry where meters go
     * @param workerThreads the CPU budget
     * @param clock the clock
     * @return the context
     */
    static ComponentContext standalone(DwcpConfig config, MeterRegistry registry, int workerThreads, Clock clock) {
        java.util.Objects.requireNonNull(config, "config");
        java.util.Objects.requireNonNull(clock, "clock");
        java.util.Objects.requireNonNull(registry, "registry");
        if (workerThreads < 1) {
            throw new IllegalArgumentException("workerThreads must be >= 1, got " + workerThreads);
        }
        return new ComponentContext() {
            @Override
            public DwcpConfig config() {
                return config;
            }

            @Override
            public MeterRegistry meterRegistry() {
                return registry;
            }

            @Override
            public Clock clock() {
                return clock;
            }

            @Override
            public int workerThreads() {
                return workerThreads;
            }

            @Override
            public void reportFailure(Throwable cause) {
                org.slf4j.LoggerFactory.getLogger(ComponentContext.class)
                        .error("a standalone component failed while running; nothing will restart it", cause);
            }
        };
    }

    /**
     * The cluster's VM metadata (placement, migration phase, baseline version), when a sync component runs beside this
     * one ({@code DwcpManager.vmMetadata()}). Look it up when a decision is made: the manager starts the sync component
     * after most others. Empty outside a {@code DwcpManager}, without a sync component, or before it started.
     *
     * @return the VM metadata, or empty
     */
    default java.util.Optional<VmMetadata> vmMetadata() {
        return java.util.Optional.empty();
    }
}
