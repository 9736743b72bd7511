package io.dwcp.partition;

import io.dwcp.core.DwcpManager;
import io.dwcp.core.placement.PlacementModel;
import io.dwcp.core.placement.Site;
import io.dwcp.core.placement.Vm;
import io.dwcp.core.Health;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The manager finds the ITP placer on the class path, starts it, reports its health and meters, and stops it. */
class ManagerDiscoveryTest {
    @Test
    void managerDiscoversStartsAndStopsThePlacer() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (DwcpManager dwcp = DwcpManager.builder().meterRegistry(registry).build()) {
            assertTrue(dwcp.componentNames().contains("placement"), dwcp.componentNames().toString());
            dwcp.start();
            PlacementModel m = PlacementModel.builder().site(new Site("a", 2, 1 << 20)).vm(Vm.of("v", 1, 1, 1)).build();
            assertEquals("a", dwcp.placer().place(m).placement().get("v"));
            assertEquals(Health.Status.HEALTHY, dwcp.componentHealth().get("placement").status());
            assertNotNull(registry.find("dwcp.itp.plan.duration").timer());
            assertEquals(1, registry.find("dwcp.itp.plan.duration").timer().count());
        }
        assertEquals(null, registry.find("dwcp.itp.plan.duration").timer());
    }

    @Test
    void builderOverridesTheDiscoveredProvider() {
        java.util.concurrent.atomic.AtomicInteger created = new java.util.concurrent.atomic.AtomicInteger();
        io.dwcp.core.spi.PlacementProvider mine = new io.dwcp.core.spi.PlacementProvider() {
            @Override
            public String name() {
                return "mine";
            }

            @Override
            public io.dwcp.core.spi.Placer create(io.dwcp.core.spi.ComponentContext context) {
                created.incrementAndGet();
                return new ItpPlacementProvider().create(context);
            }
        };
        try (DwcpManager dwcp = DwcpManager.builder().placementProvider(mine).build()) {
            dwcp.start();
            assertEquals(1, created.get());
            assertEquals(ItpPlacer.class, dwcp.placer().getClass());
        }
    }
}
