package io.dwcp.core.migration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Page hashes: zero pages are recognised without hashing them, and still get exactly SHA-256's hash. */
class SeedHashesTest {
    /** The first 16 bytes of SHA-256 over the remaining bytes, as (hi, lo). */
    private static long[] sha(ByteBuffer b) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        md.update(b.duplicate());
        ByteBuffer d = ByteBuffer.wrap(md.digest());
        return new long[] {d.getLong(), d.getLong()};
    }

    private static long[] hash(SeedHashes h, ByteBuffer b) {
        long[] out = new long[2];
        h.pageHash(b, out, 0);
        return out;
    }

    @Test
    void zeroPagesOfEveryLengthGetSha256sHashAndOtherPagesTheirOwn() throws Exception {
        SeedHashes h = new SeedHashes();
        ByteBuffer zeros = ByteBuffer.allocate(4096);
        long[] zeroHash = sha(zeros);
        assertEquals(zeroHash[0], hash(h, zeros)[0]);
        assertEquals(zeroHash[1], hash(h, zeros)[1], "twice: the remembered zero hash");
        // A shorter zero page (the last page of a state) has another hash, and after it the full one is right again.
        ByteBuffer shortZeros = ByteBuffer.allocate(1000);
        assertEquals(sha(shortZeros)[0], hash(h, shortZeros)[0]);
        assertNotEquals(zeroHash[0], hash(h, shortZeros)[0]);
        assertEquals(zeroHash[0], hash(h, zeros)[0]);
        // A page larger than the compare buffer, zero throughout, in a direct buffer.
        ByteBuffer large = ByteBuffer.allocateDirect(2 << 20);
        assertEquals(sha(large)[0], hash(h, large)[0]);
        // One non-zero byte anywhere, even the last, makes it an ordinary page.
        for (int at : new int[] {0, 2047, 4095}) {
            ByteBuffer p = ByteBuffer.allocate(4096);
            p.put(at, (byte) 1);
            long[] want = sha(p);
            long[] got = hash(h, p);
            assertEquals(want[0], got[0], "byte " + at);
            assertEquals(want[1], got[1], "byte " + at);
        }
        ByteBuffer last = ByteBuffer.allocateDirect(2 << 20);
        last.put((2 << 20) - 1, (byte) 9);
        assertEquals(sha(last)[0], hash(h, last)[0]);
    }

    @Test
    void theZeroTestLooksAtTheRemainingBytesOnlyAndMovesNothing() {
        ByteBuffer b = ByteBuffer.allocate(300_000);
        b.put(0, (byte) 1).put(299_999, (byte) 1);
        b.position(1).limit(299_999);
        assertTrue(SeedHashes.isZero(b));
        assertEquals(1, b.position());
        assertEquals(299_999, b.limit());
        b.limit(300_000);
        assertFalse(SeedHashes.isZero(b));
        b.position(0).limit(1);
        assertFalse(SeedHashes.isZero(b));
        assertTrue(SeedHashes.isZero(ByteBuffer.allocate(0)));
    }

    @Test
    void aDescriptionFedAllHashesAtOnceIsTheOneFedPageByPage(@TempDir Path dir) throws Exception {
        int page = 4096;
        long stateBytes = (long) page * (3 * SeedHashes.CHUNK_PAGES + 5) - 100; // a short last page, a short last chunk
        long pages = SeedHashes.pages(stateBytes, page);
        long[] all = new long[(int) (2 * pages)];
        java.util.Random r = new java.util.Random(3);
        for (int i = 0; i < all.length; i++) {
            all[i] = r.nextLong();
        }
        SeedDescription.Writer one = new SeedDescription.Writer(dir.resolve("one"), page, stateBytes);
        SeedDescription.Writer bulk = new SeedDescription.Writer(dir.resolve("bulk"), page, stateBytes);
        for (int i = 0; i < pages; i++) {
            one.addHash(all[2 * i], all[2 * i + 1]);
        }
        bulk.addHashes(all);
        assertArrayEquals(one.digest(), bulk.digest());
        Path described = Files.write(dir.resolve("state"), new byte[] {1});
        SeedDescription.Stamp stamp = SeedDescription.Stamp.of(described);
        one.install(stamp);
        bulk.install(stamp);
        assertArrayEquals(Files.readAllBytes(dir.resolve("one")), Files.readAllBytes(dir.resolve("bulk")),
                "the same sidecar: header, chunk hashes and page hashes");
        SeedDescription.Writer late = new SeedDescription.Writer(dir.resolve("late"), page, stateBytes);
        late.addHash(1, 2);
        assertThrows(IllegalStateException.class, () -> late.addHashes(all), "all pages at once, or page by page");
        late.discard();
    }
    @Test
    void theSendersChunkHashesAndDigestAreThePageByPageFoldsWithChunksHashedInParallel() throws Exception {
        int page = 4096;
        // More than one slice of the hashing pool, a short last chunk and a short last page; some zero pages.
        long stateBytes = (long) page * ((SeedStateHasher.SLICE_CHUNKS + 2) * SeedHashes.CHUNK_PAGES + 9) - 77;
        ByteBuffer content = ByteBuffer.allocate((int) stateBytes);
        java.util.Random r = new java.util.Random(5);
        for (int p = 0; p < stateBytes / page; p++) {
            if (p % 7 != 3) {
                byte[] b = new byte[page];
                r.nextBytes(b);
                content.put(p * page, b);
            }
        }
        content.put((int) stateBytes - 5, (byte) 9);
        long pages = SeedHashes.pages(stateBytes, page);
        long chunks = SeedHashes.chunks(pages);
        // Page by page, as before: addPage for every page, finishChunk for the short last chunk.
        SeedHashes one = new SeedHashes();
        long[] expectChunks = new long[(int) (2 * chunks)];
        long[] h = new long[2];
        for (int p = 0; p < pages; p++) {
            ByteBuffer b = content.duplicate().position(p * page).limit((int) Math.min(stateBytes, (long) (p + 1) * page));
            one.pageHash(b, h, 0);
            one.addPage(h[0], h[1], expectChunks, 2 * (p / SeedHashes.CHUNK_PAGES));
        }
        assertTrue(one.finishChunk(expectChunks, 2 * (int) (chunks - 1)));
        byte[] expectDigest = one.stateDigest();

        try (SeedStateHasher hasher = new SeedStateHasher(io.dwcp.core.state.StateRegions.ofBuffer("s", content.duplicate()),
                page, stateBytes)) {
            int slices = 0;
            while (hasher.hashNextSlice()) {
                slices++;
            }
            assertEquals(2, slices);
            assertEquals(chunks, hasher.hashedChunks());
            assertArrayEquals(expectChunks, hasher.chunkHashes);
            assertArrayEquals(expectDigest, hasher.stateDigest());
            assertTrue(hasher.zero(0, 3), "page 3 is zero");
            assertFalse(hasher.zero(0, 4), "page 4 is not");
        }
    }
}
