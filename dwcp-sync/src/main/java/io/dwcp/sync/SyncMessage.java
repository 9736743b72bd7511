package io.dwcp.sync;

import io.dwcp.sync.crdt.OrMap;

import java.util.List;
import java.util.Map;

/**
 * The sync messages (their byte layout is in {@link SyncWire} and {@code docs/sync.md}). Every message carries the
 * header fields: a correlation id (0 for one-way messages; a response repeats its request's), the sender's hybrid
 * clock timestamp and the sender's node id.
 */
sealed interface SyncMessage {
    /** Header common to all messages. */
    record Header(long correlationId, long hlc, String sender) {
    }

    Header header();

    /** A key and its entry state (or delta). */
    record KeyState(String key, OrMap state) {
    }

    /**
     * Gossip: deltas (or, when {@code wholeStates}, the keys' whole entry states, merged without causal buffering)
     * with a message id (de-duplication), hop count and the path of node ids it took.
     */
    record Delta(Header header, long messageId, int hops, boolean wholeStates, List<String> path, List<KeyState> entries)
            implements SyncMessage {
    }

    /** Anti-entropy: asks for the child hashes of {@code nodes} at {@code level}. */
    record TreeRequest(Header header, int level, int[] nodes) implements SyncMessage {
    }

    /** The 16 child hashes of each requested node, in request order. */
    record TreeResponse(Header header, int level, long[][] children) implements SyncMessage {
    }

    /** Asks for the key digests of the given leaves. */
    record LeafRequest(Header header, int[] leaves) implements SyncMessage {
    }

    /** Key digests per requested leaf, in request order. */
    record LeafResponse(Header header, List<Map<String, Long>> leaves) implements SyncMessage {
    }

    /** Asks for the entry states of keys. */
    record PullRequest(Header header, List<String> keys) implements SyncMessage {
    }

    /** Entry states answering a pull (keys the responder does not hold are left out). */
    record PullResponse(Header header, List<KeyState> entries) implements SyncMessage {
    }

    /** Entry states pushed by anti-entropy; answered with an acknowledgement. */
    record PushRequest(Header header, List<KeyState> entries) implements SyncMessage {
    }

    /** Acknowledges a push: how many entries were merged without error. */
    record PushAck(Header header, int merged) implements SyncMessage {
    }

    /** A request failed at the responder. */
    record Error(Header header, int code, String message) implements SyncMessage {
    }
}
