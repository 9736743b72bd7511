package io.dwcp.core;

import io.dwcp.core.spi.Component;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;

/**
 * The manager's record of one component: its state, restart attempts and pending recovery. Guarded by {@link Supervisor}'s
 * lock; {@link #state} is volatile so health and gauges read it without the lock.
 */
final class ManagedComponent {
    private static final Logger LOG = LoggerFactory.getLogger(ManagedComponent.class);

    final Component component;
    volatile ComponentState state = ComponentState.NEW;
    /** Restarts attempted since the manager started; bounded by recovery.max-attempts. */
    int restartAttempts;
    volatile long restarts;
    ScheduledFuture<?> pendingRecovery;
    volatile Throwable lastFailure;

    ManagedComponent(Component component) {
        this.component = component;
    }

    String name() {
        return component.name();
    }

    /** Starts the component; on failure leaves it FAILED (after a best-effort stop) and rethrows. */
    void start() throws Exception {
        state = ComponentState.STARTING;
        try {
            component.start();
            state = ComponentState.RUNNING;
            lastFailure = null;
        } catch (Exception | Error e) {
            state = ComponentState.FAILED;
            lastFailure = e;
            try {
                component.stop();
            } catch (Exception stopFailure) {
                e.addSuppressed(stopFailure);
            }
            throw e;
        }
    }

    /** Stops the component unless it never started; failures are returned, not thrown, so the caller can go on. */
    Exception stop() {
        cancelRecovery();
        if (state == ComponentState.NEW || state == ComponentState.STOPPED) {
            return null;
        }
        state = ComponentState.STOPPING;
        try {
            component.stop();
            state = ComponentState.STOPPED;
            return null;
        } catch (Exception e) {
            state = ComponentState.FAILED;
            lastFailure = e;
            return e;
        }
    }

    void cancelRecovery() {
        if (pendingRecovery != null) {
            pendingRecovery.cancel(false);
            pendingRecovery = null;
        }
    }

    /** Health from live state: the component's own view while RUNNING, else derived from the lifecycle state. */
    Health health() {
        ComponentState s = state;
        switch (s) {
            case RUNNING:
                try {
                    return component.health();
                } catch (RuntimeException e) {
                    LOG.warn("health check of component '{}' threw; reporting UNKNOWN", name(), e);
                    return Health.unknown("health check threw " + e);
                }
            case FAILED:
                Throwable f = lastFailure;
                return Health.unhealthy("failed" + (f == null ? "" : ": " + f));
            case STARTING:
            case STOPPING:
                return Health.degraded(s.name().toLowerCase(java.util.Locale.ROOT));
            default:
                return Health.unknown(s.name().toLowerCase(java.util.Locale.ROOT));
        }
    }

    static long backoffMillis(Duration initial, int attempt) {
        return initial.toMillis() << Math.min(attempt, 20);
    }
}
