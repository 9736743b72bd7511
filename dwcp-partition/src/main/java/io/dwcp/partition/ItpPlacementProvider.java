package io.dwcp.partition;

import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.spi.PlacementProvider;
import io.dwcp.core.spi.Placer;

/**
 * The ITP placement provider ({@code itp}), found by {@code DwcpManager} through
 * {@code META-INF/services/io.dwcp.core.spi.PlacementProvider}. Its placer reads the {@code dwcp.partition.*} keys.
 *
 * <pre>{@code
 * Placer placer = new ItpPlacementProvider().create(ComponentContext.standalone(config, registry, 1));
 * placer.start();
 * PlacementPlan plan = placer.place(model);
 * }</pre>
 */
public final class ItpPlacementProvider implements PlacementProvider {
    /** Creates the provider (ServiceLoader needs a public no-argument constructor). */
    public ItpPlacementProvider() {
    }

    @Override
    public String name() {
        return "itp";
    }

    @Override
    public Placer create(ComponentContext context) {
        return new ItpPlacer(context);
    }
}
