package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;

import java.nio.ByteBuffer;

/**
 * Byte layouts of replica-seeded rounds; documented in {@code docs/migration-wire-format.md}. Big-endian. The
 * description exchange runs in METADATA transfers beside the baseline control messages (told apart by their magic);
 * the seeded round itself is a MEMORY round transfer whose header has the SEEDED flag and whose frames are the ones
 * below instead of codec frames.
 *
 * <pre>
 * seed message:  magic "DWMS" | u8 version(1 to 3) | u8 type | u16 0 | u64 requestId, then by type:
 *   1 DESCRIBE  (sender)   u32 pageSize | u64 stateBytes [versions 2, 3: | u8 formats (bit f: can write literal format f)]
 *   2 CHUNKS    (receiver) u8 status [version 2, status 0: | u8 format chosen] | u32 pageSize | u32 chunkPages
 *                          | u64 stateBytes | 16 B seedVersion
 *                          | u32 chunkCount | chunkCount x 16 B chunk hash         (status != 0: nothing after status)
 *   3 PAGES     (sender)   u32 pageSize | u64 stateBytes | 16 B seedVersion | u32 count | count x u32 chunk index (strictly ascending)
 *   4 PAGE_HASHES (recv.)  u8 status | u32 count | the page hashes of every chunk asked for, in order (16 B each in
 *                          versions 1 and 2; in version 3 their first 8 B)
 *   5 BLOCKS    (sender)   u32 pageSize | u64 stateBytes | 16 B seedVersion | u32 count | count x u32 page (ascending)
 *   6 BLOCK_HASHES (recv.) u8 status | u32 count | count x 8 block hashes (8 blocks of pageSize/8 bytes per page;
 *                          u64 each in version 1, u32 in version 2)
 * seeded round frames (each u32-length-prefixed like codec frames), in this order:
 *   u8 1 BASE   16 B seedVersion | u64 stateBytes
 *   u8 2 BATCH  u32 opCount | opCount x (u32 page | i32 source) | u32 literalCount | u32 rawBytes | raw DEFLATE bytes
 *               source: -1 literal (the next page of the batch's inflated bytes), -2 zero, n >= 0 copy of page n,
 *               -3 patch (from the inflated bytes: u8 block mask, then those blocks of the page; the rest is the seed's)
 *   u8 3 END    32 B stateDigest | u64 pageCount
 *   u8 4 FBATCH u8 format | then as BATCH, the data in that format (1: one zstd frame) instead of DEFLATE
 * </pre>
 * A reply and every later request of an exchange carry the version of its DESCRIBE; versions 1 and 2 differ in
 * DESCRIBE, CHUNKS and BLOCK_HASHES, versions 2 and 3 only in PAGE_HASHES.
 */
