package io.dwcp.sync;

import io.dwcp.sync.crdt.OrMap;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/*
 * Maintainer notes. State-based replication (push-mode full-state, a baseline the benchmarks compare deltas with):
 * every gossip round the whole store goes to `fanout` peers as whole entry states. The store is streamed in chunks of
 * at most CHUNK_BYTES, encoded one at a time: the next chunk is encoded only when every target has acknowledged the
 * previous one (a transfer completes once the receiver's sink completed, i.e. after it merged the chunk), so a sender
 * holds one encoded chunk and a receiver decodes one chunk at a time, whatever the store's size. Before, the whole
 * store went out at once in max-message (4 MiB) messages: at 100,000 keys a receiver decoded tens of thousands of
 * entry states per message, several senders' messages at a time, beside its own store, and ran out of heap.
 * A round that finds the previous round's stream still running is skipped (counted): a store that takes longer to
 * ship than gossip.interval is shipped back to back, never twice at once.
 * Threads: the chain runs on the executor given (the component's timer); ship() from any thread.
 */

/** Streams the whole store to peers in acknowledged chunks (push-mode full-state). Thread-safe. */
final class WholeStoreShipper {
    /** Largest chunk of entry states in one message (bytes of entries, before the message header). */
    static final int CHUNK_BYTES = 256 << 10;

    private final AtomicBoolean busy = new AtomicBoolean();
    private final AtomicLong skipped = new AtomicLong();
    private final AtomicLong chunks = new AtomicLong();

    /** Rounds skipped because the previous stream was still running. */
    long skippedRounds() {
        return skipped.get();
    }

    /** Chunks shipped so far (each to every target of its round). */
    long chunksShipped() {
        return chunks.get();
    }

    /** Whether a stream is running. */
    boolean busy() {
        return busy.get();
    }

    /**
     * Starts streaming {@code keys} to {@code targets}, unless a stream is still running.
     *
     * @param keys the keys to ship (a snapshot; a key whose state is gone by the time its chunk is built is skipped)
     * @param states the current entry state of a key, or null
     * @param chunkBytes the largest chunk, in entry bytes ({@link SyncWire#entryBytes}); a larger entry goes alone
     * @param encode encodes one chunk as a message
     * @param targets one send per peer; each returns the transfer's completion
     * @param executor where each next chunk is built (not a transport thread)
     * @return false when the round was skipped
     */
    boolean ship(List<String> keys, Function<String, OrMap> states, int chunkBytes,
                 Function<List<SyncMessage.KeyState>, byte[]> encode,
                 List<Function<byte[], CompletableFuture<?>>> targets, Executor executor) {
        if (targets.isEmpty() || keys.isEmpty()) {
            return true;
        }
        if (!busy.compareAndSet(false, true)) {
            skipped.incrementAndGet();
            return false;
        }
        try {
            new Stream(keys.iterator(), states, chunkBytes, encode, new ArrayList<>(targets), executor).next();
        } catch (RuntimeException | Error e) {
            busy.set(false);
            throw e;
        }
        return true;
    }

    /** One round's stream: builds, sends and awaits one chunk at a time. */
    private final class Stream {
        private final Iterator<String> keys;
        private final Function<String, OrMap> states;
        private final int chunkBytes;
        private final Function<List<SyncMessage.KeyState>, byte[]> encode;
        private final List<Function<byte[], CompletableFuture<?>>> targets;
        private final Executor executor;
        /** An entry read past the end of the previous chunk; it starts the next one. */
        private SyncMessage.KeyState carry;
        private int carryBytes;

        Stream(Iterator<String> keys, Function<String, OrMap> states, int chunkBytes,
               Function<List<SyncMessage.KeyState>, byte[]> encode, List<Function<byte[], CompletableFuture<?>>> targets,
               Executor executor) {
            this.keys = keys;
            this.states = states;
            this.chunkBytes = chunkBytes;
            this.encode = encode;
            this.targets = targets;
            this.executor = executor;
        }

        void next() {
            List<SyncMessage.KeyState> batch = new ArrayList<>();
            int bytes = 0;
            if (carry != null) {
                batch.add(carry);
                bytes = carryBytes;
                carry = null;
            }
            while (keys.hasNext()) {
                String k = keys.next();
                OrMap s = states.apply(k);
                if (s == null) {
                    continue;
                }
                int size = SyncWire.entryBytes(k, s.encode());
                if (!batch.isEmpty() && bytes + size > chunkBytes) {
                    carry = new SyncMessage.KeyState(k, s);
                    carryBytes = size;
                    break;
                }
                batch.add(new SyncMessage.KeyState(k, s));
                bytes += size;
            }
            if (batch.isEmpty()) {
                busy.set(false);
                return;
            }
            byte[] message = encode.apply(batch);
            chunks.incrementAndGet();
            List<CompletableFuture<Boolean>> sent = new ArrayList<>(targets.size());
            for (Function<byte[], CompletableFuture<?>> t : targets) {
                sent.add(t.apply(message).handle((v, e) -> e == null));
            }
            CompletableFuture.allOf(sent.toArray(new CompletableFuture<?>[0])).whenComplete((v, e) -> {
                for (int i = sent.size() - 1; i >= 0; i--) {
                    if (!sent.get(i).join()) {
                        targets.remove(i); // a failed transfer ends the stream to that peer; anti-entropy repairs it
                    }
                }
                if (targets.isEmpty() || (carry == null && !keys.hasNext())) {
                    busy.set(false);
                    return;
                }
                try {
                    executor.execute(() -> {
                        try {
                            next();
                        } catch (RuntimeException | Error x) {
                            busy.set(false);
                            throw x;
                        }
                    });
                } catch (RejectedExecutionException x) {
                    busy.set(false); // stopping
                }
            });
        }
    }
}
