package io.dwcp.transport.netty;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.transport.Session;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One peer identity cannot hold more than its share of a listener's sessions. */
class SessionLimitsTest {
    private Peers peers;

    @AfterEach
    void stop() throws Exception {
        if (peers != null) {
            peers.close();
        }
    }

    @Test
    void aPeerBeyondItsSessionShareIsRefusedAndAClosedSessionFreesItsPlace() throws Exception {
        peers = new Peers(b -> b.set("dwcp.transport.max-sessions-per-peer", "2").set("dwcp.transport.max-sessions", "16"),
                b -> b.set("dwcp.transport.reconnect.max-attempts", "0"));
        List<Session> held = new ArrayList<>();
        held.add(peers.connect());
        held.add(peers.connect());
        ExecutionException e = assertThrows(ExecutionException.class, () -> peers.connect());
        DwcpException d = DwcpException.find(e);
        assertEquals(ErrorCode.LIMIT_EXCEEDED, d == null ? null : d.code(), String.valueOf(e.getCause()));
        assertTrue(d.getMessage().contains("max-sessions-per-peer"), d.getMessage());
        held.get(0).close();
        // The listener forgets a closed session (at load this took longer than 100 refused attempts); then the peer
        // may open another.
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        while (peers.server.sessions().size() > 1 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        Session again = null;
        for (int attempt = 0; attempt < 100 && again == null; attempt++) {
            try {
                again = peers.connect();
            } catch (ExecutionException refused) {
                Thread.onSpinWait();
            }
        }
        assertTrue(again != null, "a closed session gives its place back");
        again.close();
        held.get(1).close();
    }

    @Test
    void aListenerClosesASessionThatHadNoTransferForTheIdleTimeout() throws Exception {
        peers = new Peers(b -> b.set("dwcp.transport.idle-timeout", "1s"), b -> b.set("dwcp.transport.reconnect.max-attempts", "0"));
        Session idle = peers.connect();
        // Heartbeats keep flowing (every 100 ms here); only transfers count as activity.
        AmstSession atServer = peers.serverSession();
        idle.closeFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
        atServer.closeFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (!peers.server.sessions().isEmpty() && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(0, peers.server.sessions().size(), "the listener forgot the idle session");
        assertTrue(!idle.isOpen());
    }

    @Test
    void aPeerBeyondItsShareOfOpenTransfersIsRefusedAndTheOthersComplete() throws Exception {
        thirdOpenTransferIsRefused("dwcp.transport.max-transfers-per-peer", "max-transfers-per-peer");
    }

    @Test
    void aTransferBeyondTheNodesOpenTransfersIsRefusedNamingTheKey() throws Exception {
        // max-transfers-per-peer (64 by default) above max-transfers acts as max-transfers.
        thirdOpenTransferIsRefused("dwcp.transport.max-transfers", "dwcp.transport.max-transfers = 2");
    }

    @Test
    void maxTransfersIsValidated() {
        for (String bad : new String[]{"0", "4097", "many"}) {
            DwcpException e = assertThrows(DwcpException.class,
                    () -> io.dwcp.core.config.DwcpConfig.builder().set("dwcp.transport.max-transfers", bad).build());
            assertEquals(ErrorCode.INVALID_CONFIG, e.code(), bad);
            assertTrue(e.getMessage().contains("dwcp.transport.max-transfers"), e.getMessage());
        }
    }

    /** With {@code key} = 2, two held transfers are open at the receiver and a third is refused naming the key. */
    private void thirdOpenTransferIsRefused(String key, String expected) throws Exception {
        peers = new Peers(b -> b.set(key, "2"), b -> b);
        Session s = peers.connect();
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        List<io.dwcp.core.transport.Transfer> open = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            open.add(s.send(io.dwcp.core.transport.TransferRequest.of(io.dwcp.core.transport.TransferKind.OPAQUE, "held-" + i,
                    new HeldSource(release))));
        }
        // Both are open at the receiver once their OPENs arrived (their producers run on threads of their own, so a
        // later transfer could otherwise overtake them).
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while ((peers.server.sessions().isEmpty() || peers.serverSession().inboundCount() < 2) && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(2, peers.serverSession().inboundCount(), "both held transfers are open at the receiver");
        io.dwcp.core.transport.Transfer third = null;
        DwcpException refused = null;
        for (int attempt = 0; attempt < 50 && refused == null; attempt++) {
            third = s.send(io.dwcp.core.transport.TransferRequest.of(io.dwcp.core.transport.TransferKind.OPAQUE, "third-" + attempt,
                    io.dwcp.core.transport.PayloadSource.of(java.nio.ByteBuffer.wrap(new byte[16]))));
            try {
                third.completion().get(10, java.util.concurrent.TimeUnit.SECONDS);
                // Completed: the first two were not open at the receiver yet; try again.
            } catch (ExecutionException e) {
                refused = DwcpException.find(e);
            }
        }
        assertEquals(ErrorCode.LIMIT_EXCEEDED, refused == null ? null : refused.code(), "the third open transfer is refused");
        assertTrue(refused.getMessage().contains(expected), refused.getMessage());
        release.countDown();
        for (io.dwcp.core.transport.Transfer t : open) {
            t.completion().get(30, java.util.concurrent.TimeUnit.SECONDS);
        }
        s.close();
    }

    /** A streaming source that sends one byte, then holds the transfer open until released. */
    private static final class HeldSource implements io.dwcp.core.transport.PayloadSource {
        private final java.util.concurrent.CountDownLatch release;
        private boolean sentOne;

        HeldSource(java.util.concurrent.CountDownLatch release) {
            this.release = release;
        }

        @Override
        public long lengthBytes() {
            return -1;
        }

        @Override
        public int read(java.nio.ByteBuffer dst) throws java.io.IOException {
            if (!sentOne) {
                sentOne = true;
                dst.put((byte) 1);
                return 1;
            }
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException();
            }
            return -1;
        }
    }
}
