package io.dwcp.sync;

import io.dwcp.core.config.DwcpConfig;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.dwcp.sync.LoopbackReplicationTest.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** How anti-entropy behaves around unreachable peers and healed paths (real AMST sessions on loopback, one JVM). */
class ReconnectTest {
    @Test
    void retryDelayDoublesFromFiftyMillisAndIsCappedAtAnEighthOfMaxStaleness() {
        Duration staleness = Duration.ofSeconds(2);
        assertEquals(50, AntiEntropyRounds.retryDelayMillis(1, staleness));
        assertEquals(100, AntiEntropyRounds.retryDelayMillis(2, staleness));
        assertEquals(200, AntiEntropyRounds.retryDelayMillis(3, staleness));
        assertEquals(250, AntiEntropyRounds.retryDelayMillis(4, staleness));
        assertEquals(250, AntiEntropyRounds.retryDelayMillis(1000, staleness));
        assertEquals(3_750, AntiEntropyRounds.retryDelayMillis(1000, Duration.ofSeconds(30)));
        assertEquals(50, AntiEntropyRounds.retryDelayMillis(5, Duration.ofMillis(100)));
    }

    @Test
    void aPeerThatNeverAnswersDoesNotHoldUpRoundsWithOthers() throws Exception {
        InetAddress lo = InetAddress.getLoopbackAddress();
        // a request to the silent peer waits a minute: with rounds run one after another, b's round would wait too
        DwcpConfig slow = Nodes.config("a").toBuilder().set("dwcp.sync.request-timeout", "1m")
                .set("dwcp.transport.connect-timeout", "1m").set("dwcp.sync.anti-entropy.interval", "1h")
                .set("dwcp.sync.max-staleness", "1h").set("dwcp.sync.full-reconciliation.interval", "1d").build();
        List<Socket> accepted = new ArrayList<>();
        try (ServerSocket silent = new ServerSocket(0, 50, lo);
             Nodes.Node a = Nodes.start(slow); Nodes.Node b = Nodes.start(Nodes.config("b"))) {
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        accepted.add(silent.accept()); // accepts and never answers the handshake
                    }
                } catch (java.io.IOException e) {
                    // closed at the end of the test
                }
            }, "silent-peer");
            acceptor.setDaemon(true);
            acceptor.start();
            InetSocketAddress bAddr = b.sync().listen(new InetSocketAddress(lo, 0)).get(5, TimeUnit.SECONDS);
            InetSocketAddress silentAddr = new InetSocketAddress(lo, silent.getLocalPort());
            a.sync().addPeer(silentAddr);
            a.sync().addPeer(bAddr);
            b.sync().store().update("k", io.dwcp.sync.crdt.PNCounter.EMPTY, c -> c.addDelta(b.sync().store().replicaId(), 5));
            CompletableFuture<Void> stuck = a.sync().antiEntropy(silentAddr);
            a.sync().antiEntropy(bAddr).get(30, TimeUnit.SECONDS);
            assertEquals(5, a.sync().metadata().counter("k"));
            assertFalse(stuck.isDone(), "the round with the silent peer is still waiting");
        } finally {
            for (Socket s : accepted) {
                s.close();
            }
        }
    }

    @Test
    void aHealedPathIsReconciledByTheRetryTimerWithoutWaitingForThePeriodicRound() throws Exception {
        InetAddress lo = InetAddress.getLoopbackAddress();
        // periodic rounds an hour apart: only the retry of failed rounds can reconcile within the test's deadline
        DwcpConfig cfg = Nodes.config("a").toBuilder().set("dwcp.sync.anti-entropy.interval", "1h")
                .set("dwcp.sync.full-reconciliation.interval", "1d")
                .set("dwcp.sync.max-staleness", "2s").set("dwcp.sync.gossip.interval", "1s").build();
        try (Nodes.Node a = Nodes.start(cfg); Nodes.Node b = Nodes.start(Nodes.config("b").toBuilder()
                .set("dwcp.sync.anti-entropy.interval", "1h").set("dwcp.sync.full-reconciliation.interval", "1d")
                .set("dwcp.sync.max-staleness", "1h").set("dwcp.sync.gossip.interval", "1s").build())) {
            InetSocketAddress bAddr = b.sync().listen(new InetSocketAddress(lo, 0)).get(5, TimeUnit.SECONDS);
            try (FaultProxy proxy = new FaultProxy(bAddr.getPort(), 1)) {
                proxy.blocked(true);
                InetSocketAddress viaProxy = new InetSocketAddress(lo, proxy.port());
                a.sync().addPeer(viaProxy);
                // b's update reaches a only by anti-entropy (b does not know a; gossip is a minute away)
                b.sync().store().update("k", io.dwcp.sync.crdt.PNCounter.EMPTY, c -> c.addDelta(b.sync().store().replicaId(), 7));
                awaitTrue(() -> a.sync().stats().antiEntropyRoundsFailed() >= 2, Duration.ofSeconds(30),
                        "rounds with the cut-off peer fail and are retried");
                proxy.blocked(false);
                awaitTrue(() -> a.sync().metadata().counter("k") == 7, Duration.ofSeconds(20),
                        "the retry reconciled a with b once the path was back");
            }
        }
    }

    @Test
    void aCutOffSessionWithTransfersInFlightIsAbandonedWithoutWaitingForItsCloseTimeout() throws Exception {
        InetAddress lo = InetAddress.getLoopbackAddress();
        // the transport keeps a cut-off session resuming for a minute and a graceful close drains transfers for 30 s
        // (the default close-timeout): a round that waited for either would not end within the deadline below
        DwcpConfig cfg = Nodes.config("a").toBuilder().set("dwcp.sync.anti-entropy.interval", "1h")
                .set("dwcp.sync.full-reconciliation.interval", "1d").set("dwcp.sync.max-staleness", "1h")
                .set("dwcp.sync.gossip.interval", "1m").set("dwcp.sync.gossip.seen-ttl", "1h")
                .set("dwcp.transport.session-timeout", "1m").build();
        try (Nodes.Node a = Nodes.start(cfg); Nodes.Node b = Nodes.start(Nodes.config("b").toBuilder()
                .set("dwcp.sync.anti-entropy.interval", "1h").set("dwcp.sync.full-reconciliation.interval", "1d")
                .set("dwcp.sync.max-staleness", "1h").set("dwcp.transport.session-timeout", "1m").build())) {
            InetSocketAddress bAddr = b.sync().listen(new InetSocketAddress(lo, 0)).get(5, TimeUnit.SECONDS);
            try (FaultProxy proxy = new FaultProxy(bAddr.getPort(), 1)) {
                InetSocketAddress viaProxy = new InetSocketAddress(lo, proxy.port());
                a.sync().addPeer(viaProxy);
                a.sync().antiEntropy(viaProxy).get(20, TimeUnit.SECONDS); // the session is open
                proxy.blocked(true);
                // pushes to b queue on the session the transport is trying to resume: transfers in flight
                for (int i = 0; i < 20; i++) {
                    a.sync().store().update("k" + i, io.dwcp.sync.crdt.PNCounter.EMPTY,
                            c -> c.addDelta(a.sync().store().replicaId(), 1));
                }
                long t0 = System.nanoTime();
                CompletableFuture<Void> cut = a.sync().antiEntropy(viaProxy);
                java.util.concurrent.ExecutionException failed = org.junit.jupiter.api.Assertions.assertThrows(
                        java.util.concurrent.ExecutionException.class, () -> cut.get(10, TimeUnit.SECONDS),
                        "the round with the cut-off peer fails after its request timeout, it does not hang");
                long tookMs = (System.nanoTime() - t0) / 1_000_000;
                org.junit.jupiter.api.Assertions.assertTrue(tookMs < 10_000, "round ended after " + tookMs + " ms: " + failed);
                proxy.blocked(false);
                // a round opens a fresh session and carries what the cut-off pushes could not (on a loaded machine the
                // first may still time out: the rounds are retried until one succeeds)
                awaitTrue(() -> {
                    try {
                        a.sync().antiEntropy(viaProxy).get(30, TimeUnit.SECONDS);
                        return true;
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return false;
                    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                        return false;
                    }
                }, Duration.ofSeconds(90), "a round with b succeeds once the path is back");
                awaitTrue(() -> b.sync().store().keys().size() >= 20, Duration.ofSeconds(10), "b holds every key");
            }
        }
    }
}
