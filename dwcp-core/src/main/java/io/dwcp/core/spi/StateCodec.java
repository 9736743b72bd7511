package io.dwcp.core.spi;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.VmState;
import io.dwcp.core.state.WritableRegion;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.BitSet;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.ToLongFunction;

/**
 * Encodes VM states into self-describing frames and decodes them into replicas, with per-key baselines so that later
 * rounds send only what changed. One codec serves both ends: the sender encodes, the receiver decodes.
 *
 * <p>Thread-safe; different keys may be encoded and decoded concurrently. Rounds of one key are sequential.
 */
public interface StateCodec extends Component {
    /**
     * Encodes one round of {@code state}: a keyframe, or a delta against {@link EncodeOptions#peerBaseline()} when the
     * codec still holds that baseline. Frames go to {@code sink} in order. The state is read, never kept: the codec
     * copies what it needs for the next baseline, except from an {@link StateRegion#immutable() immutable} snapshot,
     * whose views it may keep instead.
     *
     * @param state the state to encode, read during the call
     * @param options baseline, dirty pages, tier, link rate and progress of this round
     * @param sink receives the frames in order
     * @return completes with the result after the last frame was accepted by the sink; exceptionally when reading the
     *     state or the sink failed
     */
    CompletableFuture<EncodeResult> encode(VmState<? extends StateRegion> state, EncodeOptions options, FrameSink sink);

    /**
     * Starts decoding one round for {@code replica.key()} into {@code replica}, whose regions must have the sizes of
     * the encoded state.
     *
     * @param replica the replica to write, open for the whole round
     * @return the decoder; close it when the round ends
     */
    StateDecoder newDecoder(VmState<? extends WritableRegion> replica);

    /**
     * As {@link #newDecoder(VmState)}, with scratch files the decoder may keep the round's new pages in until the round
     * is verified, instead of memory: a receiver's delta round then holds the pages it replaces in the page cache, not
     * in memory of its own. A decoder opens at most one file a round, only when it needs one, and goes on in memory
     * when none can be opened or written (a full disk). The default ignores {@code scratch}.
     *
     * @param replica the replica to write, open for the whole round
     * @param scratch opens the round's scratch file
     * @return the decoder; close it when the round ends (which closes its scratch file)
     */
    default StateDecoder newDecoder(VmState<? extends WritableRegion> replica, ScratchFiles scratch) {
        return newDecoder(replica);
    }

    /** Opens scratch files for a decoder (see {@link StateCodec#newDecoder(VmState, StateCodec.ScratchFiles)}). */
    @FunctionalInterface
    interface ScratchFiles {
        /**
         * Opens a new, empty file for reading and writing that is deleted when the channel closes (or, after a crash, by
         * its owner later).
         *
         * @return the open channel, owned by the caller; or null when no file should be used now (too little room)
         * @throws IOException when it cannot be created; the decoder goes on in memory
         */
        FileChannel open() throws IOException;
    }

    /**
     * Starts decoding a keyframe round into a <em>staging</em> replica: a copy nobody reads until {@code publish}
     * makes it the replica (for files: a temporary file renamed over the old one). Because a failed round only
     * discards the staging copy, the decoder may write pages into it as soon as their frame checksum passed, which
     * overlaps the replica write with the transfer instead of doing it after the last frame. {@code publish} is called
     * from {@link StateDecoder#finish()} after the state digest was verified and before the codec commits its
     * baseline; when it throws, the round fails and the baseline stays as it was. A round that turns out not to be a
     * keyframe fails with {@code PROTOCOL_ERROR} (its unchanged pages would be missing from the staging copy).
     *
     * <p>The default decodes as {@link #newDecoder(VmState)} and publishes at the end: correct, without the overlap;
     * as its decoder commits the baseline before {@code publish}, a failed publish drops the key's baselines instead
     * (the next round is a keyframe).
     *
     * @param staging the staging replica
     * @param publish makes the staging replica the replica, after verification
     * @return the decoder; close it when the round ends
     */
    default StateDecoder newKeyframeDecoder(VmState<? extends WritableRegion> staging, Publisher publish) {
        StateDecoder d = newDecoder(staging);
        return new StateDecoder() {
            @Override
            public void accept(ByteBuffer frame) {
                d.accept(frame);
            }

            @Override
            public DecodeResult finish() {
                DecodeResult r = d.finish();
                try {
                    publish.publish();
                } catch (IOException e) {
                    // The baseline already moved on: forget it, so the next round is a keyframe, not a delta
                    // against content the replica does not have.
                    drop(staging.key());
                    throw new DwcpException(ErrorCode.IO_ERROR, "publishing the replica of "
                            + staging.key() + " failed", e);
                }
                return r;
            }

            @Override
            public void close() {
                d.close();
            }
        };
    }

    /** Makes a staging replica the replica (see {@link #newKeyframeDecoder}). */
    @FunctionalInterface
    interface Publisher {
        /**
         * Called once, after verification; must make the staged content durable and visible as the replica.
         *
         * @throws IOException when it cannot; the round fails
         */
        void publish() throws IOException;
    }

    /**
     * Sender side: the receiver confirmed it holds {@code ref} (from {@link EncodeResult#produced()}); later deltas of
     * that key may be encoded against it.
     *
     * @param ref the baseline the receiver holds
     */
    void acknowledge(BaselineRef ref);

    /**
     * The newest baseline this codec holds for {@code key} that a peer could reference, if any.
     *
     * @param key the state key
     * @return the baseline, or empty
     */
    Optional<BaselineRef> baseline(String key);

