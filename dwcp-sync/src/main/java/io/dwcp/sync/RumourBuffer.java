package io.dwcp.sync;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The deltas a replica forwards at its next rumour round, and the δ-groups it makes of them.
 *
 * <p>Three rules keep gossip from re-sending what peers already hold:
 * <ul>
 *   <li>only a delta that changed this replica's state is queued (a received delta that was already here is not
 *       forwarded again);</li>
 *   <li>each queued delta remembers the nodes known to hold it — the nodes on its message's path, which lists the
 *       sender, the nodes it passed through and the peers it was sent to — and a round never sends it to them;</li>
 *   <li>a round sends each chosen peer one message (split below {@code max-message}) with every queued delta that
 *       peer lacks, instead of one message per delta, so the per-message header is paid once per round and peer.</li>
 * </ul>
 * A delta whose send to a peer failed (the peer refused the transfer, or the session broke) is queued again with that
 * peer <em>owed</em>: the next round sends to every owed peer, on top of its {@code fanout} random ones, so the delta
 * stays pending at this node until a send to that peer succeeded (or the delta ran out of hops; anti-entropy then
 * repairs it). Bounded: past {@code maxItems} the oldest delta is dropped (anti-entropy repairs what it would have
 * carried). Thread-safe.
 */
final class RumourBuffer {
    /**
     * One queued delta.
     *
     * @param entry the key and its delta (or whole entry state when {@code whole})
     * @param whole whether the entry is a whole state rather than a delta
     * @param hops hops the delta has made so far
     * @param holders node ids known to hold it
     * @param owed peers (by address) a send of it failed to: the next round must send it to them
     */
    record Item(SyncMessage.KeyState entry, boolean whole, int hops, Set<String> holders, Set<InetSocketAddress> owed) {
    }

    /**
     * One message of a round for one peer.
     *
     * @param entries the deltas, in queue order
     * @param whole whether they are whole states
     * @param hops the message's hop count (one more than its most travelled delta)
     * @param path the nodes known to hold every delta of the message after this round, this node last
     */
    record Group(List<SyncMessage.KeyState> entries, boolean whole, int hops, List<String> path) {
    }

    private final int maxItems;
    /** Queued deltas by entry identity, oldest first: a delta queued again (a failed send) is not held twice. */
    private final LinkedHashMap<Ref, Item> items = new LinkedHashMap<>();
    private long dropped;

    RumourBuffer(int maxItems) {
        if (maxItems < 1) {
            throw new IllegalArgumentException("maxItems must be >= 1, got " + maxItems);
        }
        this.maxItems = maxItems;
    }

    /** Identity of a queued entry (the same instance queued again is the same delta). */
    private record Ref(SyncMessage.KeyState entry) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Ref r && r.entry == entry;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(entry);
        }
    }

    /**
     * Queues one delta; drops the oldest queued one when full. The same entry instance queued again (its sends to
     * several peers failed) stays one item, held by the nodes in both holder sets only, at the larger hop count.
     */
    synchronized void add(SyncMessage.KeyState entry, boolean whole, int hops, Collection<String> holders) {
        add(entry, whole, hops, holders, Set.of());
    }

    /**
     * Queues one delta that must go to {@code owed} at the next round (its sends to them failed); otherwise as
     * {@link #add(SyncMessage.KeyState, boolean, int, Collection)}. Queued again, an entry owes the union of both sets.
     */
    synchronized void add(SyncMessage.KeyState entry, boolean whole, int hops, Collection<String> holders,
                          Collection<InetSocketAddress> owed) {
        Ref ref = new Ref(entry);
        Item cur = items.get(ref);
        if (cur != null) {
            Set<String> h = new HashSet<>(cur.holders());
            h.retainAll(holders);
            Set<InetSocketAddress> o = new HashSet<>(cur.owed());
            o.addAll(owed);
            items.put(ref, new Item(entry, whole, Math.max(hops, cur.hops()), Set.copyOf(h), Set.copyOf(o)));
            return;
        }
        if (items.size() >= maxItems) {
            Iterator<Ref> it = items.keySet().iterator();
            it.next();
            it.remove();
            dropped++;
        }
        items.put(ref, new Item(entry, whole, hops, Set.copyOf(holders), Set.copyOf(owed)));
    }

    /** The peers any of {@code items} is owed to (their sends failed): every one is a target of the round. */
    static Set<InetSocketAddress> owedPeers(List<Item> items) {
        Set<InetSocketAddress> out = new HashSet<>();
        for (Item it : items) {
            out.addAll(it.owed());
        }
        return out;
    }

    /** Removes and returns every queued delta, oldest first. */
    synchronized List<Item> drain() {
        List<Item> out = new ArrayList<>(items.values());
        items.clear();
        return out;
    }

    /** Deltas queued now. */
    synchronized int size() {
        return items.size();
    }

    /** Deltas dropped because the buffer was full. */
    synchronized long dropped() {
        return dropped;
    }

    /** Empties the buffer. */
    synchronized void clear() {
        items.clear();
    }

    /**
     * The messages for one peer of a round: the items that peer is not known to hold, split by kind (deltas, whole
     * states) and below {@code maxBytes}.
     *
     * @param items the round's items (already limited to those that may make one more hop)
     * @param peerNodeId the peer's node id, or null when not learned yet (it then gets every item)
     * @param self this node's id
     * @param roundTargets node ids of every peer this round sends to (they hold the round's items afterwards)
     * @param maxBytes largest encoded entries per message
     */
    static List<Group> groupsFor(List<Item> items, String peerNodeId, String self, Collection<String> roundTargets, int maxBytes) {
        List<Group> out = new ArrayList<>();
        for (boolean whole : new boolean[]{false, true}) {
            List<SyncMessage.KeyState> batch = new ArrayList<>();
            Set<String> common = null;
            int hops = 0;
            int bytes = 0;
            for (Item it : items) {
                if (it.whole() != whole || (peerNodeId != null && it.holders().contains(peerNodeId))) {
                    continue;
                }
                int size = SyncWire.entryBytes(it.entry().key(), it.entry().state().encode());
                if (!batch.isEmpty() && bytes + size > maxBytes) {
                    out.add(group(batch, whole, hops, common, self, roundTargets));
                    batch = new ArrayList<>();
                    common = null;
                    hops = 0;
                    bytes = 0;
                }
                batch.add(it.entry());
                bytes += size;
                hops = Math.max(hops, it.hops() + 1);
                if (common == null) {
                    common = new HashSet<>(it.holders());
                } else {
                    common.retainAll(it.holders());
                }
            }
            if (!batch.isEmpty()) {
                out.add(group(batch, whole, hops, common, self, roundTargets));
            }
        }
        return out;
    }

    private static Group group(List<SyncMessage.KeyState> batch, boolean whole, int hops, Set<String> common, String self,
                               Collection<String> roundTargets) {
        TreeSet<String> holders = new TreeSet<>(common);
        holders.addAll(roundTargets);
        holders.remove(self);
        List<String> path = new ArrayList<>(holders);
        path.add(self);
        return new Group(List.copyOf(batch), whole, hops, path);
    }
}
