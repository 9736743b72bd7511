package io.dwcp.compression;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * Compares and hashes pages of shared buffers through two reusable private views, so that a scan allocates nothing per
 * page. A slice per page ({@code buffer.slice(off, len).mismatch(...)}, {@link PageHash#hash(ByteBuffer, int, int)})
 * is an object on the heap unless the JIT removes it, and the C1-only JIT a short CLI run uses does not: a round's scan
 * made about 100 MB of such garbage per GiB of state, which filled the sender's young generation and so its resident
 * heap. Here a view is a duplicate of its source buffer, made again only when the source changes (a segment's pages
 * share one or two chunks), and positioned on each page.
 *
 * <p>One instance per scan of a segment, on one thread; it is dropped with the scan, so it never keeps a buffer alive.
 * The source buffers are only read; their position and limit are never touched.
 */
final class PageViews {
    private final CRC32C crc = new CRC32C();
    private ByteBuffer firstSource;
    private ByteBuffer first;
    private ByteBuffer secondSource;
    private ByteBuffer second;

    /** {@code [off, off + len)} of {@code source} as the first view (valid until the next use of the first view). */
    private ByteBuffer first(ByteBuffer source, int off, int len) {
        if (source != firstSource) {
            firstSource = source;
            first = source.duplicate();
        }
        first.clear().position(off).limit(off + len);
        return first;
    }

    private ByteBuffer second(ByteBuffer source, int off, int len) {
        if (source != secondSource) {
            secondSource = source;
            second = source.duplicate();
        }
        second.clear().position(off).limit(off + len);
        return second;
    }

    /**
     * The index of the first byte where {@code len} bytes of {@code a} at {@code aOff} and of {@code b} at {@code bOff}
     * differ, or -1 when they are equal (as {@link ByteBuffer#mismatch} of the two slices).
     */
    int mismatch(ByteBuffer a, int aOff, ByteBuffer b, int bOff, int len) {
        return first(a, aOff, len).mismatch(second(b, bOff, len));
    }

    /** Whether the two ranges differ. */
    boolean differs(ByteBuffer a, int aOff, ByteBuffer b, int bOff, int len) {
        return mismatch(a, aOff, b, bOff, len) >= 0;
    }

    /** {@link PageHash#hash(ByteBuffer, int, int)} of the range, the same value, without allocating. */
    long hash(ByteBuffer buffer, int offset, int length) {
        int half = length >>> 1;
        crc.reset();
        crc.update(first(buffer, offset, half));
        long high = crc.getValue();
        crc.reset();
        crc.update(first(buffer, offset + half, length - half));
        return (high << 32) | crc.getValue();
    }
}
