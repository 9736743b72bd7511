package io.dwcp.transport.wire;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.util.List;

/**
 * Turns bytes into {@link Frame}s. Checks, in this order and before allocating or waiting for a payload:
 * magic (as soon as 4 bytes are there) and version ({@code PROTOCOL_ERROR}), type and reserved flag bits
 * ({@code PROTOCOL_ERROR}), payload length against the limit ({@code LIMIT_EXCEEDED}). Once the whole frame is there
 * it verifies the CRC32C ({@code CHECKSUM_MISMATCH}). After the first error the decoder discards everything it gets;
 * the handler that sees the exception closes the connection.
 *
 * <p>The payload of a produced frame is a retained slice of the cumulation (no copy; possibly spanning several
 * components, so read it with {@code nioBuffers()}, not {@code nioBuffer()}). The limit can be changed while
 * running ({@link #maxPayloadBytes(int)}), so a connection accepts only small frames until its handshake is done.
 *
 * <p><b>Pitfalls.</b> Not {@code @Sharable}: one instance per channel. Event loop only.
 */
public final class FrameDecoder extends ByteToMessageDecoder {
    private int maxPayloadBytes;
    private boolean failed;

    /** @param maxPayloadBytes largest payload accepted ({@code max-frame-payload}), bytes */
    public FrameDecoder(int maxPayloadBytes) {
        this.maxPayloadBytes = maxPayloadBytes;
        // Chunks are kept as slices until delivered; merging would copy every partial frame again on each read
        // while such slices are alive. A composite cumulation links the reads instead of copying them.
        setCumulator(COMPOSITE_CUMULATOR);
    }

    /**
     * Changes the payload limit for frames not yet started. Event loop only.
     *
     * @param maxPayloadBytes the largest payload accepted from now on
     */
    public void maxPayloadBytes(int maxPayloadBytes) {
        this.maxPayloadBytes = maxPayloadBytes;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        while (true) {
            int start = in.readerIndex();
            int readable = in.readableBytes();
            if (readable < 4) {
                return;
            }
            int magic = in.getInt(start + FrameHeader.MAGIC_OFFSET);
            if (magic != FrameHeader.MAGIC) {
                throw fail(in, ErrorCode.PROTOCOL_ERROR, "bad magic 0x" + Integer.toHexString(magic)
                        + ", expected 0x" + Integer.toHexString(FrameHeader.MAGIC) + " (not an AMST peer?)");
            }
            if (readable < FrameHeader.HEADER_LENGTH) {
                return;
            }
            int version = in.getUnsignedByte(start + FrameHeader.VERSION_OFFSET);
            if (version != FrameHeader.CURRENT_VERSION) {
                throw fail(in, ErrorCode.PROTOCOL_ERROR, "unsupported wire version " + version + ", this peer speaks "
                        + FrameHeader.CURRENT_VERSION);
            }
            int type = in.getUnsignedByte(start + FrameHeader.TYPE_OFFSET);
            if (!FrameHeader.isKnownType(type)) {
                throw fail(in, ErrorCode.PROTOCOL_ERROR, "unknown frame type 0x" + Integer.toHexString(type));
            }
            int flags = in.getUnsignedShort(start + FrameHeader.FLAGS_OFFSET);
            if ((flags & ~FrameHeader.KNOWN_FLAGS) != 0) {
                throw fail(in, ErrorCode.PROTOCOL_ERROR, "reserved flag bits set: 0b" + Integer.toBinaryString(flags));
            }
            long payloadLength = in.getUnsignedInt(start + FrameHeader.PAYLOAD_LENGTH_OFFSET);
            if (payloadLength > maxPayloadBytes) {
                throw fail(in, ErrorCode.LIMIT_EXCEEDED, FrameHeader.typeName(type) + " payload length " + payloadLength
                        + " bytes exceeds the limit of " + maxPayloadBytes + " bytes (dwcp.transport.max-frame-payload)");
            }
            long offset = in.getLong(start + FrameHeader.OFFSET_OFFSET);
            if (offset < 0) {
                throw fail(in, ErrorCode.CORRUPT_FRAME, "negative offset " + offset);
            }
            int frameLength = FrameHeader.HEADER_LENGTH + (int) payloadLength;
            if (readable < frameLength) {
                return;
            }
            long expected = in.getUnsignedInt(start + FrameHeader.CRC_OFFSET);
            long actual = FrameHeader.crc(in, start, (int) payloadLength);
            if (expected != actual) {
                throw fail(in, ErrorCode.CHECKSUM_MISMATCH, FrameHeader.typeName(type) + " frame CRC32C 0x"
                        + Long.toHexString(actual) + " does not match 0x" + Long.toHexString(expected)
                        + " (transfer " + in.getLong(start + FrameHeader.TRANSFER_ID_OFFSET) + ", offset " + offset + ")");
            }
            long transferId = in.getLong(start + FrameHeader.TRANSFER_ID_OFFSET);
            long chunkIndex = in.getUnsignedInt(start + FrameHeader.CHUNK_INDEX_OFFSET);
            in.skipBytes(FrameHeader.HEADER_LENGTH);
            ByteBuf payload = in.readRetainedSlice((int) payloadLength);
            out.add(new Frame(type, flags, transferId, offset, chunkIndex, payload));
        }
    }

    private DwcpException fail(ByteBuf in, ErrorCode code, String message) {
        failed = true;
        in.skipBytes(in.readableBytes());
        return new DwcpException(code, message);
    }
}
