package io.dwcp.core.spi;

import java.nio.ByteBuffer;

/**
 * Receives encoded frames in order. Called from one codec thread at a time (never an event loop); may block, which
 * applies backpressure to the encoder.
 */
@FunctionalInterface
public interface FrameSink {
    /**
     * The next frame; borrowed: consume or copy it before returning.
     *
     * @param frame the frame
     * @throws Exception when the sink fails; the encode fails with it
     */
    void accept(ByteBuffer frame) throws Exception;

    /**
     * The next frame, handed over: the caller never touches {@code frame} or its memory again, so the sink may keep
     * it instead of copying it (a codec that builds every frame in a fresh array saves one copy per frame). The
     * default treats it as borrowed ({@link #accept}).
     *
     * @param frame the frame
     * @throws Exception when the sink fails; the encode fails with it
     */
    default void acceptOwned(ByteBuffer frame) throws Exception {
        accept(frame);
    }
}
