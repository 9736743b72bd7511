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

    /**
     * The next frame, lent: the sink may keep {@code frame} without copying it and calls {@code release} exactly once
     * when it no longer reads the frame's memory, after which the caller may reuse or free that memory (a codec that
     * builds frames in pooled direct buffers keeps them off the Java heap this way). {@code release} is called even
     * when this method throws or the sink is failed or closed before the frame was consumed, and may be called from
     * another thread. The default treats the frame as borrowed ({@link #accept}) and releases it on return.
     *
     * @param frame the frame
     * @param release returns the frame's memory to the caller; idempotent is not required of it, the sink calls it once
     * @throws Exception when the sink fails; the encode fails with it
     */
    default void acceptLent(ByteBuffer frame, Runnable release) throws Exception {
        try {
            accept(frame);
        } finally {
            release.run();
        }
    }
}
