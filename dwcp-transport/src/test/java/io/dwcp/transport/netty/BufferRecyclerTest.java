package io.dwcp.transport.netty;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.transport.testing.LeakCheckExtension;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.IllegalReferenceCountException;
import org.junit.jupiter.api.Test;

import java.util.List;

class BufferRecyclerTest {
    private static final int K64 = 64 * 1024;

    /** The recycled buffer behind the leak detector's wrapper (there is none when the detector did not sample it). */
    private static ByteBuf inner(ByteBuf b) {
        return b.unwrap() != null ? b.unwrap() : b;
    }

    private final BufferRecycler recycler = new BufferRecycler(new UnpooledByteBufAllocator(true), 4L * K64 * 4);

    @Test
    void aRecycledBufferDroppedWithoutItsReleaseIsReportedByNettysLeakDetector() {
        leakOne();
        List<String> reports = LeakCheckExtension.awaitReports("leakOne", 50);
        assertTrue(!reports.isEmpty(), "no leak report for a dropped recycled buffer (the surefire argLine sets paranoid)");
    }

    /** Allocates a recycled buffer (a reused one: it was released once before) and drops it unreleased. */
    private void leakOne() {
        recycler.directBuffer(K64).release();
        ByteBuf dropped = recycler.directBuffer(K64);
        dropped.writeLong(1);
    }

    @Test
    void releasedBufferIsHandedOutAgainEmptyAndWithOneReference() {
        ByteBuf a = recycler.directBuffer(K64 + 100);
        assertEquals(2 * K64, a.capacity(), "rounded up to a 64 KiB step");
        assertEquals(a.capacity(), a.maxCapacity(), "never grows in place");
        assertTrue(a.isDirect());
        a.writeLong(42).readByte();
        ByteBuf dup = a.retainedDuplicate();
        a.release();
        assertEquals(0, recycler.idleBytes(), "a derived buffer still holds it");
        dup.release();
        assertEquals(2 * K64, recycler.idleBytes());

        ByteBuf b = recycler.directBuffer(2 * K64);
        assertSame(inner(a), inner(b), "the same memory, in a new leak-tracking wrapper");
        assertEquals(1, b.refCnt());
        assertEquals(0, b.readerIndex());
        assertEquals(0, b.writerIndex());
        assertEquals(0, recycler.idleBytes());
        assertArrayEquals(new long[] {1, 1}, recycler.counts());
        b.release();
        assertThrows(IllegalReferenceCountException.class, b::release, "a double release is still caught");
    }

    @Test
    void smallAndHugeRequestsGoToTheFallbackAllocator() {
        ByteBuf small = recycler.directBuffer(4096);
        ByteBuf huge = recycler.directBuffer(BufferRecycler.MAX_RECYCLED_BYTES + 1);
        small.release();
        huge.release();
        assertEquals(0, recycler.idleBytes());
        assertArrayEquals(new long[] {0, 0}, recycler.counts());
    }

    @Test
    void idleMemoryIsCappedAndOtherCapacitiesAreEvictedFirst() {
        ByteBuf[] old = new ByteBuf[4];
        for (int i = 0; i < old.length; i++) {
            old[i] = recycler.directBuffer(K64);
        }
        for (ByteBuf b : old) {
            b.release();
        }
        assertEquals(4 * K64, recycler.idleBytes());
        ByteBuf[] now = {recycler.directBuffer(4 * K64), recycler.directBuffer(4 * K64), recycler.directBuffer(4 * K64),
            recycler.directBuffer(4 * K64), recycler.directBuffer(4 * K64)};
        for (ByteBuf b : now) {
            b.release();
        }
        assertEquals(16 * K64, recycler.idleBytes(), "the cap (16 x 64 KiB) holds 4 of the new size, no old ones");
        ByteBuf reused = recycler.directBuffer(K64);
        assertTrue(java.util.Arrays.stream(old).noneMatch(b -> inner(b) == inner(reused)), "the 64 KiB buffers were freed");
        reused.release();
    }

    @Test
    void trimFreesOnlyBuffersIdleLongerThanTheLimit() throws InterruptedException {
        ByteBuf a = recycler.directBuffer(K64);
        a.release();
        Thread.sleep(2);
        long between = System.nanoTime();
        Thread.sleep(2);
        ByteBuf b = recycler.directBuffer(2 * K64);
        b.release();
        recycler.trimIdle(System.nanoTime(), System.nanoTime() - between);
        assertEquals(2 * K64, recycler.idleBytes(), "only the older buffer was trimmed");
        ByteBuf again = recycler.directBuffer(K64);
        assertNotSame(inner(a), inner(again));
        again.release();
    }

    @Test
    void afterCloseReleasedBuffersAreFreedAndCloseIsIdempotent() {
        ByteBuf held = recycler.directBuffer(K64);
        recycler.directBuffer(K64).release();
        recycler.close();
        recycler.close();
        assertEquals(0, recycler.idleBytes());
        held.release();
        assertEquals(0, recycler.idleBytes());
        assertEquals(0, held.refCnt());
    }
}
