package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.spi.BlockCompressor;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.StateRegions;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The seeded round's frame writer: batches compressed by several threads still leave in the order handed over. */
class SeedFrameWriterTest {
    private static final int PAGE = 4096;
    private static final int PAGES = 64;

    private final StateRegion region;

    SeedFrameWriterTest() {
        byte[] content = new byte[PAGES * PAGE];
        new Random(7).nextBytes(content);
        region = StateRegions.ofBuffer("ram", ByteBuffer.wrap(content));
    }

    /** Stores blocks as they are behind a u32 length; a hook runs before each block (on the compressing thread). */
    private static final class Stored implements BlockCompressor {
        final AtomicInteger calls = new AtomicInteger();
        volatile java.util.function.IntConsumer before = n -> { };
        /** Throws when it is handed a block that starts with these 8 bytes (null: never). */
        volatile byte[] failOn;

        @Override
        public String name() {
            return "stored";
        }

        @Override
        public int formatId() {
            return 5;
        }

        @Override
        public int maxCompressedLength(int length) {
            return length + 4;
        }

        @Override
        public int compress(byte[] src, int srcOffset, int length, byte[] dst, int dstOffset) {
            before.accept(calls.getAndIncrement());
            byte[] f = failOn;
            if (f != null && java.util.Arrays.equals(src, srcOffset, srcOffset + 8, f, 0, 8)) {
                throw new DwcpException(ErrorCode.INTERNAL_ERROR, "compressor failed");
            }
            ByteBuffer.wrap(dst, dstOffset, 4).putInt(length);
            System.arraycopy(src, srcOffset, dst, dstOffset + 4, length);
            return length + 4;
        }

        @Override
        public void decompress(byte[] src, int srcOffset, int length, byte[] dst, int dstOffset, int expected) {
            System.arraycopy(src, srcOffset + 4, dst, dstOffset, expected);
        }
    }

    /** Hands over one batch per page, a literal each; {@return the frames written, in order} */
    private static List<byte[]> write(StateRegion region, Stored compressor, int threads,
                                      io.dwcp.core.spi.FrameSink inner) throws Exception {
        List<byte[]> frames = new ArrayList<>();
        try (SeedFrameWriter w = new SeedFrameWriter(region, PAGE, 5, compressor, f -> {
            inner.accept(f);
            byte[] b = new byte[f.remaining()];
            f.duplicate().get(b);
            synchronized (frames) {
                frames.add(b);
            }
        }, threads)) {
            w.base(new byte[16]);
            for (int p = 0; p < PAGES; p++) {
                w.batch(new int[]{p}, new int[]{SeedWire.SOURCE_LITERAL}, new long[1], 0, 1);
            }
            w.end(new byte[32], PAGES);
            w.finish();
        }
        return frames;
    }

    @Test
    void framesLeaveInTheOrderTheirBatchesCameEvenWhenALaterOneIsCompressedFirst() throws Exception {
        Stored one = new Stored();
        List<byte[]> expected = write(region, one, 1, f -> { });

        Stored several = new Stored();
        CountDownLatch laterDone = new CountDownLatch(1);
        // The first batch's compression waits until the second one's has finished (on another thread).
        several.before = n -> {
            if (n == 0) {
                await(laterDone);
            } else if (n == 1) {
                laterDone.countDown();
            }
        };
        List<byte[]> frames = write(region, several, 3, f -> { });
        assertEquals(PAGES + 2, frames.size());
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i), frames.get(i), "frame " + i);
        }
        assertEquals(PAGES, several.calls.get());
    }

    @Test
    void atMostTwoBatchesPerThreadAreCompressedAheadOfTheOneBeingWritten() throws Exception {
        int threads = 2;
        int ahead = 2 * threads;
        Stored c = new Stored();
        AtomicInteger written = new AtomicInteger();
        AtomicInteger worst = new AtomicInteger();
        CountDownLatch aheadStarted = new CountDownLatch(ahead);
        c.before = n -> {
            worst.accumulateAndGet(n + 1 - written.get(), Math::max);
            aheadStarted.countDown();
        };
        List<byte[]> frames = write(region, c, threads, f -> {
            if (f.get(0) == SeedWire.FRAME_FORMAT_BATCH) {
                // The first batch is not written until as many batches as may be ahead were started.
                await(aheadStarted);
                written.incrementAndGet();
            }
        });
        assertEquals(PAGES + 2, frames.size());
        assertTrue(worst.get() <= ahead, "compressed ahead of the writer: " + worst.get() + " > " + ahead);
    }

    @Test
    void aFailedCompressionFailsTheRoundAndLaterFramesAreNotWritten() throws Exception {
        Stored c = new Stored();
        // The batch of page 5 fails, whichever thread compresses it and whenever.
        c.failOn = new byte[8];
        region.read(5L * PAGE, ByteBuffer.wrap(c.failOn));
        List<ByteBuffer> seen = new ArrayList<>();
        SeedFrameWriter w = new SeedFrameWriter(region, PAGE, 5, c, f -> {
            synchronized (seen) {
                seen.add(f);
            }
        }, 2);
        try {
            w.base(new byte[16]);
            for (int p = 0; p < PAGES; p++) {
                w.batch(new int[]{p}, new int[]{SeedWire.SOURCE_LITERAL}, new long[1], 0, 1);
            }
            w.end(new byte[32], PAGES);
            DwcpException e = assertThrows(DwcpException.class, w::finish);
            assertTrue(e.getMessage().endsWith("compressor failed"), e.getMessage());
            synchronized (seen) {
                assertEquals(1 + 5, seen.size(), "BASE and the batches before the failed one");
            }
        } finally {
            w.close();
            w.close();
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("latch not reached");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
