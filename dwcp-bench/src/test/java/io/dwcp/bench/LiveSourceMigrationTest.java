package io.dwcp.bench;

import io.dwcp.core.DwcpException;
import io.dwcp.core.DwcpManager;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.migration.InPlaceReplica;
import io.dwcp.core.migration.LiveFileSource;
import io.dwcp.core.migration.Migration;
import io.dwcp.core.migration.MigrationSender;
import io.dwcp.core.migration.RoundReport;
import io.dwcp.core.transport.TransportListener;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Live source mode: rounds read a mapped file that a "guest" thread keeps writing while they read it (torn pages), the
 * pre-copy rounds all verify, and the final round after the pause leaves an in-place replica byte-exact with the
 * paused memory, in the very file (inode) the destination mapped.
 */
@Timeout(120)
class LiveSourceMigrationTest {
    private static final int SIZE = 16 << 20;
    private final LoopbackNodes nodes = new LoopbackNodes();

    @AfterEach
    void closeAll() throws Exception {
        nodes.close();
    }

    private DwcpManager node(String... settings) {
        return nodes.node(settings);
    }

    private MigrationSender connect(DwcpManager sender, InPlaceReplica replica) {
        DwcpManager receiver = node();
        TransportListener l = receiver.transport().listen(new InetSocketAddress("127.0.0.1", 0),
                receiver.migrationReceiver(replica, r -> { })).join();
        nodes.own(l);
        MigrationSender s = sender.openMigration(l.localAddress()).join();
        nodes.own(s);
        return s;
    }

    /** A guest thread that writes random bytes into random pages of the shared file until paused. */
    private static final class Guest implements AutoCloseable {
        final FileChannel channel;
        final MappedByteBuffer ram;
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong writes = new AtomicLong();
        final Thread thread;

        Guest(Path file) throws Exception {
            channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
            ram = channel.map(FileChannel.MapMode.READ_WRITE, 0, SIZE);
            SyntheticVm.fill(ram.duplicate(), 11);
            thread = new Thread(this::run, "guest");
            thread.setDaemon(true);
            thread.start();
        }

        private void run() {
            SplittableRandom r = new SplittableRandom(3);
            while (!stop.get()) {
                // A burst of small writes spread over a page, so a concurrent reader may see it half done.
                int page = r.nextInt(SIZE / 4096);
                for (int i = 0; i < 64; i++) {
                    ram.put(page * 4096 + r.nextInt(4096), (byte) r.nextInt());
                }
                writes.incrementAndGet();
                if ((writes.get() & 63) == 0) {
                    Thread.onSpinWait();
                }
            }
        }

        void pause() throws InterruptedException {
            stop.set(true);
            thread.join();
        }

        byte[] memory() {
            byte[] b = new byte[SIZE];
            ram.duplicate().clear().get(b);
            return b;
        }

        @Override
        public void close() throws Exception {
            stop.set(true);
            thread.join();
            channel.close();
        }
    }

