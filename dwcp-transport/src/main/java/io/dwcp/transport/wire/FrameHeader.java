package io.dwcp.transport.wire;

import io.netty.buffer.ByteBuf;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * Layout of the one AMST frame header. Every field is big-endian; see {@code docs/amst-wire-format.md}.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     magic 0x414D5354 "AMST"                   |  0
 * +---------------+---------------+-------------------------------+
 * |   version     |     type      |             flags             |  4
 * +---------------+---------------+-------------------------------+
 * |                      transfer id (u64)                        |  8
 * +                                                               +
 * |                                                               |
 * +---------------------------------------------------------------+
 * |                        offset (u64)                           | 16
 * +                                                               +
 * |                                                               |
 * +---------------------------------------------------------------+
 * |                      chunk index (u32)                        | 24
 * +---------------------------------------------------------------+
 * |                    payload length (u32)                       | 28
 * +---------------------------------------------------------------+
 * |       CRC32C over bytes 0..31 and the payload (u32)           | 32
 * +---------------------------------------------------------------+
 * |                     payload ...                               | 36
 * </pre>
 *
 * <p>Stateless; all methods are static and thread-safe.
 */
public final class FrameHeader {
    private FrameHeader() {
    }

    /** The first four bytes of every frame, "AMST". */
    public static final int MAGIC = 0x414D5354;
    /** The wire version this code writes and reads. */
    public static final int CURRENT_VERSION = 1;

    /** Offset of the magic (u32). */
    public static final int MAGIC_OFFSET = 0;
    /** Offset of the version (u8). */
    public static final int VERSION_OFFSET = 4;
    /** Offset of the frame type (u8). */
    public static final int TYPE_OFFSET = 5;
    /** Offset of the flags (u16). */
    public static final int FLAGS_OFFSET = 6;
    /** Offset of the transfer id (u64). */
    public static final int TRANSFER_ID_OFFSET = 8;
    /** Offset of the offset field (u64). */
    public static final int OFFSET_OFFSET = 16;
    /** Offset of the chunk index (u32). */
    public static final int CHUNK_INDEX_OFFSET = 24;
    /** Offset of the payload length (u32). */
    public static final int PAYLOAD_LENGTH_OFFSET = 28;
    /** Offset of the CRC32C (u32). */
    public static final int CRC_OFFSET = 32;
    /** Bytes covered by the CRC before the payload: everything up to the CRC field. */
    public static final int CRC_COVERED_LENGTH = CRC_OFFSET;
    /** Bytes of the header; the payload follows. */
    public static final int HEADER_LENGTH = 36;

    /** Connection handshake, first frame on every connection, client to server. */
    public static final int TYPE_HELLO = 0x01;
    /** Handshake answer, server to client. */
    public static final int TYPE_HELLO_ACK = 0x02;
    /** Liveness/RTT probe; payload 8 bytes echoed in the PONG. */
    public static final int TYPE_PING = 0x03;
    /** Answer to a PING, echoing its 8 bytes. */
    public static final int TYPE_PONG = 0x04;
    /** Announces a transfer (control connection). */
    public static final int TYPE_OPEN = 0x10;
    /** One chunk of a transfer (data connection). */
    public static final int TYPE_DATA = 0x11;
    /** End of a streaming transfer: offset = total length (control connection). */
    public static final int TYPE_END = 0x12;
    /** Cumulative acknowledgement: offset = bytes delivered to the sink (control connection). */
    public static final int TYPE_ACK = 0x13;
    /** The receiver's sink completed: offset = total length (control connection). */
    public static final int TYPE_DONE = 0x14;
    /** A transfer failed or was cancelled; payload = error code + message. */
    public static final int TYPE_ABORT = 0x15;
    /** The connection (or, on the control connection, the session) ends; payload = error code + message. */
    public static final int TYPE_GOAWAY = 0x20;

    /** HELLO: this connection re-attaches to an existing session (resume). */
    public static final int FLAG_RESUME = 0x0001;
    /** Flags bits this version knows; any other bit set is a {@code PROTOCOL_ERROR}. */
    public static final int KNOWN_FLAGS = FLAG_RESUME;

