package io.dwcp.core.spi;

/**
 * Service-provider interface of a state codec (HDE in {@code dwcp-compression}). Registered in
 * {@code META-INF/services/io.dwcp.core.spi.StateCodecProvider}.
 */
public interface StateCodecProvider {
    /**
     * Provider name, e.g. {@code hde}.
     *
     * @return the name
     */
    String name();

    /** {@return the priority: higher wins when several providers are on the class path} */
    default int priority() {
        return 0;
    }

    /**
     * Creates a codec; it must not start threads before {@link Component#start()}.
     *
     * @param context what the manager gives the component
     * @return the component, not started
     */
    StateCodec create(ComponentContext context);
}
