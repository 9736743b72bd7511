package io.dwcp.transport.netty;

import io.dwcp.core.ErrorCode;
import io.dwcp.core.transport.PayloadSource;
import io.dwcp.core.transport.Session;
import io.dwcp.core.transport.TransferKind;
import io.dwcp.core.transport.TransferRequest;
import io.dwcp.transport.wire.Frame;
import io.dwcp.transport.wire.FrameHeader;
import io.dwcp.transport.wire.Frames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One misbehaving peer, holding its maximum of sessions, transfers and buffered bytes and then going silent, does not
 * deny service to a second peer, and its idle transfers are reaped. The peers are two identities of a listener without
 * client certificates: 127.0.0.2 (a raw-socket peer) and 127.0.0.1 (a real transport).
 */
class PeerIsolationTest {
    private static final long MIB = 1 << 20;
    private Peers peers;
    private RawPeer hostile;

    @AfterEach
    void stop() throws Exception {
        if (hostile != null) {
            hostile.close();
        }
        if (peers != null) {
            peers.close();
        }
    }

    @Test
    void aPeerHoldingItsMaximumLeavesASecondPeerItsServiceAndItsIdleTransfersAreReaped() throws Exception {
        // Per peer: 3 sessions, 2 transfers, 32 MiB of receive windows (two sessions' 16 MiB). Node: 48 MiB.
        // The reaper's own timer never fires a transfer timeout within the test (1 h); the test ticks it instead.
        peers = new Peers(b -> b.set("dwcp.transport.max-sessions-per-peer", "3")
                        .set("dwcp.transport.max-transfers-per-peer", "2")
                        .set("dwcp.transport.reorder-buffer", "16MiB")
                        .set("dwcp.transport.max-buffered-per-peer", "32MiB")
                        .set("dwcp.transport.max-buffered", "48MiB")
                        .set("dwcp.transport.transfer-idle-timeout", "1h")
                        .set("dwcp.transport.idle-timeout", "7d"),
                b -> b);
        hostile = new RawPeer(peers.listener.localAddress(), InetAddress.getByName("127.0.0.2"));

        // Sessions: two get the full window; the third finds the peer's byte budget taken.
        RawPeer.RawSession a = hostile.session();
        RawPeer.RawSession b = hostile.session();
        assertTrue(a.ack.accepted() && b.ack.accepted(), "the first two sessions are accepted");
        assertEquals(16 * MIB, a.ack.receiveWindowBytes());
        assertEquals(16 * MIB, b.ack.receiveWindowBytes());
        RawPeer.RawSession c = hostile.session();
        assertFalse(c.ack.accepted(), "a third session would pass the peer's buffered-bytes cap");
        assertEquals(ErrorCode.LIMIT_EXCEEDED, c.ack.code());
        assertTrue(c.ack.message().contains("dwcp.transport.max-buffered-per-peer"), c.ack.message());

        // Transfers: two announced at 1 GiB, each given 12 MiB that can never be delivered (byte 0 never comes).
        long t1 = a.open("hostile-1", 1L << 30);
        long t2 = b.open("hostile-2", 1L << 30);
        a.data(t1, MIB, (int) (12 * MIB));
        b.data(t2, MIB, (int) (12 * MIB));
        long t3 = a.open("hostile-3", 1L << 30);
        Frame refused = a.next(FrameHeader.TYPE_ABORT);
        assertNotNull(refused, "a third transfer is refused");
        assertEquals(t3, refused.transferId());
        assertEquals(ErrorCode.LIMIT_EXCEEDED, Frames.errorCode(refused.payload()), RawPeer.describe(refused));
        assertTrue(RawPeer.describe(refused).contains("max-transfers-per-peer"), RawPeer.describe(refused));
        String hostileId = "127.0.0.2";
        awaitBuffered(hostileId, 24 * MIB);
        assertEquals(32 * MIB, peers.server.receiveBudget().reservedBytes(hostileId));

        // The second peer: its session gets a full window from what is left of the node, its transfer completes.
        Session legit = peers.connect();
        sendsExactly(legit, "legit", 16);
        assertEquals(48 * MIB, peers.server.receiveBudget().reservedBytes(null), "hostile 32 MiB + legit 16 MiB");

        // Half the timeout later nothing is reaped; past it, both idle transfers are aborted and the sender told why.
        IdleReaper reaper = peers.server.reaper();
        reaper.tick(System.nanoTime() + TimeUnit.MINUTES.toNanos(30));
        assertEquals(2, peers.server.inboundTransfersOf(hostileId), "not idle for the timeout yet");
        reaper.tick(System.nanoTime() + TimeUnit.MINUTES.toNanos(61));
        for (RawPeer.RawSession s : new RawPeer.RawSession[] {a, b}) {
            Frame abort = s.next(FrameHeader.TYPE_ABORT);
            assertNotNull(abort, "the idle transfer's sender hears of its end");
            assertEquals(s == a ? t1 : t2, abort.transferId());
            assertEquals(ErrorCode.TIMEOUT, Frames.errorCode(abort.payload()), RawPeer.describe(abort));
            assertTrue(RawPeer.describe(abort).contains("dwcp.transport.transfer-idle-timeout"), RawPeer.describe(abort));
        }
        // The ABORT goes out after the transfer was forgotten and its buffer released.
        assertEquals(0, peers.server.inboundTransfersOf(hostileId));
        awaitBuffered(hostileId, 0);
        // The freed places are usable again: the hostile peer may open a transfer, the legitimate one still sends.
        long t4 = a.open("hostile-4", 1L << 30);
        sendsExactly(legit, "legit-2", 16);
        assertTrue(t4 > t3);
        legit.close();
    }