final class SeedWire {
    static final int MAGIC = 0x44574D53; // "DWMS"
    /**
     * The newest version of seed messages: 2 adds the literal formats to DESCRIBE and CHUNKS, 4-byte block hashes; 3
     * sends 8-byte page hashes in PAGE_HASHES; 4 (the same messages) says that the receiver takes COPY ops whose
     * source is a page the round writes (a page that moved), see {@link #movedCopies}; 5 sends 8-byte chunk hashes in
     * CHUNKS and adds SUBBLOCKS / SUBBLOCK_HASHES and FINE_PATCH ops (patches of 64-byte pieces), see {@link
     * #finePatches}; 6 (the same messages) computes block hashes as CRC32C instead of SHA-256, see {@link
     * #crcBlockHashes}; 7 (the same messages) lets a CHUNKS reply say that the round does not write its seed and
     * that the seed's indexes mean nothing, see {@link #FLAG_UNWRITTEN_SEED} and {@link #FLAG_CONTENT_SEED}.
     */
    static final int VERSION = 7;
    /**
     * Flag of a CHUNKS reply of version 7 on, in the common part's reserved field: the round writes a new replica and
     * only reads the seed (an image, another key's replica), so a copy may take any page of the seed without the
     * receiver keeping it in memory: {@link #maxPreservedPages} does not apply.
     */
    static final int FLAG_UNWRITTEN_SEED = 1;
    /**
     * Flag of a CHUNKS reply of version 7 on: the seed's pages at an index say nothing about the state's page there
     * (an image of another size than the state, cut or extended with zeros), so the sender does not judge the round
     * by how many pages differ at their index: what the seed gives is copies found by content.
     */
    static final int FLAG_CONTENT_SEED = 2;
    /** Literal data format 0: raw DEFLATE, which every peer reads. */
    static final int FORMAT_DEFLATE = 0;
    static final int TYPE_DESCRIBE = 1;
    static final int TYPE_CHUNKS = 2;
    static final int TYPE_PAGES = 3;
    static final int TYPE_PAGE_HASHES = 4;
    static final int TYPE_BLOCKS = 5;
    static final int TYPE_BLOCK_HASHES = 6;
    static final int TYPE_SUBBLOCKS = 7;
    static final int TYPE_SUBBLOCK_HASHES = 8;
    /** Sub-blocks per block in SUBBLOCKS requests and FINE_PATCH ops (64 bytes each in a page of 4 KiB). */
    static final int SUBBLOCKS_PER_BLOCK = 8;
    /** Blocks per page in BLOCKS requests and PATCH ops. */
    static final int BLOCKS_PER_PAGE = 8;
    /**
     * {@return the bytes of one block hash in BLOCK_HASHES replies of {@code version}}: 8 in version 1, 4 in version 2
     * (the first bytes of the block's SHA-256). Four are enough because a block hash only decides what is sent: a block
     * wrongly taken as unchanged fails the round's state digest, and the round is then sent in full.
     */
    static int blockHashBytes(int version) {
        return version == 1 ? 8 : 4;
    }

    /**
     * {@return whether the block hashes of {@code version} are CRC32C of each block} (version 6 on; before, the first
     * bytes of its SHA-256), as the sub-block hashes are. Like a 4-byte truncation of SHA-256, which anyone can match
     * by trying, a block hash only decides what is sent: a block wrongly taken as unchanged fails the round's state
     * digest (SHA-256 of the full page hashes, computed by each end from the bytes), and the round is sent in full.
     * CRC32C is a JDK intrinsic, about ten times cheaper than SHA-256 of 512-byte blocks on both ends.
     */
    static boolean crcBlockHashes(int version) {
        return version >= 6;
    }

    /**
     * {@return the bytes of one page hash in PAGE_HASHES replies of {@code version}}: 16 in versions 1 and 2, 8 in
     * versions 3 and 4 (the first 8 of the page hash), 4 from version 5 on (the first 4; in version 5 they only tell
     * which pages are unchanged at their index, pages that moved are found by the receiver's lookup, see {@link
     * #blocksLookup}). As with block hashes, a page wrongly taken as unchanged fails the round's state digest
     * (computed from the full hashes), and the round is then sent in full.
     */
    static int pageHashBytes(int version) {
        return version >= 5 ? 4 : version >= 3 ? 8 : SeedHashes.HASH_BYTES;
    }

    /**
     * {@return whether a seeded round planned with messages of {@code version} may copy from pages the round writes}
     * (version 4 on): the copy then gets the seed's page as it was before the round. A receiver keeps the sources that
     * lie before their copy (it writes in page order) in memory until the copy is written: at most {@link
     * #maxPreservedPages} of them.
     */
    static boolean movedCopies(int version) {
        return version >= 4;
    }

    /**
     * {@return whether the sender finds pages that moved from the PAGE_HASHES replies itself} (version 4; from version 5
     * on the receiver finds them for any page, see {@link #blocksLookup}, and page hashes are too short to match)
     */
    static boolean movedFromPageHashes(int version) {
        return version == 4;
    }

    /** {@return the most copies of a round whose source is a page the round writes before the copy: 16 MiB of pages} */
    static int maxPreservedPages(int pageSize) {
        return Math.max(1, (16 << 20) / pageSize);
    }

