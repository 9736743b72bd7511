package io.dwcp.sync;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.sync.crdt.OrMap;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeSet;

/*
 * Maintainer notes. One anti-entropy round with one peer, run on the sync worker thread, blocking on each
 * response (request-timeout each):
 *   1. TREE_REQUEST level 0 .. 3: descend the 16-ary range tree, asking only for the children of nodes whose hashes
 *      differ; equal subtrees are never expanded, so k differing keys among n cost O(k · log16 n) hashes.
 *   2. LEAF_REQUEST for the differing leaves: the peer's (key, digest) pairs there.
 *   3. PULL_REQUEST the keys whose digest differs or that only the peer has; merge the states.
 *   4. PUSH_REQUEST the keys that differ or only this node has; the peer acknowledges.
 * Both sides end with the join of their entries for every key that differed. Requests and responses are split so
 * that no message exceeds max-message.
 * runFlat() skips step 1 and asks for every leaf: the flat exchange of every key's digest that the tree avoids. It is
 * not used by the component; benchmarks run it beside run() to measure what the tree saves, in the same code.
 */

/** Runs anti-entropy rounds. Thread-safe (stateless apart from its collaborators); blocking. */
final class AntiEntropy {
    /**
     * What one round moved. {@code pulledAll}: every key that differed on the peer's side was pulled and merged here
     * (false when a pull answer was cut at max-message; the rest waits for the next round).
     */
    record Result(int differingLeaves, int pulled, int pushed, int roundTrips, boolean pulledAll) {
    }

    interface Requester {
        SyncMessage request(InetSocketAddress peer, java.util.function.LongFunction<SyncMessage> message);
    }

    private final ReplicatedStore store;
    private final Requester requester;
    private final int maxMessageBytes;

    AntiEntropy(ReplicatedStore store, Requester requester, int maxMessageBytes) {
        this.store = store;
        this.requester = requester;
        this.maxMessageBytes = maxMessageBytes;
    }

