package io.dwcp.compression;

import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.EncodeOptions;
import io.dwcp.core.spi.FrameSink;
import io.dwcp.core.testing.ManualClock;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Pooled frame buffers: size classes, reuse, single release, bounds, and no lease left behind by a round. */
class FramePoolTest {
    @Test
    void sizeClassesArePowersOfTwoFrom64KiBAndLargeFramesHaveNone() {
        assertEquals(0, FramePool.classOf(1));
        assertEquals(0, FramePool.classOf(64 << 10));
        assertEquals(1, FramePool.classOf((64 << 10) + 1));
        assertEquals(7, FramePool.classOf(8 << 20));
        assertEquals(-1, FramePool.classOf((8 << 20) + 1));
    }

    @Test
    void aReleasedBufferIsReusedOnceAndASecondReleaseDoesNothing() {
        try (FramePool pool = new FramePool(1 << 20)) {
            FramePool.Lease a = pool.take(100_000);
            assertEquals(100_000, a.buffer().limit());
            assertEquals(128 << 10, a.buffer().capacity());
            assertTrue(a.buffer().isDirect());
            a.run();
            a.run();
            assertEquals(128 << 10, pool.pooledBytes(), "pooled once, not twice");
            FramePool.Lease b = pool.take(70_000);
            FramePool.Lease c = pool.take(70_000);
            assertSame(a.buffer(), b.buffer(), "same class: reused");
            assertNotSame(b.buffer(), c.buffer(), "a buffer is never lent twice at once");
            assertEquals(2, pool.outstanding());
            b.run();
            c.run();
            assertEquals(0, pool.outstanding());
        }
    }

    @Test
    void freeBuffersStayUnderTheBoundAndCloseFreesThemAndLaterReleases() {
        FramePool pool = new FramePool(256 << 10);
        List<FramePool.Lease> leases = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            leases.add(pool.take(128 << 10));
        }
        leases.forEach(FramePool.Lease::run);
        assertEquals(256 << 10, pool.pooledBytes(), "two of four kept");
        FramePool.Lease late = pool.take(128 << 10);
        pool.close();
        pool.close();
        assertEquals(0, pool.pooledBytes());
        late.run();
        assertEquals(0, pool.pooledBytes(), "released after close: freed, not pooled");
        pool.open();
        pool.take(1).run();
        assertEquals(64 << 10, pool.pooledBytes(), "pools again after open");
        pool.close();
    }

    @Test
    void aRoundLendsEveryBatchFrameAndTheSinkReleaseReturnsIt() {
        HdeCodec c = Rounds.codec(DwcpConfig.builder().set("dwcp.compression.batch-size", "64KiB").build(),
                new ManualClock(), 2);
        try {
            byte[] s = RoundTripTest.memoryLike(64 * 4096, 3);
            List<byte[]> frames = new ArrayList<>();
            int[] lent = new int[1];
            FrameSink keeping = new FrameSink() {
                @Override
                public void accept(ByteBuffer frame) {
                    byte[] b = new byte[frame.remaining()];
                    frame.get(b);
                    frames.add(b);
                }

                @Override
                public void acceptLent(ByteBuffer frame, Runnable release) {
                    assertTrue(frame.isDirect(), "batch frames are built off the heap");
                    assertTrue(c.frames().outstanding() >= 1, "lent, not yet released");
                    lent[0]++;
                    accept(frame);
                    release.run();
                }
            };
            c.encode(Rounds.state("k", 4096, s), EncodeOptions.keyframe(), keeping).join();
            assertTrue(lent[0] >= 4, "a 256 KiB state in 64 KiB batches: several lent frames, got " + lent[0]);
            assertEquals(0, c.frames().outstanding());
            byte[] replica = new byte[s.length];
            Rounds.decode(c, Rounds.replica("k", 4096, replica), frames);
            assertArrayEquals(s, replica, "frames built in reused buffers decode to the state");
        } finally {
            stop(c);
        }
    }

    @Test
    void aLentFrameHoldsABufferOfItsOwnSizeClassNotTheWorstCases() {
        // 1 MiB batches (the default) of compressible pages: each frame is built in a buffer for zstd's bound (the
        // 2 MiB class), but what a sink holds must be at most the power of two above the frame's length.
        HdeCodec c = Rounds.codec(DwcpConfig.builder().build(), new ManualClock(), 2);
        try {
            byte[] s = RoundTripTest.memoryLike(1024 * 4096, 5);
            List<byte[]> frames = new ArrayList<>();
            int[] small = new int[1];
            FrameSink checking = new FrameSink() {
                @Override
                public void accept(ByteBuffer frame) {
                    byte[] b = new byte[frame.remaining()];
                    frame.get(b);
                    frames.add(b);
                }

                @Override
                public void acceptLent(ByteBuffer frame, Runnable release) {
                    int length = frame.remaining();
                    assertTrue(frame.capacity() <= Math.max(FramePool.MIN_CLASS_BYTES, 2L * length),
                            "a " + length + "-byte frame lent in a " + frame.capacity() + "-byte buffer");
                    if (length < (1 << 20)) {
                        small[0]++;
                    }
                    accept(frame);
                    release.run();
                }
            };
            c.encode(Rounds.state("k", 4096, s), EncodeOptions.keyframe(), checking).join();
            assertTrue(small[0] >= 3, "compressed frames below 1 MiB: " + small[0]);
            assertEquals(0, c.frames().outstanding());
            byte[] replica = new byte[s.length];
            Rounds.decode(c, Rounds.replica("k", 4096, replica), frames);
            assertArrayEquals(s, replica, "frames moved into their own class decode to the state");
        } finally {
            stop(c);
        }
    }

    @Test
    void aSinkThatFailsLeavesNoFrameLent() {
        HdeCodec c = Rounds.codec(DwcpConfig.builder().set("dwcp.compression.batch-size", "64KiB").build(),
                new ManualClock(), 2);
        try {
            byte[] s = RoundTripTest.memoryLike(256 * 4096, 4);
            int[] seen = new int[1];
            FrameSink failing = new FrameSink() {
                @Override
                public void accept(ByteBuffer frame) {
                    if (++seen[0] == 3) {
                        throw new IllegalStateException("sink broke");
                    }
                }
            };
            assertThrows(CompletionException.class,
                    () -> c.encode(Rounds.state("k", 4096, s), EncodeOptions.keyframe(), failing).join());
            assertEquals(0, c.frames().outstanding(),
                    "the failing frame was released by the sink, the coded but unsent ones by the round");
        } finally {
            stop(c);
        }
    }

    private static void stop(HdeCodec c) {
        try {
            c.stop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