    /**
     * {@return the bytes of one chunk hash in CHUNKS replies of {@code version}}: 16 up to version 4, 4 (the first 4 of
     * the chunk hash) from version 5 on. A chunk wrongly taken as unchanged fails the round's state digest (computed
     * from the full page hashes), and the round is then sent in full: a cost, never a wrong replica.
     */
    static int chunkHashBytes(int version) {
        return version >= 5 ? 4 : SeedHashes.HASH_BYTES;
    }

    /**
     * {@return whether a seeded round planned with messages of {@code version} may send FINE_PATCH ops} (version 5 on):
     * after BLOCK_HASHES, the sender asks the hashes of the 64-byte sub-blocks of the blocks a patch would carry
     * (SUBBLOCKS) and sends only the sub-blocks that differ.
     */
    static boolean finePatches(int version) {
        return version >= 5;
    }

    /**
     * {@return whether BLOCKS requests of {@code version} carry the sender's page hashes} (version 5 on: u32 page, then
     * the first 8 bytes of the sender's page hash) so that the receiver answers a page whose content it holds at
     * another index with that index instead of block hashes (a page that moved, wherever it moved from).
     */
    static boolean blocksLookup(int version) {
        return version >= 5;
    }

    /** A BLOCKS request of version 5 on for {@code pages[from, from + count)}, each with its hash's first 8 bytes. */
    static ByteBuffer blocksRequest(int version, long requestId, int pageSize, long stateBytes, byte[] seedVersion,
                                    int[] pages, long[] pageHashes, int from, int count) {
        ByteBuffer b = common(version, COMMON_BYTES + 12 + 16 + 4 + 12 * count, TYPE_BLOCKS, requestId).putInt(pageSize)
                .putLong(stateBytes).put(seedVersion).putInt(count);
        for (int i = from; i < from + count; i++) {
            b.putInt(pages[i]).putLong(pageHashes[2 * pages[i]]);
        }
        return b.flip();
    }

    /** A BLOCKS request of version 5 on: page indexes (ascending) and the first 8 bytes of the sender's page hashes. */
    record BlocksRequest(int pageSize, long stateBytes, byte[] seedVersion, int[] pages, long[] hashes) {
    }

    static BlocksRequest parseBlocksLookup(ByteBuffer b) {
        String what = "BLOCKS request";
        RequestHead head = requestHead(b, MAX_PAGES_PER_LOOKUP_REQUEST, 12, what);
        int count = head.count();
        int[] pages = new int[count];
        long[] hashes = new long[count];
        for (int i = 0; i < count; i++) {
            pages[i] = b.getInt();
            hashes[i] = b.getLong();
            if (pages[i] < 0 || (i > 0 && pages[i] <= pages[i - 1])) {
                throw malformed(what + " pages are not strictly ascending");
            }
        }
        return new BlocksRequest(head.pageSize(), head.stateBytes(), head.seedVersion(), pages, hashes);
    }

    /** The fields every request after DESCRIBE starts with, and its entry count. */
    private record RequestHead(int pageSize, long stateBytes, byte[] seedVersion, int count) {
    }

    /**
     * Reads a request's common fields and count (1 to {@code maxCount}), and checks that exactly {@code entryBytes}
     * bytes per entry follow.
     */
    private static RequestHead requestHead(ByteBuffer b, int maxCount, int entryBytes, String what) {
        if (b.remaining() < 32) {
            throw malformed(what + " of " + b.remaining() + " bytes");
        }
        int pageSize = b.getInt();
        long stateBytes = b.getLong();
        checkShape(pageSize, stateBytes);
        byte[] version = new byte[16];
        b.get(version);
        int count = b.getInt();
        if (count <= 0 || count > maxCount) {
            throw new DwcpException(ErrorCode.LIMIT_EXCEEDED, what + " for " + count + " indexes (1 to " + maxCount + ")");
        }
        exact(b, (long) entryBytes * count, what);
        return new RequestHead(pageSize, stateBytes, version, count);
    }

