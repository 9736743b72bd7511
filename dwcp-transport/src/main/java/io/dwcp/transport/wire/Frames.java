package io.dwcp.transport.wire;

import io.dwcp.core.ErrorCode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.nio.charset.StandardCharsets;

/**
 * Builders of whole frames (header + payload + CRC) for everything but DATA, whose buffers the sender fills in place.
 * Every method returns an owned buffer (the caller writes or releases it). Thread-safe.
 */
public final class Frames {
    private Frames() {
    }

    /** Largest error message carried in ABORT/GOAWAY, in UTF-8 bytes; longer messages are cut. */
    public static final int MAX_MESSAGE_BYTES = 1024;

    /**
     * A frame with an empty payload (END, ACK, DONE).
     *
     * @param alloc the allocator
     * @param type the frame type
     * @param transferId the transfer
     * @param offset the offset field (a length or a position, by type)
     * @param chunkIndex the chunk index field
     * @return the sealed frame, owned by the caller
     */
    public static ByteBuf empty(ByteBufAllocator alloc, int type, long transferId, long offset, long chunkIndex) {
        ByteBuf buf = alloc.buffer(FrameHeader.HEADER_LENGTH);
        FrameHeader.writeHeader(buf, type, 0, transferId, offset, chunkIndex, 0);
        FrameHeader.sealCrc(buf, 0);
        return buf;
    }

    /**
     * PING or PONG carrying {@code stamp}.
     *
     * @param alloc the allocator
     * @param type {@code TYPE_PING} or {@code TYPE_PONG}
     * @param stamp the 8 bytes to carry (a PONG echoes the PING's)
     * @return the sealed frame, owned by the caller
     */
    public static ByteBuf ping(ByteBufAllocator alloc, int type, long stamp) {
        ByteBuf buf = alloc.buffer(FrameHeader.HEADER_LENGTH + 8);
        FrameHeader.writeHeader(buf, type, 0, 0, 0, 0, 8);
        buf.writeLong(stamp);
        FrameHeader.sealCrc(buf, 0);
        return buf;
    }

    /**
     * OPEN: payload = kind (u8) | key length (u8) | key (UTF-8) | total length (i64, -1 = streaming).
     *
     * @param alloc the allocator
     * @param transferId the new transfer's id
     * @param kind the transfer kind's wire number
     * @param key the transfer's key, at most 255 UTF-8 bytes
     * @param totalBytes the length, or -1 when streaming
     * @return the sealed frame, owned by the caller
     */
    public static ByteBuf open(ByteBufAllocator alloc, long transferId, int kind, String key, long totalBytes) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        int len = 2 + k.length + 8;
        ByteBuf buf = alloc.buffer(FrameHeader.HEADER_LENGTH + len);
        FrameHeader.writeHeader(buf, FrameHeader.TYPE_OPEN, 0, transferId, 0, 0, len);
        buf.writeByte(kind);
        buf.writeByte(k.length);
        buf.writeBytes(k);
        buf.writeLong(totalBytes);
        FrameHeader.sealCrc(buf, 0);
        return buf;
    }

    /**
     * ABORT (per transfer) or GOAWAY (connection): payload = code (u16) | message (UTF-8, cut at
     * {@link #MAX_MESSAGE_BYTES}).
     *
     * @param alloc the allocator
     * @param type {@code TYPE_ABORT} or {@code TYPE_GOAWAY}
     * @param transferId the transfer (ABORT), 0 for GOAWAY
     * @param code the error code
     * @param message the reason, may be {@code null}
     * @return the sealed frame, owned by the caller
     */
    public static ByteBuf error(ByteBufAllocator alloc, int type, long transferId, ErrorCode code, String message) {
        byte[] m = message == null ? new byte[0] : message.getBytes(StandardCharsets.UTF_8);
        int mlen = Math.min(m.length, MAX_MESSAGE_BYTES);
        ByteBuf buf = alloc.buffer(FrameHeader.HEADER_LENGTH + 2 + mlen);
        FrameHeader.writeHeader(buf, type, 0, transferId, 0, 0, 2 + mlen);
        buf.writeShort(code.number());
        buf.writeBytes(m, 0, mlen);
        FrameHeader.sealCrc(buf, 0);
        return buf;
    }

    /**
     * The error code of an ABORT/GOAWAY payload.
     *
     * @param payload the payload, borrowed
     * @return the code, {@code UNKNOWN} when the payload is too short or the number unknown
     */
    public static ErrorCode errorCode(ByteBuf payload) {
        return payload.readableBytes() < 2 ? ErrorCode.UNKNOWN
                : ErrorCode.ofNumber(payload.getUnsignedShort(payload.readerIndex()));
    }

    /**
     * The message of an ABORT/GOAWAY payload.
     *
     * @param payload the payload, borrowed
     * @return the message, empty when there is none
     */
    public static String errorMessage(ByteBuf payload) {
        int n = payload.readableBytes() - 2;
        return n <= 0 ? "" : payload.toString(payload.readerIndex() + 2, n, StandardCharsets.UTF_8);
    }
}
