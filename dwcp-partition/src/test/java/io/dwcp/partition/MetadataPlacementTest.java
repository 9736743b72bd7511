package io.dwcp.partition;

import io.dwcp.core.placement.PlacementModel;
import io.dwcp.core.placement.PlacementPlan;
import io.dwcp.core.placement.Site;
import io.dwcp.core.placement.Vm;
import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.spi.VmMetadata;
import io.dwcp.core.spi.VmPlacement;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The placer reads the current placement of VMs the model leaves unplaced from the cluster's VM metadata. */
class MetadataPlacementTest {
    private static final long GIB = 1L << 30;

    /** An in-memory VM metadata (the sync component's schema stands behind the same SPI in a manager). */
    static final class MapMetadata implements VmMetadata {
        final Map<String, VmPlacement> placed = new ConcurrentHashMap<>();

        @Override
        public void assign(String vmId, String site, String node) {
            placed.put(vmId, new VmPlacement(site, node));
        }

        @Override
        public Optional<VmPlacement> placement(String vmId) {
            return Optional.ofNullable(placed.get(vmId));
        }

        @Override
        public Map<String, VmPlacement> placements() {
            return Map.copyOf(new TreeMap<>(placed));
        }

        @Override
        public void migrationPhase(String vmId, String phase) {
            throw new UnsupportedOperationException("the placer never writes phases");
        }

        @Override
        public List<String> migrationPhases(String vmId) {
            return List.of();
        }

        @Override
        public void baselineVersion(String vmId, String version) {
            throw new UnsupportedOperationException("the placer never writes baselines");
        }

        @Override
        public Optional<String> baselineVersion(String vmId) {
            return Optional.empty();
        }
    }

    private static ComponentContext context(Optional<VmMetadata> metadata) {
        return new DelegatingContext() {
            @Override
            public Optional<VmMetadata> vmMetadata() {
                return metadata;
            }
        };
    }

    @Test
    void rebalanceTakesTheCurrentSitesTheMetadataRecords() {
        PlacementModel model = ItpPlacerTest.clustered(2, 5, 2, 6).build(); // no current placement in the model
        MapMetadata md = new MapMetadata();
        for (int c = 0; c < 2; c++) {
            for (int i = 0; i < 5; i++) {
                md.assign("c" + c + "v" + i, "s" + c, "node-" + c); // as migrations recorded them
            }
        }
        ItpPlacer placer = (ItpPlacer) new ItpPlacementProvider().create(context(Optional.of(md)));
        placer.start();
        try {
            PlacementPlan plan = placer.rebalance(model);
            assertEquals(PlacementPlan.Outcome.BELOW_THRESHOLD, plan.outcome(), "each cluster already sits on one site");
            assertEquals(List.of(), plan.moves());
            assertEquals("s1", plan.placement().get("c1v3"));
        } finally {
            placer.stop();
        }
        ItpPlacer without = (ItpPlacer) new ItpPlacementProvider().create(context(Optional.empty()));
        without.start();
        try {
            assertThrows(IllegalArgumentException.class, () -> without.rebalance(model), "without metadata: no current site");
        } finally {
            without.stop();
        }
    }

    @Test
    void theModelsOwnCurrentSitesWinAndUnknownSitesAndVmsAreIgnored() {
        PlacementModel given = PlacementModel.builder().site(new Site("eu", 4, GIB)).site(new Site("us", 4, GIB))
                .vm(Vm.of("a", 1, 1, 1)).vm(Vm.of("b", 1, 1, 1)).vm(Vm.of("c", 1, 1, 1)).currentlyOn("a", "eu").build();
        MapMetadata md = new MapMetadata();
        md.assign("a", "us", "n1");      // the model says eu: the model wins
        md.assign("b", "us", "n2");      // added
        md.assign("c", "mars", "n3");    // a site the model does not know: ignored
        md.assign("zz", "eu", "n4");     // a VM the model does not know: ignored
        PlacementModel m = MetadataPlacement.complete(given, Optional.of(md));
        assertEquals(Map.of("a", "eu", "b", "us"), m.currentPlacement());
        assertSame(given, MetadataPlacement.complete(given, Optional.empty()));
        assertSame(m, MetadataPlacement.complete(m, Optional.of(md)), "nothing to add: the same model");
    }
}
