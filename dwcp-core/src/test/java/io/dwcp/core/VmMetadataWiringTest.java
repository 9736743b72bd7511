package io.dwcp.core;

import io.dwcp.core.RecordingComponents.Log;
import io.dwcp.core.RecordingComponents.RecordingTransport;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.config.SyncKeys;
import io.dwcp.core.placement.PlacementModel;
import io.dwcp.core.placement.PlacementPlan;
import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.spi.PlacementProvider;
import io.dwcp.core.spi.Placer;
import io.dwcp.core.spi.SyncProvider;
import io.dwcp.core.spi.SyncService;
import io.dwcp.core.spi.VmMetadata;
import io.dwcp.core.spi.VmPlacement;
import io.dwcp.core.transport.Transport;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The VM metadata comes from the sync component or the builder, and components reach it through their context. */
class VmMetadataWiringTest {
    /** A fixed, read-only VM metadata. */
    private static final class Fixed implements VmMetadata {
        final Map<String, VmPlacement> placed;

        Fixed(Map<String, VmPlacement> placed) {
            this.placed = placed;
        }

        @Override
        public void assign(String vmId, String site, String node) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Optional<VmPlacement> placement(String vmId) {
            return Optional.ofNullable(placed.get(vmId));
        }

        @Override
        public Map<String, VmPlacement> placements() {
            return placed;
        }

        @Override
        public void migrationPhase(String vmId, String phase) {
            throw new UnsupportedOperationException();
        }

        @Override
        public List<String> migrationPhases(String vmId) {
            return List.of();
        }

        @Override
        public void baselineVersion(String vmId, String version) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Optional<String> baselineVersion(String vmId) {
            return Optional.empty();
        }
    }

    /** A placer that only keeps its context, to look up the metadata through it. */
    private static final class ContextPlacer extends RecordingComponents.Recording implements Placer {
        ContextPlacer() {
            super("placement", new Log());
        }

        @Override
        public PlacementPlan place(PlacementModel model) {
            throw new UnsupportedOperationException();
        }

        @Override
        public PlacementPlan rebalance(PlacementModel model) {
            throw new UnsupportedOperationException();
        }
    }

    /** A sync component that only offers VM metadata. */
    private static final class MetadataSync extends RecordingComponents.Recording implements SyncService {
        final VmMetadata md;

        MetadataSync(VmMetadata md) {
            super("sync", new Log());
            this.md = md;
        }

        @Override
        public java.util.concurrent.CompletableFuture<java.net.InetSocketAddress> listen(java.net.InetSocketAddress a) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void addPeer(java.net.InetSocketAddress address) {
        }

        @Override
        public void removePeer(java.net.InetSocketAddress address) {
        }

        @Override
        public java.util.Set<java.net.InetSocketAddress> peers() {
            return java.util.Set.of();
        }

        @Override
        public io.dwcp.core.spi.MetadataStore metadata() {
            throw new UnsupportedOperationException();
        }

        @Override
        public Optional<VmMetadata> vmMetadata() {
            return Optional.of(md);
        }
    }

    private static PlacementProvider placer(AtomicReference<ComponentContext> context) {
        return new PlacementProvider() {
            @Override
            public String name() {
                return "context";
            }

            @Override
            public Placer create(ComponentContext c) {
                context.set(c);
                return new ContextPlacer();
            }
        };
    }

    private static SyncProvider sync(VmMetadata md) {
        return new SyncProvider() {
            @Override
            public String name() {
                return "fixed";
            }

            @Override
            public SyncService create(ComponentContext context, Transport transport) {
                return new MetadataSync(md);
            }
        };
    }

    @Test
    void theSyncComponentsMetadataReachesThePlacersContextAndTheBuilderOverridesIt() {
        Fixed fromSync = new Fixed(Map.of("vm-1", new VmPlacement("eu", "n1")));
        AtomicReference<ComponentContext> ctx = new AtomicReference<>();
        try (DwcpManager m = DwcpManager.builder().config(DwcpConfig.builder().set(SyncKeys.ENABLED, true).build())
                .transportProvider(RecordingComponents.provider(new RecordingTransport(new Log())))
                .syncProvider(sync(fromSync)).placementProvider(placer(ctx)).build()) {
            assertSame(fromSync, m.vmMetadata().orElseThrow());
            assertEquals(Map.of("vm-1", new VmPlacement("eu", "n1")), ctx.get().vmMetadata().orElseThrow().placements(),
                    "the placer reads the sync component's placements through its context");
        }
        Fixed given = new Fixed(Map.of());
        try (DwcpManager m = DwcpManager.builder().config(DwcpConfig.builder().set(SyncKeys.ENABLED, true).build())
                .transportProvider(RecordingComponents.provider(new RecordingTransport(new Log())))
                .syncProvider(sync(fromSync)).placementProvider(placer(ctx)).vmMetadata(given).build()) {
            assertSame(given, m.vmMetadata().orElseThrow());
            assertSame(given, ctx.get().vmMetadata().orElseThrow());
        }
        try (DwcpManager m = DwcpManager.builder().placementProvider(placer(ctx)).build()) {
            assertTrue(m.vmMetadata().isEmpty(), "no sync component, none given");
            assertTrue(ctx.get().vmMetadata().isEmpty());
        }
    }
}
