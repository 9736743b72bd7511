package io.dwcp.sync;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/*
 * Maintainer notes: infect-and-forward for the peers a push did not reach.
 *
 * A local update is pushed at once to `fanout` random peers; the push's path names its origin and those recipients
 * (the "sent-to" set). Before this, every other peer waited for a rumour round (gossip.interval, 5 s on a WAN), so with
 * five replicas and fanout 3 one peer in four saw each update seconds late. Now every recipient of a push (hop count 0)
 * works out the same plan from what the message carries — its id, its path — and from its own peer list: each peer not
 * on the path (an "uncovered" peer, known by node id) is given to exactly one recipient, chosen by rendezvous hashing
 * of (message id, peer, recipient), and that recipient forwards the delta to it at once, one hop further, with a path
 * that names every peer the plan covers. The origin computes the same plan. So every replica within two hops of the
 * origin (1 + fanout + fanout² replicas at full capacity) receives each delta about once, after at most two one-way
 * delays, with no extra message: the plan spreads the uncovered peers over the recipients, at most `fanout` each
 * (a recipient's next choice takes a peer once the best one is full).
 *
 * Every node that knows the plan counts the covered peers as holders (its rumour rounds skip them). When a send of the
 * plan fails — the origin's push to a recipient, or a recipient's forward — the sender queues the delta again without
 * the peers that send should have reached (AssSync.sendDelta), so its next rumour round retries them. A recipient
 * that dies after receiving and before forwarding, or whose view of the peers differs (it does not know a peer's node
 * id yet), leaves a peer to anti-entropy, as any lost gossip is. Peers the plan cannot cover (more than the
 * recipients' capacity) stay with the rumour rounds, as before.
 */

/** Plans who forwards a push at once to the peers it did not reach; pure functions, thread-safe. */
final class PushForwarding {
    private PushForwarding() {
    }

    /**
     * The forwarding plan of one push: for each recipient, the uncovered peers it forwards to. Every node that knows
     * the same inputs computes the same plan.
     *
     * @param messageId the push's message id
     * @param recipients node ids the push was sent to (its path without the origin)
     * @param uncovered node ids of peers not on the push's path
     * @param maxPerRecipient most peers one recipient forwards to (the fanout)
     * @return recipient → peers it forwards to, in a fixed order; recipients with none are absent
     */
    static Map<String, List<String>> plan(long messageId, Collection<String> recipients, Collection<String> uncovered,
                                          int maxPerRecipient) {
        Map<String, List<String>> out = new TreeMap<>();
        if (recipients.isEmpty() || uncovered.isEmpty() || maxPerRecipient < 1) {
            return out;
        }
        List<String> from = List.copyOf(new TreeSet<>(recipients));
        for (String peer : new TreeSet<>(uncovered)) {
            List<String> ranked = new ArrayList<>(from);
            ranked.sort(Comparator.comparingLong((String r) -> score(messageId, peer, r)).thenComparing(r -> r));
            for (String r : ranked) {
                List<String> mine = out.computeIfAbsent(r, k -> new ArrayList<>());
                if (mine.size() < maxPerRecipient) {
                    mine.add(peer);
                    break;
                }
            }
        }
        out.values().removeIf(List::isEmpty);
        return out;
    }

    /** The peers a plan covers. */
    static Set<String> covered(Map<String, List<String>> plan) {
        Set<String> out = new TreeSet<>();
        plan.values().forEach(out::addAll);
        return out;
    }

    /** Rendezvous score (lowest wins): a 64-bit mix of the message id and both names (String.hashCode is specified). */
    private static long score(long messageId, String peer, String recipient) {
        long z = messageId ^ (peer.hashCode() * 0x9E3779B97F4A7C15L) ^ ((long) recipient.hashCode() << 32 | 0x5BD1E995L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