    private static Path sizedFile(Path dir, String name) throws Exception {
        Path f = dir.resolve(name);
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(SIZE);
        }
        return f;
    }

    @Test
    void roundsOfMemoryWrittenWhileReadVerifyAndTheFinalRoundIsByteExactInTheSameFile(@TempDir Path dir) throws Exception {
        Path ram = sizedFile(dir, "src.ram");
        Path dst = sizedFile(dir, "dst.ram");
        Object inode = Files.readAttributes(dst, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        Guest guest = new Guest(ram);
        nodes.own(guest);
        InPlaceReplica replica = InPlaceReplica.of("vm", dst, null);
        DwcpManager source = node("dwcp.migration.max-rounds", "6", "dwcp.migration.downtime-budget", "10ms");
        MigrationSender sender = connect(source, replica);
        try (LiveFileSource live = LiveFileSource.open("vm", ram, guest::pause)) {
            Migration.Result r = source.migration(sender, live).build().start().get(100, TimeUnit.SECONDS);
            assertTrue(live.paused());
            assertTrue(guest.writes.get() > 1000, "the guest wrote while the rounds read: " + guest.writes.get());
            assertTrue(r.rounds().size() >= 2, "pre-copy rounds then a final one: " + r.rounds().size());
            assertTrue(r.rounds().get(0).keyframe());
            for (RoundReport round : r.rounds()) {
                // Torn pages never make the receiver refuse a round (a refused delta would come back as a fallback).
                assertFalse(round.fallback(), "every round verified as sent: " + round);
            }
            assertArrayEquals(guest.memory(), Files.readAllBytes(dst), "the replica is the paused memory");
            assertTrue(replica.consistent());
            assertEquals(inode, Files.readAttributes(dst, java.nio.file.attribute.BasicFileAttributes.class).fileKey(),
                    "written in place: a process mapping the file sees the replica");
        }
    }

    @Test
    void aStateOfAnotherSizeIsRefusedWithoutTouchingTheFile(@TempDir Path dir) throws Exception {
        Path ram = sizedFile(dir, "src.ram");
        Path dst = dir.resolve("dst.ram");
        Files.write(dst, new byte[4096]);
        InPlaceReplica replica = InPlaceReplica.of("vm", dst, null);
        DwcpManager source = node();
        MigrationSender sender = connect(source, replica);
        try (LiveFileSource live = LiveFileSource.open("vm", ram, () -> { })) {
            DwcpException e = assertThrows(DwcpException.class, () -> sender.sendRound(live.state(), null));
            assertEquals(ErrorCode.LIMIT_EXCEEDED, e.code(), e.getMessage());
        }
        assertEquals(4096, Files.size(dst));
        assertArrayEquals(new byte[4096], Files.readAllBytes(dst));
        assertFalse(replica.consistent());
    }

    @Test
    void aFullRoundCutOffWhileWritingInPlaceMarksTheFileSoTheNextRoundIsFullAgain(@TempDir Path dir) throws Exception {
        Path ram = sizedFile(dir, "src.ram");
        try (FileChannel ch = FileChannel.open(ram, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            SyntheticVm.fill(ch.map(FileChannel.MapMode.READ_WRITE, 0, SIZE), 5);
        }
        Path dst = sizedFile(dir, "dst.ram");
        InPlaceReplica replica = InPlaceReplica.of("vm", dst, null);
        DwcpManager source = node("dwcp.transport.rate-cap", "16Mbit/s");
        MigrationSender sender = connect(source, replica);
        try (LiveFileSource live = LiveFileSource.open("vm", ram, () -> { })) {
            java.util.concurrent.CountDownLatch underWay = new java.util.concurrent.CountDownLatch(1);
            sender.progress((done, total) -> {
                if (done > SIZE / 8) {
                    underWay.countDown();
                }
            });
            var round = sender.sendRoundAsync(live.state(), null);
            assertTrue(underWay.await(60, TimeUnit.SECONDS));
            round.cancel(true);
            assertThrows(java.util.concurrent.CancellationException.class, round::join);
            sender.idle().get(60, TimeUnit.SECONDS);
            assertFalse(replica.consistent(), "a cut-off full round leaves the in-place file marked");
            sender.progress((done, total) -> { });
            RoundReport again = sender.sendRound(live.state(), null);
            assertTrue(again.keyframe(), "the next round is full: " + again);
            assertTrue(replica.consistent());
            assertArrayEquals(Files.readAllBytes(ram), Files.readAllBytes(dst));
        }
    }

    @Test
    void anInPlaceReplicaNeedsAnExistingFile(@TempDir Path dir) {
        assertThrows(IllegalArgumentException.class, () -> InPlaceReplica.of("vm", dir.resolve("missing"), null));
        assertThrows(IllegalArgumentException.class, () -> InPlaceReplica.of("vm", dir, null));
    }
}
