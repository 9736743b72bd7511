package io.dwcp.core.migration;

import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.StateRegions;
import io.dwcp.core.state.VmState;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link LiveSnapshot}: the first read of a piece fixes its bytes for every later read, whoever reads. */
class LiveSnapshotTest {
    private static final int PIECE = LiveSnapshot.PIECE_BYTES;

    private static VmState<StateRegion> state(ByteBuffer live) {
        return VmState.<StateRegion>builder("vm").pageSizeBytes(4096).lastPagePartial(true)
                .region(StateRegions.ofBuffer("ram", live)).build();
    }

    @Test
    void laterReadsGetTheBytesOfTheFirstReadInHeapAndDirectBuffers() throws Exception {
        int size = 4 * PIECE + 4096 + 17;
        byte[] first = new byte[size];
        new Random(1).nextBytes(first);
        ByteBuffer live = ByteBuffer.wrap(first.clone());
        try (LiveSnapshot region = LiveSnapshot.of(state(live)).region(0)) {
            // Piece 2 read first, in full, into a heap buffer (the way the hasher reads): it gets the live bytes.
            ByteBuffer p2 = ByteBuffer.allocate(PIECE);
            region.read(2L * PIECE, p2);
            assertArrayEquals(java.util.Arrays.copyOfRange(first, 2 * PIECE, 3 * PIECE), p2.array());
            // The guest writes everywhere.
            byte[] second = new byte[size];
            new Random(2).nextBytes(second);
            live.clear().put(second);
            // A read over pieces 1 (new), 2 (copied before) and 3 (new), into a direct buffer: piece by piece.
            ByteBuffer span = ByteBuffer.allocateDirect(3 * PIECE - 200);
            region.read(PIECE + 100, span);
            span.flip();
            byte[] got = new byte[span.remaining()];
            span.get(got);
            byte[] want = new byte[got.length];
            System.arraycopy(second, PIECE + 100, want, 0, PIECE - 100);
            System.arraycopy(first, 2 * PIECE, want, PIECE - 100, PIECE);
            System.arraycopy(second, 3 * PIECE, want, 2 * PIECE - 100, PIECE - 100);
            assertArrayEquals(want, got);
            assertEquals(3, region.piecesCopied());
            // The guest writes again: whatever was read once stays as it was read, small reads included.
            live.clear().put(first);
            ByteBuffer again = ByteBuffer.allocate(got.length);
            region.read(PIECE + 100, again);
            assertArrayEquals(want, again.array());
            ByteBuffer page = ByteBuffer.allocate(4096);
            region.read(2L * PIECE + 4096, page);
            assertArrayEquals(java.util.Arrays.copyOfRange(first, 2 * PIECE + 4096, 2 * PIECE + 8192), page.array());
            // The partial last piece.
            ByteBuffer tail = ByteBuffer.allocate(size - 4 * PIECE);
            region.read(4L * PIECE, tail);
            assertArrayEquals(java.util.Arrays.copyOfRange(first, 4 * PIECE, size), tail.array());
        }
    }

    @Test
    void threadsReadingWhileTheGuestWritesAllSeeOneCopyOfEachPiece() throws Exception {
        int pieces = 8;
        ByteBuffer live = ByteBuffer.allocateDirect(pieces * PIECE);
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(5);
        try (LiveSnapshot region = LiveSnapshot.of(state(live)).region(0)) {
            // A writer that keeps changing every piece: a snapshot that re-read the live memory would show it.
            Future<?> writer = pool.submit(() -> {
                ByteBuffer w = live.duplicate();
                long n = 0;
                while (!stop.get()) {
                    for (int p = 0; p < pieces; p++) {
                        w.putLong(p * PIECE + (int) (n % (PIECE / 8)) * 8, ++n);
                    }
                }
                return null;
            });
            CountDownLatch go = new CountDownLatch(1);
            List<Future<byte[][]>> readers = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int seed = t;
                readers.add(pool.submit(() -> {
                    go.await();
                    byte[][] seen = new byte[pieces][];
                    Random r = new Random(seed);
                    for (int k = 0; k < 3 * pieces; k++) {
                        int p = r.nextInt(pieces);
                        ByteBuffer b = ByteBuffer.allocate(PIECE);
                        region.read((long) p * PIECE, b);
                        if (seen[p] != null) {
                            assertArrayEquals(seen[p], b.array(), "piece " + p + " changed between two reads");
                        }
                        seen[p] = b.array();
                    }
                    return seen;
                }));
            }
            go.countDown();
            List<byte[][]> all = new ArrayList<>();
            for (Future<byte[][]> f : readers) {
                all.add(f.get(60, TimeUnit.SECONDS));
            }
            stop.set(true);
            writer.get(60, TimeUnit.SECONDS);
            for (int p = 0; p < pieces; p++) {
                ByteBuffer b = ByteBuffer.allocate(PIECE);
                region.read((long) p * PIECE, b);
                for (byte[][] seen : all) {
                    if (seen[p] != null) {
                        assertArrayEquals(b.array(), seen[p], "two readers saw different copies of piece " + p);
                    }
                }
            }
            assertEquals(pieces, region.piecesCopied());
        } finally {
            stop.set(true);
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(60, TimeUnit.SECONDS));
        }
    }

    @Test
    void closingUnmapsTheCopyAndLaterReadsFail() throws Exception {
        ByteBuffer live = ByteBuffer.allocate(2 * PIECE);
        LiveSnapshot region = LiveSnapshot.of(state(live)).region(0);
        region.read(0, ByteBuffer.allocate(PIECE));
        region.read(0, ByteBuffer.allocate(PIECE)); // from the mapping
        region.close();
        region.close(); // idempotent
        assertThrows(IOException.class, () -> region.read(0, ByteBuffer.allocate(1)));
        assertThrows(IOException.class, () -> region.read(PIECE, ByteBuffer.allocate(1)));
    }
}
