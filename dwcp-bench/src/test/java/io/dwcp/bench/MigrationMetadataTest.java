package io.dwcp.bench;

import io.dwcp.core.DwcpManager;
import io.dwcp.core.migration.FileReplicas;
import io.dwcp.core.migration.Migration;
import io.dwcp.core.migration.MigrationSender;
import io.dwcp.core.placement.PlacementModel;
import io.dwcp.core.placement.PlacementPlan;
import io.dwcp.core.placement.Site;
import io.dwcp.core.placement.Vm;
import io.dwcp.core.spi.VmMetadata;
import io.dwcp.core.spi.VmPlacement;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.StateRegions;
import io.dwcp.core.state.VmState;
import io.dwcp.core.transport.TransportListener;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The migration loop records its VM's phases, baseline version and new placement in the cluster metadata — the real
 * sync component's schema, or one given in the builder — and the placer reads the placement back.
 */
@Timeout(120)
class MigrationMetadataTest {
    private static final int SIZE = 4 << 20;
    private static final String BASELINE = "[0-9a-f]{16}/[0-9]+/[0-9a-f]{16}";
    private final LoopbackNodes nodes = new LoopbackNodes();

    @AfterEach
    void closeAll() throws Exception {
        nodes.close();
    }

    private MigrationSender connect(DwcpManager sender, Path dir) throws Exception {
        DwcpManager receiver = nodes.node("dwcp.sync.enabled", "false");
        FileReplicas replicas = nodes.own(FileReplicas.open(dir));
        TransportListener l = nodes.own(receiver.transport().listen(new InetSocketAddress("127.0.0.1", 0),
                receiver.migrationReceiver(replicas, r -> { })).join());
        return nodes.own(sender.openMigration(l.localAddress()).join());
    }

    /** A guest that dirties 2 % of its memory before every round after the first; {@code failAt} fails state(). */
    private static Migration.Source guest(int failAt) {
        ByteBuffer ram = ByteBuffer.allocateDirect(SIZE);
        SyntheticVm.fill(ram, 3);
        int[] calls = {0};
        return new Migration.Source() {
            @Override
            public VmState<? extends StateRegion> state() throws IOException {
                if (++calls[0] == failAt) {
                    throw new IOException("guest memory unreadable (test)");
                }
                if (calls[0] > 1) {
                    SyntheticVm.dirty(ram, calls[0], 0.02);
                }
                return VmState.of("vm-7", StateRegions.ofBuffer("ram", ram.duplicate()));
            }

            @Override
            public void pause() {
            }
        };
    }

    @Test
    void aMigrationRecordsIntoTheSyncSchemaAndThePlacerReadsThePlacement(@TempDir Path dir) throws Exception {
        DwcpManager source = nodes.node("dwcp.sync.enabled", "true", "dwcp.node-id", "site-eu-1");
        VmMetadata md = source.vmMetadata().orElseThrow(); // the ASS component's schema
        md.assign("vm-7", "eu", "node-1");
        MigrationSender sender = connect(source, dir);
        Migration.Result r = source.migration(sender, guest(0)).maxRounds(3).vm("vm-7", "us", "node-9").build().start()
                .get(100, TimeUnit.SECONDS);
        assertEquals(Optional.of(new VmPlacement("us", "node-9")), md.placement("vm-7"));
        assertEquals(List.of("COMPLETED"), md.migrationPhases("vm-7"));
        String baseline = md.baselineVersion("vm-7").orElseThrow();
        assertTrue(baseline.matches(BASELINE), baseline);
        int lastKeyframe = 0;
        for (int i = 0; i < r.rounds().size(); i++) {
            lastKeyframe = r.rounds().get(i).keyframe() ? i : lastKeyframe;
        }
        int version = r.rounds().size() - 1 - lastKeyframe; // 0 = a keyframe, then 1 per delta round
        assertTrue(baseline.contains("/" + version + "/"), "the final round's place in the chain, " + version + ": " + baseline);

        // the placer takes the VM's current site from the metadata when the model does not give one
        PlacementModel model = PlacementModel.builder().site(new Site("eu", 8, 1L << 34)).site(new Site("us", 8, 1L << 34))
                .vm(Vm.of("vm-7", 1, SIZE, SIZE)).build();
        PlacementPlan plan = source.placer().rebalance(model);
        assertEquals(Map.of("vm-7", "us"), plan.placement());
        assertEquals(List.of(), plan.moves());
    }

    /** An in-process VM metadata that logs every write in order. */
    private static final class Recording implements VmMetadata {
        final List<String> log = java.util.Collections.synchronizedList(new ArrayList<>());

        @Override
        public void assign(String vmId, String site, String node) {
            log.add("assign " + vmId + " " + site + " " + node);
        }

        @Override
        public Optional<VmPlacement> placement(String vmId) {
            return Optional.empty();
        }

        @Override
        public Map<String, VmPlacement> placements() {
            return Map.of();
        }

        @Override
        public void migrationPhase(String vmId, String phase) {
            log.add("phase " + vmId + " " + phase);
        }

        @Override
        public List<String> migrationPhases(String vmId) {
            return List.of();
        }

        @Override
        public void baselineVersion(String vmId, String version) {
            assertTrue(version.matches(BASELINE), version);
            log.add("baseline " + vmId);
        }

        @Override
        public Optional<String> baselineVersion(String vmId) {
            return Optional.empty();
        }
    }

    @Test
    void phasesAreRecordedInOrderAndAFailedMigrationLeavesThePlacement(@TempDir Path dir) throws Exception {
        Recording rec = new Recording();
        DwcpManager source = nodes.node(b -> b.vmMetadata(rec), "dwcp.sync.enabled", "false");
        assertEquals(Optional.of(rec), source.vmMetadata(), "the builder's metadata, no sync component needed");
        MigrationSender sender = connect(source, dir);
        source.migration(sender, guest(0)).maxRounds(2).vm("vm-7", "us", "node-9").build().start().get(100, TimeUnit.SECONDS);
        assertEquals(List.of("phase vm-7 PRECOPY", "baseline vm-7", "phase vm-7 STOP_AND_COPY", "baseline vm-7",
                "assign vm-7 us node-9", "phase vm-7 COMPLETED"), rec.log);

        rec.log.clear();
        // round 0, then (max-rounds 2) the pause, and the paused state cannot be read
        Migration failing = source.migration(sender, guest(2)).maxRounds(2).vm("vm-7", "eu", "node-1").build();
        assertThrows(ExecutionException.class, () -> failing.start().get(100, TimeUnit.SECONDS));
        assertEquals(List.of("phase vm-7 PRECOPY", "baseline vm-7", "phase vm-7 STOP_AND_COPY", "phase vm-7 FAILED"), rec.log,
                "no new placement");

        rec.log.clear();
        source.migration(sender, guest(0)).maxRounds(1).build().start().get(100, TimeUnit.SECONDS);
        assertEquals(List.of(), rec.log, "a migration that names no VM records nothing");
    }

    @Test
    void withoutSyncOrGivenMetadataNothingIsRecordedAndTheMigrationRuns(@TempDir Path dir) throws Exception {
        DwcpManager source = nodes.node("dwcp.sync.enabled", "false");
        assertEquals(Optional.empty(), source.vmMetadata());
        MigrationSender sender = connect(source, dir);
        Migration.Result r = source.migration(sender, guest(0)).maxRounds(2).vm("vm-7", "us", "node-9").build().start()
                .get(100, TimeUnit.SECONDS);
        assertEquals(2, r.rounds().size());
    }
}
