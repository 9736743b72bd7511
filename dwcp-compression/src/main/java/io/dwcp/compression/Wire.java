package io.dwcp.compression;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * HDE wire format, version 3 (versions 1 and 2, without the SPLICE op or its round sources, are still read).
 * Layout tables: {@code docs/hde-wire-format.md}. Big-endian throughout.
 *
 * <pre>
 *  0               4       5       6               8               12              16
 *  +---------------+-------+-------+---------------+---------------+---------------+
 *  | magic "HDE1"  | ver=2 | type  | flags         | frame length  | sequence      |
 *  +---------------+-------+-------+---------------+---------------+---------------+
 *  | round id (u64)                | baseline id (u64)             |               ...
 *  +-------------------------------+-------------------------------+
 *  | baseline version (u64)        | baseline digest (u64)         |  type body ... | CRC32C (u32) |
 *  +-------------------------------+-------------------------------+----------------+--------------+
 * </pre>
 *
 * A round is one BEGIN frame (sequence 0), zero or more BATCH frames (1, 2, …) and one END frame. The baseline
 * triple names what a delta was encoded against (all zero in a keyframe). The CRC32C covers every byte before it.
 */
final class Wire {
    static final int MAGIC = 0x48444531; // "HDE1"
    static final int CURRENT_VERSION = 3;
    /**
     * Oldest version a decoder reads: version 1 frames are version 2 frames that never use SPLICE, and version 2
     * frames are version 3 frames whose splices copy only from the baseline.
     */
    static final int OLDEST_READABLE_VERSION = 1;
    /** First version whose SPLICE sources may be the round's earlier pages (positions from the state size on). */
    static final int ROUND_SPLICE_VERSION = 3;

    static final int TYPE_BEGIN = 1;
    static final int TYPE_BATCH = 2;
    static final int TYPE_END = 3;

    /** Set on every frame of a keyframe round. */
    static final int FLAG_KEYFRAME = 0x0001;
    static final int FLAGS_KNOWN = FLAG_KEYFRAME;

    static final int MAGIC_OFFSET = 0;
    static final int VERSION_OFFSET = 4;
    static final int TYPE_OFFSET = 5;
    static final int FLAGS_OFFSET = 6;
    static final int FRAME_LENGTH_OFFSET = 8;
    static final int SEQUENCE_OFFSET = 12;
    static final int ROUND_ID_OFFSET = 16;
    static final int BASELINE_ID_OFFSET = 24;
    static final int BASELINE_VERSION_OFFSET = 32;
    static final int BASELINE_DIGEST_OFFSET = 40;
    static final int HEADER_LENGTH = 48;
    static final int CRC_LENGTH = 4;

    // BEGIN body
    static final int BEGIN_PRODUCED_ID_OFFSET = 48;
    static final int BEGIN_PRODUCED_VERSION_OFFSET = 56;
    static final int BEGIN_PAGE_SIZE_OFFSET = 64;
    static final int BEGIN_DICTIONARY_ID_OFFSET = 68;
    static final int BEGIN_TOTAL_BYTES_OFFSET = 72;
    static final int BEGIN_REGION_COUNT_OFFSET = 80;
    static final int BEGIN_KEY_LENGTH_OFFSET = 84;
    static final int BEGIN_KEY_OFFSET = 86;
    static final int MAX_KEY_BYTES = 1024;
    static final int MAX_REGIONS = 65_536;

    // BATCH body
    static final int BATCH_FIRST_PAGE_OFFSET = 48;
    static final int BATCH_PAGE_COUNT_OFFSET = 56;
    static final int BATCH_RESERVED_OFFSET = 60;
    static final int BATCH_FIRST_SLOT_OFFSET = 64;
    static final int BATCH_CODEC_OFFSET = 72;
    static final int BATCH_LEVEL_OFFSET = 73;
    static final int BATCH_RESERVED2_OFFSET = 74;
    static final int BATCH_RAW_LENGTH_OFFSET = 76;
    static final int BATCH_CONTROL_LENGTH_OFFSET = 80;
    static final int BATCH_PAYLOAD_OFFSET = 84;

    static final int CODEC_STORED = 0;
    static final int CODEC_ZSTD = 1;

    // END body
    static final int END_BATCH_COUNT_OFFSET = 48;
    static final int END_RESERVED_OFFSET = 52;
    static final int END_SLOT_COUNT_OFFSET = 56;
    static final int END_DIGEST_OFFSET = 64;
    static final int END_ENCODED_BYTES_OFFSET = 72;
    static final int END_LENGTH = 80 + CRC_LENGTH;

    // Page operations of the control stream (first byte of each op).
    static final int OP_UNCHANGED = 0;
    static final int OP_ZERO = 1;
    static final int OP_MOVED = 2;
    static final int OP_DUPLICATE = 3;
    static final int OP_XOR = 4;
    static final int OP_LITERAL = 5;
    static final int OP_XOR_FROM = 6;
    static final int OP_SPLICE = 7;

    private Wire() {
    }