    /**
     * Sender side: makes {@code state} the key's acknowledged baseline without encoding it, after a round that reached
     * the receiver another way (a replica-seeded round), so that the next round can be a delta against it. The
     * receiver adopts its replica with {@link #adoptReceived} and the same {@code chainId}; each end computes the
     * baseline's digest from its own content, so the two agree exactly when they hold the same bytes, which the next
     * round's baseline query checks. Replaces the key's sender baseline. The caller {@link #acknowledge acknowledges}
     * it once the round that delivered the state committed (a codec may defer work on the baseline until then).
     *
     * <p>The default adopts nothing: rounds after a seeded round are then seeded (or full) again.
     *
     * @param state the state as the receiver now holds it, read during the call
     * @param chainId the id of the new chain, not 0, agreed by both ends
     * @return the adopted baseline, or empty when this codec does not adopt states
     */
    default Optional<BaselineRef> adoptSent(VmState<? extends StateRegion> state, long chainId) {
        return Optional.empty();
    }

    /**
     * Receiver side: makes the committed {@code replica} the key's baseline (see {@link #adoptSent}). Called while the
     * replica is open and no other round of the key runs; the codec may keep mappings of the replica's pages.
     * Replaces the key's receiver baseline.
     *
     * @param replica the replica as committed, open for the call
     * @param chainId the id of the new chain, not 0, agreed by both ends
     * @return the adopted baseline, or empty when this codec does not adopt states
     */
    default Optional<BaselineRef> adoptReceived(VmState<? extends WritableRegion> replica, long chainId) {
        return Optional.empty();
    }

    /**
     * Receiver side: forgets every baseline of {@code key} as {@link #drop} does, before the caller rewrites some pages
     * of the replica that the key's receiver baseline holds, and returns that baseline's identity. A codec may keep
     * the per-page work it did for the baseline (not its pages) until the {@link #adoptReceived(VmState, long,
     * BaselineRef, BitSet)} that follows, so that adopting the rewritten replica costs only its rewritten pages. The
     * default drops and returns empty.
     *
     * @param key the state key
     * @return the dropped receiver baseline, or empty when there was none or the codec keeps nothing of it
     */
    default Optional<BaselineRef> detachReceived(String key) {
        drop(key);
        return Optional.empty();
    }

    /**
     * As {@link #adoptReceived(VmState, long)}, for a replica that holds what the receiver baseline {@code detached}
     * (from {@link #detachReceived}) held except in the pages {@code changed}: the caller wrote nothing else since
     * that baseline was committed. A codec that kept the baseline's per-page work redoes it only for those pages; one
     * that kept nothing, or kept another baseline, adopts the whole replica. The default ignores the hint.
     *
     * @param replica the replica as committed, open for the call
     * @param chainId the id of the new chain, not 0, agreed by both ends
     * @param detached the baseline {@link #detachReceived} returned, or null
     * @param changed the pages written since, by index, in pages of the replica's page size
     * @return the adopted baseline, or empty when this codec does not adopt states
     */
    default Optional<BaselineRef> adoptReceived(VmState<? extends WritableRegion> replica, long chainId,
                                                BaselineRef detached, BitSet changed) {
        return adoptReceived(replica, chainId);
    }

    /**
     * Receiver side: the hash this codec gives a page of {@code pageSizeBytes} bytes in a receiver baseline, for a caller
     * that writes a whole replica itself (a round seeded from an image, written in place as it arrives) and can hash
     * each page as it writes it, so that {@link #adoptReceived(VmState, long, long[])} need not read the replica again.
     * The function hashes a buffer's remaining bytes (one whole page) without moving its position, and may be called
     * from any thread. The default has none: the codec hashes the replica itself.
     *
     * @param pageSizeBytes the replica's page size
     * @return the page hash, or empty when this codec takes no page hashes
     */
    default Optional<ToLongFunction<ByteBuffer>> receivedPageHash(int pageSizeBytes) {
        return Optional.empty();
    }

    /**
     * As {@link #adoptReceived(VmState, long)}, with the hash of every page of the replica (by index, from
     * {@link #receivedPageHash} of the replica's page size) computed from the very bytes the caller wrote there, and
     * nothing written since: a codec that keeps the replica's own pages as the baseline takes the hashes instead of
     * reading the replica again. A codec that copies the replica, or hashes that do not fit its layout, adopt the whole
     * replica. The default ignores the hashes.
     *
     * @param replica the replica as committed, open for the call; its size a whole number of pages
     * @param chainId the id of the new chain, not 0, agreed by both ends
     * @param pageHashes one hash a page (read during the call, not kept)
     * @return the adopted baseline, or empty when this codec does not adopt states
     */
    default Optional<BaselineRef> adoptReceived(VmState<? extends WritableRegion> replica, long chainId,
                                                long[] pageHashes) {
        return adoptReceived(replica, chainId);
    }

    /**
     * Forgets every baseline of {@code key} (the VM is gone).
     *
     * @param key the state key
     */
    void drop(String key);

    /**
     * Sender side: waits until the work this codec does in the background for {@code key}'s current baseline (indexes
     * that let later deltas find moved content) is complete, doing it on the calling thread's behalf if it has not
     * started. Rounds never wait for that work; a delta encoded before it completes just cannot use it, so its output
     * may be larger. For tests and benchmarks that need the same output every time. Must not be called from a
     * codec callback. The default has no background work and returns at once.
     *
     * @param key the state key
     * @throws InterruptedException if interrupted while waiting
     */
    default void awaitBackgroundWork(String key) throws InterruptedException {
    }
}
