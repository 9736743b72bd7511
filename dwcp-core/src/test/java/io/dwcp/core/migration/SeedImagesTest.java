package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.StateRegions;
import io.dwcp.core.state.VmState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An image of another size than the state seeds it cut or extended with zeros; a CHUNKS reply of version 7 says when
 * the round only reads its seed; a live state is read through a copy taken at its first read.
 */
class SeedImagesTest {
    private static final int PAGE = 4096;
    private static final long STATE = 64L * PAGE + 100; // a partial last page

    private static Path image(Path dir, int bytes) throws Exception {
        byte[] b = new byte[bytes];
        new Random(bytes).nextBytes(b);
        return Files.write(dir.resolve("disk.img"), b);
    }

    private static long[] pageHash(byte[] page) {
        long[] h = new long[2];
        new SeedHashes().pageHash(ByteBuffer.wrap(page), h, 0);
        return h;
    }

    private static long[] described(SeedDescription d, long page) throws Exception {
        ByteBuffer all = ByteBuffer.allocate(SeedHashes.CHUNK_PAGES * SeedHashes.HASH_BYTES);
        try (FileChannel ch = FileChannel.open(d.sidecar, StandardOpenOption.READ)) {
            d.pageHashes(ch, page / SeedHashes.CHUNK_PAGES, all);
        }
        all.flip().position((int) (page % SeedHashes.CHUNK_PAGES) * SeedHashes.HASH_BYTES);
        return new long[]{all.getLong(), all.getLong()};
    }

    @Test
    void aShorterImageSeedsTheStateExtendedWithZerosAndALongerOneCut(@TempDir Path dir) throws Exception {
        for (int bytes : new int[]{10 * PAGE + 7, 80 * PAGE}) {
            Path sub = Files.createDirectories(dir.resolve("b" + bytes));
            Path img = image(sub, bytes);
            try (FileReplicas files = FileReplicas.builder(sub.resolve("r")).seedImage("vm", img).build()) {
                FileReplicas.Seed seed = files.seed("vm", PAGE, STATE);
                assertNotNull(seed, "an image of " + bytes + " bytes seeds a state of " + STATE);
                assertFalse(seed.inPlace());
                assertEquals(STATE, seed.description().stateBytes);
                assertEquals(65, seed.description().pages);
                byte[] content = Files.readAllBytes(img);
                byte[] page3 = java.util.Arrays.copyOfRange(content, 3 * PAGE, 4 * PAGE);
                assertArrayEquals(pageHash(page3), described(seed.description(), 3));
                // Page 10 of the short image: its 7 bytes, then zeros; past the image: zero pages; the partial last
                // page of the state: 100 bytes (zeros, or the long image's bytes).
                byte[] page10 = new byte[PAGE];
                System.arraycopy(content, 10 * PAGE, page10, 0, Math.min(PAGE, bytes - 10 * PAGE));
                assertArrayEquals(pageHash(page10), described(seed.description(), 10));
                byte[] last = java.util.Arrays.copyOfRange(bytes > STATE ? content : new byte[(int) STATE], 64 * PAGE, 64 * PAGE + 100);
                assertArrayEquals(pageHash(last), described(seed.description(), 64));
                // Cached: the second call loads the sidecar.
                assertFalse(files.seed("vm", PAGE, STATE).computed());
                // Content lookups cover the image's pages.
                assertEquals(3, files.pageIndex(seed.description()).get(pageHash(page3)[0]));
            }
        }
    }

    @Test
    void theKeysOwnReplicaIsNoSeedForARoundWrittenElsewhere(@TempDir Path dir) throws Exception {
        Path img = image(dir, 10 * PAGE);
        Path replicas = Files.createDirectories(dir.resolve("r"));
        Files.write(replicas.resolve("vm"), new byte[(int) STATE]);
        try (FileReplicas files = FileReplicas.builder(replicas).seedImage("vm", img).build()) {
            assertTrue(files.seed("vm", PAGE, STATE).inPlace(), "by default the key's replica seeds it");
            assertEquals(img, files.seed("vm", PAGE, STATE, false).file(), "written elsewhere: the image does");
            Path dst = Files.write(dir.resolve("dst.ram"), new byte[(int) STATE]);
            assertEquals(img, SeedSources.seed(InPlaceReplica.of("vm", dst, files), "vm", PAGE, STATE).file());
            assertSame(files, SeedSources.files(InPlaceReplica.of("vm", dst, files)));
            assertNull(SeedSources.files(InPlaceReplica.of("vm", dst, null)));
        }
    }

