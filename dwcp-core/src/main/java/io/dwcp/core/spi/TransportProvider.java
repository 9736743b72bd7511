package io.dwcp.core.spi;

import io.dwcp.core.transport.Transport;

/**
 * Service-provider interface of a transport (AMST in {@code dwcp-transport}). Registered in
 * {@code META-INF/services/io.dwcp.core.spi.TransportProvider}; the manager takes the one with the highest
 * {@link #priority()} unless the builder names one.
 */
public interface TransportProvider {
    /**
     * Provider name, e.g. {@code amst}.
     *
     * @return the name
     */
    String name();

    /** {@return the priority: higher wins when several providers are on the class path} */
    default int priority() {
        return 0;
    }

    /**
     * Creates a transport; it must not start threads or open sockets before {@link Component#start()}.
     *
     * @param context what the manager gives the component
     * @return the component, not started
     */
    Transport create(ComponentContext context);
}
