package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * The receiver's answers to seed messages ({@link SeedWire}): the description of the seed it holds for a key, chunk
 * hashes first, page hashes of the chunks the sender asks for. Answers are read from the cached description; a
 * receiver whose replicas are not {@link FileReplicas} has no seeds and says so.
 */
final class SeedService {
    private SeedService() {
    }

    /**
     * Answers one seed request ({@code request} positioned at its start) in the request's version.
     *
     * @param readable the literal format, besides DEFLATE, this receiver reads ({@code SeedWire.FORMAT_DEFLATE}: none)
     */
    static ByteBuffer answer(ReplicaFactory replicas, String key, ByteBuffer request, int readable) throws IOException {
        SeedWire.Header h = SeedWire.header(request);
        return switch (h.type()) {
            case SeedWire.TYPE_DESCRIBE -> describe(replicas, key, h, request, readable);
            case SeedWire.TYPE_PAGES -> pageHashes(replicas, key, h, request);
            case SeedWire.TYPE_BLOCKS -> blockHashes(replicas, key, h, request);
            case SeedWire.TYPE_SUBBLOCKS -> subBlockHashes(replicas, key, h, request);
            default -> throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "a receiver does not take seed messages of type " + h.type());
        };
    }

    /**
     * The DESCRIBE answer: the seed's chunk hashes, or that there is none. (One method per message type: each is
     * compiled on its own, not one large method recompiled as each type's path gets hot.)
     */
    private static ByteBuffer describe(ReplicaFactory replicas, String key, SeedWire.Header h, ByteBuffer request,
                                       int readable) throws IOException {
        int v = h.version();
        SeedWire.Describe d = SeedWire.parseDescribe(h, request);
        FileReplicas.Seed seed = SeedSources.seed(replicas, key, d.pageSize(), d.stateBytes());
        if (seed == null) {
            return SeedWire.chunksNone(v, h.requestId());
        }
        SeedDescription desc = seed.description();
        int chunks = (int) desc.chunks;
        int hashBytes = SeedWire.chunkHashBytes(v);
        ByteBuffer b = SeedWire.common(v, SeedWire.CHUNKS_FIXED_BYTES + (v >= 2 ? 1 : 0) + chunks * hashBytes,
                SeedWire.TYPE_CHUNKS, h.requestId()).put((byte) SeedWire.STATUS_OK);
        if (SeedWire.unwrittenSeedFlag(v) && !seed.inPlace()) {
            // The round writes a new replica and only reads this seed: copies need no preserving. An image of
            // another size than the state: its indexes mean nothing, its pages are found by content.
            boolean sized = desc.stateBytes != desc.stamp.size();
            b.putShort(6, (short) (SeedWire.FLAG_UNWRITTEN_SEED | (sized ? SeedWire.FLAG_CONTENT_SEED : 0)));
        }
        if (v >= 2) {
            b.put((byte) ((d.formats() & 1 << readable) != 0 ? readable : SeedWire.FORMAT_DEFLATE));
        }
        b.putInt(desc.pageSize).putInt(SeedHashes.CHUNK_PAGES)
                .putLong(desc.stateBytes).put(desc.version).putInt(chunks);
        if (hashBytes == SeedHashes.HASH_BYTES) {
            desc.chunkHashes(0, chunks, b);
        } else {
            // The first 4 bytes of each: read the 16-byte hashes in pieces of 4096 chunks.
            ByteBuffer full = ByteBuffer.allocate(4096 * SeedHashes.HASH_BYTES);
            for (int from = 0; from < chunks; from += 4096) {
                int n = Math.min(4096, chunks - from);
                desc.chunkHashes(from, n, full.clear());
                for (int c = 0; c < n; c++) {
                    b.putInt(full.getInt(c * SeedHashes.HASH_BYTES));
                }
            }
        }
        return b.flip();
    }

    /** {@return the key's seed when it is still the version {@code seedVersion} the sender planned with; else null} */
    private static FileReplicas.Seed current(ReplicaFactory replicas, String key, int pageSize, long stateBytes,
                                             byte[] seedVersion) throws IOException {
        FileReplicas.Seed seed = SeedSources.seed(replicas, key, pageSize, stateBytes);
        return seed != null && Arrays.equals(seed.description().version, seedVersion) ? seed : null;
    }

    /** {@return the answer of {@code type} saying the seed changed since the sender's description} */
    private static ByteBuffer changed(int version, int type, SeedWire.Header h) {
        return SeedWire.common(version, SeedWire.COMMON_BYTES + 1, type, h.requestId())
                .put((byte) SeedWire.STATUS_CHANGED).flip();
    }

    /** The PAGES answer: page hashes of the chunks asked for. */
    private static ByteBuffer pageHashes(ReplicaFactory replicas, String key, SeedWire.Header h, ByteBuffer request)
            throws IOException {
        int v = h.version();
        SeedWire.IndexRequest r = SeedWire.parsePages(request);
        FileReplicas.Seed seed = current(replicas, key, r.pageSize(), r.stateBytes(), r.seedVersion());
        if (seed == null) {
            return changed(v, SeedWire.TYPE_PAGE_HASHES, h);
        }
        SeedDescription desc = seed.description();
        long pages = 0;
        for (int c : r.indexes()) {
            if (c >= desc.chunks) {
                throw SeedWire.malformed("PAGES request for chunk " + c + " of a seed of " + desc.chunks + " chunks");
            }
            pages += Math.min(SeedHashes.CHUNK_PAGES, desc.pages - (long) c * SeedHashes.CHUNK_PAGES);
        }
        int hashBytes = SeedWire.pageHashBytes(v);
        ByteBuffer b = SeedWire.common(v, (int) (SeedWire.COMMON_BYTES + 5 + pages * hashBytes),
                SeedWire.TYPE_PAGE_HASHES, h.requestId()).put((byte) SeedWire.STATUS_OK).putInt(r.indexes().length);
        ByteBuffer full = hashBytes == SeedHashes.HASH_BYTES ? null
                : ByteBuffer.allocate(SeedHashes.CHUNK_PAGES * SeedHashes.HASH_BYTES);
        try (FileChannel ch = FileChannel.open(desc.sidecar, StandardOpenOption.READ)) {
            for (int c : r.indexes()) {
                if (full == null) {
                    desc.pageHashes(ch, c, b);
                    continue;
                }
                int n = desc.pageHashes(ch, c, full.clear());
                for (int p = 0; p < n; p++) {
                    if (hashBytes == 8) {
                        b.putLong(full.getLong(p * SeedHashes.HASH_BYTES)); // the first 8 bytes of each hash
                    } else {
                        b.putInt(full.getInt(p * SeedHashes.HASH_BYTES)); // the first 4
                    }
                }
            }
        }
        return b.flip();
    }

    /**
     * The BLOCKS answer: block hashes of the seed's pages asked for (with a lookup: a copy's source where the seed holds
     * the page's content at another index).
     */
    private static ByteBuffer blockHashes(ReplicaFactory replicas, String key, SeedWire.Header h, ByteBuffer request)
            throws IOException {
        int v = h.version();
        boolean lookup = SeedWire.blocksLookup(v);
        int pageSize;
        long stateBytes;
        byte[] seedVersion;
        int[] pages;
        long[] pageHashes = null;
        if (lookup) {
            SeedWire.BlocksRequest r = SeedWire.parseBlocksLookup(request);
            pageSize = r.pageSize();
            stateBytes = r.stateBytes();
            seedVersion = r.seedVersion();
            pages = r.pages();
            pageHashes = r.hashes();
        } else {
            SeedWire.IndexRequest r = SeedWire.parseBlocks(request);
            pageSize = r.pageSize();
            stateBytes = r.stateBytes();
            seedVersion = r.seedVersion();
            pages = r.indexes();
        }
        FileReplicas.Seed seed = current(replicas, key, pageSize, stateBytes, seedVersion);
        if (seed == null) {
            return changed(v, SeedWire.TYPE_BLOCK_HASHES, h);
        }
        SeedDescription desc = seed.description();
        SeedPageIndex index = lookup ? SeedSources.files(replicas).pageIndex(desc) : null;
        int n = pages.length;
        int hashBytes = SeedWire.blockHashBytes(v);
        ByteBuffer b = SeedWire.common(v, SeedWire.COMMON_BYTES + 5 + n * ((lookup ? 1 : 0) + hashBytes * SeedWire.BLOCKS_PER_PAGE),
                SeedWire.TYPE_BLOCK_HASHES, h.requestId()).put((byte) SeedWire.STATUS_OK).putInt(n);
        SeedHashes hashes = new SeedHashes();
        long[] blocks = new long[SeedWire.BLOCKS_PER_PAGE];
        ByteBuffer page = ByteBuffer.allocateDirect(desc.pageSize); // read into directly, no bounce copy
        try (FileChannel ch = FileChannel.open(seed.file(), StandardOpenOption.READ)) {
            for (int k = 0; k < n; k++) {
                int p = pages[k];
                if (p >= desc.pages) {
                    throw SeedWire.malformed("BLOCKS request for page " + p + " of a seed of " + desc.pages + " pages");
                }
                long off = (long) p * desc.pageSize;
                int len = (int) Math.min(desc.pageSize, desc.stateBytes - off);
                if (lookup) {
                    // The sender's content held at another index of the seed (of the same length): a copy.
                    int at = index.get(pageHashes[k]);
                    if (at >= 0 && at != p && Math.min(desc.pageSize, desc.stateBytes - (long) at * desc.pageSize) == len) {
                        b.put((byte) 1).putInt(at);
                        continue;
                    }
                    b.put((byte) 0);
                }
                page.clear().limit(len);
                SeedDescription.readSeed(ch, page, off);
                hashes.blockHashes(page.flip(), desc.pageSize, blocks, 0, SeedWire.crcBlockHashes(v));
                for (long blockHash : blocks) {
                    if (hashBytes == 8) {
                        b.putLong(blockHash);
                    } else {
                        b.putInt((int) (blockHash >>> 32));
                    }
                }
            }
        }
        return b.flip();
    }

    /** The SUBBLOCKS answer: sub-block hashes of the seed's pages and blocks asked for. */
    private static ByteBuffer subBlockHashes(ReplicaFactory replicas, String key, SeedWire.Header h, ByteBuffer request)
            throws IOException {
        int v = h.version();
        if (!SeedWire.finePatches(v)) {
            throw SeedWire.malformed("SUBBLOCKS request in version " + v + " (from version 5 on)");
        }
        SeedWire.SubBlocksRequest r = SeedWire.parseSubBlocks(request);
        FileReplicas.Seed seed = current(replicas, key, r.pageSize(), r.stateBytes(), r.seedVersion());
        if (seed == null) {
            return changed(v, SeedWire.TYPE_SUBBLOCK_HASHES, h);
        }
        SeedDescription desc = seed.description();
        long hashes = r.hashes();
        ByteBuffer b = SeedWire.common(v, (int) (SeedWire.COMMON_BYTES + 5 + 4 * hashes), SeedWire.TYPE_SUBBLOCK_HASHES,
                h.requestId()).put((byte) SeedWire.STATUS_OK).putInt(r.pages().length);
        int[] out = new int[SeedWire.BLOCKS_PER_PAGE * SeedWire.SUBBLOCKS_PER_BLOCK];
        ByteBuffer page = ByteBuffer.allocateDirect(desc.pageSize); // read into directly, no bounce copy
        try (FileChannel ch = FileChannel.open(seed.file(), StandardOpenOption.READ)) {
            for (int k = 0; k < r.pages().length; k++) {
                int p = r.pages()[k];
                if (p >= desc.pages) {
                    throw SeedWire.malformed("SUBBLOCKS request for page " + p + " of a seed of " + desc.pages + " pages");
                }
                long off = (long) p * desc.pageSize;
                page.clear().limit((int) Math.min(desc.pageSize, desc.stateBytes - off));
                SeedDescription.readSeed(ch, page, off);
                int n = SeedHashes.subBlockHashes(page.flip(), desc.pageSize, r.blockMasks()[k] & 0xff, out);
                for (int i = 0; i < n; i++) {
                    b.putInt(out[i]);
                }
            }
        }
        return b.flip();
    }
}