    Result run(InetSocketAddress peer, SyncMessage.Header template) {
        MerkleIndex index = store.index();
        int trips = 0;
        List<Integer> differing = List.of(0);
        int nodesPerRequest = Math.max(1, (maxMessageBytes - 256) / (8 * MerkleIndex.FANOUT + 2));
        for (int level = 0; level < MerkleIndex.DEPTH && !differing.isEmpty(); level++) {
            List<Integer> next = new ArrayList<>();
            for (int from = 0; from < differing.size(); from += nodesPerRequest) {
                int[] nodes = differing.subList(from, Math.min(differing.size(), from + nodesPerRequest))
                        .stream().mapToInt(Integer::intValue).toArray();
                int lvl = level;
                SyncMessage r = requester.request(peer, id -> new SyncMessage.TreeRequest(header(template, id), lvl, nodes));
                trips++;
                if (!(r instanceof SyncMessage.TreeResponse t) || t.level() != level || t.children().length != nodes.length) {
                    throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "unexpected answer to a tree request from " + peer + ": " + r);
                }
                for (int i = 0; i < nodes.length; i++) {
                    long[] mine = index.children(level, nodes[i]);
                    for (int c = 0; c < MerkleIndex.FANOUT; c++) {
                        if (mine[c] != t.children()[i][c]) {
                            next.add(nodes[i] * MerkleIndex.FANOUT + c);
                        }
                    }
                }
            }
            differing = next;
        }
        if (differing.isEmpty()) {
            return new Result(0, 0, 0, trips, true);
        }
        return reconcileLeaves(peer, template, differing, trips);
    }

    /** A round without the tree: every leaf's (key, digest) list is fetched and compared (a flat digest exchange). */
    Result runFlat(InetSocketAddress peer, SyncMessage.Header template) {
        List<Integer> all = new ArrayList<>(MerkleIndex.LEAVES);
        for (int i = 0; i < MerkleIndex.LEAVES; i++) {
            all.add(i);
        }
        return reconcileLeaves(peer, template, all, 0);
    }

    /** Steps 2–4 for the given leaves. */
    private Result reconcileLeaves(InetSocketAddress peer, SyncMessage.Header template, List<Integer> differing, int trips) {
        MerkleIndex index = store.index();
        TreeSet<String> pull = new TreeSet<>();
        TreeSet<String> push = new TreeSet<>();
        int leavesPerRequest = Math.max(1, Math.min(differing.size(), maxMessageBytes / 4096));
        for (int from = 0; from < differing.size(); from += leavesPerRequest) {
            int[] leaves = differing.subList(from, Math.min(differing.size(), from + leavesPerRequest))
                    .stream().mapToInt(Integer::intValue).toArray();
            SyncMessage r = requester.request(peer, id -> new SyncMessage.LeafRequest(header(template, id), leaves));
            trips++;
            if (!(r instanceof SyncMessage.LeafResponse l) || l.leaves().size() != leaves.length) {
                throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "unexpected answer to a leaf request from " + peer + ": " + r);
            }
            for (int i = 0; i < leaves.length; i++) {
                NavigableMap<String, Long> mine = index.leaf(leaves[i]);
                Map<String, Long> theirs = l.leaves().get(i);
                for (Map.Entry<String, Long> e : theirs.entrySet()) {
                    Long m = mine.get(e.getKey());
                    if (m == null || m.longValue() != e.getValue()) {
                        pull.add(e.getKey());
                    }
                }
                for (Map.Entry<String, Long> e : mine.entrySet()) {
                    Long t = theirs.get(e.getKey());
                    if (t == null || t.longValue() != e.getValue()) {
                        push.add(e.getKey());
                    }
                }
            }
        }
        int pulled = 0;
        List<String> keys = new ArrayList<>(pull);
        int keysPerRequest = Math.max(1, maxMessageBytes / 2048);
        for (int from = 0; from < keys.size(); from += keysPerRequest) {
            List<String> batch = keys.subList(from, Math.min(keys.size(), from + keysPerRequest));
            SyncMessage r = requester.request(peer, id -> new SyncMessage.PullRequest(header(template, id), List.copyOf(batch)));
            trips++;
            if (!(r instanceof SyncMessage.PullResponse p)) {
                throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "unexpected answer to a pull request from " + peer + ": " + r);
            }
            for (SyncMessage.KeyState ks : p.entries()) {
                if (pull.contains(ks.key())) {
                    store.mergeState(ks.key(), ks.state());
                    pulled++;
                }
            }
        }
        int pushed = 0;
        List<SyncMessage.KeyState> batch = new ArrayList<>();
        int batchBytes = 0;
        for (String k : push) {
            OrMap s = store.state(k);
            if (s == null) {
                continue;
            }
            int size = SyncWire.entryBytes(k, s.encode());
            if (!batch.isEmpty() && batchBytes + size > maxMessageBytes - 256) {
                pushed += pushBatch(peer, template, batch);
                trips++;
                batch = new ArrayList<>();
                batchBytes = 0;
            }
            batch.add(new SyncMessage.KeyState(k, s));
            batchBytes += size;
        }
        if (!batch.isEmpty()) {
            pushed += pushBatch(peer, template, batch);
            trips++;
        }
        return new Result(differing.size(), pulled, pushed, trips, pulled == pull.size());
    }

    private int pushBatch(InetSocketAddress peer, SyncMessage.Header template, List<SyncMessage.KeyState> batch) {
        List<SyncMessage.KeyState> copy = List.copyOf(batch);
        SyncMessage r = requester.request(peer, id -> new SyncMessage.PushRequest(header(template, id), copy));
        if (!(r instanceof SyncMessage.PushAck)) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "unexpected answer to a push from " + peer + ": " + r);
        }
        return copy.size();
    }

    private static SyncMessage.Header header(SyncMessage.Header template, long correlationId) {
        return new SyncMessage.Header(correlationId, template.hlc(), template.sender());
    }

    /** The answer to a tree request. */
    static SyncMessage.TreeResponse answer(MerkleIndex index, SyncMessage.TreeRequest q, SyncMessage.Header h) {
        long[][] out = new long[q.nodes().length][];
        for (int i = 0; i < out.length; i++) {
            out[i] = index.children(q.level(), q.nodes()[i]);
        }
        return new SyncMessage.TreeResponse(h, q.level(), out);
    }

    /** The answer to a leaf request. */
    static SyncMessage.LeafResponse answer(MerkleIndex index, SyncMessage.LeafRequest q, SyncMessage.Header h) {
        List<Map<String, Long>> out = new ArrayList<>();
        for (int leaf : q.leaves()) {
            out.add(index.leaf(leaf));
        }
        return new SyncMessage.LeafResponse(h, out);
    }

    /** The answer to a pull: the entries held, cut before max-message. */
    static SyncMessage.PullResponse answer(ReplicatedStore store, SyncMessage.PullRequest q, SyncMessage.Header h, int maxMessageBytes) {
        List<SyncMessage.KeyState> out = new ArrayList<>();
        int bytes = 256;
        for (String k : q.keys()) {
            OrMap s = store.state(k);
            if (s == null) {
                continue;
            }
            int size = SyncWire.entryBytes(k, s.encode());
            if (bytes + size > maxMessageBytes) {
                break; // the puller asks again in its next round
            }
            bytes += size;
            out.add(new SyncMessage.KeyState(k, s));
        }
        return new SyncMessage.PullResponse(h, out);
    }
}