    /** Most pages one BLOCKS request may ask for (512 KiB of block hashes in the reply). */
    static final int MAX_PAGES_PER_BLOCK_REQUEST = 8192;
    /** Most pages one BLOCKS request of version 5 on may ask for (12 bytes each: within {@link #MAX_REQUEST_BYTES}). */
    static final int MAX_PAGES_PER_LOOKUP_REQUEST = 2048;
    /** Most pages one SUBBLOCKS request may ask for (5 bytes each: within {@link #MAX_REQUEST_BYTES}). */
    static final int MAX_PAGES_PER_SUBBLOCK_REQUEST = 4096;
    /** The largest seed request a receiver takes: a PAGES request for the most chunks, a BLOCKS request of version 4. */
    static final int MAX_REQUEST_BYTES = SeedWire.COMMON_BYTES + 32
            + 4 * Math.max(SeedWire.MAX_CHUNKS_PER_REQUEST, MAX_PAGES_PER_BLOCK_REQUEST);

    /** {@return the most pages one BLOCKS request of {@code version} may ask for} */
    static int maxPagesPerBlockRequest(int version) {
        return blocksLookup(version) ? MAX_PAGES_PER_LOOKUP_REQUEST : MAX_PAGES_PER_BLOCK_REQUEST;
    }
    static final int STATUS_OK = 0;
    /** The receiver holds no seed of that key, or one of another page size or length. */
    static final int STATUS_NONE = 1;
    /** The seed changed since the chunk hashes were sent. */
    static final int STATUS_CHANGED = 2;
    static final int COMMON_BYTES = 16;
    static final int DESCRIBE_BYTES = COMMON_BYTES + 12;
    static final int CHUNKS_FIXED_BYTES = COMMON_BYTES + 1 + 4 + 4 + 8 + 16 + 4;
    /** Most chunks a description may have (16 MiB of chunk hashes: 256 GiB of 4 KiB pages). */
    static final int MAX_CHUNKS = 1 << 20;
    /** Most chunks one PAGES request may ask for (1 MiB of page hashes at most in the reply). */
    static final int MAX_CHUNKS_PER_REQUEST = 1024;
    /** The largest seed message either end accepts. */
    static final int MAX_MESSAGE_BYTES = CHUNKS_FIXED_BYTES + 1 + MAX_CHUNKS * SeedHashes.HASH_BYTES;

    static final int FRAME_BASE = 1;
    static final int FRAME_BATCH = 2;
    static final int FRAME_END = 3;
    /** A BATCH whose data is in the format named by its second byte (not DEFLATE). */
    static final int FRAME_FORMAT_BATCH = 4;
    static final int SOURCE_LITERAL = -1;
    static final int SOURCE_ZERO = -2;
    /** The seed's page at the same index with some of its blocks replaced (a u8 mask, then those blocks). */
    static final int SOURCE_PATCH = -3;
    /**
     * The seed's page at the same index with some of its sub-blocks replaced: a u8 block mask, for each block in it a
     * u8 sub-block mask (bit j: sub-block j of the block follows), then those sub-blocks in page order.
     */
    static final int SOURCE_FINE_PATCH = -4;
    /** Most ops in one batch. */
    static final int MAX_BATCH_OPS = 4096;
    /**
     * Most literal and patched pages a sender puts in one batch (4 MiB of 4 KiB pages; receivers bound a batch by its
     * raw bytes only): batches of 4 MiB compress 0.6 % smaller than batches of 1 MiB on the 4 GiB corpus (zstd level 3
     * finds more of the pages' repeats within one batch).
     */
    static final int MAX_BATCH_LITERALS = 1024;

    private SeedWire() {
    }

    static ByteBuffer common(int version, int capacity, int type, long requestId) {
        return ByteBuffer.allocate(capacity).putInt(MAGIC).put((byte) version).put((byte) type).putShort((short) 0).putLong(requestId);
    }

    /**
     * A DESCRIBE request; {@code formats} (bit f: the sender can write literal format f) makes it version 2, 0 makes
     * it version 1 (DEFLATE only, as from a sender before formats).
     */
    static ByteBuffer describe(long requestId, int pageSize, long stateBytes, int formats) {
        return describe(formats == 0 ? 1 : 2, requestId, pageSize, stateBytes, formats);
    }

