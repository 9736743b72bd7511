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
        return quiet(id, 2);
    }

    private static DwcpConfig quiet(String id, int fanout) {
        return Nodes.config(id).toBuilder()
                .set("dwcp.sync.gossip.fanout", Integer.toString(fanout))
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

    private static double forwarded(Nodes.Node n) {
        return n.meters().get("dwcp.ass.gossip").tag("outcome", "forwarded").functionCounter().count();
    }

    /** One anti-entropy round per ordered pair: every node learns its peers' node ids from their answers. */
    private static void learnIds(List<Nodes.Node> all, InetSocketAddress[] addr) throws Exception {
        for (int i = 0; i < all.size(); i++) {
            for (int j = 0; j < all.size(); j++) {
                if (i != j) {
                    all.get(i).sync().antiEntropy(addr[j]).get(10, TimeUnit.SECONDS);
                }
            }
        }
    }

    @Test
    void aPushReachesThePeerItMissedAtOnceThroughOneRecipientAndEachPeerGetsItOnce() throws Exception {
        try (Nodes.Node a = Nodes.start(quiet("a", 3)); Nodes.Node b = Nodes.start(quiet("b", 3));
             Nodes.Node c = Nodes.start(quiet("c", 3)); Nodes.Node d = Nodes.start(quiet("d", 3));
             Nodes.Node e = Nodes.start(quiet("e", 3))) {
            List<Nodes.Node> all = List.of(a, b, c, d, e);
            learnIds(all, mesh(a, b, c, d, e));
            long before = sent(a, b, c, d, e);
            a.sync().store().update("k", PNCounter.EMPTY, x -> x.addDelta(a.sync().store().replicaId(), 5));
            // pushed to 3 of 4 peers; exactly one recipient forwards to the fourth, with no rumour round run
            awaitTrue(() -> all.stream().allMatch(n -> n.sync().store().get("k").isPresent()), Duration.ofSeconds(10),
                    "every replica has the update without a rumour round");
            awaitTrue(() -> sent(a, b, c, d, e) - before == 4, Duration.ofSeconds(10), "three pushes and one forward");
            assertEquals(1.0, forwarded(b) + forwarded(c) + forwarded(d) + forwarded(e));
            for (Nodes.Node n : all) {
                assertEquals(n == a ? 0.0 : 1.0, received(n), "each peer received the delta once");
            }
            // every node knows every other holds it (the plan's covered peer included): rumour rounds send nothing
            for (Nodes.Node n : all) {
                n.sync().rumourRound();
            }
            assertEquals(4, sent(a, b, c, d, e) - before);
        }
    }

    @Test
    void peersAFailedRecipientShouldHaveForwardedToAreRetriedByTheOrigin() throws Exception {
        try (Nodes.Node a = Nodes.start(quiet("a", 1)); Nodes.Node c = Nodes.start(quiet("c", 1))) {
            Nodes.Node b = Nodes.start(quiet("b", 1));
            try {
                learnIds(List.of(a, b, c), mesh(a, b, c));
            } finally {
                b.close(); // b goes away: a push to it fails, and c, which b would have forwarded to, must still get it
            }
            // fanout 1: each update goes to b or to c at random, and the recipient forwards to the other; with 30
            // updates some push goes to b (all 30 go to c with probability 2^-30)
            for (int i = 0; i < 30; i++) {
                a.sync().store().update("k" + i, PNCounter.EMPTY, x -> x.addDelta(a.sync().store().replicaId(), 1));
            }
            awaitTrue(() -> a.meters().get("dwcp.ass.gossip").tag("outcome", "send-failed").functionCounter().count() >= 1,
                    Duration.ofSeconds(30), "a push to b failed");
            awaitTrue(() -> {
                a.sync().rumourRound();
                for (int i = 0; i < 30; i++) {
                    if (c.sync().store().get("k" + i).isEmpty()) {
                        return false;
                    }
                }
                return true;
            }, Duration.ofSeconds(30), "c received every update, those pushed to b by a's rumour rounds");
        }
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

    @Test
    void deltasWhosePushesWereRefusedStayPendingUntilEveryPeerTheyAreOwedToHasThem() throws Exception {
        // fanout 1: each push goes to b or c, the plan names the recipient to forward it to the other, and a rumour
        // round picks one random peer. The receivers refuse every push (as a peer at max-transfers-per-peer does), so
        // a owes each delta to both peers; its next round must send to both, not to one random one
        try (Nodes.Node a = Nodes.startFaulty(quiet("a", 1)); Nodes.Node b = Nodes.start(quiet("b", 1));
             Nodes.Node c = Nodes.start(quiet("c", 1))) {
            learnIds(List.of(a, b, c), mesh(a, b, c));
            MessageFaultTransport refusing = (MessageFaultTransport) a.transport();
            refusing.refusing(true);
            int keys = 20;
            for (int i = 0; i < keys; i++) {
                a.sync().store().update("k" + i, PNCounter.EMPTY, x -> x.addDelta(a.sync().store().replicaId(), 1));
            }
            awaitTrue(() -> a.meters().get("dwcp.ass.gossip").tag("outcome", "send-failed").functionCounter().count() >= keys,
                    Duration.ofSeconds(30), "every push was refused");
            assertEquals(0.0, received(b) + received(c));
            refusing.refusing(false);
            a.sync().rumourRound();
            // a's one round, and no round at b or c (their timers are a minute out): both peers have every delta
            awaitTrue(() -> java.util.stream.IntStream.range(0, keys).allMatch(i -> b.sync().store().get("k" + i).isPresent()
                    && c.sync().store().get("k" + i).isPresent()), Duration.ofSeconds(30), "a's one round reached b and c");
            for (int i = 0; i < keys; i++) {
                assertEquals(1L, ((PNCounter) b.sync().store().get("k" + i).orElseThrow()).value(), "b's k" + i);
                assertEquals(1L, ((PNCounter) c.sync().store().get("k" + i).orElseThrow()).value(), "c's k" + i);
            }
            // delivered: nothing is owed any more, and a further round sends nothing
            long before = sent(a);
            a.sync().rumourRound();
            assertEquals(before, sent(a));
        }
    }
}
