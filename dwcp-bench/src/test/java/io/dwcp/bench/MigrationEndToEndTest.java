package io.dwcp.bench;

import io.dwcp.core.DwcpManager;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.migration.FileReplicas;
import io.dwcp.core.migration.MigrationReceiver;
import io.dwcp.core.migration.MigrationSender;
import io.dwcp.core.migration.RoundReport;
import io.dwcp.core.transport.TransportListener;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.StateRegions;
import io.dwcp.core.state.VmState;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Whole migrations over real loopback sockets with the real providers (AMST + HDE found by ServiceLoader), into file
 * replicas, verified byte for byte after every round.
 */
@Tag("CORE-5")
@Timeout(value = 120)
class MigrationEndToEndTest {
    private static final String KEY = "vm-42";
    private static final int SIZE = 24 << 20;

    private final List<AutoCloseable> toClose = new ArrayList<>();
    /** Rounds that failed at the receivers this test started. */
    private final List<MigrationReceiver.FailedRound> failedAtReceiver = new java.util.concurrent.CopyOnWriteArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private static DwcpConfig config(int streams) {
        return configBuilder(streams).build();
    }

    private static DwcpConfig.Builder configBuilder(int streams) {
        return DwcpConfig.builder()
                .set("dwcp.transport.tls.enabled", "false")
                .set("dwcp.tier.pin", "local")
                .set("dwcp.transport.min-streams", Integer.toString(streams))
                .set("dwcp.transport.initial-streams", Integer.toString(streams))
                .set("dwcp.transport.max-streams", Integer.toString(streams))
                .set("dwcp.compression.level.local", "zstd:1");
    }

    private DwcpManager node(int streams) {
        return node(streams, new SimpleMeterRegistry());
    }

    private DwcpManager node(int streams, MeterRegistry registry) {
        return node(config(streams), registry);
    }

    private DwcpManager node(DwcpConfig config, MeterRegistry registry) {
        DwcpManager m = DwcpManager.builder().config(config).meterRegistry(registry).build();
        toClose.add(m);
        m.start();
        return m;
    }

    private TransportListener receiver(DwcpManager node, Path dir) throws IOException {
        FileReplicas replicas = FileReplicas.open(dir);
        toClose.add(replicas);
        TransportListener l = node.transport().listen(new InetSocketAddress("127.0.0.1", 0),
                node.migrationReceiver(replicas, r -> { }, failedAtReceiver::add)).join();
        toClose.add(l);
        return l;
    }

    /** Closes the replica directory opened by {@link #receiver} on {@code dir} (a receiver restart). */
    private void closeReplicas(Path dir) throws Exception {
        for (AutoCloseable c : toClose) {
            if (c instanceof FileReplicas f && f.directory().equals(dir)) {
                f.close();
            }
        }
    }

    private static ByteBuffer syntheticRam(long seed) {
        ByteBuffer ram = ByteBuffer.allocateDirect(SIZE);
        SyntheticVm.fill(ram, seed);
        return ram;
    }

    private static VmState<StateRegion> state(ByteBuffer ram) {
        return VmState.of(KEY, StateRegions.ofBuffer("ram", ram.duplicate()));
    }

