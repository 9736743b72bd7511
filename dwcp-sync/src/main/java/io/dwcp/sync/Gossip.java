package io.dwcp.sync;

import io.dwcp.sync.crdt.OrMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;

/*
 * Maintainer notes. The push side of replication, for one run.
 *  - Every local update's delta goes at once, as one DELTA message, to `fanout` random peers, and into the rumour
 *    buffer with those peers as holders; the recipients forward it at once to the peers the push missed
 *    (PushForwarding). Received deltas that were new here join the buffer with the message's path as holders.
 *  - Every gossip.interval the buffer is drained into one δ-group message per chosen peer (RumourBuffer: only what
 *    that peer is not known to hold; every owed peer, random ones up to `fanout` in all; hop limit max-hops). A failed send
 *    queues its deltas again with that peer (and the peers it should have forwarded them to) owed: the next round
 *    sends to every owed peer, so a delta stays pending here until a send of it to each of them succeeded — with
 *    anti-entropy off the push path alone still converges. Received messages are de-duplicated by id (SeenCache).
 *  - push-mode entry-state ships whole entries the same way; full-state ships the whole store every round instead.
 * Threads: onLocalDelta on the updating thread (after the store's commit), onDelta on transport delivery threads,
 * rumourRound on the timer. Shared state is the rumour buffer and the seen cache, both thread-safe; nothing here
 * takes a lock.
 */

/** δ push, push forwarding and rumour rounds of one {@link SyncRun}. Thread-safe. */
final class Gossip {
    private static final Logger LOG = LoggerFactory.getLogger(Gossip.class);

    private final SyncRun run;
    /** push-mode full-state: the whole store, streamed in chunks; at most one stream at a time. */
    private final WholeStoreShipper wholeStore = new WholeStoreShipper();

    Gossip(SyncRun run) {
        this.run = run;
    }

    /** A local update committed {@code delta} to {@code key}: push it to {@code fanout} peers and queue it as rumour. */
    void onLocalDelta(String key, OrMap delta) {
        SyncSettings settings = run.settings;
        if (!run.running || settings.pushMode == SyncSettings.PushMode.FULL_STATE) {
            // while stopped updates stay local (anti-entropy ships them after the next start); state-based
            // replication ships the whole store at its next round instead
            return;
        }
        // push-mode entry-state ships the key's whole entry instead (a baseline for benchmarks; same merge path)
        boolean whole = settings.pushMode == SyncSettings.PushMode.ENTRY_STATE;
        SyncMessage.KeyState entry = new SyncMessage.KeyState(key, whole ? run.store.state(key) : delta);
        List<SyncPeer> targets = run.randomPeers(settings.fanout, p -> true);
        Set<String> holders = new TreeSet<>();
        holders.add(settings.nodeId);
        for (SyncPeer p : targets) {
            if (p.nodeId != null) {
                holders.add(p.nodeId);
            }
        }
        List<String> path = new ArrayList<>(holders);
        path.remove(settings.nodeId);
        path.add(settings.nodeId);
        long messageId = ThreadLocalRandom.current().nextLong();
        // the recipients forward at once to the peers this push misses (PushForwarding); they count as holders here
        Map<String, List<String>> plan = forwardPlan(messageId, path.subList(0, path.size() - 1), holders);
        Set<String> rumourHolders = new TreeSet<>(holders);
        rumourHolders.addAll(PushForwarding.covered(plan));
        SyncMessage.Delta m = new SyncMessage.Delta(run.header(0), messageId, 0, whole, path, List.of(entry));
        run.seen.firstSight(m.messageId(), run.nowMillis());
        byte[] bytes = SyncWire.encode(m);
        for (SyncPeer p : targets) {
            sendDelta(p, bytes, List.of(entry), whole, 1, rumourHolders,
                    p.nodeId == null ? List.of() : plan.getOrDefault(p.nodeId, List.of()));
        }
        run.rumours.add(entry, whole, 0, rumourHolders);
    }

    /**
     * The forwarding plan of a push (see {@link PushForwarding}): the peers this node knows by node id that are not on
     * the push's path, spread over its recipients. Empty in push-mode full-state.
     *
     * @param recipients the push's path without its origin
     * @param onPath every node on the push's path, origin included
     */
    private Map<String, List<String>> forwardPlan(long messageId, List<String> recipients, Set<String> onPath) {
        SyncSettings settings = run.settings;
        if (settings.pushMode == SyncSettings.PushMode.FULL_STATE) {
            return Map.of();
        }
        List<String> uncovered = new ArrayList<>();
        for (SyncPeer p : run.peers.values()) {
            String id = p.nodeId;
            if (id != null && !onPath.contains(id) && !id.equals(settings.nodeId)) {
                uncovered.add(id);
            }
        }
        return PushForwarding.plan(messageId, recipients, uncovered, settings.fanout);
    }

