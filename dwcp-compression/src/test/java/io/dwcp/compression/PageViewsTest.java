package io.dwcp.compression;

import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The encoder's page views: the same hashes and comparisons as slices of the pages, the shared buffers left as they
 * were, and no heap allocation per page (the sender's young generation, and so its resident heap, grew with the pages
 * a round scanned when every page cost slices).
 */
class PageViewsTest {
    private static final int PS = 4096;

    private static ByteBuffer randomDirect(Random r, int bytes) {
        byte[] b = new byte[bytes];
        r.nextBytes(b);
        return ByteBuffer.allocateDirect(bytes).put(b).flip();
    }

    @Test
    void hashesAndComparesAsSlicesDo() {
        Random r = new Random(7);
        ByteBuffer a = randomDirect(r, 64 * PS);
        ByteBuffer b = ByteBuffer.allocateDirect(64 * PS).put(a.duplicate()).flip();
        for (int i = 0; i < 200; i++) {          // edits at random places: pages equal, differing at the edge, inside
            b.put(r.nextInt(b.capacity()), (byte) r.nextInt());
        }
        ByteBuffer readOnly = a.asReadOnlyBuffer();
        a.position(5).limit(a.capacity() - 3);
        PageViews v = new PageViews();
        for (int p = 0; p < 64; p++) {
            int off = p * PS;
            assertEquals(PageHash.hash(readOnly, off, PS), v.hash(readOnly, off, PS), "page " + p);
            assertEquals(PageHash.hash(b, off, PS), v.hash(b, off, PS), "page " + p);
            int len = PS * (1 + r.nextInt(4));
            int from = r.nextInt(64 * PS - len);
            int other = r.nextBoolean() ? from : r.nextInt(64 * PS - len);
            assertEquals(a.slice(from, len).mismatch(b.slice(other, len)), v.mismatch(a, from, b, other, len));
            assertEquals(a.slice(from, len).mismatch(b.slice(other, len)) >= 0, v.differs(a, from, b, other, len));
        }
        assertEquals(5, a.position());
        assertEquals(a.capacity() - 3, a.limit());
        assertEquals(0, b.position());
        assertEquals(0, readOnly.position());
    }

    @Test
    void scanningPagesAllocatesNothingPerPage() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        ByteBuffer a = randomDirect(new Random(3), 256 * PS);
        ByteBuffer zero = ByteBuffer.allocateDirect(PS).asReadOnlyBuffer();
        PageViews v = new PageViews();
        long sink = v.hash(a, 0, PS) + v.mismatch(a, 0, zero, 0, PS);   // the two views made
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int round = 0; round < 40; round++) {
            for (int p = 0; p < 256; p++) {
                sink += v.hash(a, p * PS, PS);
                sink += v.mismatch(a, p * PS, zero, 0, PS);
            }
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        // 10,240 pages hashed and compared: two slices and two CRC objects a page were at least 1 MB.
        assertTrue(allocated < 64 * 1024, allocated + " bytes allocated for 10,240 pages (sink " + sink + ")");
    }
}
