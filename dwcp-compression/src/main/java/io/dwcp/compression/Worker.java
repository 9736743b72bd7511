package io.dwcp.compression;

import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;

import java.nio.ByteBuffer;

/**
 * A worker thread of the codec's pool: it owns one zstd compression and one decompression context and
 * its scratch buffers for its whole life, closes them when it ends, and lends them to the task it runs. Tasks reach
 * them through {@link #current()}; nothing escapes the task.
 */
final class Worker extends Thread {
    private ZstdCompressCtx compressor;
    private ZstdDecompressCtx decompressor;
    /** Scratch of the running task (raw: a batch being coded, or decoded); grown on demand and reused. */
    ByteBuffer raw = DirectMemory.allocate(1 << 16);
    ByteBuffer read = DirectMemory.allocate(1 << 16);
    final byte[] oldPage = new byte[2 << 20];
    final byte[] newPage = new byte[2 << 20];
    /** Anchor scratch of the similar-page search (pages up to 2 MiB, one anchor per 64 bytes at most). */
    final long[] anchors = new long[(2 << 20) / Anchors.GRID_BYTES + 1];
    final int[] candidates = new int[(2 << 20) / Anchors.GRID_BYTES + 1];
    /** Control and data of a batch's round splices (RoundEncoder), valid until its frame is built. */
    final Bytes spliceControl = new Bytes(256);
    final Bytes spliceData = new Bytes(4096);
    /** Round-splice anchors of the page being scanned or coded (RoundEncoder). */
    final Splice.AnchorList roundAnchors = new Splice.AnchorList();
    int currentLevel = Integer.MIN_VALUE;
    /** A page as words (Splice), sized for the page size in use. */
    private long[] pageWords = new long[0];

    Worker(Runnable r, String name) {
        super(r, name);
        setDaemon(true);
    }

    /** The worker running the calling task. */
    static Worker current() {
        return (Worker) Thread.currentThread();
    }

    /** Scratch for a page of {@code pageSizeBytes} as words plus two of padding ({@link Splice#loadWords}). */
    long[] pageWords(int pageSizeBytes) {
        int n = (pageSizeBytes + 7) / 8 + 2;
        if (pageWords.length < n) {
            pageWords = new long[n];
        }
        return pageWords;
    }

    ZstdCompressCtx compressor(int level) {
        if (compressor == null) {
            compressor = new ZstdCompressCtx();
            compressor.setChecksum(false);
            compressor.setContentSize(true);
        }
        if (level != currentLevel) {
            compressor.setLevel(level);
            currentLevel = level;
        }
        return compressor;
    }

    ZstdDecompressCtx decompressor() {
        if (decompressor == null) {
            decompressor = new ZstdDecompressCtx();
        }
        return decompressor;
    }

    static ByteBuffer ensure(ByteBuffer b, int capacity) {
        if (b.capacity() >= capacity) {
            return b;
        }
        DirectMemory.free(b);
        return DirectMemory.allocate(Math.max(capacity, b.capacity() * 2));
    }

    @Override
    public void run() {
        try {
            super.run();
        } finally {
            if (compressor != null) {
                compressor.close();
            }
            if (decompressor != null) {
                decompressor.close();
            }
            DirectMemory.free(raw);
            DirectMemory.free(read);
        }
    }
}
