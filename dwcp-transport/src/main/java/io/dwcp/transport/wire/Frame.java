package io.dwcp.transport.wire;

import io.netty.buffer.ByteBuf;
import io.netty.util.AbstractReferenceCounted;
import io.netty.util.ReferenceCounted;

/**
 * One decoded frame: header fields and its payload. Reference-counted through its payload: whoever consumes a frame
 * last releases it. {@link #toString()} prints header fields, never payload bytes.
 */
public final class Frame extends AbstractReferenceCounted {
    private final int type;
    private final int flags;
    private final long transferId;
    private final long offset;
    private final long chunkIndex;
    private final ByteBuf payload;

    /**
     * A decoded frame; takes ownership of {@code payload}.
     *
     * @param type the frame type ({@code FrameHeader.TYPE_*})
     * @param flags the header's flags
     * @param transferId the transfer the frame belongs to, 0 for none
     * @param offset the header's offset field
     * @param chunkIndex the chunk index (unsigned 32 bits)
     * @param payload the payload, owned by the frame from now on
     */
    public Frame(int type, int flags, long transferId, long offset, long chunkIndex, ByteBuf payload) {
        this.type = type;
        this.flags = flags;
        this.transferId = transferId;
        this.offset = offset;
        this.chunkIndex = chunkIndex;
        this.payload = payload;
    }

    /** @return the frame type ({@code FrameHeader.TYPE_*}) */
    public int type() {
        return type;
    }

    /** @return the header's flags */
    public int flags() {
        return flags;
    }

    /** @return the transfer the frame belongs to, 0 for none */
    public long transferId() {
        return transferId;
    }

    /** @return byte offset of the payload in its transfer (DATA), or the type's offset field (ACK, END, DONE) */
    public long offset() {
        return offset;
    }

    /** @return the chunk index (u32 on the wire, as an unsigned value) */
    public long chunkIndex() {
        return chunkIndex;
    }

    /** @return the payload, borrowed: valid while this frame is retained */
    public ByteBuf payload() {
        return payload;
    }

    /** @return the payload's length in bytes */
    public int payloadLengthBytes() {
        return payload.readableBytes();
    }

    @Override
    protected void deallocate() {
        payload.release();
    }

    @Override
    public ReferenceCounted touch(Object hint) {
        payload.touch(hint);
        return this;
    }

    @Override
    public String toString() {
        return "Frame{type=" + FrameHeader.typeName(type) + ", flags=0b" + Integer.toBinaryString(flags)
                + ", transferId=" + transferId + ", offset=" + offset + ", chunkIndex=" + chunkIndex
                + ", payloadLength=" + payload.readableBytes() + '}';
    }
}