    private static void assertReplicaEquals(ByteBuffer ram, Path file) throws IOException {
        assertEquals(ram.capacity(), Files.size(file));
        ByteBuffer onDisk = ByteBuffer.allocateDirect(ram.capacity());
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            while (onDisk.hasRemaining() && ch.read(onDisk) >= 0) {
                // read fully
            }
        }
        assertEquals(ram.duplicate().clear(), onDisk.flip(), "replica differs from the source");
    }

    @Test
    void multiRoundMigrationIsByteExactAndLaterRoundsAreDeltas(@TempDir Path dir) throws Exception {
        // A stale replica of another size and content must not leak into the result.
        Files.write(dir.resolve(KEY), new byte[]{1, 2, 3, 4, 5});
        DwcpManager receiverNode = node(2);
        TransportListener listener = receiver(receiverNode, dir);
        MeterRegistry senderMetrics = new SimpleMeterRegistry();
        DwcpManager senderNode = node(2, senderMetrics);
        ByteBuffer ram = syntheticRam(7);
        try (MigrationSender sender = senderNode.openMigration(listener.localAddress()).join()) {
            List<RoundReport> reports = new ArrayList<>();
            for (int round = 0; round < 4; round++) {
                if (round > 0) {
                    SyntheticVm.dirty(ram, 100 + round, 0.04);
                }
                RoundReport r = sender.sendRound(state(ram), null);
                reports.add(r);
                assertEquals(round, r.round());
                assertReplicaEquals(ram, dir.resolve(KEY));
            }
            assertTrue(reports.get(0).keyframe());
            for (RoundReport r : reports.subList(1, 4)) {
                assertFalse(r.keyframe(), "round " + r.round() + " should be a delta");
                assertFalse(r.fallback());
                assertTrue(r.wireBytes() * 10 < reports.get(0).wireBytes(),
                        "a 4% dirty delta must be far smaller than the full round: " + r.wireBytes() + " vs " + reports.get(0).wireBytes());
                assertTrue(r.pagesByClass().getOrDefault("unchanged", 0L) > 0);
            }
            try (var files = Files.list(dir)) {
                // Besides the replica: the directory's lock, and the replica's cached description (".KEY.desc", written
                // through its own ".KEY.desc.*.staging" file), which FileReplicas writes in the background after a
                // commit, so either may or may not exist at this moment.
                assertEquals(List.of(dir.resolve(KEY)), files.filter(f -> !f.getFileName().toString().equals(".dwcp-replicas.lock"))
                                .filter(f -> !f.getFileName().toString().startsWith("." + KEY + ".desc")).toList(),
                        "the keyframe's staging file was renamed, not left behind");
            }
            assertEquals(0.0, senderMetrics.counter("dwcp.migration.baseline.queries").count(),
                    "no round asks for the receiver's baseline: the first holds none to ask about, and each completion"
                            + " confirms the next one's");
        }
    }

    @Test
    void aStateLargerThanTheBaselineMemoryCapStillMigratesInDeltaRounds(@TempDir Path dir) throws Exception {
        // The receiver's baseline is its replica file's own pages and the sender's does not fit its memory cap either
        // (a buffer, not a snapshot file: it goes to a temporary file): neither counts against the cap, so rounds
        // after the first are deltas, not keyframes.
        DwcpConfig capped = configBuilder(2).set("dwcp.compression.baseline.max-memory", "16MiB").build();
        DwcpManager receiverNode = node(capped, new SimpleMeterRegistry());
        TransportListener listener = receiver(receiverNode, dir);
        DwcpManager senderNode = node(capped, new SimpleMeterRegistry());
        ByteBuffer ram = syntheticRam(41); // 24 MiB > 16 MiB
        try (MigrationSender sender = senderNode.openMigration(listener.localAddress()).join()) {
            assertTrue(sender.sendRound(state(ram), null).keyframe());
            for (int round = 1; round < 3; round++) {
                SyntheticVm.dirty(ram, 41 + round, 0.05);
                RoundReport r = sender.sendRound(state(ram), null);
                assertFalse(r.keyframe(), "round " + round + " must be a delta");
                assertFalse(r.fallback());
                assertReplicaEquals(ram, dir.resolve(KEY));
            }
        }
    }

    @Test
    void aSecondRoundOfTheSameKeyIsRefusedWhileOneRuns(@TempDir Path dir) throws Exception {
        DwcpManager receiverNode = node(2);
        TransportListener listener = receiver(receiverNode, dir);
        DwcpManager senderNode = node(2);
        ByteBuffer mine = syntheticRam(51);
        ByteBuffer theirs = syntheticRam(52);
        try (MigrationSender a = senderNode.openMigration(listener.localAddress()).join();
             MigrationSender b = senderNode.openMigration(listener.localAddress()).join()) {
            java.util.concurrent.CompletableFuture<RoundReport> first = a.sendRoundAsync(state(mine), null);
            java.util.concurrent.CompletableFuture<RoundReport> second = b.sendRoundAsync(state(theirs), null);
            java.util.concurrent.CompletionException e = org.junit.jupiter.api.Assertions.assertThrows(
                    java.util.concurrent.CompletionException.class, second::join);
            assertEquals(io.dwcp.core.ErrorCode.KEY_BUSY, io.dwcp.core.DwcpException.find(e).code());
            assertTrue(first.join().keyframe());
            assertReplicaEquals(mine, dir.resolve(KEY));
            // Once the first round is over, the key is free again (a delta: the node's codec holds a's baseline).
            b.sendRound(state(theirs), null);
            assertReplicaEquals(theirs, dir.resolve(KEY));
        }
    }

    @Test
    void cancellingARoundStopsItAtBothEndsAndLeavesTheReplicaAsItWas(@TempDir Path dir) throws Exception {
        DwcpManager receiverNode = node(2);
        TransportListener listener = receiver(receiverNode, dir);
        // A slow link, so that the round is still on the wire when it is cancelled.
        DwcpManager senderNode = node(configBuilder(2).set("dwcp.transport.rate-cap", "16Mbit/s").build(), new SimpleMeterRegistry());
        ByteBuffer ram = syntheticRam(61);
        try (MigrationSender sender = senderNode.openMigration(listener.localAddress()).join()) {
            java.util.concurrent.CountDownLatch encoded = new java.util.concurrent.CountDownLatch(1);
            sender.progress((done, total) -> encoded.countDown());
            java.util.concurrent.CompletableFuture<RoundReport> round = sender.sendRoundAsync(state(ram), null);
            assertTrue(encoded.await(60, java.util.concurrent.TimeUnit.SECONDS), "the round got under way");
            assertTrue(round.cancel(true));
            assertTrue(round.isCancelled());
            sender.idle().get(60, java.util.concurrent.TimeUnit.SECONDS);
            assertFalse(Files.exists(dir.resolve(KEY)), "the cancelled full round was not published");
            // The receiver discards its staging file when the abort reaches it, a moment after the sender stopped.
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
            List<Path> staging;
            do {
                try (var files = Files.list(dir)) {
                    staging = files.filter(f -> f.getFileName().toString().endsWith(".staging")).toList();
                }
            } while (!staging.isEmpty() && System.nanoTime() < deadline);
            assertEquals(List.of(), staging, "the receiver discarded the staging file");
            assertTrue(receiverNode.codec().baseline(KEY).isEmpty(), "the receiver committed nothing");
            assertTrue(senderNode.codec().baseline(KEY).isEmpty(), "the sender references nothing");
            sender.progress((done, total) -> { });
            assertTrue(sender.sendRound(state(ram), null).keyframe(), "the key is free again");
            assertReplicaEquals(ram, dir.resolve(KEY));
        }
    }

    @Test
    void progressFollowsTheReceiversAcknowledgementsAndEndsAtTheRoundsLength(@TempDir Path dir) throws Exception {
        DwcpManager receiverNode = node(2);
        TransportListener listener = receiver(receiverNode, dir);
        DwcpManager senderNode = node(configBuilder(2).set("dwcp.transport.rate-cap", "32Mbit/s").build(), new SimpleMeterRegistry());
        ByteBuffer ram = syntheticRam(71);
        List<long[]> samples = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (MigrationSender sender = senderNode.openMigration(listener.localAddress()).join()) {
            sender.progress((done, total) -> samples.add(new long[]{done, total}));
            sender.sendRound(state(ram), null);
        }
        long[] last = samples.get(samples.size() - 1);
        assertTrue(last[0] > 0 && last[0] == last[1], "the last report is the whole round: " + java.util.Arrays.toString(last));
        long previous = 0;
        boolean partial = false;
        for (long[] s : samples) {
            assertTrue(s[0] >= previous, "acknowledged bytes never go back");
            assertTrue(s[1] == -1 || s[1] == last[1], "the total is unknown or the round's length");
            partial |= s[0] < last[1];
            previous = s[0];
        }
        assertTrue(partial, "progress was reported before the round was acknowledged whole: " + samples.size() + " reports");
    }

    @Test
    void aStreamCutMidRoundStillYieldsAByteExactReplica(@TempDir Path dir) throws Exception {
        DwcpManager receiverNode = node(4);
        TransportListener listener = receiver(receiverNode, dir);
        KillingProxy proxy = new KillingProxy(listener.localAddress());
        toClose.add(proxy);
        DwcpManager senderNode = node(4);
        ByteBuffer ram = syntheticRam(9);
        try (MigrationSender sender = senderNode.openMigration(proxy.address()).join()) {
            proxy.killBusiestAfter(SIZE / 8);
            RoundReport r0 = sender.sendRound(state(ram), null);
            assertTrue(proxy.killedOne(), "the proxy must have cut a stream during round 0");
            assertReplicaEquals(ram, dir.resolve(KEY));
            assertTrue(r0.keyframe());

            SyntheticVm.dirty(ram, 5, 0.3);
            proxy.killBusiestAfter(64 * 1024);
            RoundReport r1 = sender.sendRound(state(ram), null);
            assertReplicaEquals(ram, dir.resolve(KEY));
            assertFalse(r1.keyframe());
        }
    }

    @Test
    void aReplicaOverwrittenBetweenRoundsFailsTheDeltaDigestAndTheRoundIsResentFull(@TempDir Path dir) throws Exception {
        // The receiver's baseline shares the replica file's pages (a keyframe is decoded in place), so writing the
        // file behind the receiver's back changes its baseline: the next delta must not verify, and the sender must
        // recover with a keyframe.
        DwcpManager receiverNode = node(2);
        TransportListener listener = receiver(receiverNode, dir);
        DwcpManager senderNode = node(2);
        ByteBuffer ram = syntheticRam(21);
        try (MigrationSender sender = senderNode.openMigration(listener.localAddress()).join()) {
            assertTrue(sender.sendRound(state(ram), null).keyframe());
            try (FileChannel ch = FileChannel.open(dir.resolve(KEY), StandardOpenOption.WRITE)) {
                ByteBuffer junk = ByteBuffer.allocate(SIZE);
                new java.util.Random(3).nextBytes(junk.array());
                ch.write(junk, 0);
            }
            SyntheticVm.dirty(ram, 22, 0.05);
            RoundReport r = sender.sendRound(state(ram), null);
            assertTrue(r.keyframe(), "the delta cannot verify against the overwritten pages: resent as a keyframe");
            assertTrue(r.fallback());
            assertReplicaEquals(ram, dir.resolve(KEY));
            SyntheticVm.dirty(ram, 23, 0.05);
            assertFalse(sender.sendRound(state(ram), null).keyframe(), "deltas again after the full round");
            assertReplicaEquals(ram, dir.resolve(KEY));
        }
    }

    @Test
    void aBaselineLostAfterTheLastCommitIsRefusedAndTheRoundIsResentFull(@TempDir Path dir) throws Exception {
        // The second round skips the baseline query (the first round's completion confirmed the baseline), so the
        // receiver learns at the delta's first frame that it no longer holds it. Its BASELINE_MISSING abort must reach
        // the sender as such, not as the CANCELLED with which the encoder stops after it: the delta (48 MiB of fresh
        // random pages) is larger than the sender's frame pipe, so the encoder is still running when the abort arrives.
        DwcpManager receiverNode = node(2);
        TransportListener listener = receiver(receiverNode, dir);
        MeterRegistry senderMetrics = new SimpleMeterRegistry();
        DwcpManager senderNode = node(2, senderMetrics);
        ByteBuffer ram = ByteBuffer.allocateDirect(64 << 20);
        try (MigrationSender sender = senderNode.openMigration(listener.localAddress()).join()) {
            assertTrue(sender.sendRound(state(ram), null).keyframe());
            receiverNode.codec().drop(KEY);
            byte[] random = new byte[48 << 20];
            new java.util.Random(32).nextBytes(random);
            ram.put(0, random);
            RoundReport r = sender.sendRound(state(ram), null);
            assertTrue(r.keyframe(), "the receiver refused the delta: the round must be resent full");
            assertTrue(r.fallback(), "the fallback must be reported");
            assertReplicaEquals(ram, dir.resolve(KEY));
            assertEquals(1.0, senderMetrics.get("dwcp.migration.fallbacks").counter().count());
            assertEquals(1, failedAtReceiver.size(), "the receiving application hears of the refused delta once");
            assertEquals(io.dwcp.core.ErrorCode.BASELINE_MISSING, failedAtReceiver.get(0).cause().code());
            assertEquals(1, failedAtReceiver.get(0).round());
            ram.put(0, new byte[4096]);
            assertFalse(sender.sendRound(state(ram), null).keyframe(), "deltas again after the full round");
            assertReplicaEquals(ram, dir.resolve(KEY));
        }
    }

    @Test
    void receiverRestartLosesTheBaselineAndTheSenderFallsBackToAFullRound(@TempDir Path dir) throws Exception {
        DwcpManager senderNode = node(2);
        ByteBuffer ram = syntheticRam(11);

        DwcpManager first = node(2);
        TransportListener l1 = receiver(first, dir);
        try (MigrationSender sender = senderNode.openMigration(l1.localAddress()).join()) {
            assertTrue(sender.sendRound(state(ram), null).keyframe());
        }
        l1.close();
        first.close(); // the receiver restarts: its baselines are gone
        closeReplicas(dir);

        DwcpManager second = node(2);
        TransportListener l2 = receiver(second, dir);
        SyntheticVm.dirty(ram, 12, 0.05);
        try (MigrationSender sender = senderNode.openMigration(l2.localAddress()).join()) {
            RoundReport r = sender.sendRound(state(ram), null);
            assertTrue(r.keyframe(), "no baseline at the receiver: the round must be full");
            assertTrue(r.fallback(), "the fallback must be reported");
            assertReplicaEquals(ram, dir.resolve(KEY));

            SyntheticVm.dirty(ram, 13, 0.05);
            RoundReport next = sender.sendRound(state(ram), null);
            assertFalse(next.keyframe(), "after the full round the new receiver holds a baseline again");
            assertReplicaEquals(ram, dir.resolve(KEY));
        }
    }
}