    private static void assertSame(Object a, Object b) {
        assertTrue(a == b, a + " is " + b);
    }

    @Test
    void aVersion7ChunksReplySaysWhenTheRoundOnlyReadsItsSeed(@TempDir Path dir) throws Exception {
        Path img = image(dir, 10 * PAGE);
        Path replicas = Files.createDirectories(dir.resolve("r"));
        try (FileReplicas files = FileReplicas.builder(replicas).seedImage("vm", img).build()) {
            for (int v : new int[]{7, 6}) {
                ByteBuffer reply = SeedService.answer(files, "vm", SeedWire.describe(v, 1, PAGE, STATE, 1), SeedWire.FORMAT_DEFLATE);
                SeedWire.Header h = SeedWire.header(reply);
                assertEquals(v == 7, h.unwrittenSeed(), "version " + v);
            }
            Files.write(replicas.resolve("vm"), new byte[(int) STATE]);
            ByteBuffer own = SeedService.answer(files, "vm", SeedWire.describe(7, 2, PAGE, STATE, 1), SeedWire.FORMAT_DEFLATE);
            assertFalse(SeedWire.header(own).unwrittenSeed(), "the key's replica is written in place: copies are limited");
        }
        // The flag is refused where it has no meaning.
        ByteBuffer v6 = SeedWire.chunksNone(6, 3);
        v6.putShort(6, (short) SeedWire.FLAG_UNWRITTEN_SEED);
        assertEquals(ErrorCode.PROTOCOL_ERROR, assertThrows(DwcpException.class, () -> SeedWire.header(v6)).code());
        ByteBuffer describe = SeedWire.describe(7, 4, PAGE, STATE, 1);
        describe.putShort(6, (short) SeedWire.FLAG_UNWRITTEN_SEED);
        assertEquals(ErrorCode.PROTOCOL_ERROR, assertThrows(DwcpException.class, () -> SeedWire.header(describe)).code());
    }

    @Test
    void aLiveSnapshotServesEachPieceAsItWasAtItsFirstRead() throws Exception {
        int size = 3 * LiveSnapshot.PIECE_BYTES + 5;
        ByteBuffer live = ByteBuffer.allocate(size);
        VmState<StateRegion> state = VmState.<StateRegion>builder("vm").pageSizeBytes(PAGE).lastPagePartial(true)
                .region(StateRegions.ofBuffer("ram", live)).build();
        VmState<LiveSnapshot> snap = LiveSnapshot.of(state);
        LiveSnapshot region = snap.region(0);
        try {
            ByteBuffer a = ByteBuffer.allocate(10);
            region.read(LiveSnapshot.PIECE_BYTES - 5, a); // pieces 0 and 1
            assertEquals(2, region.piecesCopied());
            live.put(LiveSnapshot.PIECE_BYTES - 1, (byte) 7).put(2 * LiveSnapshot.PIECE_BYTES, (byte) 9);
            ByteBuffer b = ByteBuffer.allocate(10);
            region.read(LiveSnapshot.PIECE_BYTES - 5, b);
            assertArrayEquals(a.array(), b.array(), "a piece read once keeps its first content");
            ByteBuffer c = ByteBuffer.allocate(1);
            region.read(2L * LiveSnapshot.PIECE_BYTES, c);
            assertEquals(9, c.get(0), "a piece first read after the change has it");
            ByteBuffer end = ByteBuffer.allocate(5);
            region.read(size - 5, end);
            assertEquals(4, region.piecesCopied());
            assertThrows(IndexOutOfBoundsException.class, () -> region.read(size - 4, ByteBuffer.allocate(5)));
            assertFalse(region.immutable(), "a codec copies what it adopts from it");
        } finally {
            region.close();
            region.close(); // idempotent
        }
        assertThrows(java.io.IOException.class, () -> region.read(0, ByteBuffer.allocate(1)), "closed: the copy is gone");
    }
}
