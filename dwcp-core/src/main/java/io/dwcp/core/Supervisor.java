package io.dwcp.core;

import io.dwcp.core.config.ConfigKey;
import io.dwcp.core.config.CoreKeys;
import io.dwcp.core.config.DwcpConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The lifecycle half of {@link DwcpManager}: starts the wired components in order, stops them in reverse, restarts a
 * component that fails while running (with backoff, a bounded number of times), and tells running components of
 * configuration changes.
 *
 * <p>Locking: every lifecycle transition, recovery and configuration change runs under {@link #lock}; a component's
 * {@link ManagedComponent#state} and the manager's {@link #state} are volatile so that health, gauges and
 * {@link #requireRunning} read them without it. Lifecycle methods block the caller.
 */
final class Supervisor {
    private static final Logger LOG = LoggerFactory.getLogger(DwcpManager.class); // the manager's log category, as before the split
    private static final String VERSION = BuildVersion.of(DwcpManager.class);

    private final String nodeId;
    /** In start order: transport, compression, prediction, placement, sync, consensus. */
    private final List<ManagedComponent> components;
    private final DwcpConfig config;
    private final NodeMeters nodeMeters;
    private final MeterRegistry registry;
    private final ScheduledExecutorService injectedScheduler;

    private final Object lock = new Object();
    private volatile ComponentState state = ComponentState.NEW;
    /** Guarded by lock. */
    private boolean closed;
    /** Written under lock; read without it by migrations opened while running. */
    private volatile ScheduledExecutorService scheduler;
    /** Guarded by lock. */
    private final Map<String, Counter> restartCounters = new LinkedHashMap<>();

    Supervisor(String nodeId, List<ManagedComponent> components, DwcpConfig config, NodeMeters nodeMeters,
               ScheduledExecutorService injectedScheduler) {
        this.nodeId = nodeId;
        this.components = List.copyOf(components);
        this.config = config;
        this.nodeMeters = nodeMeters;
        this.registry = nodeMeters.registry();
        this.injectedScheduler = injectedScheduler;
    }

    /** See {@link DwcpManager#start()}. */
    void start() {
        synchronized (lock) {
            if (closed) {
                throw new DwcpException(ErrorCode.ILLEGAL_STATE, "the manager is closed; build a new one");
            }
            if (state == ComponentState.RUNNING) {
                return;
            }
            state = ComponentState.STARTING;
            scheduler = injectedScheduler != null ? injectedScheduler : Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "dwcp-recovery");
                t.setDaemon(true);
                return t;
            });
            nodeMeters.attach();
            registerMeters();
            List<ManagedComponent> started = new ArrayList<>();
            for (ManagedComponent mc : components) {
                mc.restartAttempts = 0;
                try {
                    LOG.info("starting component '{}'", mc.name());
                    mc.start();
                    started.add(mc);
                } catch (Exception | Error e) {
                    for (int i = started.size() - 1; i >= 0; i--) {
                        Exception stopFailure = started.get(i).stop();
                        if (stopFailure != null) {
                            e.addSuppressed(stopFailure);
                        }
                    }
                    releaseRuntime();
                    state = ComponentState.FAILED;
                    DwcpException d = DwcpException.find(e);
                    ErrorCode code = d != null ? d.code() : ErrorCode.ILLEGAL_STATE;
                    throw new DwcpException(code, "component '" + mc.name() + "' failed to start: " + e.getMessage()
                            + (started.isEmpty() ? "" : "; stopped " + names(started) + " again"), e);
                }
            }
            state = ComponentState.RUNNING;
            LOG.info("DWCP node {} running with components {}", nodeId, names(components));
        }
    }

    /** See {@link DwcpManager#stop()}. */
    void stop() {
        synchronized (lock) {
            if (state == ComponentState.NEW || state == ComponentState.STOPPED) {
                return;
            }
            state = ComponentState.STOPPING;
            List<Exception> failures = new ArrayList<>();
            for (int i = components.size() - 1; i >= 0; i--) {
                ManagedComponent mc = components.get(i);
                Exception e = mc.stop();
                if (e != null) {
                    LOG.error("component '{}' failed to stop cleanly", mc.name(), e);
                    failures.add(e);
                }
            }
            releaseRuntime();
            state = failures.isEmpty() ? ComponentState.STOPPED : ComponentState.FAILED;
            if (!failures.isEmpty()) {
                DwcpException d = new DwcpException(ErrorCode.ILLEGAL_STATE, failures.size() + " component(s) failed to stop");
                failures.forEach(d::addSuppressed);
                throw d;
            }
        }
    }

    /** Stops, then refuses further starts. Idempotent. */
    void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        stop();
    }

    /** Guarded by lock. */
    private void releaseRuntime() {
        for (ManagedComponent mc : components) {
            mc.cancelRecovery();
        }
        if (injectedScheduler == null && scheduler != null) {
            scheduler.shutdownNow();
        }
        scheduler = null;
        restartCounters.clear();
        // Every meter of this manager, its components' and migrations' included; the other managers' stay.
        nodeMeters.detach();
    }

    /** Guarded by lock; removed by {@link NodeMeters#detach()} with every other meter of this manager. */
    private void registerMeters() {
        Gauge.builder("dwcp.build.info", () -> 1).tag("version", VERSION).description("DWCP build").register(registry);
        for (ManagedComponent mc : components) {
            Gauge.builder("dwcp.component.state", mc, m -> m.state.ordinal()).tag("component", mc.name())
                    .description("Lifecycle state: 0 NEW, 1 STARTING, 2 RUNNING, 3 STOPPING, 4 STOPPED, 5 FAILED")
                    .register(registry);
            Counter restarts = Counter.builder("dwcp.component.restarts").tag("component", mc.name())
                    .description("Restarts after a run-time failure").register(registry);
            restartCounters.put(mc.name(), restarts);
        }
    }

    /** Called from any thread by a component that failed while running. */
    void onFailure(ManagedComponent mc, Throwable cause) {
        synchronized (lock) {
            if (state != ComponentState.RUNNING || mc.state != ComponentState.RUNNING) {
                LOG.debug("failure of '{}' ignored: manager {}, component {}", mc.name(), state, mc.state);
                return;
            }
            LOG.error("component '{}' failed while running", mc.name(), cause);
            Exception stopFailure = mc.stop();
            if (stopFailure != null) {
                LOG.warn("component '{}' also failed to stop after its failure", mc.name(), stopFailure);
            }
            mc.state = ComponentState.FAILED;
            mc.lastFailure = cause;
            scheduleRecovery(mc);
        }
    }

    /** Guarded by lock. */
    private void scheduleRecovery(ManagedComponent mc) {
        int max = config.get(CoreKeys.RECOVERY_MAX_ATTEMPTS);
        if (mc.restartAttempts >= max) {
            LOG.error("component '{}' stays FAILED after {} restart attempt(s)", mc.name(), mc.restartAttempts);
            return;
        }
        Duration initial = config.get(CoreKeys.RECOVERY_INITIAL_BACKOFF);
        long delay = ManagedComponent.backoffMillis(initial, mc.restartAttempts);
        mc.restartAttempts++;
        LOG.info("restarting component '{}' in {} ms (attempt {} of {})", mc.name(), delay, mc.restartAttempts, max);
        mc.pendingRecovery = scheduler.schedule(() -> recover(mc), delay, TimeUnit.MILLISECONDS);
    }

    private void recover(ManagedComponent mc) {
        synchronized (lock) {
            mc.pendingRecovery = null;
            if (state != ComponentState.RUNNING || mc.state != ComponentState.FAILED) {
                return;
            }
            mc.restarts++;
            Counter c = restartCounters.get(mc.name());
            if (c != null) {
                c.increment();
            }
            try {
                mc.start();
                LOG.info("component '{}' recovered", mc.name());
            } catch (Exception | Error e) {
                LOG.warn("restart of component '{}' failed", mc.name(), e);
                scheduleRecovery(mc);
            }
        }
    }

    /**
     * Applies a change of a dynamic key under the lifecycle lock, then tells every running component.
     *
     * @param change validates and applies the change to the configuration (nothing changes when it throws)
     * @param key the key it changed (asked after the change, which validated its name)
     */
    void changeConfig(Runnable change, Supplier<ConfigKey<?>> key) {
        synchronized (lock) {
            change.run();
            ConfigKey<?> k = key.get();
            LOG.info("{}: {} = {} (changed at run time)", nodeId, k.name(), shown(k));
            DwcpException failure = null;
            for (ManagedComponent mc : components) {
                if (mc.state != ComponentState.RUNNING) {
                    continue;
                }
                try {
                    mc.component.configChanged(config, k);
                } catch (RuntimeException e) {
                    if (failure == null) {
                        failure = new DwcpException(ErrorCode.INTERNAL_ERROR, mc.name() + " failed to apply " + k.name()
                                + ": " + e.getMessage(), e);
                    } else {
                        failure.addSuppressed(e);
                    }
                }
            }
            if (failure != null) {
                throw failure;
            }
        }
    }

    private <T> String shown(ConfigKey<T> key) {
        return key.secret() ? "<redacted>" : key.type().format(config.get(key));
    }

    /** Throws {@code ILLEGAL_STATE} naming {@code operation} unless the manager runs. */
    void requireRunning(String operation) {
        if (state != ComponentState.RUNNING) {
            throw new DwcpException(ErrorCode.ILLEGAL_STATE, operation + " needs a running manager; it is " + state + " (call start())");
        }
    }

    ComponentState state() {
        return state;
    }

    /** The recovery scheduler while running (migrations schedule their timers on it), else null. */
    ScheduledExecutorService scheduler() {
        return scheduler;
    }

    List<ManagedComponent> components() {
        return components;
    }

    ManagedComponent find(String name) {
        for (ManagedComponent mc : components) {
            if (mc.name().equals(name)) {
                return mc;
            }
        }
        throw new IllegalArgumentException("no component named '" + name + "'; components: " + names(components));
    }

    static List<String> names(List<ManagedComponent> list) {
        List<String> out = new ArrayList<>();
        for (ManagedComponent mc : list) {
            out.add(mc.name());
        }
        return out;
    }

    /** Health of each component, computed now, in start order. */
    Map<String, Health> componentHealth() {
        Map<String, Health> m = new LinkedHashMap<>();
        for (ManagedComponent mc : components) {
            m.put(mc.name(), mc.health());
        }
        return m;
    }

    /** The aggregate health: the worst component's status; UNKNOWN when the manager is not running. */
    Health health() {
        ComponentState s = state;
        if (s != ComponentState.RUNNING) {
            return s == ComponentState.FAILED ? Health.unhealthy("manager failed") : Health.unknown("manager " + s);
        }
        Health.Status worst = Health.Status.HEALTHY;
        StringBuilder detail = new StringBuilder();
        for (Map.Entry<String, Health> e : componentHealth().entrySet()) {
            worst = Health.worst(worst, e.getValue().status());
            if (e.getValue().status() != Health.Status.HEALTHY) {
                detail.append(detail.length() == 0 ? "" : "; ").append(e.getKey()).append(": ").append(e.getValue().detail());
            }
        }
        return new Health(worst, detail.length() == 0 ? "all components healthy" : detail.toString());
    }
}
