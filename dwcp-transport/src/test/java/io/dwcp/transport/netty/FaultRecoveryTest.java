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

import java.nio.ByteBuffer;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FaultRecoveryTest {
    /** Holds the receiving sink after {@code afterBytes} until released, so the test acts while chunks are in flight. */
    static final class Hold implements Peers.SinkGate {
        final long afterBytes;
        final CountDownLatch reached = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        Hold(long afterBytes) {
            this.afterBytes = afterBytes;
        }

        @Override
        public void wrote(long totalBytes) throws Exception {
            if (totalBytes >= afterBytes && reached.getCount() > 0) {
                reached.countDown();
                assertTrue(release.await(30, TimeUnit.SECONDS));
            }
        }
    }

    @Test
    @Tag("AMST-6")
    void killingOneStreamMidTransferResendsItsChunksAndDeliversIdenticalBytes() throws Exception {
        try (Peers p = new Peers(b -> b.set("dwcp.transport.initial-streams", "4")
                .set("dwcp.tier.pin", "local").set("dwcp.transport.send-window", "4MiB").set("dwcp.transport.reorder-buffer", "4MiB"))) {
            Hold hold = new Hold(2 << 20);
            p.serverRecorder.gate = hold;
            Session s = p.connect();
            assertEquals(4, s.activeStreams());
            byte[] data = LoopbackTransferTest.random(24 << 20, 11);
            Transfer t = s.send(TransferRequest.of(TransferKind.MEMORY, "kill", PayloadSource.of(ByteBuffer.wrap(data))));
            assertTrue(hold.reached.await(10, TimeUnit.SECONDS));
            // The receiver is stalled, so the window is full of chunks in flight: kill the stream that carries the
            // most of them (which streams took the chunks depends on timing; one of them surely holds some).
            AmstSession cs = p.client.sessions().iterator().next();
            DataStream victim = cs.snapshotStreams().stream()
                    .max(java.util.Comparator.comparingInt(cs::unackedChunksOn)).orElseThrow();
            assertTrue(cs.unackedChunksOn(victim) > 0, "a stalled receiver leaves chunks in flight");
            victim.channel.close().sync();
            hold.release.countDown();
            TransferResult r = t.completion().get(30, TimeUnit.SECONDS);
            assertArrayEquals(data, p.serverRecorder.future("kill").get(10, TimeUnit.SECONDS));
            assertTrue(r.resentChunks() > 0, "chunks of the killed stream were re-sent: " + r);
            assertTrue(p.client.metrics().streamFailures.count() >= 1);
        }
    }

    @Test
    @Tag("AMST-10")
    void sessionDropResumesFromTheAcknowledgedPositionNotFromZero() throws Exception {
        try (Peers p = new Peers(b -> b.set("dwcp.tier.pin", "local").set("dwcp.transport.send-window", "2MiB")
                .set("dwcp.transport.reorder-buffer", "2MiB"))) {
            Hold hold = new Hold(12 << 20);
            p.serverRecorder.gate = hold;
            Session s = p.connect();
            String id = s.id();
            byte[] data = LoopbackTransferTest.random(20 << 20, 12);
            Transfer t = s.send(TransferRequest.of(TransferKind.MEMORY, "resume", PayloadSource.of(ByteBuffer.wrap(data))));
            assertTrue(hold.reached.await(10, TimeUnit.SECONDS));
            AmstSession cs = p.client.sessions().iterator().next();
            long ackedBeforeDrop = t.acknowledgedBytes();
            // Drop every connection of the session at once, as a network outage would.
            cs.controlChannel().close().sync();
            for (DataStream d : cs.snapshotStreams()) {
                d.channel.close().sync();
            }
            hold.release.countDown();
            TransferResult r = t.completion().get(30, TimeUnit.SECONDS);
            assertArrayEquals(data, p.serverRecorder.future("resume").get(10, TimeUnit.SECONDS));
            assertEquals(id, s.id());
            assertTrue(s.isOpen());
            assertTrue(ackedBeforeDrop >= 8 << 20, "acked before the drop: " + ackedBeforeDrop);
            // Only the unacknowledged window (2 MiB) can have been re-sent, never the >= 8 MiB acknowledged before the
            // drop. Counted in bytes, not chunks: the chunk size adapts, so a chunk count says nothing about bytes.
            assertTrue(r.wireBytes() < data.length + (4L << 20), "wire bytes " + r.wireBytes() + ", re-sent chunks " + r.resentChunks());
            assertTrue(p.client.metrics().reconnects.count() >= 1);
        }
    }

    @Test
    @Tag("AMST-10")
    void sessionNotResumedWithinTheTimeoutFailsItsTransfers() throws Exception {
        try (Peers p = new Peers(b -> b.set("dwcp.tier.pin", "local").set("dwcp.transport.session-timeout", "1s"))) {
            Hold hold = new Hold(1 << 20);
            p.serverRecorder.gate = hold;
            Session s = p.connect();
            Transfer t = s.send(TransferRequest.of(TransferKind.MEMORY, "lost",
                    PayloadSource.of(ByteBuffer.wrap(LoopbackTransferTest.random(8 << 20, 13)))));
            assertTrue(hold.reached.await(10, TimeUnit.SECONDS));
            p.listener.close();
            p.server.stop();
            hold.release.countDown();
            ExecutionException e = assertThrows(ExecutionException.class, () -> t.completion().get(30, TimeUnit.SECONDS));
            ErrorCode code = DwcpException.find(e).code();
            assertTrue(code == ErrorCode.TIMEOUT || code == ErrorCode.CANCELLED || code == ErrorCode.SESSION_UNKNOWN
                    || code == ErrorCode.IO_ERROR, "code " + code);
            s.closeFuture().get(30, TimeUnit.SECONDS);
            assertTrue(!s.isOpen());
        }
    }
}
