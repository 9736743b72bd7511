package io.dwcp.bench;

import io.dwcp.core.DwcpManager;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.migration.FileReplicas;
import io.dwcp.core.migration.MigrationSender;
import io.dwcp.core.transport.TransportListener;
import io.dwcp.core.state.StateRegions;
import io.dwcp.core.state.VmState;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A sender and a receiver manager with the real providers on one {@code MeterRegistry}, as in a control plane:
 * transport, codec and migration meters carry the node tag, and stopping one manager removes exactly its meters.
 */
@Timeout(60)
class SharedMeterRegistryMigrationTest {

    private static DwcpManager node(String id, SimpleMeterRegistry registry) {
        DwcpConfig config = DwcpConfig.builder()
                .set("dwcp.node-id", id)
                .set("dwcp.transport.tls.enabled", "false")
                .set("dwcp.tier.pin", "local")
                .build();
        return DwcpManager.builder().config(config).meterRegistry(registry).build();
    }

    private static Set<String> nodes(SimpleMeterRegistry registry, String prefix) {
        Set<String> out = new TreeSet<>();
        for (Meter m : registry.getMeters()) {
            if (m.getId().getName().startsWith(prefix)) {
                out.add(m.getId().getTag("node"));
            }
        }
        return out;
    }

    @Test
    void migrationAndComponentMetersAreTaggedByNodeAndRemovedWithTheirManager(@TempDir Path dir) throws Exception {
        SimpleMeterRegistry shared = new SimpleMeterRegistry();
        ByteBuffer ram = ByteBuffer.allocateDirect(4 << 20);
        SyntheticVm.fill(ram, 3);
        try (DwcpManager receiver = node("dst", shared); DwcpManager sender = node("src", shared);
             FileReplicas replicas = FileReplicas.open(dir)) {
            receiver.start();
            sender.start();
            assertEquals(Set.of("dst", "src"), nodes(shared, "dwcp.amst."));
            assertEquals(Set.of("dst", "src"), nodes(shared, "dwcp.hde."));
            try (TransportListener listener = receiver.transport().listen(new InetSocketAddress("127.0.0.1", 0),
                    receiver.migrationReceiver(replicas, r -> { })).join();
                 MigrationSender migration = sender.openMigration(listener.localAddress()).join()) {
                migration.sendRound(VmState.of("vm", StateRegions.ofBuffer("ram", ram.duplicate())), null);
            }
            assertEquals(1.0, shared.get("dwcp.migration.rounds").tag("node", "src").counter().count());
            assertEquals(4 << 20, shared.get("dwcp.migration.bytes").tags("node", "src", "kind", "input").counter().count());
            assertEquals(Set.of("src"), nodes(shared, "dwcp.migration."));
            for (Meter m : shared.getMeters()) {
                assertTrue(Set.of("src", "dst").contains(m.getId().getTag("node")), m.getId().toString());
            }

            sender.stop();

            assertEquals(Set.of("dst"), nodes(shared, "dwcp."), "only the receiver's meters remain");
            assertFalse(shared.find("dwcp.amst.bytes.received").tag("node", "dst").counters().isEmpty());
            receiver.stop();
            assertTrue(shared.getMeters().isEmpty(), shared.getMeters().toString());
        }
    }
}
