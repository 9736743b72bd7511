package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.spi.BlockCompressor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.List;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * The pages of a seeded round's result (see {@link SeedDecoder}), asked for in ascending order: the seed's page, or what the batch says (a
 * literal, zeros, a copy of another seed page). Reads the seed in blocks; inflates one batch at a time.
 */
final class SeedPages implements AutoCloseable {
    private final String key;
    private final int pageSize;
    private final long stateBytes;
    /** Reads literal data in its format besides DEFLATE; null: DEFLATE only. */
    private final BlockCompressor compressor;
    private final FileChannel in;
    /** The batches whose pages are asked for (all of the round's, or one). */
    private final List<SeedBatch> batches;
    /** The seed's pages {@link #block} holds at most ({@link SeedHashes#runPages}). */
    private final int runPages;
    private final ByteBuffer block;
    private final ByteBuffer copy;
    private final ByteBuffer zero;
    /** The buffers above, the inflated batch and a spilled batch's compressed bytes: reused by every SeedPages of it. */
    private final Scratch scratch;
    private final Inflater inflater = new Inflater(true);
    private long blockFirst = -1;
    /** The seed's pages as they were, for copies whose source was written already; null: read them from the seed. */
    private Preserved preserved;
    /** The seed mapped read only, read instead of {@link #in} when set (by its owner, who keeps it open meanwhile). */
    private SeedFile mapped;
    private int batch;
    private int op;
    private ByteBuffer raw;
    private int rawPosition;

    /**
     * @param key the round's key, for messages
     * @param in the seed file, read only
     * @param batches the round's batches whose pages are asked for, in page order
     */
    SeedPages(String key, int pageSize, long stateBytes, BlockCompressor compressor, FileChannel in, List<SeedBatch> batches) {
        this(key, pageSize, stateBytes, compressor, in, batches, new Scratch(pageSize));
    }

    /**
     * As above, with the buffers of {@code scratch} (of the same page size), which a thread that reads one round's
     * pages many times (a batch at a time) reuses instead of making new ones each time: a batch's inflated data is up
     * to 16 MiB, and fresh arrays of that size each time made the receiver's heap grow.
     */
    SeedPages(String key, int pageSize, long stateBytes, BlockCompressor compressor, FileChannel in, List<SeedBatch> batches,
              Scratch scratch) {
        if (scratch.pageSize != pageSize) {
            throw new IllegalArgumentException("a scratch of pages of " + scratch.pageSize + " bytes for pages of " + pageSize);
        }
        this.scratch = scratch;
        this.key = key;
        this.pageSize = pageSize;
        this.stateBytes = stateBytes;
        this.compressor = compressor;
        this.in = in;
        this.batches = batches;
        this.runPages = SeedHashes.runPages(pageSize);
        this.block = scratch.block;
        this.copy = scratch.copy;
        this.zero = scratch.zero;
        this.raw = scratch.raw;
    }

    /**
     * Buffers a {@link SeedPages} reads with, for one thread to reuse over several of them (one at a time): the seed's
     * pages in blocks, a copied page, a zero page (direct), a batch's inflated data and a spilled batch's compressed
     * bytes (heap, grown to the largest batch seen). Not thread-safe.
     */
    static final class Scratch {
        private final int pageSize;
        private final ByteBuffer block;
        private final ByteBuffer copy;
        private final ByteBuffer zero;
        private ByteBuffer raw;
        private byte[] spilled = new byte[0];

        Scratch(int pageSize) {
            this.pageSize = pageSize;
            this.block = ByteBuffer.allocateDirect(pageSize * SeedHashes.runPages(pageSize));
            this.copy = ByteBuffer.allocateDirect(pageSize);
            this.zero = ByteBuffer.allocateDirect(pageSize);
        }
    }

    /**
     * The seed's bytes are read from {@code f} (the same file as {@link #in}, mapped): one memory copy a page, no
     * system call. The caller keeps {@code f} open while this object is used.
     */
    void mapped(SeedFile f) {
        this.mapped = f;
    }

    /** Reads the seed's bytes at {@code position} until {@code dst} is full (see {@link SeedDescription#readSeed}). */
    private void readSeed(ByteBuffer dst, long position) throws IOException {
        if (mapped != null) {
            mapped.read(dst, position);
        } else {
            SeedDescription.readSeed(in, dst, position);
        }
    }

