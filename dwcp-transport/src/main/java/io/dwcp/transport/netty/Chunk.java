package io.dwcp.transport.netty;

import io.netty.buffer.ByteBuf;

/**
 * One chunk of an outbound transfer: a whole DATA frame (header, payload, CRC) in one pooled buffer, kept until the
 * receiver acknowledges it so it can be re-sent on another stream. The send window holds one reference to
 * {@link #frame}; each write takes a retained duplicate. All mutable fields are guarded by the session lock.
 */
final class Chunk {
    final OutboundTransfer transfer;
    final long offset;
    final int payloadBytes;
    final ByteBuf frame;
    /** The stream it was last written on; null while queued. */
    DataStream stream;
    int sends;
    boolean acked;
    boolean queued;

    Chunk(OutboundTransfer transfer, long offset, int payloadBytes, ByteBuf frame) {
        this.transfer = transfer;
        this.offset = offset;
        this.payloadBytes = payloadBytes;
        this.frame = frame;
    }

    long end() {
        return offset + payloadBytes;
    }
}
