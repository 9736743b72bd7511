package com.example.embedder;

import io.dwcp.core.DwcpException;
import io.dwcp.core.DwcpManager;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.migration.FileReplicas;
import io.dwcp.core.migration.Migration;
import io.dwcp.core.migration.MigrationReceiver;
import io.dwcp.core.migration.MigrationSender;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.StateRegions;
import io.dwcp.core.state.VmState;
import io.dwcp.core.transport.TransportListener;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a control plane does with DWCP, written as a separate project would: this package is not {@code io.dwcp.*},
 * so only public API compiles here. Two managers share one {@code MeterRegistry}; a guest migrates in pre-copy rounds
 * (full, deltas while it runs, then pause and a final round); a second migration is cancelled mid-round on a
 * throttled link, and both ends see the failure (the sender's future; the receiver's {@code onFailure} with cause,
 * peer and key); the meters are told apart by their {@code node} tag.
 *
 * <p>No sleeps: the cancel waits for the receiver's first acknowledged bytes of the round (the sender's progress
 * listener), and the link rate (16 Mbit/s, changed at run time with {@code updateConfig}) keeps the round on the wire
 * for seconds after that.
 */
@Timeout(120)
class EmbedderExampleTest {
    private static final int SIZE = 8 << 20;

    /** A running guest: some pages change before every round until it is paused. */
    static final class Guest implements Migration.Source {
        final String key;
        final ByteBuffer ram = ByteBuffer.allocateDirect(SIZE);
        final Random random;
        volatile boolean paused;
        int rounds;

        Guest(String key, long seed) {
            this.key = key;
            this.random = new Random(seed);
            byte[] page = new byte[4096];
            for (int p = 0; p < SIZE / 4096; p++) {
                if (p % 3 != 0) {               // a third of the pages are zero, as in a real guest
                    random.nextBytes(page);
                    ram.put(p * 4096, page);
                }
            }
        }

        @Override
        public VmState<? extends StateRegion> state() {
            if (!paused && rounds++ > 0) {
                for (int i = 0; i < 40; i++) {   // the guest wrote 40 pages since the last round
                    ram.putLong(random.nextInt(SIZE / 4096) * 4096 + 8, random.nextLong());
                }
            }
            return VmState.of(key, StateRegions.ofBuffer("ram", ram.duplicate()));
        }

        @Override
        public void pause() {
            paused = true;                       // the control plane stops the vCPUs here
        }

        byte[] memory() {
            byte[] b = new byte[SIZE];
            ram.duplicate().clear().get(b);
            return b;
        }
    }

    private static DwcpManager manager(String nodeId, SimpleMeterRegistry shared) {
        DwcpConfig config = DwcpConfig.builder()
                .set("dwcp.node-id", nodeId)
                .set("dwcp.transport.tls.enabled", "false")   // production: certificates, or DwcpManager.Builder.tls
                .set("dwcp.tier.pin", "wan")                  // as if across a WAN (loopback would measure LOCAL)
                .set("dwcp.migration.downtime-budget", "50ms")
                .build();
        return DwcpManager.builder().config(config).meterRegistry(shared).build();
    }

    @Test
    void migrateInRoundsCancelMidRoundSeeFailuresOnBothSidesAndReadTaggedMeters(@TempDir Path replicaDir) throws Exception {
        SimpleMeterRegistry shared = new SimpleMeterRegistry();
        List<MigrationReceiver.ReceivedRound> verified = new CopyOnWriteArrayList<>();
        CompletableFuture<MigrationReceiver.FailedRound> receiverFailure = new CompletableFuture<>();

        try (DwcpManager destination = manager("dst", shared); DwcpManager source = manager("src", shared);
             FileReplicas replicas = FileReplicas.open(replicaDir)) {
            destination.start();
            source.start();
            try (TransportListener listener = destination.transport().listen(new InetSocketAddress("127.0.0.1", 0),
                    destination.migrationReceiver(replicas, verified::add, receiverFailure::complete)).join();
                 MigrationSender sender = source.openMigration(listener.localAddress()).join()) {

                // 1. A guest migrates in rounds: full, deltas while it runs, then pause and the final round.
                Guest a = new Guest("vm-a", 1);
                Migration.Result done = source.migration(sender, a).maxRounds(4).build().start().get(60, TimeUnit.SECONDS);
                assertTrue(a.paused, "the loop paused the guest for the final round");
                assertTrue(done.rounds().size() >= 2, "pre-copy rounds, then the final one: " + done.rounds().size());
                assertTrue(done.rounds().get(0).keyframe(), "the first round is the whole state");
                assertFalse(done.finalRound().keyframe(), "the final round is a delta");
                assertArrayEquals(a.memory(), Files.readAllBytes(replicaDir.resolve("vm-a")), "the replica is the paused guest");
                assertEquals(done.rounds().size(), verified.size(), "the receiver verified every round");

                // 2. A second guest on a throttled link, cancelled once the receiver has acknowledged part of a round.
                source.updateConfig("dwcp.transport.rate-cap", "16Mbit/s");
                Guest b = new Guest("vm-b", 2);
                Migration mb = source.migration(sender, b).build();
                CompletableFuture<Long> midRound = new CompletableFuture<>();
                sender.progress((acked, total) -> {
                    if (acked > 0 && total > acked) {
                        midRound.complete(acked);
                    }
                });
                mb.start();
                long acked = midRound.get(60, TimeUnit.SECONDS);
                assertTrue(mb.cancel(), "cancelled while its round was on the wire (" + acked + " bytes acknowledged)");

                // Sender side: the migration's future fails with CANCELLED, and the guest was never paused.
                CompletionException e = assertThrows(CompletionException.class, () -> mb.result().join());
                assertEquals(ErrorCode.CANCELLED, DwcpException.find(e).code());
                assertFalse(b.paused);
                // Receiver side: onFailure names the key, the round, the peer and the cause; no replica was published.
                MigrationReceiver.FailedRound failed = receiverFailure.get(30, TimeUnit.SECONDS);
                assertEquals("vm-b", failed.key());
                assertTrue(failed.round() >= 0, "the round had started at the receiver (its header was read)");
                assertTrue(failed.peer() != null && failed.peer().getAddress().isLoopbackAddress(), String.valueOf(failed.peer()));
                assertTrue(failed.cause().code() != null && failed.cause().getMessage() != null);
                sender.idle().get(30, TimeUnit.SECONDS);
                assertFalse(Files.exists(replicaDir.resolve("vm-b")), "the cancelled round left no replica");
            }

            // 3. One registry, two nodes: every meter carries its manager's node tag.
            Set<String> nodes = new TreeSet<>();
            for (Meter m : shared.getMeters()) {
                nodes.add(m.getId().getTag("node"));
            }
            assertEquals(Set.of("dst", "src"), nodes);
            assertTrue(shared.get("dwcp.migration.rounds").tag("node", "src").counter().count() >= 2);
            assertTrue(shared.get("dwcp.amst.bytes.received").tag("node", "dst").counter().count() > 0);
            source.stop();
            assertTrue(shared.find("dwcp.amst.bytes.received").tag("node", "src").counters().isEmpty(),
                    "stopping a manager removes its meters");
            assertFalse(shared.find("dwcp.amst.bytes.received").tag("node", "dst").counters().isEmpty(),
                    "and only its meters");
        }
    }
}