    /** Copies take their source from {@code p} when it holds it (the seed's page before the round wrote it). */
    void preserved(Preserved p) {
        this.preserved = p;
    }

    @Override
    public void close() {
        inflater.end();
    }

    /**
     * The seed's pages that a round writes before a later page copies them (pages that moved), read before anything
     * is written. Heap-backed ({@code count × pageSize} bytes, reserved by the caller); not thread-safe.
     */
    static final class Preserved {
        private final java.util.Map<Integer, Integer> slots = new java.util.HashMap<>();
        private final ByteBuffer pages;
        private final int pageSize;

        Preserved(int count, int pageSize) {
            this.pages = ByteBuffer.allocate(Math.multiplyExact(count, pageSize));
            this.pageSize = pageSize;
        }

        /** Reads the seed's page {@code page} ({@code len} bytes) unless it is held already. */
        void read(FileChannel in, int page, long len) throws IOException {
            if (slots.containsKey(page)) {
                return;
            }
            int slot = slots.size();
            ByteBuffer dst = pages.duplicate();
            dst.position(slot * pageSize).limit(slot * pageSize + (int) len);
            SeedDescription.readSeed(in, dst, (long) page * pageSize);
            slots.put(page, slot);
        }

        /** {@return the first {@code len} bytes of the seed's page {@code page} as it was, or null when it is not held} */
        ByteBuffer page(int page, int len) {
            Integer slot = slots.get(page);
            if (slot == null) {
                return null;
            }
            ByteBuffer b = pages.duplicate();
            b.position(slot * pageSize).limit(slot * pageSize + len);
            return b;
        }
    }

    private int pageLength(long page) {
        return (int) Math.min(pageSize, stateBytes - page * pageSize);
    }

    ByteBuffer page(long i) throws IOException {
        int len = pageLength(i);
        SeedBatch b = batch < batches.size() ? batches.get(batch) : null;
        if (b != null && b.pages()[op] == i) {
            if (op == 0) {
                inflate(b);
            }
            int source = b.sources()[op];
            ByteBuffer result;
            if (source == SeedWire.SOURCE_ZERO) {
                result = zero.clear().limit(len);
            } else if (source == SeedWire.SOURCE_LITERAL) {
                need(b, len);
                result = raw.duplicate();
                result.position(rawPosition).limit(rawPosition + len);
                rawPosition += len;
            } else if (source == SeedWire.SOURCE_PATCH) {
                result = patch(b, i, len);
            } else if (source == SeedWire.SOURCE_FINE_PATCH) {
                result = finePatch(b, i, len);
            } else {
                result = null;
            }
            if (++op == b.pages().length) {
                op = 0;
                batch++;
                if (rawPosition != b.rawBytes()) {
                    throw SeedWire.malformed("a BATCH frame declares " + b.rawBytes() + " literal bytes, its ops use "
                            + rawPosition);
                }
            }
            if (result != null) {
                return result;
            }
            if (pageLength(source) != len) {
                throw SeedWire.malformed("copy of page " + source + " into page " + i + " of another length");
            }
            ByteBuffer before = preserved == null ? null : preserved.page(source, len);
            if (before != null) {
                return before;
            }
            copy.clear().limit(len);
            readSeed(copy, (long) source * pageSize);
            return copy.flip();
        }
        long first = i - i % runPages;
        if (first != blockFirst) {
            long off = first * pageSize;
            block.clear().limit((int) Math.min(block.capacity(), stateBytes - off));
            readSeed(block, off);
            blockFirst = first;
        }
        ByteBuffer page = block.duplicate();
        int at = (int) (i - first) * pageSize;
        page.position(at).limit(at + len);
        return page;
    }

    private void need(SeedBatch b, int n) {
        if (rawPosition + n > b.rawBytes()) {
            throw SeedWire.malformed("the ops of a BATCH frame need more than its " + b.rawBytes() + " literal bytes");
        }
    }

