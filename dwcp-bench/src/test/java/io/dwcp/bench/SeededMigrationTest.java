package io.dwcp.bench;

import io.dwcp.core.DwcpManager;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.migration.FileReplicas;
import io.dwcp.core.migration.MigrationReceiver;
import io.dwcp.core.migration.MigrationSender;
import io.dwcp.core.migration.RoundReport;
import io.dwcp.core.migration.SeedMode;
import io.dwcp.core.transport.TransportListener;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.StateRegions;
import io.dwcp.core.state.VmState;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Replica-seeded rounds through real managers (AMST + HDE found by ServiceLoader) over loopback sockets, into
 * {@link FileReplicas}: a new sender (a restarted source, another host) that holds no baseline sends only what the
 * receiver's replica lacks, and every round is checked byte for byte.
 */
@Timeout(120)
class SeededMigrationTest {
    private static final String KEY = "vm-7";
    private static final int SIZE = 16 << 20;

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final List<MigrationReceiver.FailedRound> failedAtReceiver = new CopyOnWriteArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private static DwcpConfig.Builder config() {
        return DwcpConfig.builder()
                .set("dwcp.transport.tls.enabled", "false")
                .set("dwcp.tier.pin", "local")
                .set("dwcp.transport.min-streams", "2")
                .set("dwcp.transport.initial-streams", "2")
                .set("dwcp.transport.max-streams", "2")
                .set("dwcp.compression.level.local", "zstd:1");
    }

    private DwcpManager node(DwcpConfig config) {
        DwcpManager m = DwcpManager.builder().config(config).meterRegistry(new SimpleMeterRegistry()).build();
        toClose.add(m);
        m.start();
        return m;
    }

    /** A receiver node on {@code replicas}; closing the returned node and replicas is a receiver restart. */
    private TransportListener receiver(DwcpManager node, FileReplicas replicas) {
        toClose.add(replicas);
        TransportListener l = node.transport().listen(new InetSocketAddress("127.0.0.1", 0),
                node.migrationReceiver(replicas, r -> { }, failedAtReceiver::add)).join();
        toClose.add(l);
        return l;
    }

    private static ByteBuffer ram(long seed) {
        ByteBuffer ram = ByteBuffer.allocateDirect(SIZE);
        SyntheticVm.fill(ram, seed);
        return ram;
    }

    private static VmState<StateRegion> state(ByteBuffer ram) {
        return VmState.of(KEY, StateRegions.ofBuffer("ram", ram.duplicate()));
    }

    /** One round from a fresh sender node (a new process that holds no baseline), with seeding {@code mode}. */
    private RoundReport freshSender(DwcpConfig config, TransportListener to, ByteBuffer ram, SeedMode mode) {
        try (DwcpManager node = DwcpManager.builder().config(config).meterRegistry(new SimpleMeterRegistry()).build()) {
            node.start();
            try (MigrationSender sender = node.openMigration(to.localAddress()).join()) {
                sender.seeding(mode);
                return sender.sendRound(state(ram), null);
            }
        }
    }

    private static void assertReplica(ByteBuffer ram, Path file) throws IOException {
        byte[] expected = new byte[SIZE];
        ram.duplicate().clear().get(expected);
        assertTrue(java.util.Arrays.equals(expected, Files.readAllBytes(file)), "replica differs from the source");
    }

    @Test
    void resendingTheSameStateFromANewSenderSendsAlmostNothing(@TempDir Path dir) throws Exception {
        DwcpConfig c = config().build();
        TransportListener l = receiver(node(c), FileReplicas.open(dir));
        ByteBuffer s0 = ram(1);
        RoundReport first = freshSender(c, l, s0, SeedMode.ALWAYS);
        assertEquals(RoundReport.Mode.FULL, first.mode(), "no replica yet: a full round");
        assertTrue(first.seedBytes() > 0, "the exchange that found no seed is counted");
        RoundReport again = freshSender(c, l, s0, SeedMode.ALWAYS);
        assertEquals(RoundReport.Mode.SEEDED, again.mode());
        assertTrue(again.wireBytes() < SIZE / 200, "at most 0.5 % of the state: " + again.wireBytes());
        assertEquals((long) SIZE / 4096, again.pagesByClass().get("unchanged"));
        assertReplica(s0, dir.resolve(KEY));
        assertTrue(failedAtReceiver.isEmpty(), failedAtReceiver.toString());
    }

