package io.dwcp.core;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;

import java.util.List;

/**
 * The meters of one {@link DwcpManager}. Components, the manager and its migration senders register on
 * {@link #registry()}, a registry of this manager alone that adds the tag {@code node} = the manager's node id to
 * every meter and forwards it to the user's registry from build until the manager stops (and again from its next
 * start). Several managers can therefore share
 * one user registry: their meters differ by the {@code node} tag (a second manager's gauges are not dropped as
 * duplicates), and {@link #detach()} removes exactly this manager's meters from the user's registry.
 *
 * <p>Guarded by the manager's lock: {@link #attach()} and {@link #detach()} are called from its lifecycle methods
 * only. Registration itself is thread-safe (Micrometer's).
 */
final class NodeMeters {
    /** The tag every meter of a manager carries. */
    static final String NODE_TAG = "node";

    private final MeterRegistry target;
    private final CompositeMeterRegistry own;
    private boolean attached;

    NodeMeters(MeterRegistry target, String nodeId) {
        this.target = target;
        this.own = new CompositeMeterRegistry();
        own.config().commonTags(NODE_TAG, nodeId);
        // Before any meter exists: components register meters when built, and those must reach the user's registry.
        attach();
    }

    /** Where this manager's meters register. */
    MeterRegistry registry() {
        return own;
    }

    /** The user's registry (or the manager's own {@code SimpleMeterRegistry}). */
    MeterRegistry target() {
        return target;
    }

    /**
     * Forwards this manager's meters to the user's registry again. Meters registered while detached (late records of
     * a stopped manager) are dropped first: they belong to no running manager. Idempotent.
     */
    void attach() {
        if (!attached) {
            removeAll();
            own.add(target);
            attached = true;
        }
    }

    /**
     * Removes every meter of this manager, from the user's registry too, and stops forwarding: a meter registered
     * afterwards (say by a round that ends after stop) stays out of the user's registry until {@link #attach()}.
     * Idempotent.
     */
    void detach() {
        removeAll();
        if (attached) {
            own.remove(target);
            attached = false;
        }
    }

    private void removeAll() {
        for (Meter m : List.copyOf(own.getMeters())) {
            own.remove(m);
        }
    }
}
