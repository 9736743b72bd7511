package io.dwcp.transport.wire;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * HELLO_ACK, the server's answer to a HELLO. Payload, at least {@link #FIXED_LENGTH} bytes, big-endian:
 *
 * <pre>
 * | offset | size | field          | type | meaning                                                    |
 * |      0 |    1 | accepted       | u8   | 1 = accepted, 0 = refused (the connection then closes)    |
 * |      1 |    1 | reserved       | u8   | zero                                                       |
 * |      2 |    2 | code           | u16  | error code number when refused, else 0            |
 * |      4 |    4 | capabilities   | u32  | capabilities in force (offered AND supported)              |
 * |      8 |    8 | receive window | u64  | bytes the client may have unacknowledged towards the server|
 * |     16 |   16 | resume token   | u128 | secret that later connections of this session present     |
 * |     32 |    n | message        | utf8 | reason when refused (at most 1 KiB)                        |
 * </pre>
 *
 * @param accepted whether the connection was accepted
 * @param code refusal code, {@code null} when accepted
 * @param capabilities capabilities in force
 * @param receiveWindowBytes the server's receive window
 * @param resumeToken 16 bytes
 * @param message refusal reason, empty when accepted
 */
public record HelloAck(boolean accepted, ErrorCode code, int capabilities, long receiveWindowBytes, byte[] resumeToken,
                       String message) {
    /** Bytes of the payload before the message. */
    public static final int FIXED_LENGTH = 32;

    /**
     * An acceptance.
     *
     * @param capabilities the capabilities in force
     * @param receiveWindowBytes the server's receive window
     * @param resumeToken the session's resume token, 16 bytes
     * @return the answer
     */
    public static HelloAck accept(int capabilities, long receiveWindowBytes, byte[] resumeToken) {
        return new HelloAck(true, null, capabilities, receiveWindowBytes, resumeToken, "");
    }

    /**
     * A refusal; the connection closes after it.
     *
     * @param code why
     * @param message the reason for people
     * @return the answer
     */
    public static HelloAck refuse(ErrorCode code, String message) {
        return new HelloAck(false, code, 0, 1, new byte[16], message);
    }

    /**
     * The whole HELLO_ACK frame (the message cut at {@link Frames#MAX_MESSAGE_BYTES}).
     *
     * @param alloc the allocator
     * @return the sealed frame, owned by the caller
     */
    public ByteBuf encode(ByteBufAllocator alloc) {
        byte[] m = message.getBytes(StandardCharsets.UTF_8);
        int mlen = Math.min(m.length, Frames.MAX_MESSAGE_BYTES);
        ByteBuf buf = alloc.buffer(FrameHeader.HEADER_LENGTH + FIXED_LENGTH + mlen);
        FrameHeader.writeHeader(buf, FrameHeader.TYPE_HELLO_ACK, 0, 0, 0, 0, FIXED_LENGTH + mlen);
        buf.writeByte(accepted ? 1 : 0);
        buf.writeByte(0);
        buf.writeShort(accepted ? 0 : code.number());
        buf.writeInt(capabilities);
        buf.writeLong(receiveWindowBytes);
        buf.writeBytes(resumeToken);
        buf.writeBytes(m, 0, mlen);
        FrameHeader.sealCrc(buf, 0);
        return buf;
    }

    /**
     * Parses a HELLO_ACK payload.
     *
     * @param frame the frame, borrowed
     * @return the answer
     * @throws DwcpException PROTOCOL_ERROR when malformed
     */
    public static HelloAck decode(Frame frame) {
        ByteBuf p = frame.payload();
        if (frame.type() != FrameHeader.TYPE_HELLO_ACK || p.readableBytes() < FIXED_LENGTH) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "expected HELLO_ACK, got " + frame);
        }
        int i = p.readerIndex();
        int accepted = p.getUnsignedByte(i);
        if (accepted > 1 || p.getUnsignedByte(i + 1) != 0) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "malformed HELLO_ACK status byte " + accepted);
        }
        ErrorCode code = accepted == 1 ? null : ErrorCode.ofNumber(p.getUnsignedShort(i + 2));
        int caps = p.getInt(i + 4);
        long window = p.getLong(i + 8);
        if (accepted == 1 && window <= 0) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "HELLO_ACK receive window " + window + " is not positive");
        }
        byte[] token = new byte[16];
        p.getBytes(i + 16, token);
        String message = p.toString(i + FIXED_LENGTH, p.readableBytes() - FIXED_LENGTH, StandardCharsets.UTF_8);
        return new HelloAck(accepted == 1, code, caps, window, token, message);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HelloAck h && accepted == h.accepted && code == h.code && capabilities == h.capabilities
                && receiveWindowBytes == h.receiveWindowBytes && Arrays.equals(resumeToken, h.resumeToken)
                && message.equals(h.message);
    }

    @Override
    public int hashCode() {
        return Boolean.hashCode(accepted) * 31 + capabilities;
    }

    @Override
    public String toString() {
        return "HelloAck{accepted=" + accepted + ", code=" + code + ", capabilities=0x"
                + Integer.toHexString(capabilities) + ", receiveWindowBytes=" + receiveWindowBytes + ", message='"
                + message + "'}";
    }
}
