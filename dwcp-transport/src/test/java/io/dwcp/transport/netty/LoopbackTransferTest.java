package io.dwcp.transport.netty;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.transport.PayloadSource;
import io.dwcp.core.transport.Session;
import io.dwcp.core.transport.Transfer;
import io.dwcp.core.transport.TransferKind;
import io.dwcp.core.transport.TransferRequest;
import io.dwcp.core.transport.TransferResult;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Tag("AMST-2")
class LoopbackTransferTest {
    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 4095, 65536, 65537, 300_001, 5 * 1024 * 1024 + 7})
    void deliversEveryByteInOrderForManySizes(int size) throws Exception {
        try (Peers p = new Peers(b -> b)) {
            Session s = p.connect();
            byte[] data = random(size, size);
            Transfer t = s.send(TransferRequest.of(TransferKind.MEMORY, "k" + size, PayloadSource.of(ByteBuffer.wrap(data))));
            TransferResult r = t.completion().get(30, TimeUnit.SECONDS);
            assertArrayEquals(data, p.serverRecorder.future("k" + size).get(30, TimeUnit.SECONDS));
            assertEquals(size, r.payloadBytes());
            assertEquals(size, t.acknowledgedBytes());
        }
    }

    @Test
    void streamingSourceOfUnknownLengthEndsWithItsLastByte() throws Exception {
        try (Peers p = new Peers(b -> b)) {
            Session s = p.connect();
            byte[] data = random(1_234_567, 7);
            PayloadSource src = PayloadSource.ofChannel(Channels.newChannel(new ByteArrayInputStream(data)), -1);
            TransferResult r = s.send(TransferRequest.of(TransferKind.DISK, "stream", src)).completion().get(30, TimeUnit.SECONDS);
            assertArrayEquals(data, p.serverRecorder.future("stream").get(30, TimeUnit.SECONDS));
            assertEquals(data.length, r.payloadBytes());
        }
    }

    @Test
    void concurrentTransfersInBothDirectionsStayApart() throws Exception {
        try (Peers p = new Peers(b -> b)) {
            Session s = p.connect();
            AmstSession back = p.serverSession();
            List<CompletableFuture<TransferResult>> sends = new ArrayList<>();
            List<byte[]> up = new ArrayList<>();
            List<byte[]> down = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                byte[] a = random(700_000 + i * 1000, i);
                byte[] b = random(500_000 + i * 777, 100 + i);
                up.add(a);
                down.add(b);
                sends.add(s.send(TransferRequest.of(TransferKind.MEMORY, "up" + i, PayloadSource.of(ByteBuffer.wrap(a)))).completion());
                sends.add(back.send(TransferRequest.of(TransferKind.MEMORY, "down" + i, PayloadSource.of(ByteBuffer.wrap(b)))).completion());
            }
            CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
            for (int i = 0; i < 6; i++) {
                assertArrayEquals(up.get(i), p.serverRecorder.future("up" + i).get(10, TimeUnit.SECONDS));
                assertArrayEquals(down.get(i), p.clientRecorder.future("down" + i).get(10, TimeUnit.SECONDS));
            }
        }
    }

    @Test
    void handlerRefusalFailsTheSenderWithItsCode() throws Exception {
        try (Peers p = new Peers(b -> b)) {
            p.serverRecorder.gate = total -> {
                throw new DwcpException(ErrorCode.TYPE_MISMATCH, "not this one");
            };
            Session s = p.connect();
            Transfer t = s.send(TransferRequest.of(TransferKind.OPAQUE, "x", PayloadSource.of(ByteBuffer.wrap(random(200_000, 1)))));
            ExecutionException e = assertThrows(ExecutionException.class, () -> t.completion().get(30, TimeUnit.SECONDS));
            assertEquals(ErrorCode.TYPE_MISMATCH, DwcpException.find(e).code());
        }
    }

    @Test
    void slowSinkHoldsTheSenderWithinTheWindow() throws Exception {
        // Window 1 MiB; the sink blocks until the test has looked at the memory held at both ends.
        CountDownLatch release = new CountDownLatch(1);
        try (Peers p = new Peers(b -> b.set("dwcp.transport.reorder-buffer", "1MiB").set("dwcp.transport.send-window", "1MiB"))) {
            CountDownLatch blocked = new CountDownLatch(1);
            p.serverRecorder.gate = total -> {
                blocked.countDown();
                release.await(30, TimeUnit.SECONDS);
            };
            Session s = p.connect();
            byte[] data = random(16 * 1024 * 1024, 3);
            Transfer t = s.send(TransferRequest.of(TransferKind.MEMORY, "slow", PayloadSource.of(ByteBuffer.wrap(data))));
            assertTrue(blocked.await(10, TimeUnit.SECONDS));
            AmstSession cs = p.client.sessions().iterator().next();
            AmstSession ss = p.serverSession();
            // Whatever the timing, the sender never holds more than its window and the receiver no more than its buffer.
            for (int i = 0; i < 50; i++) {
                assertTrue(cs.unackedBytes() <= 1024 * 1024, "unacked " + cs.unackedBytes());
                assertTrue(ss.reorderBytes() <= 1024 * 1024, "reorder " + ss.reorderBytes());
                Thread.onSpinWait();
            }
            assertTrue(t.acknowledgedBytes() < data.length);
            release.countDown();
            t.completion().get(30, TimeUnit.SECONDS);
            assertArrayEquals(data, p.serverRecorder.future("slow").get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void cancelAbortsAtBothEnds() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (Peers p = new Peers(b -> b)) {
            CountDownLatch blocked = new CountDownLatch(1);
            p.serverRecorder.gate = total -> {
                blocked.countDown();
                release.await(30, TimeUnit.SECONDS);
            };
            Session s = p.connect();
            Transfer t = s.send(TransferRequest.of(TransferKind.MEMORY, "c", PayloadSource.of(ByteBuffer.wrap(random(8 << 20, 5)))));
            assertTrue(blocked.await(10, TimeUnit.SECONDS));
            assertTrue(t.cancel());
            release.countDown();
            ExecutionException e = assertThrows(ExecutionException.class, () -> t.completion().get(10, TimeUnit.SECONDS));
            assertEquals(ErrorCode.CANCELLED, DwcpException.find(e).code());
            ExecutionException r = assertThrows(ExecutionException.class,
                    () -> p.serverRecorder.future("c").get(10, TimeUnit.SECONDS));
            assertEquals(ErrorCode.CANCELLED, DwcpException.find(r).code());
        }
    }
}
