package io.dwcp.core.spi;

/**
 * Service-provider interface of a placer (ITP in {@code dwcp-partition}). Registered in
 * {@code META-INF/services/io.dwcp.core.spi.PlacementProvider}.
 */
public interface PlacementProvider {
    /** Provider name, e.g. {@code itp}. */
    String name();

    /** Higher wins when several providers are on the class path. */
    default int priority() {
        return 0;
    }

    /** Creates a placer; it must not start threads before {@link Component#start()}. */
    Placer create(ComponentContext context);
}