    /**
     * A DESCRIBE request of {@code version}: 1 carries no formats; 2 and 3 carry {@code formats} (bit 0, DEFLATE,
     * always set).
     */
    static ByteBuffer describe(int version, long requestId, int pageSize, long stateBytes, int formats) {
        if (version == 1) {
            return common(1, DESCRIBE_BYTES, TYPE_DESCRIBE, requestId).putInt(pageSize).putLong(stateBytes).flip();
        }
        return common(version, DESCRIBE_BYTES + 1, TYPE_DESCRIBE, requestId).putInt(pageSize).putLong(stateBytes)
                .put((byte) (formats | 1 << FORMAT_DEFLATE)).flip();
    }

    static ByteBuffer chunksNone(int version, long requestId) {
        return common(version, COMMON_BYTES + 1, TYPE_CHUNKS, requestId).put((byte) STATUS_NONE).flip();
    }

    /** A PAGES request (chunk indexes) or a BLOCKS request (page indexes) for {@code indexes[from, from + count)}. */
    static ByteBuffer indexRequest(int version, int type, long requestId, int pageSize, long stateBytes, byte[] seedVersion,
                                   int[] indexes, int from, int count) {
        ByteBuffer b = common(version, COMMON_BYTES + 12 + 16 + 4 + 4 * count, type, requestId).putInt(pageSize).putLong(stateBytes)
                .put(seedVersion).putInt(count);
        for (int i = from; i < from + count; i++) {
            b.putInt(indexes[i]);
        }
        return b.flip();
    }

    /**
     * A SUBBLOCKS request for {@code count} pages from {@code from}: each page index (strictly ascending) with the mask of
     * its blocks whose sub-block hashes are asked (not 0).
     */
    static ByteBuffer subBlocksRequest(int version, long requestId, int pageSize, long stateBytes, byte[] seedVersion,
                                       int[] pages, byte[] blockMasks, int from, int count) {
        ByteBuffer b = common(version, COMMON_BYTES + 12 + 16 + 4 + 5 * count, TYPE_SUBBLOCKS, requestId).putInt(pageSize)
                .putLong(stateBytes).put(seedVersion).putInt(count);
        for (int i = from; i < from + count; i++) {
            b.putInt(pages[i]).put(blockMasks[i]);
        }
        return b.flip();
    }

    /** A SUBBLOCKS request: pages (ascending) and, per page, the mask of the blocks asked. */
    record SubBlocksRequest(int pageSize, long stateBytes, byte[] seedVersion, int[] pages, byte[] blockMasks) {
        /** {@return the sub-block hashes its reply carries} */
        long hashes() {
            long n = 0;
            for (byte m : blockMasks) {
                n += Integer.bitCount(m & 0xff);
            }
            return n * SUBBLOCKS_PER_BLOCK;
        }
    }

    static SubBlocksRequest parseSubBlocks(ByteBuffer b) {
        String what = "SUBBLOCKS request";
        RequestHead head = requestHead(b, MAX_PAGES_PER_SUBBLOCK_REQUEST, 5, what);
        int count = head.count();
        int[] pages = new int[count];
        byte[] masks = new byte[count];
        for (int i = 0; i < count; i++) {
            pages[i] = b.getInt();
            masks[i] = b.get();
            if (pages[i] < 0 || (i > 0 && pages[i] <= pages[i - 1])) {
                throw malformed(what + " pages are not strictly ascending");
            }
            if (masks[i] == 0) {
                throw malformed(what + " asks no block of page " + pages[i]);
            }
        }
        return new SubBlocksRequest(head.pageSize(), head.stateBytes(), head.seedVersion(), pages, masks);
    }

    /** The common part of a seed message; {@code flags}: the reserved field (only a CHUNKS reply of version 7 sets it). */
    record Header(int version, int type, long requestId, int flags) {
        /** {@return whether a CHUNKS reply says the round only reads its seed} ({@link #FLAG_UNWRITTEN_SEED}) */
        boolean unwrittenSeed() {
            return (flags & FLAG_UNWRITTEN_SEED) != 0;
        }