    /** Writes the common header of a frame of {@code frameLength} bytes at position 0 of {@code f}. */
    static void header(ByteBuffer f, int type, int flags, int frameLength, int sequence, long roundId, long baselineId,
                       long baselineVersion, long baselineDigest) {
        f.putInt(MAGIC_OFFSET, MAGIC);
        f.put(VERSION_OFFSET, (byte) CURRENT_VERSION);
        f.put(TYPE_OFFSET, (byte) type);
        f.putShort(FLAGS_OFFSET, (short) flags);
        f.putInt(FRAME_LENGTH_OFFSET, frameLength);
        f.putInt(SEQUENCE_OFFSET, sequence);
        f.putLong(ROUND_ID_OFFSET, roundId);
        f.putLong(BASELINE_ID_OFFSET, baselineId);
        f.putLong(BASELINE_VERSION_OFFSET, baselineVersion);
        f.putLong(BASELINE_DIGEST_OFFSET, baselineDigest);
    }

    /** Computes and stores the CRC32C of {@code [0, frameLength - 4)} of a heap frame. */
    /** {@link #seal(byte[], int)} for a frame in {@code frame[0, frameLength)} of a (direct) buffer. */
    static void seal(ByteBuffer frame, int frameLength) {
        CRC32C crc = new CRC32C();
        crc.update(frame.duplicate().position(0).limit(frameLength - CRC_LENGTH));
        frame.putInt(frameLength - CRC_LENGTH, (int) crc.getValue());
    }

    static void seal(byte[] frame, int frameLength) {
        CRC32C crc = new CRC32C();
        crc.update(frame, 0, frameLength - CRC_LENGTH);
        int v = (int) crc.getValue();
        int p = frameLength - CRC_LENGTH;
        frame[p] = (byte) (v >>> 24);
        frame[p + 1] = (byte) (v >>> 16);
        frame[p + 2] = (byte) (v >>> 8);
        frame[p + 3] = (byte) v;
    }

    /**
     * Checks the common header and CRC of the frame in {@code [f.position(), f.limit())}, which must be exactly one
     * frame. Returns the frame type. Everything is checked before the caller allocates anything.
     *
     * @throws DwcpException {@code CORRUPT_FRAME} (short, bad magic, version, type, flags or length) or
     *     {@code CHECKSUM_MISMATCH}
     */
    static int check(ByteBuffer f, int base) {
        int length = f.limit() - base;
        if (length < HEADER_LENGTH + CRC_LENGTH) {
            throw corrupt("frame of " + length + " bytes is shorter than the " + (HEADER_LENGTH + CRC_LENGTH)
                    + "-byte minimum");
        }
        int magic = f.getInt(base + MAGIC_OFFSET);
        if (magic != MAGIC) {
            throw corrupt("bad magic 0x" + Integer.toHexString(magic) + ", expected 0x" + Integer.toHexString(MAGIC));
        }
        int version = f.get(base + VERSION_OFFSET) & 0xFF;
        if (version < OLDEST_READABLE_VERSION || version > CURRENT_VERSION) {
            throw corrupt("unsupported HDE wire version " + version + ", this decoder reads " + OLDEST_READABLE_VERSION
                    + " to " + CURRENT_VERSION);
        }
        int declared = f.getInt(base + FRAME_LENGTH_OFFSET);
        if (declared != length) {
            throw corrupt("frame length field says " + Integer.toUnsignedString(declared) + " bytes, frame has " + length);
        }
        CRC32C crc = new CRC32C();
        crc.update(f.slice(base, length - CRC_LENGTH));
        int expected = f.getInt(base + length - CRC_LENGTH);
        if ((int) crc.getValue() != expected) {
            throw new DwcpException(ErrorCode.CHECKSUM_MISMATCH, "frame CRC32C 0x" + Integer.toHexString((int) crc.getValue())
                    + " differs from 0x" + Integer.toHexString(expected) + " in the frame");
        }
        int type = f.get(base + TYPE_OFFSET) & 0xFF;
        if (type < TYPE_BEGIN || type > TYPE_END) {
            throw corrupt("unknown frame type " + type);
        }
        int flags = f.getShort(base + FLAGS_OFFSET) & 0xFFFF;
        if ((flags & ~FLAGS_KNOWN) != 0) {
            throw corrupt("reserved flag bits set: 0b" + Integer.toBinaryString(flags));
        }
        return type;
    }

    static DwcpException corrupt(String message) {
        return new DwcpException(ErrorCode.CORRUPT_FRAME, message);
    }

    /** A readable description of a frame header (never payload), for logs and {@code toString()}. */
    static String describe(ByteBuffer f, int base) {
        if (f.limit() - base < HEADER_LENGTH) {
            return "HDE frame{" + (f.limit() - base) + " bytes, truncated}";
        }
        return "HDE frame{type=" + (f.get(base + TYPE_OFFSET) & 0xFF)
                + ", flags=0b" + Integer.toBinaryString(f.getShort(base + FLAGS_OFFSET) & 0xFFFF)
                + ", length=" + Integer.toUnsignedString(f.getInt(base + FRAME_LENGTH_OFFSET))
                + ", seq=" + Integer.toUnsignedString(f.getInt(base + SEQUENCE_OFFSET))
                + ", round=" + Long.toHexString(f.getLong(base + ROUND_ID_OFFSET))
                + ", baseline=" + Long.toHexString(f.getLong(base + BASELINE_ID_OFFSET))
                + " v" + f.getLong(base + BASELINE_VERSION_OFFSET) + "}";
    }
}
