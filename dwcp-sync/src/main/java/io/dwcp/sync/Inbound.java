package io.dwcp.sync;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.transport.Session;

/*
 * Maintainer notes. Every received sync message of one run, on the transport's delivery thread: decoded (a bad one is
 * dropped and counted by reason), refused when its sender is a retired member, its HLC observed, and dispatched —
 * DELTA to Gossip, tree/leaf/pull/push requests answered from the store (AntiEntropy.answer), responses to the
 * messenger's waiting request. A message from a peer whose last round failed queues a round with it at once (the path
 * is back). Nothing here blocks or takes a lock beyond the store's per-key merge.
 */

/** Dispatch of received sync messages for one {@link SyncRun}. Thread-safe. */
final class Inbound {
    private final SyncRun run;

    Inbound(SyncRun run) {
        this.run = run;
    }

    void handle(Session session, byte[] bytes) {
        if (!run.running) {
            return; // a session accepted before stop() may still deliver; a stopped component does no work
        }
        SyncMessage m;
        try {
            m = SyncWire.decode(bytes, run.registry);
        } catch (DwcpException e) {
            // a well-formed header with a message type or CRDT type tag this build does not know: unknown-type
            boolean unknownType = e.code() == ErrorCode.PROTOCOL_ERROR && SyncWire.headerValid(bytes);
            run.reject(unknownType ? Messenger.Reject.UNKNOWN_TYPE : Messenger.Reject.MALFORMED, e.getMessage());
            return;
        }
        String sender = m.header().sender();
        Membership members = run.membership;
        if (members.isRetired(sender)) {
            run.reject(Messenger.Reject.RETIRED, "message from retired member '" + sender + "'");
            return;
        }
        if (members.live().contains(sender)) { // only members: a flood of made-up sender ids allocates nothing
            run.stability.heard(sender, run.nowMillis());
        }
        run.observeClock(m.header());
        for (SyncPeer p : run.peers.values()) {
            if (p.address.equals(session.remoteAddress())) {
                p.tier = session.tier();
            }
            if (p.failures > 0 && sender.equals(p.nodeId)) {
                // the path to this peer is back (it reached us): reconcile now rather than at the next retry
                run.rounds.queueRound(p);
            }
        }
        long corr = m.header().correlationId();
        ReplicatedStore store = run.store;
        if (m instanceof SyncMessage.Delta d) {
            run.gossip.onDelta(d);
        } else if (m instanceof SyncMessage.TreeRequest q) {
            reply(session, AntiEntropy.answer(store.index(), q, run.header(corr)));
        } else if (m instanceof SyncMessage.LeafRequest q) {
            reply(session, AntiEntropy.answer(store.index(), q, run.header(corr)));
        } else if (m instanceof SyncMessage.PullRequest q) {
            reply(session, AntiEntropy.answer(store, q, run.header(corr), run.settings.maxMessageBytes));
        } else if (m instanceof SyncMessage.PushRequest q) {
            int merged = 0;
            for (SyncMessage.KeyState ks : q.entries()) {
                if (run.mergeChecked(ks, false)) {
                    merged++;
                }
            }
            run.metrics.keysExchanged.addAndGet(merged);
            reply(session, new SyncMessage.PushAck(run.header(corr), merged));
        } else if (!run.messenger.complete(corr, bytes)) {
            run.reject(Messenger.Reject.UNSOLICITED, "response with correlation id " + corr + " nobody waits for");
        }
    }

    private void reply(Session session, SyncMessage m) {
        byte[] bytes = SyncWire.encode(m);
        run.metrics.aeBytesSent.addAndGet(bytes.length);
        run.messenger.send(session, bytes).whenComplete(Messenger.logFailure("sync response"));
    }
}
