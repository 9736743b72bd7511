package io.dwcp.partition;

import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.ComponentContext;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.time.Clock;

/**
 * A standalone test context (default configuration, one worker, a fresh registry) whose reported failures fail the
 * test; tests subclass it to add what runs beside the placer (a predictor, VM metadata).
 */
class DelegatingContext implements ComponentContext {
    private final ComponentContext base = ComponentContext.standalone(DwcpConfig.defaults(), new SimpleMeterRegistry(), 1);

    @Override
    public DwcpConfig config() {
        return base.config();
    }

    @Override
    public MeterRegistry meterRegistry() {
        return base.meterRegistry();
    }

    @Override
    public Clock clock() {
        return base.clock();
    }

    @Override
    public int workerThreads() {
        return 1;
    }

    @Override
    public void reportFailure(Throwable cause) {
        throw new AssertionError(cause);
    }
}
