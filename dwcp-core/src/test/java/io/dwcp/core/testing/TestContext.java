package io.dwcp.core.testing;

import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.ComponentContext;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.time.Clock;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A {@link ComponentContext} for component tests: records reported failures instead of restarting. */
public final class TestContext implements ComponentContext {
    private final DwcpConfig config;
    private final MeterRegistry registry;
    private final Clock clock;
    private final int workerThreads;
    private final List<Throwable> failures = new CopyOnWriteArrayList<>();
    private final io.dwcp.core.path.PathMonitor pathMonitor;

    public TestContext(DwcpConfig config, MeterRegistry registry, Clock clock, int workerThreads) {
        this.config = config;
        this.registry = registry;
        this.clock = clock;
        this.workerThreads = workerThreads;
        this.pathMonitor = new io.dwcp.core.path.PathMonitor(clock, 3600, 64);
    }

    private volatile io.dwcp.core.spi.BandwidthPredictor predictor;

    /** Makes {@link #predictor()} answer {@code p} ({@code null}: none, the default), as a manager with PBA does. */
    public TestContext predictor(io.dwcp.core.spi.BandwidthPredictor p) {
        this.predictor = p;
        return this;
    }

    @Override
    public java.util.Optional<io.dwcp.core.spi.BandwidthPredictor> predictor() {
        return java.util.Optional.ofNullable(predictor);
    }

    /** A path monitor of its own, as a manager gives its components. */
    @Override
    public java.util.Optional<io.dwcp.core.path.PathMonitor> pathMonitor() {
        return java.util.Optional.of(pathMonitor);
    }

    /** Defaults, a fresh simple registry, the system clock, 2 worker threads. */
    public static TestContext defaults() {
        return of(DwcpConfig.defaults());
    }

    public static TestContext of(DwcpConfig config) {
        return new TestContext(config, new SimpleMeterRegistry(), Clock.systemUTC(), 2);
    }

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
        failures.add(cause);
    }

    /** Failures reported so far. */
    public List<Throwable> failures() {
        return List.copyOf(failures);
    }
}
