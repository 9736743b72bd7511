package io.dwcp.bench;

import io.dwcp.core.DwcpException;
import io.dwcp.core.DwcpManager;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.migration.FileReplicas;
import io.dwcp.core.migration.Migration;
import io.dwcp.core.migration.MigrationSender;
import io.dwcp.core.migration.RoundReport;
import io.dwcp.core.transport.TransportListener;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.StateRegions;
import io.dwcp.core.state.VmState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The library's pre-copy loop over real sockets: a "guest" that keeps writing its memory between rounds (and stops when
 * paused) ends with a byte-exact replica; the stop rules and cancel.
 */
@Timeout(120)
class PreCopyMigrationTest {
    private static final int SIZE = 16 << 20;
    private final LoopbackNodes nodes = new LoopbackNodes();

    @AfterEach
    void closeAll() throws Exception {
        nodes.close();
    }

    private DwcpManager node(String... settings) {
        return nodes.node(settings);
    }

    private MigrationSender connect(DwcpManager sender, Path dir) throws Exception {
        DwcpManager receiver = node();
        FileReplicas replicas = FileReplicas.open(dir);
        nodes.own(replicas);
        TransportListener l = receiver.transport().listen(new InetSocketAddress("127.0.0.1", 0),
                receiver.migrationReceiver(replicas, r -> { })).join();
        nodes.own(l);
        MigrationSender s = sender.openMigration(l.localAddress()).join();
        nodes.own(s);
        return s;
    }

    /** A guest whose memory changes by {@code pagesPerRound} pages before each round is read, until it is paused. */
    private static final class Guest implements Migration.Source {
        final ByteBuffer ram = ByteBuffer.allocateDirect(SIZE);
        final double dirtyFraction;
        final AtomicBoolean paused = new AtomicBoolean();
        int rounds;

        Guest(double dirtyFraction) {
            this.dirtyFraction = dirtyFraction;
            SyntheticVm.fill(ram, 5);
        }

        @Override
        public VmState<? extends StateRegion> state() {
            if (!paused.get() && rounds++ > 0) {
                SyntheticVm.dirty(ram, 100 + rounds, dirtyFraction);
            }
            return VmState.of("vm-7", StateRegions.ofBuffer("ram", ram.duplicate()));
        }

        @Override
        public void pause() {
            paused.set(true);
        }

        byte[] memory() {
            byte[] b = new byte[SIZE];
            ram.duplicate().clear().get(b);
            return b;
        }
    }

    @Test
    void aGuestThatKeepsRunningEndsWithAByteExactReplicaAfterTheFinalRound(@TempDir Path dir) throws Exception {
        DwcpManager source = node("dwcp.migration.max-rounds", "5", "dwcp.migration.downtime-budget", "10ms");
        MigrationSender sender = connect(source, dir);
        Guest guest = new Guest(0.02);
        List<RoundReport> heard = new java.util.concurrent.CopyOnWriteArrayList<>();
        Migration.Result r = source.migration(sender, guest).onRound(heard::add).build().start().get(100, TimeUnit.SECONDS);
        assertTrue(guest.paused.get(), "the guest was paused for the final round");
        assertArrayEquals(guest.memory(), Files.readAllBytes(dir.resolve("vm-7")), "the replica is the paused memory");
        assertEquals(r.rounds(), heard, "every round was reported");
        assertTrue(r.rounds().size() <= 5, "max-rounds counts the final round too: " + r.rounds().size());
        assertTrue(r.rounds().get(0).keyframe());
        assertFalse(r.finalRound().keyframe(), "the final round is a delta");
        assertTrue(List.of("converged", "max-rounds", "not-converging").contains(r.stopReason()), r.stopReason());
        assertTrue(r.downtime().compareTo(r.finalRound().duration()) >= 0);
    }

    @Test
    void maxRoundsOfOnePausesAtOnceAndSendsEverythingOnce(@TempDir Path dir) throws Exception {
        DwcpManager source = node();
        MigrationSender sender = connect(source, dir);
        Guest guest = new Guest(0.02);
        Migration.Result r = source.migration(sender, guest).maxRounds(1).build().start().get(60, TimeUnit.SECONDS);
        assertEquals(1, r.rounds().size());
        assertEquals("max-rounds", r.stopReason());
        assertTrue(r.finalRound().keyframe());
        assertArrayEquals(guest.memory(), Files.readAllBytes(dir.resolve("vm-7")));
    }

    @Test
    void aGuestDirtyingFasterThanTheLinkStopsIteratingAsNotConverging(@TempDir Path dir) throws Exception {
        // Half of the memory rewritten between rounds: no round is smaller than the last, so iterating cannot help.
        DwcpManager source = node("dwcp.migration.downtime-budget", "10ms");
        MigrationSender sender = connect(source, dir);
        Guest guest = new Guest(0.5);
        Migration.Result r = source.migration(sender, guest).maxRounds(30).build().start().get(100, TimeUnit.SECONDS);
        assertEquals("not-converging", r.stopReason());
        assertTrue(r.rounds().size() < 30);
        assertArrayEquals(guest.memory(), Files.readAllBytes(dir.resolve("vm-7")));
    }

    @Test
    void cancelStopsTheLoopWithoutPausingTheGuest(@TempDir Path dir) throws Exception {
        DwcpManager source = node("dwcp.transport.rate-cap", "16Mbit/s");
        MigrationSender sender = connect(source, dir);
        Guest guest = new Guest(0.02);
        CountDownLatch underWay = new CountDownLatch(1);
        sender.progress((done, total) -> underWay.countDown());
        Migration m = source.migration(sender, guest).downtimeBudget(Duration.ofMillis(10)).build();
        m.start();
        assertTrue(underWay.await(60, TimeUnit.SECONDS));
        assertTrue(m.cancel());
        CompletionException e = assertThrows(CompletionException.class, () -> m.result().join());
        assertEquals(ErrorCode.CANCELLED, DwcpException.find(e).code());
        assertFalse(guest.paused.get(), "a cancelled migration never pauses the guest");
        sender.idle().get(60, TimeUnit.SECONDS);
        assertFalse(Files.exists(dir.resolve("vm-7")), "the cancelled full round left no replica");
        assertThrows(DwcpException.class, m::start, "a migration starts once");
    }
}