        /** {@return whether a CHUNKS reply says the seed's indexes mean nothing} ({@link #FLAG_CONTENT_SEED}) */
        boolean contentSeed() {
            return (flags & FLAG_CONTENT_SEED) != 0;
        }
    }

    /** {@return whether a CHUNKS reply of {@code version} may carry {@link #FLAG_UNWRITTEN_SEED}} (version 7 on) */
    static boolean unwrittenSeedFlag(int version) {
        return version >= 7;
    }

    /** Reads and checks the common part; {@code b} is then at the type's fields. */
    static Header header(ByteBuffer b) {
        if (b.remaining() < COMMON_BYTES) {
            throw malformed("seed message of " + b.remaining() + " bytes");
        }
        int magic = b.getInt();
        int version = b.get() & 0xff;
        int type = b.get() & 0xff;
        int reserved = b.getShort() & 0xffff;
        int allowed = type == TYPE_CHUNKS && unwrittenSeedFlag(version) ? FLAG_UNWRITTEN_SEED | FLAG_CONTENT_SEED : 0;
        if (magic != MAGIC || version < 1 || version > VERSION || (reserved & ~allowed) != 0 || type < TYPE_DESCRIBE || type > TYPE_SUBBLOCK_HASHES) {
            throw malformed("seed message with magic 0x" + Integer.toHexString(magic) + ", version " + version + ", type " + type
                    + " (this end speaks versions 1 to " + VERSION + ")");
        }
        return new Header(version, type, b.getLong(), reserved);
    }

    /** A DESCRIBE request; {@code formats} has bit f set when the sender can write literal format f (bit 0 always). */
    record Describe(int pageSize, long stateBytes, int formats) {
    }

    static Describe parseDescribe(Header h, ByteBuffer b) {
        exact(b, h.version() == 1 ? 12 : 13, "DESCRIBE version " + h.version());
        int pageSize = b.getInt();
        long stateBytes = b.getLong();
        checkShape(pageSize, stateBytes);
        int formats = h.version() == 1 ? 1 << FORMAT_DEFLATE : b.get() & 0xff;
        if ((formats & 1 << FORMAT_DEFLATE) == 0) {
            throw malformed("DESCRIBE offers literal formats 0x" + Integer.toHexString(formats) + " without DEFLATE (bit 0)");
        }
        return new Describe(pageSize, stateBytes, formats);
    }

    static void checkShape(int pageSize, long stateBytes) {
        if (pageSize < 512 || pageSize > (2 << 20) || Integer.bitCount(pageSize) != 1 || stateBytes <= 0) {
            throw malformed("seed of page size " + pageSize + " and " + stateBytes + " bytes");
        }
        if (SeedHashes.chunks(SeedHashes.pages(stateBytes, pageSize)) > MAX_CHUNKS) {
            throw new DwcpException(ErrorCode.LIMIT_EXCEEDED, "a seed of " + stateBytes + " bytes in pages of " + pageSize
                    + " would need more than " + MAX_CHUNKS + " chunk hashes");
        }
    }

    /**
     * A PAGES request (chunk indexes) or a BLOCKS request (page indexes); the indexes are validated against the seed by
     * the caller.
     */
    record IndexRequest(int pageSize, long stateBytes, byte[] seedVersion, int[] indexes) {
    }

    static IndexRequest parsePages(ByteBuffer b) {
        return parseIndexRequest(b, MAX_CHUNKS_PER_REQUEST, "PAGES request");
    }

    static IndexRequest parseBlocks(ByteBuffer b) {
        return parseIndexRequest(b, MAX_PAGES_PER_BLOCK_REQUEST, "BLOCKS request");
    }

    private static IndexRequest parseIndexRequest(ByteBuffer b, int maxCount, String what) {
        RequestHead head = requestHead(b, maxCount, 4, what);
        int count = head.count();
        int[] indexes = new int[count];
        for (int i = 0; i < count; i++) {
            indexes[i] = b.getInt();
            if (indexes[i] < 0 || (i > 0 && indexes[i] <= indexes[i - 1])) {
                throw malformed(what + " indexes are not strictly ascending");
            }
        }
        return new IndexRequest(head.pageSize(), head.stateBytes(), head.seedVersion(), indexes);
    }