    @Test
    void anOlderReplicaGetsOnlyTheDifferencesAndLaterRoundsStayExact(@TempDir Path dir) throws Exception {
        DwcpConfig c = config().build();
        TransportListener l = receiver(node(c), FileReplicas.open(dir));
        ByteBuffer ram = ram(2);
        RoundReport full = freshSender(c, l, ram, SeedMode.NEVER);
        assertEquals(RoundReport.Mode.FULL, full.mode());
        assertEquals(0, full.seedBytes());
        SyntheticVm.dirty(ram, 3, 0.04);
        DwcpManager node = node(c);
        try (MigrationSender sender = node.openMigration(l.localAddress()).join()) {
            sender.seeding(SeedMode.ALWAYS);
            RoundReport seeded = sender.sendRound(state(ram), null);
            assertEquals(RoundReport.Mode.SEEDED, seeded.mode());
            assertFalse(seeded.fallback());
            assertTrue(seeded.wireBytes() * 5 < full.wireBytes(), "a 4 % change costs far less than the full round: "
                    + seeded.wireBytes() + " vs " + full.wireBytes());
            assertTrue(seeded.pagesByClass().get("literal") > 0);
            assertReplica(ram, dir.resolve(KEY));
            // The next rounds of the same sender: both codecs adopted the seeded result as their baseline, so they
            // are ordinary deltas (no hashing of the whole state, no seed exchange), each byte-exact.
            for (int round = 1; round < 3; round++) {
                SyntheticVm.dirty(ram, 10 + round, 0.02);
                RoundReport r = sender.sendRound(state(ram), null);
                assertEquals(RoundReport.Mode.DELTA, r.mode(), "round " + round + " after the seeded round");
                assertEquals(0, r.seedBytes());
                assertFalse(r.fallback());
                assertTrue(r.wireBytes() < seeded.wireBytes(), "a 2 % change as a delta: " + r.wireBytes());
                assertReplica(ram, dir.resolve(KEY));
            }
        }
        assertTrue(failedAtReceiver.isEmpty(), failedAtReceiver.toString());
    }

    @Test
    void aReplicaOfAnotherSizeGetsAFullRound(@TempDir Path dir) throws Exception {
        Files.write(dir.resolve(KEY), new byte[SIZE / 2]);
        DwcpConfig c = config().build();
        TransportListener l = receiver(node(c), FileReplicas.open(dir));
        ByteBuffer ram = ram(4);
        RoundReport r = freshSender(c, l, ram, SeedMode.ALWAYS);
        assertEquals(RoundReport.Mode.FULL, r.mode());
        assertTrue(r.seedBytes() > 0 && r.seedBytes() < 200, "one small exchange: " + r.seedBytes());
        assertReplica(ram, dir.resolve(KEY));
    }

