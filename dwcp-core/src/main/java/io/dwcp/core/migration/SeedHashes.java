package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.zip.CRC32C;

/**
 * The strong hashes of a replica-seeded round (see {@code docs/migration-wire-format.md}, "Replica-seeded rounds").
 * A page hash is the first 16 bytes of SHA-256 over the page's bytes (the last page of a state may be shorter than
 * a page); a chunk hash the first 16 bytes of SHA-256 over the page hashes of {@value #CHUNK_PAGES} consecutive pages
 * (fewer in the last chunk); the state digest SHA-256 over every page hash in page order, whose first 16 bytes are
 * the state's <em>seed version</em>. SHA-256 because a guest controls its pages: a 128-bit truncation of a
 * collision-resistant hash keeps a guest from crafting two pages that pass for each other, which a fast
 * non-cryptographic hash would not.
 *
 * <p>Not thread-safe: one instance per thread.
 */
final class SeedHashes {
    /** Pages per chunk of a description. */
    static final int CHUNK_PAGES = 64;
    static final int HASH_BYTES = 16;

    private final MessageDigest page = sha256();
    private final MessageDigest chunk = sha256();
    private final MessageDigest state = sha256();
    private final byte[] out = new byte[32];
    private final CRC32C crc32c = new CRC32C();
    private final byte[] hashBytes = new byte[HASH_BYTES];
    private int pagesInChunk;
    /** The hash of {@link #zeroLength} zero bytes (computed the first time such a page is hashed), for pageHash. */
    private final long[] zeroHash = new long[2];
    private int zeroLength = -1;
    /** Zero bytes to compare pages with ({@link #isZero}); read-only, shared. */
    private static final ByteBuffer ZEROS = ByteBuffer.allocate(64 << 10).asReadOnlyBuffer();

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new DwcpException(ErrorCode.INTERNAL_ERROR, "this JVM has no SHA-256", e);
        }
    }

    /**
     * Hashes one page (its remaining bytes; position unchanged) into {@code dst[at]} (hi) and {@code dst[at + 1]} (lo).
     * A page of zero bytes is recognised first (a vectorised compare, many times faster than SHA-256, that stops at
     * the first non-zero byte of any other page) and gets the zero page's hash without hashing it again: guest memory
     * is often half zero pages.
     */
    void pageHash(ByteBuffer pageBytes, long[] dst, int at) {
        int len = pageBytes.remaining();
        if (len > 0 && isZero(pageBytes)) {
            if (zeroLength != len) {
                page.update(pageBytes.duplicate());
                digestInto(page, zeroHash, 0);
                zeroLength = len;
            }
            dst[at] = zeroHash[0];
            dst[at + 1] = zeroHash[1];
            return;
        }
        page.update(pageBytes.duplicate());
        digestInto(page, dst, at);
    }

    private void digestInto(MessageDigest md, long[] dst, int at) {
        try {
            md.digest(out, 0, 32);
        } catch (java.security.DigestException e) {
            throw new IllegalStateException(e);
        }
        dst[at] = ByteBuffer.wrap(out, 0, 8).getLong();
        dst[at + 1] = ByteBuffer.wrap(out, 8, 8).getLong();
    }

    /**
     * Feeds one page hash, in page order, into the running chunk hash and the state digest. Returns true when it
     * completed a chunk, whose hash is then in {@code chunkOut[at..at+1]}.
     */
    boolean addPage(long hi, long lo, long[] chunkOut, int at) {
        ByteBuffer.wrap(hashBytes).putLong(hi).putLong(lo);
        chunk.update(hashBytes);
        state.update(hashBytes);
        if (++pagesInChunk == CHUNK_PAGES) {
            pagesInChunk = 0;
            digestInto(chunk, chunkOut, at);
            return true;
        }
        return false;
    }

    /**
     * Feeds {@code count} page hashes at once, in page order, as {@code count × 16} bytes of {@code hashBytes} from
     * {@code off} (hi then lo of each, big-endian: what {@link #addPage} feeds): the same chunk hashes and state digest
     * as {@code count} calls of {@link #addPage}, in two digest updates instead of {@code 2 × count}. The pages must not
     * cross a chunk's end. Returns true when they completed a chunk, whose hash is then in {@code chunkOut[at..at+1]}.
     */
    boolean addPages(byte[] hashBytes, int off, int count, long[] chunkOut, int at) {
        if (count <= 0 || pagesInChunk + count > CHUNK_PAGES) {
            throw new IllegalArgumentException(count + " pages after " + pagesInChunk + " cross a chunk of " + CHUNK_PAGES);
        }
        chunk.update(hashBytes, off, count * HASH_BYTES);
        state.update(hashBytes, off, count * HASH_BYTES);
        pagesInChunk += count;
        if (pagesInChunk == CHUNK_PAGES) {
            pagesInChunk = 0;
            digestInto(chunk, chunkOut, at);
            return true;
        }
        return false;
    }

    /**
     * Puts the chunk hash of {@code count} page hashes (at most {@value #CHUNK_PAGES}; {@code count × 16} bytes of
     * {@code hashBytes} from {@code off}, as {@link #addPages} takes them) into {@code chunkOut[at..at+1]}: what
     * {@link #addPages} and {@link #finishChunk} give for a chunk of those pages, without the state digest, so that
     * the chunks of a state can be hashed in parallel and only the state digest in page order ({@link #addToState}).
     */
    void chunkHash(byte[] hashBytes, int off, int count, long[] chunkOut, int at) {
        if (count <= 0 || count > CHUNK_PAGES) {
            throw new IllegalArgumentException("a chunk has 1 to " + CHUNK_PAGES + " pages, not " + count);
        }
        chunk.update(hashBytes, off, count * HASH_BYTES);
        digestInto(chunk, chunkOut, at);
    }

    /**
     * Feeds {@code count} page hashes ({@code count × 16} bytes of {@code hashBytes} from {@code off}), in page order,
     * into the state digest only; their chunk hashes come from {@link #chunkHash}. Not to be mixed with {@link
     * #addPage}/{@link #addPages} on one instance.
     */
    void addToState(byte[] hashBytes, int off, int count) {
        state.update(hashBytes, off, count * HASH_BYTES);
    }

    /**
     * Hashes the {@link SeedWire#BLOCKS_PER_PAGE} blocks of a page (its remaining bytes; position unchanged) into
     * {@code dst[at..at+7]}: the first 8 bytes of SHA-256 of each block, or with {@code crc} (seed messages version 6
     * on, {@link SeedWire#crcBlockHashes}) its CRC32C in the high 4 bytes (the 4 bytes a reply carries); a block past a
     * short last page is empty.
     */
    void blockHashes(ByteBuffer pageBytes, int pageSize, long[] dst, int at, boolean crc) {
        int bs = pageSize / SeedWire.BLOCKS_PER_PAGE;
        int len = pageBytes.remaining();
        for (int b = 0; b < SeedWire.BLOCKS_PER_PAGE; b++) {
            ByteBuffer block = pageBytes.duplicate();
            int from = Math.min(len, b * bs);
            block.position(pageBytes.position() + from).limit(pageBytes.position() + Math.min(len, from + bs));
            if (crc) {
                crc32c.reset();
                crc32c.update(block);
                dst[at + b] = crc32c.getValue() << 32;
                continue;
            }
            page.update(block);
            try {
                page.digest(out, 0, 32);
            } catch (java.security.DigestException e) {
                throw new IllegalStateException(e);
            }
            dst[at + b] = ByteBuffer.wrap(out, 0, 8).getLong();
        }
    }

    /**
     * Hashes the {@link SeedWire#SUBBLOCKS_PER_BLOCK} sub-blocks of each block of a page (its remaining bytes; position
     * unchanged) whose bit is set in {@code blockMask}, in block order, into {@code dst}: CRC32C of each sub-block (a
     * sub-block past a short last page is empty: 0). {@return the hashes written}
     *
     * <p>CRC32C, not a truncated SHA-256: a sub-block hash only decides which pieces of a page that differs are sent,
     * like a 4-byte block hash; a piece wrongly taken as unchanged fails the round's state digest (SHA-256 of the full
     * page hashes), and the round is sent in full. CRC32C is a JDK intrinsic, also before the JIT compiles its caller.
     */
    static int subBlockHashes(ByteBuffer pageBytes, int pageSize, int blockMask, int[] dst) {
        int bs = pageSize / SeedWire.BLOCKS_PER_PAGE;
        int ss = bs / SeedWire.SUBBLOCKS_PER_BLOCK;
        int len = pageBytes.remaining();
        int base = pageBytes.position();
        CRC32C crc = new CRC32C();
        int n = 0;
        for (int b = 0; b < SeedWire.BLOCKS_PER_PAGE; b++) {
            if ((blockMask & 1 << b) == 0) {
                continue;
            }
            for (int j = 0; j < SeedWire.SUBBLOCKS_PER_BLOCK; j++) {
                int from = Math.min(len, b * bs + j * ss);
                int to = Math.min(len, from + ss);
                crc.reset();
                crc.update(pageBytes.slice(base + from, to - from));
                dst[n++] = (int) crc.getValue();
            }
        }
        return n;
    }

    /** Completes a last, shorter chunk; returns false when there was none. */
    boolean finishChunk(long[] chunkOut, int at) {
        if (pagesInChunk == 0) {
            return false;
        }
        pagesInChunk = 0;
        digestInto(chunk, chunkOut, at);
        return true;
    }

    /** {@return the 32-byte state digest of the pages fed so far}; resets it. */
    byte[] stateDigest() {
        return state.digest();
    }

    /**
     * {@return the codec chain id both ends give the baseline they adopt after a seeded round}: the first 8 bytes of
     * the verified state digest (never 0). Derived, not sent: each end knows the digest once the round is verified.
     */
    static long chainId(byte[] stateDigest) {
        long id = ByteBuffer.wrap(stateDigest, 0, 8).getLong();
        return id == 0 ? 1 : id;
    }

    /** The bytes a thread reads from a state or a seed at once, unless one page is larger. */
    static final int READ_BYTES = 256 << 10;

    /**
     * {@return how many consecutive pages one read takes}: a chunk of 4 KiB pages ({@value #CHUNK_PAGES}), fewer of larger
     * pages, one page of {@link #READ_BYTES} or more, so that a buffer of reads holds at most {@link #READ_BYTES} or one
     * page (not 64 pages of 2 MiB)
     */
    static int runPages(int pageSize) {
        return Math.max(1, Math.min(CHUNK_PAGES, READ_BYTES / pageSize));
    }

    /** {@return the number of pages of a state} */
    static long pages(long stateBytes, int pageSize) {
        return (stateBytes + pageSize - 1) / pageSize;
    }

    /** {@return the number of chunks of a state of {@code pages} pages} */
    static long chunks(long pages) {
        return (pages + CHUNK_PAGES - 1) / CHUNK_PAGES;
    }

    /**
     * {@return whether every remaining byte of {@code b} is zero} (position unchanged): compared with zeros by {@link
     * ByteBuffer#mismatch}, which the JDK vectorises and which stops at the first non-zero byte
     */
    static boolean isZero(ByteBuffer b) {
        int end = b.limit();
        for (int p = b.position(); p < end; ) {
            int n = Math.min(end - p, ZEROS.capacity());
            if (b.slice(p, n).mismatch(ZEROS.slice(0, n)) != -1) {
                return false;
            }
            p += n;
        }
        return true;
    }
}
