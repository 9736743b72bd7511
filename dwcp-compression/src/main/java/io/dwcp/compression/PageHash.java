package io.dwcp.compression;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * Page hashes and the state digest.
 *
 * <p>The 64-bit hash of a page is the CRC32C of its first half in the high word and of its second half in the low
 * word: CRC32C is a JDK intrinsic (about 10 GB/s), and the content index confirms every hit by byte comparison, so
 * collision resistance beyond error detection is not needed. The digest of a whole state is the sum, modulo 2^64, of
 * {@link #mix(long, long)} over every page: order-sensitive through the page index, and updatable in O(changed pages)
 * when a delta replaces some pages, which is what lets both ends verify a 1 GiB state after a delta without rereading it.
 */
final class PageHash {
    private PageHash() {
    }

    /** Hash of {@code length} bytes of {@code buffer} at absolute {@code offset}; the buffer is not modified. */
    static long hash(ByteBuffer buffer, int offset, int length) {
        int half = length >>> 1;
        CRC32C a = new CRC32C();
        a.update(buffer.slice(offset, half));
        CRC32C b = new CRC32C();
        b.update(buffer.slice(offset + half, length - half));
        return (a.getValue() << 32) | b.getValue();
    }

    /** Hash of {@code length} bytes of {@code array} at {@code offset}. */
    static long hash(byte[] array, int offset, int length) {
        int half = length >>> 1;
        CRC32C a = new CRC32C();
        a.update(array, offset, half);
        CRC32C b = new CRC32C();
        b.update(array, offset + half, length - half);
        return (a.getValue() << 32) | b.getValue();
    }

    /** The hash of an all-zero page of {@code pageSizeBytes}. */
    static long zeroHash(int pageSizeBytes) {
        return hash(new byte[pageSizeBytes], 0, pageSizeBytes);
    }

    /** The digest term of page {@code pageIndex} with hash {@code hash} (a 64-bit finaliser of both). */
    static long mix(long pageIndex, long hash) {
        long z = hash ^ (pageIndex * 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** A key for hash tables: hashes are CRCs, so spread their bits. */
    static long indexKey(long hash) {
        return mix(0x5DEECE66DL, hash);
    }
}
