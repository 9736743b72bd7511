package io.dwcp.transport.netty;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.transport.PayloadSource;
import io.dwcp.core.transport.Session;
import io.dwcp.core.transport.Transfer;
import io.dwcp.core.transport.TransferKind;
import io.dwcp.core.transport.TransferRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * dwcp.transport.transfer-idle-timeout: a transfer whose sender went silent is aborted with TIMEOUT at both ends; a
 * transfer whose receiving application is busy is not. The reaper is ticked with explicit times (its own timer is set
 * to 1 h, far beyond the test).
 */
class TransferIdleTimeoutTest {
    private static final long TIMEOUT_NANOS = TimeUnit.HOURS.toNanos(1);
    private Peers peers;

    @AfterEach
    void stop() throws Exception {
        if (peers != null) {
            peers.close();
        }
    }

    private void start() throws Exception {
        peers = new Peers(b -> b.set("dwcp.transport.transfer-idle-timeout", "1h").set("dwcp.transport.idle-timeout", "7d"));
    }

    @Test
    void aTransferWhoseSenderPausesPastTheTimeoutIsAbortedAndTheSenderHearsWhy() throws Exception {
        start();
        Session s = peers.connect();
        CountDownLatch release = new CountDownLatch(1);
        try {
            Transfer t = s.send(TransferRequest.of(TransferKind.MEMORY, "paused", new PausingSource(release)));
            AmstSession atServer = peers.serverSession();
            awaitOpen(atServer, 1);
            // DATA may reach the receiver before the OPEN on the control connection: wait until the receiving
            // application was handed the transfer (after its OPEN), so the reaper sees an opened, named transfer.
            awaitHandedOver("paused");
            IdleReaper reaper = peers.server.reaper();
            // A pause shorter than the timeout is a pause, not an abandoned transfer.
            reaper.tick(System.nanoTime() + TIMEOUT_NANOS / 2);
            assertEquals(1, atServer.inboundCount());
            assertFalse(t.completion().isDone());

            reaper.tick(System.nanoTime() + TIMEOUT_NANOS + TimeUnit.SECONDS.toNanos(1));
            ExecutionException e = assertThrows(ExecutionException.class, () -> t.completion().get(30, TimeUnit.SECONDS));
            DwcpException d = DwcpException.find(e);
            assertEquals(ErrorCode.TIMEOUT, d == null ? null : d.code(), String.valueOf(e.getCause()));
            assertTrue(d.getMessage().contains("dwcp.transport.transfer-idle-timeout"), d.getMessage());
            assertTrue(d.getMessage().contains("'paused'"), d.getMessage());
            // The receiving application was told too, with the same code.
            ExecutionException r = assertThrows(ExecutionException.class,
                    () -> peers.serverRecorder.future("paused").get(30, TimeUnit.SECONDS));
            assertEquals(ErrorCode.TIMEOUT, DwcpException.find(r).code());
            assertEquals(0, atServer.inboundCount());
            assertTrue(s.isOpen(), "only the transfer ends, not the session");
        } finally {
            release.countDown();
        }
        s.close();
    }

    @Test
    void aTransferWhoseReceivingApplicationIsBusyIsNotIdle() throws Exception {
        start();
        CountDownLatch inSink = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        peers.serverRecorder.gate = written -> {
            inSink.countDown();
            release.await();
        };
        Session s = peers.connect();
        byte[] data = new byte[3 << 20];
        new java.util.Random(3).nextBytes(data);
        Transfer t = s.send(TransferRequest.of(TransferKind.MEMORY, "busy", PayloadSource.of(ByteBuffer.wrap(data))));
        assertTrue(inSink.await(30, TimeUnit.SECONDS));
        // The sender has nothing more to send until the sink takes its bytes; the sink's time does not count.
        peers.server.reaper().tick(System.nanoTime() + 10 * TIMEOUT_NANOS);
        assertEquals(1, peers.serverSession().inboundCount());
        peers.serverRecorder.gate = null;
        release.countDown();
        t.completion().get(60, TimeUnit.SECONDS);
        assertArrayEquals(data, peers.serverRecorder.future("busy").get(30, TimeUnit.SECONDS));
        s.close();
    }

    @Test
    void aTransferOfWhichOnlyDataCameAndNoOpenIsReapedToo() throws Exception {
        start();
        peers.connect();
        AmstSession atServer = peers.serverSession();
        // DATA for a transfer whose OPEN never comes: no delivery loop runs for it, so the reaper itself ends it.
        atServer.inboundFor(1).orElseThrow();
        assertEquals(1, atServer.inboundCount());
        peers.server.reaper().tick(System.nanoTime() + TIMEOUT_NANOS + 1);
        assertEquals(0, atServer.inboundCount());
        // A late OPEN for it is answered with the outcome, not a new transfer.
        assertTrue(atServer.inbound.finishedOutcome(1) != null);
        assertEquals(ErrorCode.TIMEOUT, atServer.inbound.finishedOutcome(1).failure().code());
    }

    private void awaitHandedOver(String key) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!peers.serverRecorder.received.containsKey(key) && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertTrue(peers.serverRecorder.received.containsKey(key), "the OPEN of '" + key + "' never arrived");
    }

    private static void awaitOpen(AmstSession s, int n) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (s.inboundCount() < n && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(n, s.inboundCount());
    }

    /** A streaming source that sends 64 KiB, then pauses (as a starved encoder would) until released, then ends. */
    private static final class PausingSource implements PayloadSource {
        private final CountDownLatch release;
        private boolean sent;

        PausingSource(CountDownLatch release) {
            this.release = release;
        }

        @Override
        public long lengthBytes() {
            return -1;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            if (!sent) {
                sent = true;
                int n = Math.min(dst.remaining(), 64 * 1024);
                dst.position(dst.position() + n);
                return n;
            }
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException();
            }
            return -1;
        }
    }
}