    /**
     * Whether {@code type} is a frame type of this version.
     *
     * @param type the type byte
     * @return whether it is known
     */
    public static boolean isKnownType(int type) {
        switch (type) {
            case TYPE_HELLO: case TYPE_HELLO_ACK: case TYPE_PING: case TYPE_PONG: case TYPE_OPEN: case TYPE_DATA:
            case TYPE_END: case TYPE_ACK: case TYPE_DONE: case TYPE_ABORT: case TYPE_GOAWAY:
                return true;
            default:
                return false;
        }
    }

    /**
     * Name of a frame type for messages and {@code toString()}.
     *
     * @param type the type byte
     * @return its name, or its hex value when unknown
     */
    public static String typeName(int type) {
        switch (type) {
            case TYPE_HELLO: return "HELLO";
            case TYPE_HELLO_ACK: return "HELLO_ACK";
            case TYPE_PING: return "PING";
            case TYPE_PONG: return "PONG";
            case TYPE_OPEN: return "OPEN";
            case TYPE_DATA: return "DATA";
            case TYPE_END: return "END";
            case TYPE_ACK: return "ACK";
            case TYPE_DONE: return "DONE";
            case TYPE_ABORT: return "ABORT";
            case TYPE_GOAWAY: return "GOAWAY";
            default: return "0x" + Integer.toHexString(type);
        }
    }

    /**
     * Writes a header at {@code buf.writerIndex()} with the CRC field zero, advancing the writer index by
     * {@link #HEADER_LENGTH}. Borrows {@code buf}. Call {@link #sealCrc} once the payload follows it.
     *
     * @param buf the buffer to write into
     * @param type the frame type
     * @param flags the flags
     * @param transferId the transfer id, 0 for none
     * @param offset the offset field
     * @param chunkIndex the chunk index (unsigned 32 bits)
     * @param payloadLengthBytes the length of the payload that will follow
     */
    public static void writeHeader(ByteBuf buf, int type, int flags, long transferId, long offset, long chunkIndex,
                                   int payloadLengthBytes) {
        buf.writeInt(MAGIC);
        buf.writeByte(CURRENT_VERSION);
        buf.writeByte(type);
        buf.writeShort(flags);
        buf.writeLong(transferId);
        buf.writeLong(offset);
        buf.writeInt((int) chunkIndex);
        buf.writeInt(payloadLengthBytes);
        buf.writeInt(0);
    }

    /**
     * Computes the CRC32C of the frame starting at {@code frameStart} (header bytes 0..31 and the payload, whose length
     * is read from the header) and stores it in the CRC field. Borrows {@code buf}; the frame must be complete.
     *
     * @param buf the buffer holding the frame
     * @param frameStart the index of the frame's first byte
     */
    public static void sealCrc(ByteBuf buf, int frameStart) {
        int payloadLength = buf.getInt(frameStart + PAYLOAD_LENGTH_OFFSET);
        buf.setInt(frameStart + CRC_OFFSET, (int) crc(buf, frameStart, payloadLength));
    }

    /**
     * CRC32C of header bytes 0..31 at {@code frameStart} and {@code payloadLength} payload bytes after the header.
     *
     * @param buf the buffer holding the frame
     * @param frameStart the index of the frame's first byte
     * @param payloadLength the payload's length
     * @return the CRC32C as an unsigned value
     */
    public static long crc(ByteBuf buf, int frameStart, int payloadLength) {
        CRC32C crc = new CRC32C();
        update(crc, buf, frameStart, CRC_COVERED_LENGTH);
        update(crc, buf, frameStart + HEADER_LENGTH, payloadLength);
        return crc.getValue();
    }

    private static void update(CRC32C crc, ByteBuf buf, int index, int length) {
        if (length == 0) {
            return;
        }
        if (buf.nioBufferCount() == 1) {
            crc.update(buf.nioBuffer(index, length));
        } else {
            for (ByteBuffer b : buf.nioBuffers(index, length)) {
                crc.update(b);
            }
        }
    }
}
