package io.dwcp.core.spi;

import io.dwcp.core.transport.Transport;

/**
 * Service-provider interface of metadata replication (ASS in {@code dwcp-sync}). Registered in
 * {@code META-INF/services/io.dwcp.core.spi.SyncProvider}; the manager takes the one with the highest
 * {@link #priority()} unless the builder names one, and creates it only when a transport is wired and
 * {@code dwcp.sync.enabled} is true. The sync component starts after the transport and stops before it.
 */
public interface SyncProvider {
    /**
     * Provider name, e.g. {@code ass}.
     *
     * @return the name
     */
    String name();

    /**
     * Higher wins when several providers are on the class path.
     *
     * @return the priority, 0 by default
     */
    default int priority() {
        return 0;
    }

    /**
     * Creates the sync component; it must not start threads or open sockets before {@link Component#start()}.
     *
     * @param context configuration, metrics, clock and failure reporting
     * @param transport the transport its messages travel over (started before the sync component), not null
     * @return the new, not yet started sync component
     */
    SyncService create(ComponentContext context, Transport transport);
}