    @Test
    void aPeerOpeningManyRawConnectionsHoldsOnlyItsShareOfPendingOnesAndASecondPeerStillSends() throws Exception {
        // Per peer 4 connections in their handshake, 64 per node; a silent connection would be held for 5 min.
        peers = new Peers(b -> b.set("dwcp.transport.max-pending-connections-per-peer", "4")
                        .set("dwcp.transport.max-pending-connections", "64")
                        .set("dwcp.transport.connect-timeout", "5m"),
                b -> b);
        hostile = new RawPeer(peers.listener.localAddress(), InetAddress.getByName("127.0.0.2"));
        String hostileId = "127.0.0.2";
        java.util.List<java.net.Socket> silent = new java.util.ArrayList<>();
        for (int i = 0; i < 4; i++) {
            silent.add(hostile.silent());
        }
        // The listener counts a connection once its channel is active: wait for the four.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (peers.server.pendingConnections().pending(hostileId) < 4 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(4, peers.server.pendingConnections().pending(hostileId));
        // Beyond its share, every further connection is refused: held unread for a few seconds (so a peer that
        // reconnects at once cannot spin), then told with a GOAWAY naming the key, and closed.
        java.util.List<java.net.Socket> beyond = new java.util.ArrayList<>();
        for (int i = 0; i < 16; i++) {
            beyond.add(hostile.silent());
        }
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (peers.server.pendingConnections().refusedHeld() < 16 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(16, peers.server.pendingConnections().refusedHeld(), "the refused connections are held a while");
        for (java.net.Socket s : beyond) {
            Frame refused = RawPeer.goAwayOn(s, 30_000);
            assertNotNull(refused, "a connection beyond the share is refused");
            assertEquals(ErrorCode.LIMIT_EXCEEDED, Frames.errorCode(refused.payload()), RawPeer.describe(refused));
            assertTrue(RawPeer.describe(refused).contains("dwcp.transport.max-pending-connections-per-peer"),
                    RawPeer.describe(refused));
        }
        assertEquals(4, peers.server.pendingConnections().pending(hostileId), "the first four are still held");
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (peers.server.pendingConnections().refusedHeld() > 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(0, peers.server.pendingConnections().refusedHeld(), "closed refused connections are forgotten");

        // The second peer connects (control and data streams) and sends byte-exact meanwhile.
        Session legit = peers.connect();
        sendsExactly(legit, "legit", 17);
        legit.close();

        // A held connection that closes gives its place back.
        silent.get(0).close();
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (peers.server.pendingConnections().pending(hostileId) > 3 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(3, peers.server.pendingConnections().pending(hostileId));
        assertEquals(3, peers.server.pendingConnections().pending(), "no other connection is pending");
    }

    /** Sends 8 MiB of random bytes (from {@code seed}) as {@code key}; they must arrive byte-exact. Returns them. */
    private byte[] sendsExactly(Session legit, String key, long seed) throws Exception {
        byte[] state = new byte[(int) (8 * MIB)];
        new Random(seed).nextBytes(state);
        legit.send(TransferRequest.of(TransferKind.MEMORY, key, PayloadSource.of(ByteBuffer.wrap(state))))
                .completion().get(60, TimeUnit.SECONDS);
        assertArrayEquals(state, peers.serverRecorder.future(key).get(30, TimeUnit.SECONDS));
        return state;
    }

    /** Waits until the hostile peer's sessions buffer exactly {@code bytes} (the frames are in flight until then). */
    private void awaitBuffered(String peer, long bytes) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        long now = -1;
        while (System.nanoTime() < deadline) {
            now = 0;
            for (AmstSession s : peers.server.sessions()) {
                if (peer.equals(s.peerIdentity)) {
                    now += s.reorderBytes();
                }
            }
            if (now == bytes) {
                return;
            }
            Thread.onSpinWait();
        }
        assertEquals(bytes, now, "bytes buffered for " + peer);
    }
}
