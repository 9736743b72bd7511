package io.dwcp.sync.crdt;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Writes the canonical encoding: big-endian fixed-width integers, unsigned LEB128 variable-length integers for counts
 * and counters, and strings as a varint byte length followed by UTF-8. Callers write collections in their sorted
 * order, so equal states give equal bytes. Not thread-safe; grows as needed.
 */
public final class CanonicalWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream(64);

    /**
     * Writes one byte (the low 8 bits).
     *
     * @param v the value; higher bits are ignored
     * @return this writer
     */
    public CanonicalWriter u8(int v) {
        out.write(v);
        return this;
    }

    /**
     * Writes 8 bytes, big-endian.
     *
     * @param v the value
     * @return this writer
     */
    public CanonicalWriter i64(long v) {
        for (int shift = 56; shift >= 0; shift -= 8) {
            out.write((int) (v >>> shift));
        }
        return this;
    }

    /**
     * Writes a non-negative value as unsigned LEB128 (1–9 bytes).
     *
     * @param v the value, ≥ 0
     * @return this writer
     * @throws IllegalArgumentException when {@code v} is negative
     */
    public CanonicalWriter varint(long v) {
        if (v < 0) {
            throw new IllegalArgumentException("varint must be >= 0, got " + v);
        }
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
        return this;
    }

    /**
     * Writes a string as varint length + UTF-8 bytes.
     *
     * @param s the string, not null
     * @return this writer
     */
    public CanonicalWriter string(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        varint(b.length);
        out.write(b, 0, b.length);
        return this;
    }

    /**
     * Writes raw bytes with a varint length prefix.
     *
     * @param b the bytes, not null
     * @return this writer
     */
    public CanonicalWriter bytes(byte[] b) {
        varint(b.length);
        out.write(b, 0, b.length);
        return this;
    }

    /**
     * Bytes written so far.
     *
     * @return the count of bytes written
     */
    public int sizeBytes() {
        return out.size();
    }

    /**
     * A copy of the bytes written.
     *
     * @return a new array with everything written so far
     */

    public byte[] toByteArray() {
        return out.toByteArray();
    }
}