    /** The seed's page {@code i} with the blocks the patch carries. */
    private ByteBuffer patch(SeedBatch b, long i, int len) throws IOException {
        need(b, 1);
        int mask = raw.get(rawPosition++) & 0xff;
        copy.clear().limit(len);
        readSeed(copy, i * pageSize);
        int bs = pageSize / SeedWire.BLOCKS_PER_PAGE;
        for (int k = 0; k < SeedWire.BLOCKS_PER_PAGE; k++) {
            if ((mask & (1 << k)) == 0) {
                continue;
            }
            int from = k * bs;
            int n = Math.min(bs, len - from);
            if (n <= 0) {
                throw SeedWire.malformed("a patch of page " + i + " carries block " + k + ", past the page's end");
            }
            need(b, n);
            copy.put(from, raw.array(), rawPosition, n);
            rawPosition += n;
        }
        return copy.clear().limit(len);
    }

    /** The seed's page {@code i} with the sub-blocks the fine patch carries. */
    private ByteBuffer finePatch(SeedBatch b, long i, int len) throws IOException {
        need(b, 1);
        int blockMask = raw.get(rawPosition++) & 0xff;
        int[] subMasks = new int[SeedWire.BLOCKS_PER_PAGE];
        for (int k = 0; k < SeedWire.BLOCKS_PER_PAGE; k++) {
            if ((blockMask & 1 << k) != 0) {
                need(b, 1);
                subMasks[k] = raw.get(rawPosition++) & 0xff;
            }
        }
        copy.clear().limit(len);
        readSeed(copy, i * pageSize);
        int bs = pageSize / SeedWire.BLOCKS_PER_PAGE;
        int ss = bs / SeedWire.SUBBLOCKS_PER_BLOCK;
        for (int k = 0; k < SeedWire.BLOCKS_PER_PAGE; k++) {
            for (int j = 0; j < SeedWire.SUBBLOCKS_PER_BLOCK; j++) {
                if ((subMasks[k] & 1 << j) == 0) {
                    continue;
                }
                int from = k * bs + j * ss;
                int n = Math.min(ss, len - from);
                if (n <= 0) {
                    throw SeedWire.malformed("a fine patch of page " + i + " carries sub-block " + j + " of block " + k
                            + ", past the page's end");
                }
                need(b, n);
                copy.put(from, raw.array(), rawPosition, n);
                rawPosition += n;
            }
        }
        return copy.clear().limit(len);
    }

    private void inflate(SeedBatch b) {
        if (raw == null || raw.capacity() < b.rawBytes()) {
            // The largest a round's batches get (16 MiB at most; 4 MiB of 4 KiB pages): the first, smaller batches of a
            // round do not make a new buffer each.
            raw = ByteBuffer.allocate(Math.max(b.rawBytes(), Math.min(SeedDecoder.MAX_BATCH_RAW_BYTES,
                    SeedFrameWriter.maxBatchLiterals(pageSize) * (pageSize + 1))));
            scratch.raw = raw;
        }
        raw.clear();
        rawPosition = 0;
        byte[] compressed;
        if (b.spilled()) {
            if (scratch.spilled.length < b.length()) {
                scratch.spilled = new byte[b.length()];
            }
            compressed = b.spill().read(b.offset(), b.length(), scratch.spilled);
        } else {
            compressed = b.deflated();
        }
        int compressedLength = b.length();
        if (b.format() != SeedWire.FORMAT_DEFLATE) {
            try {
                compressor.decompress(compressed, 0, compressedLength, raw.array(), 0, b.rawBytes());
            } catch (DwcpException e) {
                throw new DwcpException(ErrorCode.CORRUPT_FRAME, "a BATCH frame of a seeded round of '" + key
                        + "' in literal format " + b.format() + " is corrupt: " + e.getMessage(), e);
            }
            return;
        }
        inflater.reset();
        inflater.setInput(compressed, 0, compressedLength);
        try {
            int n = 0;
            while (n < b.rawBytes()) {
                int got = inflater.inflate(raw.array(), n, b.rawBytes() - n);
                if (got == 0 && (inflater.finished() || inflater.needsInput() || inflater.needsDictionary())) {
                    break;
                }
                n += got;
            }
            if (n != b.rawBytes()) {
                throw new DwcpException(ErrorCode.CORRUPT_FRAME, "a BATCH frame of a seeded round of '" + key
                        + "' inflates to " + n + " bytes, it declares " + b.rawBytes());
            }
        } catch (DataFormatException e) {
            throw new DwcpException(ErrorCode.CORRUPT_FRAME, "a BATCH frame of a seeded round of '" + key
                    + "' is not valid DEFLATE data", e);
        }
    }
}