    @Test
    void aCorruptReplicaIsCaughtByTheDigestThenSentInFull(@TempDir Path dir) throws Exception {
        DwcpConfig c = config().build();
        // A replica changed behind the receiver's directory lock with its modification time put back is caught only
        // when the receiver reads its own replica in every seeded round (by default it trusts a description it
        // computed itself; after a restart it reads the replica again: SeededRoundTest).
        TransportListener l = receiver(node(c), FileReplicas.builder(dir).rereadOwnSeeds(true).build());
        ByteBuffer ram = ram(5);
        freshSender(c, l, ram, SeedMode.NEVER);
        assertEquals(RoundReport.Mode.SEEDED, freshSender(c, l, ram, SeedMode.ALWAYS).mode()); // caches the description
        Path file = dir.resolve(KEY);
        FileTime mtime = Files.getLastModifiedTime(file);
        try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[]{0x5a, 0x5a, 0x5a}), SIZE / 3); // bit rot the cache cannot see
        }
        Files.setLastModifiedTime(file, mtime);
        ram.put(0, (byte) (ram.get(0) + 1));
        RoundReport r = freshSender(c, l, ram, SeedMode.ALWAYS);
        assertEquals(RoundReport.Mode.FULL, r.mode());
        assertTrue(r.fallback(), "the seeded round was refused by the receiver's digest check, then sent in full");
        assertTrue(r.seedBytes() > 0);
        assertReplica(ram, file);
        assertEquals(1, failedAtReceiver.size());
        assertEquals(io.dwcp.core.ErrorCode.CHECKSUM_MISMATCH, failedAtReceiver.get(0).cause().code());
        // A replica changed in the open (its modification time moves) is simply described again.
        ram.put(1, (byte) (ram.get(1) + 1));
        try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[]{1}), SIZE / 2);
        }
        Files.setLastModifiedTime(file, FileTime.fromMillis(mtime.toMillis() + 5000));
        RoundReport redescribed = freshSender(c, l, ram, SeedMode.ALWAYS);
        assertEquals(RoundReport.Mode.SEEDED, redescribed.mode());
        assertReplica(ram, file);
    }

    @Test
    void aRestartOfTheReceiverKeepsItsReplicaAsASeed(@TempDir Path dir) throws Exception {
        DwcpConfig c = config().build();
        DwcpManager first = node(c);
        FileReplicas replicas = FileReplicas.open(dir);
        TransportListener l = receiver(first, replicas);
        ByteBuffer ram = ram(6);
        freshSender(c, l, ram, SeedMode.NEVER);
        freshSender(c, l, ram, SeedMode.ALWAYS); // described and cached
        l.close();
        first.close();
        replicas.close();
        SyntheticVm.dirty(ram, 7, 0.03);
        TransportListener restarted = receiver(node(c), FileReplicas.open(dir));
        RoundReport r = freshSender(c, restarted, ram, SeedMode.ALWAYS);
        assertEquals(RoundReport.Mode.SEEDED, r.mode());
        assertReplica(ram, dir.resolve(KEY));
    }

    @Test
    void automaticChoiceSeedsOnASlowLinkAndNotOnAFastOne(@TempDir Path dir) throws Exception {
        DwcpConfig fast = config().build();
        TransportListener l = receiver(node(fast), FileReplicas.open(dir));
        ByteBuffer ram = ram(8);
        freshSender(fast, l, ram, SeedMode.NEVER);
        RoundReport onFast = freshSender(fast, l, ram, SeedMode.AUTO);
        assertEquals(RoundReport.Mode.FULL, onFast.mode(), "the local tier's rate: sending beats hashing");
        assertEquals(0, onFast.seedBytes());
        DwcpConfig slow = config().set("dwcp.transport.rate-cap", "100Mbit/s").build();
        RoundReport onSlow = freshSender(slow, l, ram, SeedMode.AUTO);
        assertEquals(RoundReport.Mode.SEEDED, onSlow.mode(), "100 Mbit/s: hashing beats sending");
        assertReplica(ram, dir.resolve(KEY));
    }

    @Test
    void aGoldenImageSeedsANewKey(@TempDir Path dir, @TempDir Path images) throws Exception {
        ByteBuffer golden = ram(9);
        Path image = images.resolve("golden.img");
        byte[] g = new byte[SIZE];
        golden.duplicate().clear().get(g);
        Files.write(image, g);
        DwcpConfig c = config().build();
        TransportListener l = receiver(node(c), FileReplicas.builder(dir).seedImage(KEY, image).build());
        SyntheticVm.dirty(golden, 10, 0.01);
        DwcpManager node = node(c);
        try (MigrationSender sender = node.openMigration(l.localAddress()).join()) {
            sender.seeding(SeedMode.ALWAYS);
            RoundReport r = sender.sendRound(state(golden), null);
            assertEquals(RoundReport.Mode.SEEDED, r.mode());
            assertReplica(golden, dir.resolve(KEY));
            // The replica was staged from the image and published: the codec baseline over it serves the next round.
            SyntheticVm.dirty(golden, 11, 0.01);
            RoundReport next = sender.sendRound(state(golden), null);
            assertEquals(RoundReport.Mode.DELTA, next.mode());
            assertReplica(golden, dir.resolve(KEY));
        }
        assertTrue(java.util.Arrays.equals(g, Files.readAllBytes(image)), "the image is only read");
        assertTrue(failedAtReceiver.isEmpty(), failedAtReceiver.toString());
    }
}
