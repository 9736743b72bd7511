package io.dwcp.transport.wire;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.util.Arrays;

/**
 * HELLO, the first frame of every connection. Payload, {@link #PAYLOAD_LENGTH} bytes, big-endian:
 *
 * <pre>
 * | offset | size | field           | type | meaning                                                  |
 * |      0 |   16 | session id      | u128 | 128 random bits chosen by the connecting side            |
 * |     16 |    2 | stream index    | u16  | 0 = control connection, 1..256 = data stream slot       |
 * |     18 |    2 | reserved        | u16  | zero                                                     |
 * |     20 |    4 | capabilities    | u32  | CAP_* bits offered                                       |
 * |     24 |    8 | receive window  | u64  | bytes the peer may have unacknowledged towards me        |
 * |     32 |   16 | resume token    | u128 | zero on a new session; else the token from HELLO_ACK     |
 * </pre>
 *
 * @param sessionId 16 bytes
 * @param streamIndex 0 for control, else the data stream slot
 * @param capabilities offered capability bits
 * @param receiveWindowBytes bytes the peer may send ahead of acknowledgement
 * @param resumeToken 16 bytes, zero for a new session
 */
public record Hello(byte[] sessionId, int streamIndex, int capabilities, long receiveWindowBytes, byte[] resumeToken) {
    /** Bytes of a HELLO payload. */
    public static final int PAYLOAD_LENGTH = 48;
    /** Sessions survive connection loss and resume from the acknowledged position. */
    public static final int CAP_RESUME = 0x1;
    /** Capabilities this version implements. */
    public static final int CAPABILITIES = CAP_RESUME;
    /** The highest data stream slot. */
    public static final int MAX_STREAM_INDEX = 256;

    /**
     * Checks the lengths of the id and the token (16 bytes each).
     *
     * @param sessionId 16 bytes
     * @param streamIndex 0 for control, else the data stream slot
     * @param capabilities offered capability bits
     * @param receiveWindowBytes bytes the peer may send ahead of acknowledgement
     * @param resumeToken 16 bytes, zero for a new session
     * @throws IllegalArgumentException when the id or the token is not 16 bytes
     */
    public Hello {
        if (sessionId.length != 16 || resumeToken.length != 16) {
            throw new IllegalArgumentException("session id and resume token are 16 bytes");
        }
    }

    /**
     * The whole HELLO frame.
     *
     * @param alloc the allocator
     * @param flags header flags ({@link FrameHeader#FLAG_RESUME})
     * @return the sealed frame, owned by the caller
     */
    public ByteBuf encode(ByteBufAllocator alloc, int flags) {
        ByteBuf buf = alloc.buffer(FrameHeader.HEADER_LENGTH + PAYLOAD_LENGTH);
        FrameHeader.writeHeader(buf, FrameHeader.TYPE_HELLO, flags, 0, 0, 0, PAYLOAD_LENGTH);
        buf.writeBytes(sessionId);
        buf.writeShort(streamIndex);
        buf.writeShort(0);
        buf.writeInt(capabilities);
        buf.writeLong(receiveWindowBytes);
        buf.writeBytes(resumeToken);
        FrameHeader.sealCrc(buf, 0);
        return buf;
    }

    /**
     * Parses a HELLO frame's payload.
     *
     * @param frame the frame, borrowed
     * @return the HELLO
     * @throws DwcpException PROTOCOL_ERROR on a malformed payload
     */
    public static Hello decode(Frame frame) {
        ByteBuf p = frame.payload();
        if (frame.type() != FrameHeader.TYPE_HELLO || p.readableBytes() != PAYLOAD_LENGTH) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "expected a HELLO of " + PAYLOAD_LENGTH
                    + " payload bytes as first frame, got " + frame);
        }
        int i = p.readerIndex();
        byte[] id = new byte[16];
        p.getBytes(i, id);
        int index = p.getUnsignedShort(i + 16);
        if (p.getUnsignedShort(i + 18) != 0) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "HELLO reserved field is not zero");
        }
        if (index > MAX_STREAM_INDEX) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "HELLO stream index " + index + " above " + MAX_STREAM_INDEX);
        }
        int caps = p.getInt(i + 20);
        long window = p.getLong(i + 24);
        if (window <= 0) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "HELLO receive window " + window + " is not positive");
        }
        byte[] token = new byte[16];
        p.getBytes(i + 32, token);
        return new Hello(id, index, caps, window, token);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Hello h && Arrays.equals(sessionId, h.sessionId) && streamIndex == h.streamIndex
                && capabilities == h.capabilities && receiveWindowBytes == h.receiveWindowBytes
                && Arrays.equals(resumeToken, h.resumeToken);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(sessionId) * 31 + streamIndex;
    }

    @Override
    public String toString() {
        // The resume token is a credential: never printed.
        return "Hello{streamIndex=" + streamIndex + ", capabilities=0x" + Integer.toHexString(capabilities)
                + ", receiveWindowBytes=" + receiveWindowBytes + '}';
    }
}
