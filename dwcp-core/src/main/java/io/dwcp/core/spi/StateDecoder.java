package io.dwcp.core.spi;

/**
 * Decodes one encoded round into a replica. Frames go to scratch space; the replica and the baseline change
 * only in {@link #finish()}, after every checksum and the state digest verified, so a failed decode damages nothing.
 *
 * <p>Not thread-safe: one thread feeds it, in frame order.
 */
public interface StateDecoder extends AutoCloseable {
    /**
     * The next frame (borrowed).
     *
     * @param frame the frame
     * @throws io.dwcp.core.DwcpException {@code CORRUPT_FRAME}, {@code CHECKSUM_MISMATCH}, {@code BASELINE_MISSING},
     *     {@code DICTIONARY_MISSING} or {@code LIMIT_EXCEEDED}; the decoder is then unusable and has changed nothing
     */
    void accept(java.nio.ByteBuffer frame);

    /**
     * Verifies the whole round and commits it to the replica and the baseline.
     *
     * @return the result of the verified round
     * @throws io.dwcp.core.DwcpException {@code TRANSFER_INCOMPLETE} when frames are missing,
     *     {@code CHECKSUM_MISMATCH} when the digest differs; nothing is committed then
     */
    DecodeResult finish();

    /** Discards scratch state; idempotent; a no-op after {@link #finish()}. */
    @Override
    void close();
}
