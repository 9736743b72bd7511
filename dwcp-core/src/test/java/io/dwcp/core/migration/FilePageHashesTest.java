package io.dwcp.core.migration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** A file's page hashes are each page's own hash, zero pages and a short last page included. */
class FilePageHashesTest {
    @Test
    void everyPageHashesAsItsOwnBytes(@TempDir Path dir) throws Exception {
        int pageSize = 4096;
        // Two and a bit hashing chunks, a short last page; every third page zero.
        long pages = 2L * SeedHashes.CHUNK_PAGES + 5;
        int bytes = (int) (pages * pageSize - 1000);
        byte[] data = new byte[bytes];
        Random r = new Random(7);
        for (int p = 0; p * pageSize < bytes; p++) {
            if (p % 3 != 0) {
                int end = Math.min(bytes, (p + 1) * pageSize);
                for (int i = p * pageSize; i < end; i++) {
                    data[i] = (byte) r.nextInt();
                }
            }
        }
        Path file = dir.resolve("state");
        Files.write(file, data);

        long[] got = FilePageHashes.hash(file, bytes, pageSize, new AtomicBoolean());

        long[] want = new long[(int) (2 * pages)];
        SeedHashes hashes = new SeedHashes();
        for (int p = 0; p < pages; p++) {
            int off = p * pageSize;
            hashes.pageHash(ByteBuffer.wrap(data, off, Math.min(pageSize, bytes - off)).slice(), want, 2 * p);
        }
        assertArrayEquals(want, got);
    }
}
