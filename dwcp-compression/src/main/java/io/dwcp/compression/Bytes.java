package io.dwcp.compression;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A growable byte array used as an append-only output stream on the encoder's hot path (no boxing, no streams). Not
 * thread-safe: one per task.
 */
final class Bytes {
    byte[] array;
    int length;

    Bytes(int initialCapacity) {
        array = new byte[Math.max(16, initialCapacity)];
    }

    void clear() {
        length = 0;
    }

    void ensure(int extra) {
        int need = length + extra;
        if (need > array.length) {
            array = Arrays.copyOf(array, Math.max(need, array.length * 2));
        }
    }

    void put(int b) {
        ensure(1);
        array[length++] = (byte) b;
    }

    void put(byte[] src, int off, int len) {
        ensure(len);
        System.arraycopy(src, off, array, length, len);
        length += len;
    }

    /** Appends {@code len} bytes of {@code src} from absolute index {@code off}. */
    void put(ByteBuffer src, int off, int len) {
        ensure(len);
        src.get(off, array, length, len);
        length += len;
    }

    /** Appends {@code value} (≥ 0) as ULEB128: 7 bits per byte, low group first, high bit = more follows. */
    void uleb(long value) {
        ensure(10);
        long v = value;
        while ((v & ~0x7FL) != 0) {
            array[length++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        array[length++] = (byte) v;
    }

    /** Bytes ULEB128 needs for {@code value}. */
    static int ulebLength(long value) {
        int n = 1;
        long v = value >>> 7;
        while (v != 0) {
            n++;
            v >>>= 7;
        }
        return n;
    }
}
