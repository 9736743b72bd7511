package io.dwcp.compression;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;

import java.nio.ByteBuffer;

/**
 * A bounds-checked reader over {@code [position, limit)} of a buffer, for decoding untrusted streams: every read
 * checks the limit first and fails with {@code CORRUPT_FRAME}, never with an index exception. Not thread-safe.
 */
final class Cursor {
    private final ByteBuffer buffer;
    private int position;
    private final int limit;
    private final String what;

    Cursor(ByteBuffer buffer, int position, int limit, String what) {
        this.buffer = buffer;
        this.position = position;
        this.limit = limit;
        this.what = what;
    }

    boolean hasRemaining() {
        return position < limit;
    }

    int remaining() {
        return limit - position;
    }

    int u8() {
        if (position >= limit) {
            throw truncated(1);
        }
        return buffer.get(position++) & 0xFF;
    }

    /** A ULEB128 value of at most 9 groups (63 bits); longer encodings are corrupt. */
    long uleb() {
        long v = 0;
        for (int shift = 0; shift < 63; shift += 7) {
            int b = u8();
            v |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return v;
            }
        }
        throw new DwcpException(ErrorCode.CORRUPT_FRAME, what + ": ULEB128 value longer than 63 bits");
    }

    /** Copies {@code length} bytes to {@code dst} at absolute {@code dstOffset}. */
    void copyTo(ByteBuffer dst, int dstOffset, int length) {
        if (length < 0 || length > limit - position) {
            throw truncated(length);
        }
        dst.put(dstOffset, buffer, position, length);
        position += length;
    }

    /** Skips {@code length} bytes and returns the absolute offset where they start. */
    int skip(int length) {
        if (length < 0 || length > limit - position) {
            throw truncated(length);
        }
        int p = position;
        position += length;
        return p;
    }

    private DwcpException truncated(int wanted) {
        return new DwcpException(ErrorCode.CORRUPT_FRAME, what + " ends early: wanted " + wanted + " bytes at "
                + position + ", only " + (limit - position) + " left");
    }
}
