package io.dwcp.core.spi;

import java.nio.ByteBuffer;

/**
 * Receives encoded frames in order. Called from one codec thread at a time (never an event loop); may block, which
 * applies backpressure to the encoder.
 */
@FunctionalInterface
public interface FrameSink {
    /** The next frame; borrowed: consume or copy it before returning. */
    void accept(ByteBuffer frame) throws Exception;
}