    /**
     * The rumour round: every delta queued since the last round goes, as one δ-group message per peer, to every peer
     * it is owed to (an earlier send failed) and to random peers that are not known to hold all of it, up to
     * {@code fanout} peers in all (see {@link RumourBuffer}). In push-mode full-state the round ships the whole store
     * instead.
     */
    void rumourRound() {
        SyncSettings settings = run.settings;
        run.metrics.rumourRounds.incrementAndGet();
        if (settings.pushMode == SyncSettings.PushMode.FULL_STATE) {
            shipWholeStore();
            return;
        }
        List<RumourBuffer.Item> items = new ArrayList<>();
        for (RumourBuffer.Item it : run.rumours.drain()) {
            if (it.hops() + 1 > settings.maxHops) {
                run.metrics.ttlExpired.incrementAndGet();
            } else {
                items.add(it);
            }
        }
        if (items.isEmpty()) {
            return;
        }
        // peers a send failed to are owed their deltas: always targets (a delta stays pending here until a send to
        // each of them succeeded, or it runs out of hops); random peers fill the round up to fanout
        List<SyncPeer> targets = new ArrayList<>();
        for (InetSocketAddress a : RumourBuffer.owedPeers(items)) {
            SyncPeer p = run.peers.get(a);
            if (p != null && !run.retiredPeer(p)) {
                targets.add(p);
            }
        }
        for (SyncPeer p : run.randomPeers(run.peers.size(),
                p -> p.nodeId == null || items.stream().anyMatch(it -> !it.holders().contains(p.nodeId)))) {
            if (targets.size() >= settings.fanout) {
                break;
            }
            if (!targets.contains(p)) {
                targets.add(p);
            }
        }
        List<String> targetIds = new ArrayList<>();
        for (SyncPeer p : targets) {
            if (p.nodeId != null) {
                targetIds.add(p.nodeId);
            }
        }
        int maxEntries = settings.maxMessageBytes - 1024;
        for (SyncPeer p : targets) {
            for (RumourBuffer.Group g : RumourBuffer.groupsFor(items, p.nodeId, settings.nodeId, targetIds, maxEntries)) {
                SyncMessage.Delta m = new SyncMessage.Delta(run.header(0), ThreadLocalRandom.current().nextLong(), g.hops(),
                        g.whole(), g.path(), g.entries());
                sendDelta(p, SyncWire.encode(m), g.entries(), g.whole(), g.hops(), g.path(), List.of());
            }
        }
    }

    /**
     * State-based replication (push-mode full-state): every held entry, as whole states, to {@code fanout} random peers,
     * streamed in acknowledged chunks ({@link WholeStoreShipper}); skipped while the previous round's stream runs.
     */
    private void shipWholeStore() {
        List<Function<byte[], CompletableFuture<?>>> targets = new ArrayList<>();
        for (SyncPeer p : run.randomPeers(run.settings.fanout, x -> true)) {
            targets.add(bytes -> sendDelta(p, bytes, List.of(), true, 0, List.of(), List.of()));
        }
        wholeStore.ship(run.store.heldKeys(), run.store::state,
                Math.min(WholeStoreShipper.CHUNK_BYTES, run.settings.maxMessageBytes - 1024),
                batch -> SyncWire.encode(new SyncMessage.Delta(run.header(0), ThreadLocalRandom.current().nextLong(), 0,
                        true, List.of(run.settings.nodeId), batch)), targets, run.timer);
    }

