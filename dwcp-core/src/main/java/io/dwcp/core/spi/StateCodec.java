package io.dwcp.core.spi;

import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.VmState;
import io.dwcp.core.state.WritableRegion;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Encodes VM states into self-describing frames and decodes them into replicas, with per-key baselines so that later
 * rounds send only what changed (SPEC §5). One codec serves both ends: the sender encodes, the receiver decodes.
 *
 * <p>Thread-safe; different keys may be encoded and decoded concurrently. Rounds of one key are sequential.
 */
public interface StateCodec extends Component {
    /**
     * Encodes one round of {@code state}: a keyframe, or a delta against {@link EncodeOptions#peerBaseline()} when the
     * codec still holds that baseline. Frames go to {@code sink} in order. The state is read, never kept: the codec
     * copies what it needs for the next baseline.
     *
     * @return completes with the result after the last frame was accepted by the sink; exceptionally when reading the
     *     state or the sink failed
     */
    CompletableFuture<EncodeResult> encode(VmState<? extends StateRegion> state, EncodeOptions options, FrameSink sink);

    /**
     * Starts decoding one round for {@code replica.key()} into {@code replica}, whose regions must have the sizes of
     * the encoded state.
     */
    StateDecoder newDecoder(VmState<? extends WritableRegion> replica);

    /**
     * Sender side: the receiver confirmed it holds {@code ref} (from {@link EncodeResult#produced()}); later deltas of
     * that key may be encoded against it.
     */
    void acknowledge(BaselineRef ref);

    /** The newest baseline this codec holds for {@code key} that a peer could reference, if any. */
    Optional<BaselineRef> baseline(String key);

    /** Forgets every baseline of {@code key} (the VM is gone). */
    void drop(String key);
}
