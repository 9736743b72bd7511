package io.dwcp.sync;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.spi.MigrationPhase;
import io.dwcp.core.spi.VmMetadata;
import io.dwcp.core.spi.VmPlacement;
import io.dwcp.sync.crdt.PNCounter;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static io.dwcp.sync.LoopbackReplicationTest.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The ASS provider's cluster-metadata schema through the core {@link VmMetadata} SPI: what one site writes (placement,
 * phase, baseline version) the other reads back after replication over real AMST sessions.
 */
class VmMetadataReplicationTest {
    @Test
    void vmRecordsWrittenThroughTheSpiReplicateAndReadBackOnTheOtherSite() throws Exception {
        InetAddress lo = InetAddress.getLoopbackAddress();
        try (Nodes.Node a = Nodes.start(Nodes.config("a")); Nodes.Node b = Nodes.start(Nodes.config("b"))) {
            InetSocketAddress aAddr = a.sync().listen(new InetSocketAddress(lo, 0)).get(5, TimeUnit.SECONDS);
            InetSocketAddress bAddr = b.sync().listen(new InetSocketAddress(lo, 0)).get(5, TimeUnit.SECONDS);
            a.sync().addPeer(bAddr);
            b.sync().addPeer(aAddr);
            VmMetadata ma = a.sync().vmMetadata().orElseThrow();
            VmMetadata mb = b.sync().vmMetadata().orElseThrow();

            ma.assign("vm-1", "eu-west", "node-1");
            ma.assign("vm-2", "us-east", "node-7");
            ma.migrationPhase("vm-1", MigrationPhase.PRECOPY.name());
            ma.baselineVersion("vm-1", "00000000000000aa/3/00000000000000ff");
            mb.migrationPhase("vm-3", MigrationPhase.FAILED.name()); // a record with a phase and no placement

            awaitTrue(() -> mb.placements().size() == 2 && !ma.migrationPhases("vm-3").isEmpty()
                            && mb.baselineVersion("vm-1").isPresent(), Duration.ofSeconds(20), "records replicated");
            assertEquals(Map.of("vm-1", new VmPlacement("eu-west", "node-1"), "vm-2", new VmPlacement("us-east", "node-7")),
                    mb.placements(), "vm-3 has no placement and is not listed");
            assertEquals(Optional.of(new VmPlacement("eu-west", "node-1")), mb.placement("vm-1"));
            assertEquals(Optional.empty(), mb.placement("vm-3"));
            assertEquals(List.of("PRECOPY"), mb.migrationPhases("vm-1"));
            assertEquals(List.of("FAILED"), ma.migrationPhases("vm-3"));
            assertEquals(Optional.of("00000000000000aa/3/00000000000000ff"), mb.baselineVersion("vm-1"));
            assertEquals(Optional.empty(), mb.baselineVersion("vm-2"));

            mb.assign("vm-1", "us-east", "node-9"); // the migration completed at b's site
            mb.migrationPhase("vm-1", MigrationPhase.COMPLETED.name());
            awaitTrue(() -> ma.placement("vm-1").map(VmPlacement::node).equals(Optional.of("node-9"))
                    && ma.migrationPhases("vm-1").equals(List.of("COMPLETED")), Duration.ofSeconds(20), "update replicated");
            assertEquals(Optional.of(new VmPlacement("us-east", "node-9")), ma.placement("vm-1"));

            // a key under the schema's prefix that is not a VM record is refused with TYPE_MISMATCH, not a crash
            a.sync().store().update("vm/odd", PNCounter.EMPTY, c -> c.addDelta(a.sync().store().replicaId(), 1));
            DwcpException e = assertThrows(DwcpException.class, () -> ma.placement("odd"));
            assertEquals(ErrorCode.TYPE_MISMATCH, e.code());
            assertEquals(2, ma.placements().size(), "placements() skips what is not a VM record");
        }
    }
}
