package io.dwcp.bench;

import io.dwcp.core.DwcpManager;
import io.dwcp.core.migration.FileReplicas;
import io.dwcp.core.migration.InPlaceReplica;
import io.dwcp.core.migration.LiveFileSource;
import io.dwcp.core.migration.Migration;
import io.dwcp.core.migration.MigrationReceiver;
import io.dwcp.core.migration.MigrationSender;
import io.dwcp.core.migration.ReplicaFactory;
import io.dwcp.core.migration.RoundReport;
import io.dwcp.core.migration.SeedMode;
import io.dwcp.core.state.StateRegions;
import io.dwcp.core.state.VmState;
import io.dwcp.core.transport.TransportListener;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A disk image of another size than the state seeds it (a guest's page cache holds many of its disk's blocks): the
 * round sends the pages the image holds anywhere as copies, for a snapshot into {@link FileReplicas} and for the
 * pre-copy round 0 of a running guest into an {@link InPlaceReplica}; an image changed behind its cached description
 * still ends in an exact replica.
 */
@Timeout(120)
class ImageSeedMigrationTest {
    private static final int PAGE = 4096;
    private static final int SIZE = 16 << 20;
    private static final int PAGES = SIZE / PAGE;
    private final LoopbackNodes nodes = new LoopbackNodes();
    private final List<MigrationReceiver.FailedRound> failedAtReceiver = new CopyOnWriteArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        nodes.close();
    }

    /** An image of {@code pages} random pages. */
    private static Path image(Path dir, int pages, long seed) throws Exception {
        byte[] b = new byte[pages * PAGE];
        new SplittableRandom(seed).nextBytes(b);
        Path f = dir.resolve("disk-" + seed + ".img");
        Files.write(f, b);
        return f;
    }

    /**
     * Guest memory built from the image: a quarter zero pages, half the image's pages at other indexes (those below
     * {@code usable}, the pages a state of this size can copy), a quarter random pages the image does not hold.
     */
    private static void fill(ByteBuffer ram, byte[] img, int usable, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        byte[] page = new byte[PAGE];
        for (int i = 0; i < PAGES; i++) {
            switch (i % 4) {
                case 0 -> java.util.Arrays.fill(page, (byte) 0);
                case 1, 2 -> System.arraycopy(img, (int) ((i * 7919L + 13) % usable) * PAGE, page, 0, PAGE);
                default -> r.nextBytes(page);
            }
            ram.put(i * PAGE, page);
        }
    }

    private static Path sizedFile(Path dir, String name) throws Exception {
        Path f = dir.resolve(name);
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(SIZE);
        }
        return f;
    }

    private static String sha(Path f) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)));
    }

    private MigrationSender connect(DwcpManager sender, ReplicaFactory replicas) {
        DwcpManager receiver = nodes.node();
        TransportListener l = receiver.transport().listen(new InetSocketAddress("127.0.0.1", 0),
                receiver.migrationReceiver(replicas, r -> { }, failedAtReceiver::add)).join();
        nodes.own(l);
        MigrationSender s = sender.openMigration(l.localAddress()).join();
        nodes.own(s);
        s.seeding(SeedMode.ALWAYS);
        return s;
    }

    @Test
    void anImageSmallerOrLargerThanTheStateSeedsItByContent(@TempDir Path dir) throws Exception {
        for (int imagePages : new int[]{PAGES * 3 / 4 + 1, PAGES + PAGES / 4}) {
            Path sub = Files.createDirectories(dir.resolve("i" + imagePages));
            Path image = image(sub, imagePages, imagePages);
            String before = sha(image);
            ByteBuffer ram = ByteBuffer.allocateDirect(SIZE);
            fill(ram, Files.readAllBytes(image), Math.min(imagePages, PAGES), 5);
            FileReplicas files = FileReplicas.builder(sub.resolve("replicas")).seedImage("vm", image).build();
            nodes.own(files);
            MigrationSender sender = connect(nodes.node(), files);
            RoundReport r = sender.sendRound(VmState.of("vm", StateRegions.ofBuffer("ram", ram.duplicate())), null);
            assertEquals(RoundReport.Mode.SEEDED, r.mode(), "image of " + imagePages + " pages: " + r);
            long copied = r.pagesByClass().getOrDefault("copied", 0L);
            assertTrue(copied >= PAGES / 2 - 8, "the image's pages go as copies: " + r.pagesByClass());
            assertTrue(r.wireBytes() < SIZE * 0.3, "about the random quarter, not the state: " + r.wireBytes());
            byte[] expected = new byte[SIZE];
            ram.duplicate().clear().get(expected);
            assertArrayEquals(expected, Files.readAllBytes(sub.resolve("replicas").resolve("vm")));
            assertEquals(before, sha(image), "the image is only read");
        }
        assertTrue(failedAtReceiver.isEmpty(), failedAtReceiver.toString());
    }

    /** A guest that keeps writing a few pages a millisecond into its RAM until paused. */
    private static final class Guest implements AutoCloseable {
        final FileChannel channel;
        final MappedByteBuffer ram;
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong writes = new AtomicLong();
        Thread thread;

        Guest(Path file, Path image) throws Exception {
            channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
            ram = channel.map(FileChannel.MapMode.READ_WRITE, 0, SIZE);
            fill(ram, Files.readAllBytes(image), (int) (Files.size(image) / PAGE), 9);
        }

        void start() {
            thread = new Thread(() -> {
                SplittableRandom r = new SplittableRandom(3);
                while (!stop.get()) {
                    int page = r.nextInt(PAGES);
                    for (int i = 0; i < 64; i++) {
                        ram.put(page * PAGE + r.nextInt(PAGE), (byte) r.nextInt());
                    }
                    writes.incrementAndGet();
                    LockSupport.parkNanos(200_000); // the guest's pace: a few thousand pages a second
                }
            }, "guest");
            thread.setDaemon(true);
            thread.start();
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
            if (thread != null) {
                thread.join();
            }
            channel.close();
        }
    }

    @Test
    void roundZeroOfARunningGuestIsSeededFromTheImageAndTheFinalRoundIsExact(@TempDir Path dir) throws Exception {
        Path image = image(dir, PAGES * 3 / 4 + 7, 21);
        String before = sha(image);
        Path ram = sizedFile(dir, "src.ram");
        Path dst = sizedFile(dir, "dst.ram");
        Guest guest = new Guest(ram, image);
        nodes.own(guest);
        FileReplicas files = FileReplicas.builder(dir.resolve("replicas")).seedImage("vm", image).build();
        nodes.own(files);
        InPlaceReplica replica = InPlaceReplica.of("vm", dst, files);
        DwcpManager source = nodes.node("dwcp.migration.max-rounds", "4", "dwcp.migration.downtime-budget", "10ms");
        MigrationSender sender = connect(source, replica);
        guest.start();
        try (LiveFileSource live = LiveFileSource.open("vm", ram, guest::pause)) {
            Migration.Result r = source.migration(sender, live).build().start().get(100, TimeUnit.SECONDS);
            assertTrue(live.paused());
            assertTrue(guest.writes.get() > 100, "the guest wrote while the rounds read: " + guest.writes.get());
            RoundReport first = r.rounds().get(0);
            assertEquals(RoundReport.Mode.SEEDED, first.mode(), "round 0 from the image: " + first);
            assertTrue(first.pagesByClass().getOrDefault("copied", 0L) > PAGES / 4,
                    "most image pages go as copies although the guest writes: " + first.pagesByClass());
            assertTrue(r.rounds().size() >= 2, "pre-copy rounds then a final one: " + r.rounds().size());
            for (RoundReport round : r.rounds()) {
                assertFalse(round.fallback(), "every round verified as sent (pages changed while read included): " + round);
            }
            assertArrayEquals(guest.memory(), Files.readAllBytes(dst), "the replica is the paused memory");
            assertTrue(replica.consistent());
        }
        assertEquals(before, sha(image), "the image is only read");
        assertTrue(failedAtReceiver.isEmpty(), failedAtReceiver.toString());
        Path shm = Path.of("/dev/shm");
        try (var left = Files.list(Files.isDirectory(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir")))) {
            assertFalse(left.anyMatch(p -> p.getFileName().toString().startsWith(".dwcp-live-vm-")), "the snapshot copy is deleted");
        }
    }

    @Test
    void anImageChangedBehindItsCachedDescriptionStillGivesAnExactReplica(@TempDir Path dir) throws Exception {
        Path image = image(dir, PAGES * 3 / 4, 33);
        Path dst = sizedFile(dir, "dst.ram");
        FileReplicas files = FileReplicas.builder(dir.resolve("replicas")).seedImage("vm", image).build();
        nodes.own(files);
        InPlaceReplica replica = InPlaceReplica.of("vm", dst, files);
        MigrationSender first = connect(nodes.node(), replica);
        ByteBuffer s0 = ByteBuffer.allocateDirect(SIZE);
        byte[] original = Files.readAllBytes(image);
        fill(s0, original, PAGES * 3 / 4, 1);
        RoundReport r0 = first.sendRound(VmState.of("vm", StateRegions.ofBuffer("ram", s0.duplicate())), null);
        assertEquals(RoundReport.Mode.SEEDED, r0.mode(), r0.toString());
        // The image changes in place, its modification time put back: the description cached from it still looks
        // current, so the next exchange promises pages the image no longer holds.
        FileTime mtime = Files.getLastModifiedTime(image);
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.WRITE)) {
            byte[] other = new byte[PAGES / 2 * PAGE];
            new SplittableRandom(99).nextBytes(other);
            ch.write(ByteBuffer.wrap(other), 0);
        }
        Files.setLastModifiedTime(image, mtime);
        ByteBuffer s1 = ByteBuffer.allocateDirect(SIZE);
        fill(s1, original, PAGES * 3 / 4, 2); // pages of the image as it was
        MigrationSender second = connect(nodes.node(), replica); // a new source: no codec baseline
        RoundReport r1 = second.sendRound(VmState.of("vm", StateRegions.ofBuffer("ram", s1.duplicate())), null);
        assertTrue(r1.fallback(), "refused by its digest, then sent in full: " + r1);
        byte[] expected = new byte[SIZE];
        s1.duplicate().clear().get(expected);
        assertArrayEquals(expected, Files.readAllBytes(dst));
        assertTrue(replica.consistent());
    }
}
