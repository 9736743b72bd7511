package io.dwcp.sync;

import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.transport.Transport;
import io.dwcp.transport.AmstTransportProvider;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/** A sync node over a real AMST transport on loopback, for tests and the multi-process harness. */
final class Nodes {
    private Nodes() {
    }

    /** Configuration for fast test rounds: one stream per session, short intervals. */
    static DwcpConfig config(String nodeId) {
        return DwcpConfig.builder()
                .set("dwcp.node-id", nodeId)
                .set("dwcp.sync.enabled", "true")
                .set("dwcp.transport.tls.enabled", "false")
                .set("dwcp.transport.initial-streams", "1")
                .set("dwcp.transport.min-streams", "1")
                .set("dwcp.transport.max-streams", "1")
                // dwcp.transport.connect-timeout stays at its default (30 s): a handshake with a replica restarted a
                // moment ago (a cold JVM) can take seconds on a loaded machine, and one abandoned at a short timeout is
                // wasted work that the next attempt repeats; a cut-off peer fails at once (its proxy closes the socket)
                .set("dwcp.transport.session-timeout", "5s")
                .set("dwcp.transport.reconnect.max-backoff", "500ms")
                // every replica reaches every other from 127.0.0.1 (through its proxy), so the per-peer session limit
                // (per IP without client certificates) is shared by all peers here: give it room for all of them
                .set("dwcp.transport.max-sessions-per-peer", "64")
                // likewise the inbound transfers a receiver allows one peer (an IP): every sender here keeps up to 32
                // in flight (the sync send window), and all of them count as one peer, 127.0.0.1 (256: max-transfers)
                .set("dwcp.transport.max-transfers-per-peer", "256")
                // each session (inbound and outbound) reserves its receive window from dwcp.transport.max-buffered
                // (half the direct-memory limit, ~96 MiB in a 192 MiB replica) and max-buffered-per-peer (per IP: all
                // replicas of a site share one): at the 256 MiB default window the first session takes it all and
                // every further peer is refused. Sync messages are at most max-message (4 MiB), so a 16 MiB window
                // (the smallest a session accepts) is ample, and the promise of 16 MiB for each of the ~10 sessions of
                // a replica (a session per peer each way, plus resumptions) is a promise, not memory in use.
                .set("dwcp.transport.reorder-buffer", "16MiB")
                .set("dwcp.transport.max-buffered", "1GiB")
                .set("dwcp.transport.max-buffered-per-peer", "1GiB")
                .set("dwcp.sync.gossip.interval", "200ms")
                .set("dwcp.sync.gossip.seen-ttl", "1m")
                .set("dwcp.sync.anti-entropy.interval", "1s")
                .set("dwcp.sync.full-reconciliation.interval", "3s")
                .set("dwcp.sync.max-staleness", "2s")
                .set("dwcp.sync.request-timeout", "1s")
                .set("dwcp.shutdown.timeout", "2s")
                .build();
    }

    /** A started transport and sync component. */
    record Node(Transport transport, AssSync sync, io.micrometer.core.instrument.MeterRegistry meters) implements AutoCloseable {
        @Override
        public void close() throws Exception {
            sync.stop();
            transport.stop();
        }
    }

    static Node start(DwcpConfig config) throws Exception {
        return start(config, 0, 0);
    }

    /** A node whose sends are duplicated / held back (reordered) with these probabilities ({@link MessageFaultTransport}). */
    static Node start(DwcpConfig config, double duplicateProbability, double delayProbability) throws Exception {
        return start(config, 0, duplicateProbability, delayProbability);
    }

    /** A node whose sends are lost / duplicated / held back with these probabilities ({@link MessageFaultTransport}). */
    static Node start(DwcpConfig config, double dropProbability, double duplicateProbability, double delayProbability)
            throws Exception {
        return start(config, dropProbability, duplicateProbability, delayProbability, false);
    }

    /** A node over a {@link MessageFaultTransport} with no faults yet ({@code node.transport()} sets them). */
    static Node startFaulty(DwcpConfig config) throws Exception {
        return start(config, 0, 0, 0, true);
    }

    private static Node start(DwcpConfig config, double dropProbability, double duplicateProbability, double delayProbability,
                              boolean wrapAlways) throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ComponentContext ctx = ComponentContext.standalone(config, registry, 1);
        Transport amst = new AmstTransportProvider().create(ctx);
        Transport t = amst;
        if (dropProbability + duplicateProbability + delayProbability > 0 || wrapAlways) {
            MessageFaultTransport f = new MessageFaultTransport(amst, duplicateProbability, delayProbability, System.nanoTime());
            f.faults(dropProbability, duplicateProbability, delayProbability);
            t = f;
        }
        t.start();
        AssSync s = (AssSync) new AssSyncProvider().create(ctx, t);
        s.start();
        return new Node(t, s, registry);
    }
}