    /**
     * A CHUNKS reply: the receiver's seed, or {@code status != OK}. {@code hashes} holds 2 longs per chunk (with 4-byte
     * chunk hashes, version 5 on, those bytes in the high half of the first, the rest 0).
     */
    record Chunks(int status, int format, int pageSize, long stateBytes, byte[] seedVersion, long[] hashes) {
        int chunkCount() {
            return hashes.length / 2;
        }
    }

    /**
     * Parses a CHUNKS reply (of {@code version}) to a DESCRIBE of {@code pageSize}, {@code stateBytes} and
     * {@code formats}: a description of another shape, count or length, or a format not offered, is refused
     * ({@code PROTOCOL_ERROR}; {@code LIMIT_EXCEEDED} over {@link #MAX_CHUNKS}).
     */
    static Chunks parseChunks(int version, ByteBuffer b, int pageSize, long stateBytes, int formats) {
        if (b.remaining() < 1) {
            throw malformed("empty CHUNKS reply");
        }
        int status = b.get() & 0xff;
        if (status == STATUS_NONE) {
            exact(b, 0, "CHUNKS reply without a seed");
            return new Chunks(status, FORMAT_DEFLATE, 0, 0, null, null);
        }
        if (status != STATUS_OK) {
            throw malformed("CHUNKS reply status " + status);
        }
        int format = FORMAT_DEFLATE;
        if (version >= 2) {
            if (!b.hasRemaining()) {
                throw malformed("CHUNKS reply without its format");
            }
            format = b.get() & 0xff;
            if (format > 7 || (formats & 1 << format) == 0) {
                throw malformed("CHUNKS reply chose literal format " + format + ", not one of those offered (0x"
                        + Integer.toHexString(formats) + ")");
            }
        }
        if (b.remaining() < CHUNKS_FIXED_BYTES - COMMON_BYTES - 1) {
            throw malformed("CHUNKS reply of " + b.remaining() + " bytes");
        }
        int ps = b.getInt();
        int cp = b.getInt();
        long sb = b.getLong();
        byte[] seedVersion = new byte[16];
        b.get(seedVersion);
        int count = b.getInt();
        if (count < 0 || count > MAX_CHUNKS) {
            throw new DwcpException(ErrorCode.LIMIT_EXCEEDED, "the receiver's description announces " + (count & 0xffffffffL)
                    + " chunks (at most " + MAX_CHUNKS + ")");
        }
        long expected = SeedHashes.chunks(SeedHashes.pages(stateBytes, pageSize));
        if (ps != pageSize || cp != SeedHashes.CHUNK_PAGES || sb != stateBytes || count != expected) {
            throw malformed("the receiver described a seed of page size " + ps + ", " + cp + " pages per chunk, "
                    + sb + " bytes and " + count + " chunks; asked for page size " + pageSize + " and " + stateBytes + " bytes");
        }
        long[] hashes = new long[2 * count];
        if (chunkHashBytes(version) == SeedHashes.HASH_BYTES) {
            exact(b, (long) count * SeedHashes.HASH_BYTES, "CHUNKS reply");
            b.asLongBuffer().get(hashes);
        } else {
            // The first 4 bytes of each chunk hash, in the high half of the first long; the rest stays 0 (compared by
            // those 4 bytes only).
            exact(b, (long) count * 4, "CHUNKS reply");
            for (int c = 0; c < count; c++) {
                hashes[2 * c] = (long) b.getInt(b.position() + 4 * c) << 32;
            }
        }
        b.position(b.limit());
        return new Chunks(status, format, ps, sb, seedVersion, hashes);
    }

    private static void exact(ByteBuffer b, long expected, String what) {
        if (b.remaining() != expected) {
            throw malformed(what + " has " + b.remaining() + " bytes after its header, expected " + expected);
        }
    }

    static DwcpException malformed(String what) {
        return new DwcpException(ErrorCode.PROTOCOL_ERROR, "malformed seed exchange: " + what);
    }
}
