package io.dwcp.core.migration;

import io.dwcp.core.spi.BlockCompressor;
import io.dwcp.core.spi.FrameSink;
import io.dwcp.core.state.StateRegions;
import io.dwcp.core.state.WritableRegion;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.zip.Deflater;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Batches encoded ahead on an executor are sent exactly as the writer thread would send them, in order. */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SeedFrameWriterTest {
    private static final int PAGE = 4096;
    private static final int PAGES = 4096;

    /** DEFLATE through the compressor SPI (deterministic, and compresses, unlike a stored format). */
    private static final class DeflateBlocks implements BlockCompressor {
        @Override
        public String name() {
            return "test-deflate";
        }

        @Override
        public int formatId() {
            return 6;
        }

        @Override
        public int maxCompressedLength(int length) {
            return length + length / 8 + 1024;
        }

        @Override
        public int compress(byte[] src, int srcOffset, int length, byte[] dst, int dstOffset) {
            Deflater d = new Deflater(1, true);
            try {
                d.setInput(src, srcOffset, length);
                d.finish();
                int n = d.deflate(dst, dstOffset, dst.length - dstOffset);
                assertTrue(d.finished(), "room for the whole block");
                return n;
            } finally {
                d.end();
            }
        }

        @Override
        public void decompress(byte[] src, int srcOffset, int length, byte[] dst, int dstOffset, int expected) {
            throw new UnsupportedOperationException("not read back here");
        }
    }

    private static WritableRegion state(long seed) {
        ByteBuffer b = ByteBuffer.allocate(PAGES * PAGE);
        Random r = new Random(seed);
        for (int p = 0; p < PAGES; p++) {
            // Compressible pages: a few distinct bytes per page.
            byte[] page = new byte[PAGE];
            for (int i = 0; i < PAGE; i++) {
                page[i] = (byte) (r.nextInt(4) + p);
            }
            b.put(page);
        }
        return StateRegions.ofBuffer("mem", b.flip());
    }

    /** Writes the same 40 batches (literals, zeros, patches, copies) and returns every byte sent. */
    private static byte[] send(WritableRegion region, ExecutorService encoders) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        FrameSink sink = f -> {
            byte[] b = new byte[f.remaining()];
            f.get(b);
            out.write(b);
        };
        SeedFrameWriter w = new SeedFrameWriter(region, PAGE, 6, new DeflateBlocks(), sink, encoders);
        try {
            w.base(new byte[16]);
            Random r = new Random(7);
            int page = 0;
            for (int batch = 0; batch < 40; batch++) {
                int n = 1 + r.nextInt(90);
                int[] pages = new int[n];
                int[] sources = new int[n];
                byte[] masks = new byte[n];
                for (int k = 0; k < n; k++) {
                    pages[k] = page++;
                    int kind = r.nextInt(4);
                    sources[k] = kind == 0 ? SeedWire.SOURCE_LITERAL : kind == 1 ? SeedWire.SOURCE_ZERO
                            : kind == 2 ? SeedWire.SOURCE_PATCH : r.nextInt(PAGES);
                    masks[k] = (byte) (kind == 2 ? 0b1010_0101 : 0);
                }
                w.batch(pages, sources, masks, 0, n);
            }
            w.end(new byte[32], PAGES);
            long written = w.finish();
            assertEquals(out.size(), written);
        } finally {
            w.close();
        }
        return out.toByteArray();
    }

    @Test
    void encodingAheadOnAPoolSendsTheSameBytesInTheSameOrderAsTheWriterThread() throws Exception {
        WritableRegion region = state(11);
        byte[] alone = send(region, null);
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            for (int i = 0; i < 3; i++) {
                assertArrayEquals(alone, send(region, pool), "run " + i);
            }
        } finally {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void aPoolThatStoppedFailsTheRoundInsteadOfHangingIt() throws Exception {
        ThreadPoolExecutor pool = (ThreadPoolExecutor) Executors.newFixedThreadPool(1);
        pool.shutdown();
        FrameSink sink = f -> { };
        SeedFrameWriter w = new SeedFrameWriter(state(3), PAGE, 6, new DeflateBlocks(), sink, pool);
        try {
            w.batch(new int[]{0, 1}, new int[]{SeedWire.SOURCE_LITERAL, SeedWire.SOURCE_LITERAL}, new byte[2], 0, 2);
            w.end(new byte[32], PAGES);
            Throwable t = assertThrows(Exception.class, w::finish);
            while (t.getCause() != null) {
                t = t.getCause();
            }
            assertTrue(t instanceof java.util.concurrent.RejectedExecutionException, t.toString());
        } finally {
            w.close();
        }
    }
}
