package io.dwcp.core.spi;

/**
 * A general-purpose compressor of byte blocks that core's own wire formats use where it beats the JDK's DEFLATE: the
 * literal pages of a replica-seeded round. Core depends on no compression library; a module implements this (the
 * compression module with zstd-jni) and registers it for {@link java.util.ServiceLoader} under
 * {@code META-INF/services/io.dwcp.core.spi.BlockCompressor}; the manager uses the one of highest priority, or the one
 * its builder is given. Without one, core compresses with DEFLATE as before.
 *
 * <p>The compressed format is named on the wire by {@link #formatId()}, so both ends must agree on what an id means:
 * {@link #ZSTD} is a single zstd frame (RFC 8878) that records its content size. A sender offers the formats it can
 * write and a receiver picks one it can read; see {@code docs/migration-wire-format.md}.
 *
 * <p>Implementations are stateless as far as callers can tell and safe for concurrent use.
 */
public interface BlockCompressor {
    /** Format id of a single zstd frame (RFC 8878) with its content size. */
    int ZSTD = 1;

    /**
     * {@return the name, for logs}
     */
    String name();

    /**
     * {@return the wire id of the format this compressor writes and reads} (1 to 7; 0 is DEFLATE, which core has)
     */
    int formatId();

    /**
     * {@return the priority; the highest one found wins}
     */
    default int priority() {
        return 0;
    }

    /**
     * {@return the most bytes {@link #compress} may produce from {@code length} bytes}
     *
     * @param length the uncompressed length
     */
    int maxCompressedLength(int length);

    /**
     * Compresses {@code src[srcOffset, srcOffset + length)} into {@code dst} from {@code dstOffset}.
     *
     * @param src the bytes to compress
     * @param srcOffset where they start
     * @param length how many
     * @param dst where the compressed bytes go; at least {@link #maxCompressedLength}{@code (length)} bytes from
     *     {@code dstOffset}
     * @param dstOffset where they start
     * @return the compressed length
     * @throws IllegalArgumentException when {@code dst} has less room than {@link #maxCompressedLength}
     */
    int compress(byte[] src, int srcOffset, int length, byte[] dst, int dstOffset);

    /**
     * Decompresses {@code src[srcOffset, srcOffset + length)}, which must decompress to exactly {@code expected}
     * bytes, into {@code dst} from {@code dstOffset}.
     *
     * @param src compressed bytes, from a peer: possibly hostile
     * @param srcOffset where they start
     * @param length how many
     * @param dst where the bytes go
     * @param dstOffset where they start
     * @param expected the length the data must decompress to (room in {@code dst})
     * @throws io.dwcp.core.DwcpException {@code CORRUPT_FRAME} when the data is not valid or does not decompress to
     *     exactly {@code expected} bytes; nothing past {@code dstOffset + expected} is written
     */
    void decompress(byte[] src, int srcOffset, int length, byte[] dst, int dstOffset, int expected);
}
