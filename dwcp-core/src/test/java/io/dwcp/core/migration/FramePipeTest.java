package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 10, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class FramePipeTest {
    private static byte[] drain(FramePipe pipe, int readSize) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer buf = ByteBuffer.allocate(readSize);
        while (pipe.read(buf.clear()) >= 0) {
            out.write(buf.array(), 0, buf.position());
        }
        return out.toByteArray();
    }

    @Test
    void headerThenLengthPrefixedFramesThenEndMarker() throws Exception {
        FramePipe pipe = new FramePipe(ByteBuffer.wrap(new byte[]{9, 9}), 1 << 20);
        pipe.accept(ByteBuffer.wrap(new byte[]{1, 2, 3}));
        pipe.accept(ByteBuffer.wrap(new byte[]{4}));
        pipe.finish();
        assertArrayEquals(new byte[]{9, 9, 0, 0, 0, 3, 1, 2, 3, 0, 0, 0, 1, 4, 0, 0, 0, 0}, drain(pipe, 5));
    }

    @Test
    void handedOverFramesAreQueuedWithoutACopyAndReadTheSame() throws Exception {
        FramePipe pipe = new FramePipe(ByteBuffer.wrap(new byte[]{9, 9}), 1 << 20);
        byte[] owned = {0, 1, 2, 3, 0};
        pipe.acceptOwned(ByteBuffer.wrap(owned, 1, 3));
        pipe.accept(ByteBuffer.wrap(new byte[]{4}));
        owned[2] = 7;                                  // handed over: the pipe holds the array itself, not a copy
        pipe.finish();
        assertArrayEquals(new byte[]{9, 9, 0, 0, 0, 3, 1, 7, 3, 0, 0, 0, 1, 4, 0, 0, 0, 0}, drain(pipe, 5));
    }

    @Test
    void aLentFrameIsReleasedOnceWhenItsLastByteIsRead() throws Exception {
        FramePipe pipe = new FramePipe(ByteBuffer.wrap(new byte[]{9}), 1 << 20);
        java.util.concurrent.atomic.AtomicInteger released = new java.util.concurrent.atomic.AtomicInteger();
        pipe.acceptLent(ByteBuffer.wrap(new byte[]{1, 2, 3, 4}), released::incrementAndGet);
        pipe.finish();
        ByteBuffer dst = ByteBuffer.allocate(7);
        assertEquals(7, pipe.read(dst));                // header, prefix, 2 of the frame's 4 bytes
        assertEquals(0, released.get(), "still being read");
        assertEquals(6, pipe.read(ByteBuffer.allocate(16)));
        assertEquals(1, released.get());
        assertEquals(-1, pipe.read(ByteBuffer.allocate(16)));
        assertEquals(1, released.get());
    }

    @Test
    void lentFramesStillQueuedAreReleasedOnFailureAndCloseAndARefusedOneAtOnce() throws Exception {
        java.util.concurrent.atomic.AtomicInteger released = new java.util.concurrent.atomic.AtomicInteger();
        FramePipe failed = new FramePipe(ByteBuffer.allocate(0), 1 << 20);
        failed.acceptLent(ByteBuffer.allocate(10), released::incrementAndGet);
        failed.acceptLent(ByteBuffer.allocate(10), released::incrementAndGet);
        failed.fail(new IllegalStateException("link lost"));
        assertEquals(2, released.get());
        DwcpException refused = assertThrows(DwcpException.class,
                () -> failed.acceptLent(ByteBuffer.allocate(10), released::incrementAndGet));
        assertEquals(ErrorCode.CANCELLED, refused.code());
        assertEquals(3, released.get(), "a refused frame is released before the error");

        FramePipe closed = new FramePipe(ByteBuffer.allocate(0), 1 << 20);
        closed.acceptLent(ByteBuffer.allocate(10), released::incrementAndGet);
        closed.close();
        closed.close();
        assertEquals(4, released.get());
    }

    @Test
    void aHandedOverFrameAndItsPrefixCountAgainstTheCapacityTogether() throws Exception {
        FramePipe pipe = new FramePipe(ByteBuffer.allocate(0), 100);
        pipe.acceptOwned(ByteBuffer.allocate(60));
        CompletableFuture<Void> second = CompletableFuture.runAsync(() -> {
            try {
                pipe.acceptOwned(ByteBuffer.allocate(60));
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(100);
        assertFalse(second.isDone(), "64 + 64 bytes exceed the 100-byte pipe: the second frame waits");
        assertEquals(64, pipe.read(ByteBuffer.allocate(64)));
        second.get(5, TimeUnit.SECONDS);
        pipe.finish();
        assertEquals(64 + 4, drain(pipe, 7).length);
    }

    @Test
    void writerBlocksWhenFullAndResumesAsTheReaderDrains() throws Exception {
        FramePipe pipe = new FramePipe(ByteBuffer.allocate(0), 100);
        CountDownLatch wroteAll = new CountDownLatch(1);
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try {
                for (int i = 0; i < 10; i++) {
                    pipe.accept(ByteBuffer.allocate(60));
                }
                pipe.finish();
                wroteAll.countDown();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        assertFalse(wroteAll.await(200, TimeUnit.MILLISECONDS), "writer must block on a full pipe");
        assertEquals(10 * 64 + 4, drain(pipe, 7).length);
        writer.get(5, TimeUnit.SECONDS);
    }

    @Test
    void oneFrameLargerThanTheCapacityPassesAlone() throws Exception {
        FramePipe pipe = new FramePipe(ByteBuffer.allocate(0), 10);
        pipe.accept(ByteBuffer.allocate(1000));
        pipe.finish();
        assertEquals(1008, drain(pipe, 64).length);
    }

    @Test
    void encoderFailureReachesTheReader() {
        FramePipe pipe = new FramePipe(ByteBuffer.allocate(0), 10);
        pipe.fail(new IllegalStateException("zstd blew up"));
        IOException e = assertThrows(IOException.class, () -> pipe.read(ByteBuffer.allocate(4)));
        assertTrue(e.getMessage().contains("zstd blew up"));
    }

    @Test
    void closedByTheTransportStopsTheEncoder() {
        FramePipe pipe = new FramePipe(ByteBuffer.allocate(0), 10);
        pipe.close();
        DwcpException e = assertThrows(DwcpException.class, () -> pipe.accept(ByteBuffer.allocate(1)));
        assertEquals(ErrorCode.CANCELLED, e.code());
    }
}
