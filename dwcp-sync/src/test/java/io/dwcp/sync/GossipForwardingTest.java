package io.dwcp.sync;

import io.dwcp.core.config.DwcpConfig;
import io.dwcp.sync.crdt.PNCounter;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.dwcp.sync.LoopbackReplicationTest.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * How gossip avoids re-sending what peers hold, over real AMST sessions (three nodes in one JVM). Timers are set far
 * out, so every rumour round is run by the test and every message counted: a delta is not sent to a node known to
 * hold it, and a received delta that was already here is not forwarded again.
 */
class GossipForwardingTest {
    private static DwcpConfig quiet(String id) {
        return Nodes.config(id).toBuilder()
                .set("dwcp.sync.gossip.fanout", "2")
                .set("dwcp.sync.gossip.interval", "1m")
                .set("dwcp.sync.gossip.seen-ttl", "1h")
                .set("dwcp.sync.max-staleness", "1h")
                .set("dwcp.sync.anti-entropy.interval", "1h")
                .set("dwcp.sync.full-reconciliation.interval", "1d")
                .set("dwcp.sync.request-timeout", "10s")
                .build();
    }

    private static long sent(Nodes.Node... nodes) {
        long n = 0;
        for (Nodes.Node x : nodes) {
            n += x.sync().gossipSendsStarted();
        }
        return n;
    }

    private static double received(Nodes.Node n) {
        return n.meters().get("dwcp.ass.gossip").tag("outcome", "received").functionCounter().count();
    }

    private static InetSocketAddress[] mesh(Nodes.Node... nodes) throws Exception {
        InetAddress lo = InetAddress.getLoopbackAddress();
        InetSocketAddress[] addr = new InetSocketAddress[nodes.length];
        for (int i = 0; i < nodes.length; i++) {
            addr[i] = nodes[i].sync().listen(new InetSocketAddress(lo, 0)).get(5, TimeUnit.SECONDS);
        }
        for (int i = 0; i < nodes.length; i++) {
            for (int j = 0; j < nodes.length; j++) {
                if (i != j) {
                    nodes[i].sync().addPeer(addr[j]);
                }
            }
        }
        return addr;
    }

    @Test
    void aDeltaGoesOnlyToPeersNotKnownToHoldIt() throws Exception {
        try (Nodes.Node a = Nodes.start(quiet("a")); Nodes.Node b = Nodes.start(quiet("b")); Nodes.Node c = Nodes.start(quiet("c"))) {
            InetSocketAddress[] addr = mesh(a, b, c);
            List<Nodes.Node> all = List.of(a, b, c);
            // one anti-entropy round per pair: every node learns its peers' node ids from their answers
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 3; j++) {
                    if (i != j) {
                        all.get(i).sync().antiEntropy(addr[j]).get(10, TimeUnit.SECONDS);
                    }
                }
            }
            a.sync().store().update("k", PNCounter.EMPTY, x -> x.addDelta(a.sync().store().replicaId(), 5));
            // pushed at once to both peers (fanout 2), naming them on the message's path
            assertEquals(2, sent(a, b, c));
            awaitTrue(() -> received(b) == 1 && received(c) == 1, Duration.ofSeconds(10), "b and c received the push");
            for (Nodes.Node n : all) {
                n.sync().rumourRound();
            }
            // every node knows every other holds the delta: no rumour is sent
            assertEquals(2, sent(a, b, c));
            assertArrayEquals(a.sync().store().canonicalSnapshot(), b.sync().store().canonicalSnapshot());
            assertArrayEquals(a.sync().store().canonicalSnapshot(), c.sync().store().canonicalSnapshot());
        }
    }

    @Test
    void aReceivedDeltaAlreadyHeldIsNotForwardedAgain() throws Exception {
        try (Nodes.Node a = Nodes.start(quiet("a")); Nodes.Node b = Nodes.start(quiet("b")); Nodes.Node c = Nodes.start(quiet("c"))) {
            mesh(a, b, c); // no anti-entropy: node ids unknown, so forwarding cannot skip any peer
            a.sync().store().update("k", PNCounter.EMPTY, x -> x.addDelta(a.sync().store().replicaId(), 5));
            awaitTrue(() -> received(b) == 1 && received(c) == 1, Duration.ofSeconds(10), "b and c received the push");
            a.sync().rumourRound(); // a's own delta, in one δ-group per peer
            b.sync().rumourRound(); // b forwards what was new to it
            c.sync().rumourRound();
            long afterFirst = sent(a, b, c);
            assertEquals(2 + 3 * 2, afterFirst);
            awaitTrue(() -> received(a) == 2 && received(b) == 3 && received(c) == 3, Duration.ofSeconds(10),
                    "every forward delivered");
            // everything received in the first round was already held: nothing is queued, nothing is sent
            for (Nodes.Node n : List.of(a, b, c)) {
                n.sync().rumourRound();
            }
            assertEquals(afterFirst, sent(a, b, c));
        }
    }

    @Test
    void aPeerWhoseSendFailedIsRetriedAtTheNextRound() throws Exception {
        try (Nodes.Node a = Nodes.start(quiet("a")); Nodes.Node c = Nodes.start(quiet("c"))) {
            Nodes.Node b = Nodes.start(quiet("b"));
            InetSocketAddress[] addr;
            try {
                addr = mesh(a, b, c);
                a.sync().antiEntropy(addr[1]).get(10, TimeUnit.SECONDS);
                a.sync().antiEntropy(addr[2]).get(10, TimeUnit.SECONDS);
            } finally {
                b.close(); // b goes away: a's push to it fails when its session ends
            }
            a.sync().store().update("k", PNCounter.EMPTY, x -> x.addDelta(a.sync().store().replicaId(), 5));
            awaitTrue(() -> a.meters().get("dwcp.ass.gossip").tag("outcome", "send-failed").functionCounter().count() >= 1,
                    Duration.ofSeconds(30), "the push to b failed");
            // b comes back at the same address; a's next round sends it the delta again (c holds it: not sent there)
            try (Nodes.Node b2 = Nodes.start(quiet("b"))) {
                b2.sync().listen(addr[1]).get(5, TimeUnit.SECONDS);
                awaitTrue(() -> {
                    a.sync().rumourRound();
                    return b2.sync().store().get("k").isPresent();
                }, Duration.ofSeconds(30), "b received the delta by a rumour round");
                assertEquals(1, received(c), "c got only the push");
            }
        }
    }
}
