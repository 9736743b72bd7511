package io.dwcp.core.spi;

/**
 * Service-provider interface of a placer (ITP in {@code dwcp-partition}). Registered in
 * {@code META-INF/services/io.dwcp.core.spi.PlacementProvider}.
 */
public interface PlacementProvider {
    /**
     * Provider name, e.g. {@code itp}.
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
     * Creates a placer; it must not start threads before {@link Component#start()}.
     *
     * @param context configuration, metrics, clock and failure reporting
     * @return the new, not yet started placer
     */
    Placer create(ComponentContext context);
}
