package io.dwcp.core.spi;

/**
 * Service-provider interface of a consensus service (ACP in {@code dwcp-consensus}). Registered in
 * {@code META-INF/services/io.dwcp.core.spi.ConsensusProvider}; the manager takes the one with the highest
 * {@link #priority()} unless the builder names one.
 */
public interface ConsensusProvider {
    /**
     * Provider name, e.g. {@code ratis}.
     *
     * @return the name
     */
    String name();

    /** {@return the priority: higher wins when several providers are on the class path} */
    default int priority() {
        return 0;
    }

    /**
     * Creates the consensus component; it must not start threads or open sockets before {@link Component#start()}.
     *
     * @param context what the manager gives the component
     * @return the component, not started
     */
    Consensus create(ComponentContext context);
}