    /**
     * Sends one gossip message. When it fails (the peer refused the transfer, or the session broke before it
     * completed), its entries are queued again without the peer among their holders and with the peer owed, so the
     * next rumour round retries that peer — until max-hops, after which anti-entropy repairs it. Naming a peer on the path is a promise that it was sent
     * the message, and a failed send breaks it.
     */
    private CompletableFuture<Void> sendDelta(SyncPeer p, byte[] bytes, List<SyncMessage.KeyState> entries, boolean whole, int hops,
                           Collection<String> holders, Collection<String> reachedThrough) {
        SyncMetrics metrics = run.metrics;
        metrics.deltaSendsStarted.incrementAndGet();
        return run.messenger.send(p.address, bytes).whenComplete((v, e) -> {
            if (e == null) {
                // counted once delivered: a message to an unreachable peer never reached the wire
                metrics.deltaMessagesSent.incrementAndGet();
                metrics.deltaBytesSent.addAndGet(bytes.length);
                return;
            }
            LOG.debug("delta push to {} failed: {}", p.address, e.toString());
            metrics.deltaSendsFailed.incrementAndGet();
            if (!entries.isEmpty() && run.running) {
                Set<String> h = new HashSet<>(holders);
                String id = p.nodeId;
                if (id != null) {
                    h.remove(id);
                }
                h.removeAll(reachedThrough); // peers the failed recipient should have forwarded it to
                // this node now owes the deltas to the peer and to those it should have forwarded them to
                Set<InetSocketAddress> owed = new HashSet<>();
                owed.add(p.address);
                for (SyncPeer q : run.peers.values()) {
                    if (q.nodeId != null && reachedThrough.contains(q.nodeId)) {
                        owed.add(q.address);
                    }
                }
                for (SyncMessage.KeyState ks : entries) {
                    run.rumours.add(ks, whole, hops, h, owed);
                }
            }
        });
    }

    /** A received DELTA: merge what is new, queue it as rumour, and forward a first-hop push where the plan says. */
    void onDelta(SyncMessage.Delta d) {
        SyncSettings settings = run.settings;
        SyncMetrics metrics = run.metrics;
        metrics.gossipReceived.incrementAndGet();
        if (!run.seen.firstSight(d.messageId(), run.nowMillis())) {
            metrics.duplicates.incrementAndGet();
            return;
        }
        // state-based replication ships whole stores every round; nothing is forwarded
        boolean forward = settings.pushMode != SyncSettings.PushMode.FULL_STATE;
        Set<String> holders = new HashSet<>(d.path());
        holders.add(d.header().sender());
        holders.add(settings.nodeId);
        List<String> forwardTo = List.of();
        if (forward && d.hops() == 0 && settings.maxHops >= 1) {
            // a push from its origin: this node may be the one the plan names to forward it at once to a peer the push
            // missed; every recipient computes the same plan and counts the covered peers as holders (PushForwarding)
            List<String> recipients = new ArrayList<>(d.path());
            recipients.remove(d.header().sender());
            Map<String, List<String>> plan = forwardPlan(d.messageId(), recipients, holders);
            holders.addAll(PushForwarding.covered(plan));
            forwardTo = plan.getOrDefault(settings.nodeId, List.of());
        }
        for (SyncMessage.KeyState ks : d.entries()) {
            // only what was new here is queued for rumour rounds: a delta already held is not re-sent
            if (run.mergeChecked(ks, !d.wholeStates()) && forward) {
                if (d.hops() >= settings.maxHops) {
                    metrics.ttlExpired.incrementAndGet();
                    continue;
                }
                run.rumours.add(ks, d.wholeStates(), d.hops(), holders);
            }
        }
        if (!forwardTo.isEmpty()) {
            forwardPush(d, holders, forwardTo);
        }
        metrics.deltasReceived.addAndGet(d.entries().size());
    }

    /**
     * Forwards a push at once, one hop further, to the peers the plan gave this node. Every entry of the push goes
     * (the first sight of a push: its peers count on this node for all of it). The path names every holder the plan
     * knows of, so the receivers' rumour rounds do not send it back.
     */
    private void forwardPush(SyncMessage.Delta d, Set<String> holders, List<String> forwardTo) {
        String self = run.settings.nodeId;
        TreeSet<String> known = new TreeSet<>(holders);
        known.remove(self);
        List<String> path = new ArrayList<>(known);
        path.add(self);
        SyncMessage.Delta m = new SyncMessage.Delta(run.header(0), ThreadLocalRandom.current().nextLong(), 1, d.wholeStates(),
                path, d.entries());
        run.seen.firstSight(m.messageId(), run.nowMillis());
        byte[] bytes = SyncWire.encode(m);
        for (SyncPeer p : run.peers.values()) {
            if (p.nodeId != null && forwardTo.contains(p.nodeId)) {
                run.metrics.pushForwards.incrementAndGet();
                sendDelta(p, bytes, d.entries(), d.wholeStates(), 1, holders, List.of());
            }
        }
    }
}
