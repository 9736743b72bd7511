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
        int v = h.version();
        switch (h.type()) {
            case SeedWire.TYPE_DESCRIBE -> {
                SeedWire.Describe d = SeedWire.parseDescribe(h, request);
                FileReplicas.Seed seed = replicas instanceof FileReplicas f ? f.seed(key, d.pageSize(), d.stateBytes()) : null;
                if (seed == null) {
                    return SeedWire.chunksNone(v, h.requestId());
                }
                SeedDescription desc = seed.description();
                int chunks = (int) desc.chunks;
                ByteBuffer b = SeedWire.common(v, SeedWire.CHUNKS_FIXED_BYTES + (v >= 2 ? 1 : 0) + chunks * SeedHashes.HASH_BYTES,
                        SeedWire.TYPE_CHUNKS, h.requestId()).put((byte) SeedWire.STATUS_OK);
                if (v >= 2) {
                    b.put((byte) ((d.formats() & 1 << readable) != 0 ? readable : SeedWire.FORMAT_DEFLATE));
                }
                b.putInt(desc.pageSize).putInt(SeedHashes.CHUNK_PAGES)
                        .putLong(desc.stateBytes).put(desc.version).putInt(chunks);
                desc.chunkHashes(0, chunks, b);
                return b.flip();
            }
            case SeedWire.TYPE_PAGES -> {
                SeedWire.IndexRequest r = SeedWire.parsePages(request);
                FileReplicas.Seed seed = null;
                if (replicas instanceof FileReplicas f) {
                    seed = f.seed(key, r.pageSize(), r.stateBytes());
                }
                if (seed == null || !Arrays.equals(seed.description().version, r.seedVersion())) {
                    return SeedWire.common(v, SeedWire.COMMON_BYTES + 1, SeedWire.TYPE_PAGE_HASHES, h.requestId())
                            .put((byte) SeedWire.STATUS_CHANGED).flip();
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
                            b.putLong(full.getLong(p * SeedHashes.HASH_BYTES)); // the first 8 bytes of each hash
                        }
                    }
                }
                return b.flip();
            }
            case SeedWire.TYPE_BLOCKS -> {
                SeedWire.IndexRequest r = SeedWire.parseBlocks(request);
                FileReplicas.Seed seed = replicas instanceof FileReplicas f ? f.seed(key, r.pageSize(), r.stateBytes()) : null;
                if (seed == null || !Arrays.equals(seed.description().version, r.seedVersion())) {
                    return SeedWire.common(v, SeedWire.COMMON_BYTES + 1, SeedWire.TYPE_BLOCK_HASHES, h.requestId())
                            .put((byte) SeedWire.STATUS_CHANGED).flip();
                }
                SeedDescription desc = seed.description();
                int n = r.indexes().length;
                int hashBytes = SeedWire.blockHashBytes(v);
                ByteBuffer b = SeedWire.common(v, SeedWire.COMMON_BYTES + 5 + n * hashBytes * SeedWire.BLOCKS_PER_PAGE,
                        SeedWire.TYPE_BLOCK_HASHES, h.requestId()).put((byte) SeedWire.STATUS_OK).putInt(n);
                SeedHashes hashes = new SeedHashes();
                long[] blocks = new long[SeedWire.BLOCKS_PER_PAGE];
                ByteBuffer page = ByteBuffer.allocate(desc.pageSize);
                try (FileChannel ch = FileChannel.open(seed.file(), StandardOpenOption.READ)) {
                    for (int p : r.indexes()) {
                        if (p >= desc.pages) {
                            throw SeedWire.malformed("BLOCKS request for page " + p + " of a seed of " + desc.pages + " pages");
                        }
                        long off = (long) p * desc.pageSize;
                        page.clear().limit((int) Math.min(desc.pageSize, desc.stateBytes - off));
                        SeedDescription.readFully(ch, page, off);
                        hashes.blockHashes(page.flip(), desc.pageSize, blocks, 0);
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
            default -> throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "a receiver does not take seed messages of type " + h.type());
        }
    }
}
