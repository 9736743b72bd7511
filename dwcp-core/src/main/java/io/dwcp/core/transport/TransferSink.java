package io.dwcp.core.transport;

import java.nio.ByteBuffer;

/**
 * Where the bytes of one inbound transfer go, in order. All calls come sequentially from one transport delivery
 * thread (never an event loop), so a sink needs no locking; a slow sink holds back the sender through the transport's
 * credits (backpressure), it never makes the transport buffer without bound.
 */
public interface TransferSink {
    /**
     * The next bytes, in order. The buffer is borrowed: read it before returning, do not keep it. Throwing fails the
     * transfer at both ends with the exception's code.
     *
     * @param data the bytes
     * @throws Exception when the sink fails; the transfer fails with it
     */
    void write(ByteBuffer data) throws Exception;

    /**
     * Every announced byte arrived and was checked. Throwing here (e.g. a digest mismatch found by the application)
     * fails the transfer: the sender sees the exception's code.
     *
     * @throws Exception when the sink fails; the transfer fails with it
     */
    void complete() throws Exception;

    /**
     * The transfer failed or was cancelled; release what the sink holds. Never throws.
     *
     * @param cause why
     */
    void fail(Throwable cause);
}
