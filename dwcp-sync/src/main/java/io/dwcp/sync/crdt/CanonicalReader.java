package io.dwcp.sync.crdt;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;

/**
 * Reads the encoding {@link CanonicalWriter} writes, checking every length against the bytes left before allocating.
 * Truncated, overlong or otherwise malformed input raises {@link DwcpException} with {@code CORRUPT_FRAME}; nothing
 * else escapes. Not thread-safe.
 */
public final class CanonicalReader {
    private final byte[] buf;
    private int pos;
    private final int limit;

    /**
     * Reads {@code buf[offset, offset + length)}; the array is borrowed and must not change while reading.
     *
     * @param buf the bytes to read from
     * @param offset index of the first byte to read
     * @param length number of bytes to read
     * @throws IllegalArgumentException when the range lies outside {@code buf}
     */
    public CanonicalReader(byte[] buf, int offset, int length) {
        if (offset < 0 || length < 0 || offset + length > buf.length) {
            throw new IllegalArgumentException("range [" + offset + ", " + offset + "+" + length + ") outside " + buf.length + " bytes");
        }
        this.buf = buf;
        this.pos = offset;
        this.limit = offset + length;
    }

    /**
     * Reads all of {@code buf}.
     *
     * @param buf the bytes to read from
     */
    public CanonicalReader(byte[] buf) {
        this(buf, 0, buf.length);
    }

    /**
     * Bytes not yet read.
     *
     * @return the number of unread bytes
     */
    public int remaining() {
        return limit - pos;
    }

    /**
     * Reads one unsigned byte.
     *
     * @return the byte, 0 to 255
     */
    public int u8() {
        need(1, "a byte");
        return buf[pos++] & 0xFF;
    }

    /**
     * Reads 8 bytes, big-endian.
     *
     * @return the value
     */
    public long i64() {
        need(8, "a 64-bit integer");
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (buf[pos++] & 0xFF);
        }
        return v;
    }

    /**
     * Reads an unsigned LEB128 value of at most 63 bits, refusing overlong (non-minimal) forms.
     *
     * @return the value, ≥ 0
     */
    public long varint() {
        long v = 0;
        for (int i = 0; i < 9; i++) {
            int b = u8();
            v |= (long) (b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0) {
                if (b == 0 && i > 0) {
                    throw corrupt("non-minimal varint");
                }
                return v;
            }
        }
        throw corrupt("varint longer than 9 bytes");
    }

    /**
     * Reads a count of items each taking at least {@code minBytesEach} bytes, refusing counts the remaining bytes
     * cannot hold (so a hostile count never drives an allocation).
     *
     * @param minBytesEach the fewest bytes one item can take (values below 1 count as 1)
     * @return the count
     */
    public int count(int minBytesEach) {
        long n = varint();
        if (n > remaining() / Math.max(1, minBytesEach)) {
            throw corrupt("count " + n + " cannot fit in the " + remaining() + " bytes left");
        }
        return (int) n;
    }

    /**
     * Reads a varint-prefixed UTF-8 string; invalid UTF-8 is refused.
     *
     * @return the string
     */
    public String string() {
        int n = count(1);
        try {
            String s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(buf, pos, n)).toString();
            pos += n;
            return s;
        } catch (CharacterCodingException e) {
            throw new DwcpException(ErrorCode.CORRUPT_FRAME, "invalid UTF-8 in a string of " + n + " bytes", e);
        }
    }

    /**
     * Reads varint-prefixed raw bytes (a copy).
     *
     * @return a new array with the bytes
     */
    public byte[] bytes() {
        int n = count(1);
        byte[] b = new byte[n];
        System.arraycopy(buf, pos, b, 0, n);
        pos += n;
        return b;
    }

    /**
     * Reads a boolean written as one byte 0 or 1.
     *
     * @return {@code true} for 1, {@code false} for 0
     */
    public boolean bool() {
        int b = u8();
        if (b > 1) {
            throw corrupt("boolean byte " + b);
        }
        return b == 1;
    }

    /** Checks that every byte was read. */
    public void end() {
        if (pos != limit) {
            throw corrupt((limit - pos) + " trailing bytes");
        }
    }

    private void need(int n, String what) {
        if (limit - pos < n) {
            throw corrupt("truncated: " + what + " needs " + n + " bytes, " + (limit - pos) + " left");
        }
    }

    /**
     * A {@code CORRUPT_FRAME} error naming the offset.
     *
     * @param why what is wrong, for the message
     * @return the exception, for the caller to throw
     */

    public DwcpException corrupt(String why) {
        return new DwcpException(ErrorCode.CORRUPT_FRAME, "malformed sync encoding at byte " + pos + ": " + why);
    }
}
