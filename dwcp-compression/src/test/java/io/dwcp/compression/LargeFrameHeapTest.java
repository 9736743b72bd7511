package io.dwcp.compression;

import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.DecodeResult;
import io.dwcp.core.spi.StateDecoder;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.StateRegions;
import io.dwcp.core.state.VmState;
import io.dwcp.core.state.WritableRegion;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A codec frame announced at 64 MiB (one BATCH of 16,384 incompressible pages, the largest a peer may send under a
 * raised max-decoded-frame) is decoded byte-exact without its payload ever going onto the heap: the decoder keeps its
 * copy of the lent frame off-heap and zstd/stored pages are read from there. Heap allocated by every thread during the
 * decode is measured (HotSpot's per-thread allocation counters) and must stay far below the frame's size; before, the
 * payload was copied into a heap array of the frame's size.
 */
class LargeFrameHeapTest {
    private static final int PAGE = 4096;
    private static final int PAGES = 16_384;
    /**
     * A quarter of the frame: the round's per-page tables (hashes, the baseline's index) take about 10 MB of heap at
     * 16,384 pages; a heap copy of the payload alone would be 64 MiB (94 MB were measured before the fix).
     */
    private static final long HEAP_BOUND = 16L << 20;
    private HdeCodec codec;

    @AfterEach
    void stop() throws Exception {
        if (codec != null) {
            codec.stop();
        }
    }

    @Test
    void a64MiBFrameIsDecodedExactlyWithBoundedHeap() {
        DwcpConfig config = DwcpConfig.builder().set("dwcp.compression.max-decoded-frame", "96MiB").build();
        codec = Rounds.codec(config, Clock.systemUTC(), 2);
        ByteBuffer source = ByteBuffer.allocateDirect(PAGES * PAGE);
        SplittableRandom random = new SplittableRandom(16);
        while (source.hasRemaining()) {
            source.putLong(random.nextLong());
        }
        source.clear();
        VmState<StateRegion> state = VmState.<StateRegion>builder("big").pageSizeBytes(PAGE)
                .region(StateRegions.ofBuffer("ram", source.asReadOnlyBuffer())).build();

        // One keyframe round: BEGIN, a single stored BATCH of every page, END.
        RoundFrames frames = new RoundFrames(codec, "big", Layout.of(state), null, 0, 0x77, 0x1001, 0);
        ByteBuffer raw = ByteBuffer.allocateDirect(PAGES + PAGES * PAGE);
        long digest = 0;
        for (int p = 0; p < PAGES; p++) {
            raw.put(p, (byte) Wire.OP_LITERAL);
            digest += PageHash.mix(p, PageHash.hash(source, p * PAGE, PAGE));
        }
        raw.put(PAGES, source, 0, PAGES * PAGE);
        byte[] begin = frames.begin();
        FramePool.Lease batch = frames.batch(raw, raw.capacity(), PAGES, 0, PAGES, 0, 1, PAGES);
        ByteBuffer batchFrame = batch.buffer().duplicate().position(0);
        assertTrue(batchFrame.remaining() > 64 << 20, "the frame is announced at 64 MiB and more");
        byte[] end = frames.end(1, PAGES, digest, begin.length + (long) batchFrame.remaining());

        ByteBuffer replicaBytes = ByteBuffer.allocateDirect(PAGES * PAGE);
        VmState<WritableRegion> replica = VmState.<WritableRegion>builder("big").pageSizeBytes(PAGE)
                .region(StateRegions.ofBuffer("ram", replicaBytes)).build();
        Map<Long, Long> before = allocatedPerThread();
        DecodeResult result;
        try (StateDecoder d = codec.newDecoder(replica)) {
            d.accept(ByteBuffer.wrap(begin));
            d.accept(batchFrame);
            d.accept(ByteBuffer.wrap(end));
            result = d.finish();
        } finally {
            batch.run();
        }
        long allocated = allocatedSince(before);

        assertEquals(digest, result.baseline().digest());
        assertEquals(0, replicaBytes.clear().compareTo(source.clear()), "the replica is byte-exact");
        assertTrue(allocated < HEAP_BOUND, "decoding a 64 MiB frame allocated " + allocated + " bytes of heap (bound "
                + HEAP_BOUND + ")");
    }

    private static com.sun.management.ThreadMXBean threads() {
        com.sun.management.ThreadMXBean t = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        t.setThreadAllocatedMemoryEnabled(true);
        return t;
    }

    private static Map<Long, Long> allocatedPerThread() {
        long[] ids = threads().getAllThreadIds();
        long[] bytes = threads().getThreadAllocatedBytes(ids);
        Map<Long, Long> m = new HashMap<>();
        for (int i = 0; i < ids.length; i++) {
            m.put(ids[i], Math.max(0, bytes[i]));
        }
        return m;
    }

    /** Heap allocated since {@code before} by every live thread (threads started since count from their start). */
    private static long allocatedSince(Map<Long, Long> before) {
        long[] ids = threads().getAllThreadIds();
        long[] bytes = threads().getThreadAllocatedBytes(ids);
        return sum(ids, bytes, before);
    }

    private static long sum(long[] ids, long[] bytes, Map<Long, Long> before) {
        long total = 0;
        for (int i = 0; i < ids.length; i++) {
            if (bytes[i] > 0) {
                total += bytes[i] - before.getOrDefault(ids[i], 0L);
            }
        }
        return total;
    }
}
