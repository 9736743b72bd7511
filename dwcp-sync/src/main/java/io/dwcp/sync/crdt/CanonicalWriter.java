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

    /** Writes one byte (the low 8 bits). */
    public CanonicalWriter u8(int v) {
        out.write(v);
        return this;
    }

    /** Writes 8 bytes, big-endian. */
    public CanonicalWriter i64(long v) {
        for (int shift = 56; shift >= 0; shift -= 8) {
            out.write((int) (v >>> shift));
        }
        return this;
    }

    /** Writes a non-negative value as unsigned LEB128 (1–9 bytes). @throws IllegalArgumentException when negative */
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

    /** Writes a string as varint length + UTF-8 bytes. */
    public CanonicalWriter string(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        varint(b.length);
        out.write(b, 0, b.length);
        return this;
    }

    /** Writes raw bytes with a varint length prefix. */
    public CanonicalWriter bytes(byte[] b) {
        varint(b.length);
        out.write(b, 0, b.length);
        return this;
    }

    /** Bytes written so far. */
    public int sizeBytes() {
        return out.size();
    }

    /** A copy of the bytes written. */
    public byte[] toByteArray() {
        return out.toByteArray();
    }
}
