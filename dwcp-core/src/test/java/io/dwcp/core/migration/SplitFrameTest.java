package io.dwcp.core.migration;

import io.dwcp.core.spi.DecodeResult;
import io.dwcp.core.spi.StateCodec;
import io.dwcp.core.spi.StateDecoder;
import io.dwcp.core.state.StateRegions;
import io.dwcp.core.state.VmState;
import io.dwcp.core.state.WritableRegion;
import io.dwcp.core.transport.InboundTransfer;
import io.dwcp.core.transport.TransferKind;
import io.dwcp.core.transport.TransferSink;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A codec frame that arrives split across many transport chunks is assembled off-heap, in a direct buffer reserved
 * in the receive budget, and lent to the decoder from there: the receiving thread's heap does not grow with the frame.
 * A 64 MiB frame in 64 KiB chunks must arrive byte-exact and allocate far less heap than its size (before, it was
 * assembled in a heap buffer that grew to the frame's size).
 */
class SplitFrameTest {
    private static final int MIB = 1 << 20;
    private static final int FRAME = 64 * MIB;
    private static final int CHUNK = 64 << 10;

    /** What the decoder saw: each frame's length, CRC32C and whether it was off-heap. */
    private record Seen(int length, long crc, boolean direct) {
    }

    @Test
    void a64MiBFrameSplitInChunksIsAssembledOffHeapWithinTheBudget() throws Exception {
        List<Seen> seen = new ArrayList<>();
        StateDecoder decoder = new StateDecoder() {
            @Override
            public void accept(ByteBuffer frame) {
                CRC32C crc = new CRC32C();
                boolean direct = frame.isDirect();
                int length = frame.remaining();
                crc.update(frame);
                seen.add(new Seen(length, crc.getValue(), direct));
            }

            @Override
            public DecodeResult finish() {
                return null;
            }

            @Override
            public void close() {
            }
        };
        StateCodec codec = (StateCodec) Proxy.newProxyInstance(StateCodec.class.getClassLoader(),
                new Class<?>[]{StateCodec.class}, (p, m, a) -> m.getName().equals("newDecoder") ? decoder : null);
        ReplicaFactory replicas = (key, pageSize, regions) -> VmState.<WritableRegion>builder(key).pageSizeBytes(pageSize)
                .region(StateRegions.allocateDirect("ram", (int) regions.get(0).sizeBytes())).build();
        ReceiveBuffers budget = ReceiveBuffers.of(128 * MIB, 80 * MIB);
        List<MigrationReceiver.FailedRound> failed = new ArrayList<>();
        MigrationReceiver receiver = new MigrationReceiver(codec, replicas, r -> { }, failed::add, budget);
        TransferSink sink = receiver.onTransfer(null, new InboundTransfer(1, TransferKind.MEMORY, "vm", -1));

        ByteBuffer header = MigrationWire.roundHeader(1, 4096, List.of(new ReplicaFactory.RegionLayout("ram", 8192)), false);
        ByteBuffer start = ByteBuffer.allocate(header.remaining() + 4).put(header).putInt(FRAME).flip();
        sink.write(start);

        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        threads.setThreadAllocatedMemoryEnabled(true);
        long self = Thread.currentThread().getId();
        byte[] chunk = new byte[CHUNK];
        ByteBuffer wrapped = ByteBuffer.wrap(chunk);
        CRC32C sent = new CRC32C();
        SplittableRandom random = new SplittableRandom(64);
        long peak = 0;
        long allocated0 = threads.getThreadAllocatedBytes(self);
        for (int off = 0; off < FRAME; off += CHUNK) {
            for (int i = 0; i < CHUNK; i += 8) {
                wrapped.putLong(i, random.nextLong());
            }
            sent.update(chunk, 0, CHUNK);
            sink.write(wrapped.clear());
            peak = Math.max(peak, budget.usedBytes());
        }
        long allocated = threads.getThreadAllocatedBytes(self) - allocated0;
        sink.write(ByteBuffer.allocate(4)); // the end marker
        sink.complete();

        assertEquals(List.of(new Seen(FRAME, sent.getValue(), true)), seen, "one frame, byte-exact, lent off-heap");
        assertTrue(peak >= FRAME, "the frame buffer is reserved in the budget: " + peak);
        assertEquals(0, budget.usedBytes(), "and given back when the round ends");
        assertTrue(allocated < 4 * MIB, "assembling a 64 MiB frame allocated " + allocated + " bytes of heap");
        assertEquals(List.of(), failed);
    }
}
