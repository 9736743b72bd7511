package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.spi.BlockCompressor;
import io.dwcp.core.spi.FrameSink;
import io.dwcp.core.state.StateRegion;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.zip.Deflater;

/**
 * Writes the frames of a replica-seeded round (BASE, batches, END; see {@link SeedWire}) so that reading and
 * compressing the literal pages and waiting for room in the link overlap the sender's hashing and description
 * exchange. Batches are read and compressed by a pool (one thread per core, at most {@value #MAX_COMPRESS_THREADS}),
 * at most {@link #ahead} batches ahead of the one being written, and written in the order they are handed over by one
 * writer thread.
 *
 * <p>Methods other than the threads' own tasks are called by one planner thread. {@link #close} stops both (interrupting
 * a write blocked on a full sink) and is idempotent.
 */
final class SeedFrameWriter implements AutoCloseable {
    /** At most this many threads compress batches. */
    static final int MAX_COMPRESS_THREADS = 4;

    private final StateRegion region;
    private final int pageSize;
    private final long stateBytes;
    private final int format;
    private final BlockCompressor compressor;
    private final FrameSink sink;
    /** Writes the frames, in order. */
    private final ExecutorService thread;
    /** Reads and compresses batches. */
    private final ExecutorService pool;
    /** Batches compressed (or being compressed) and not yet written: at most this many. */
    private final int ahead;
    /** The last task handed to the writer thread; its completion means every earlier one completed (in order). */
    private Future<?> last;
    /** Written by the writer thread only; read after {@link #finish} waited for it. */
    private long written;
    /** When the first batch's frame was handed to the sink ({@link System#nanoTime}), 0 before (as {@link #written}). */
    private long firstBatchNanos;
    /** Batches handed over whose compression has not started, in order (guarded by {@link #queue} itself). */
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    /** Batches whose compression started and whose frame is not yet written (guarded by {@link #queue}). */
    private int started;
    /** A compressing thread's scratch: a batch's pages before compression, the compressed data, its deflater. */
    private final ThreadLocal<Scratch> scratch = ThreadLocal.withInitial(this::newScratch);
    /** Every deflater made, ended once the pool stopped (guarded by itself). */
    private final List<Deflater> deflaters = new ArrayList<>();

    SeedFrameWriter(StateRegion region, int pageSize, int format, BlockCompressor compressor, FrameSink sink) {
        this(region, pageSize, format, compressor, sink,
                Math.max(1, Math.min(MAX_COMPRESS_THREADS, Runtime.getRuntime().availableProcessors())));
    }

    /** @param threads threads that compress batches (at least 1) */
    SeedFrameWriter(StateRegion region, int pageSize, int format, BlockCompressor compressor, FrameSink sink, int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, not " + threads);
        }
        this.region = region;
        this.pageSize = pageSize;
        this.stateBytes = region.sizeBytes();
        this.format = format;
        this.compressor = compressor;
        this.sink = sink;
        this.ahead = 2 * threads;
        this.thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "dwcp-migration-seed-write");
            t.setDaemon(true);
            return t;
        });
        this.pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "dwcp-migration-seed-compress");
            t.setDaemon(true);
            return t;
        });
    }

    /** {@return the most literal and patched pages in one batch for pages of {@code pageSize}} */
    static int maxBatchLiterals(int pageSize) {
        return Math.max(1, Math.min(SeedWire.MAX_BATCH_LITERALS, SeedDecoder.MAX_BATCH_RAW_BYTES / (pageSize + 1)));
    }

    /** Queues the BASE frame. */
    void base(byte[] seedVersion) {
        ByteBuffer base = ByteBuffer.allocate(25).put((byte) SeedWire.FRAME_BASE).put(seedVersion).putLong(stateBytes).flip();
        submit(() -> emit(base));
    }

    /**
     * Queues one batch of ops {@code [from, to)} (copied here): it is compressed on the pool once fewer than {@link
     * #ahead} batches are compressed and unwritten, and written after every batch queued before it.
     */
    void batch(int[] pages, int[] sources, long[] masks, int from, int to) {
        Pending b = new Pending(Arrays.copyOfRange(pages, from, to), Arrays.copyOfRange(sources, from, to),
                Arrays.copyOfRange(masks, from, to));
        synchronized (queue) {
            queue.add(b);
        }
        startMore();
        submit(() -> {
            ByteBuffer frame;
            try {
                frame = b.frame.get();
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                throw c instanceof Exception ex ? ex : new IllegalStateException(c);
            }
            written += frame.remaining();
            if (firstBatchNanos == 0) {
                firstBatchNanos = System.nanoTime();
            }
            try {
                sink.acceptOwned(frame);
            } finally {
                synchronized (queue) {
                    started--;
                }
                startMore();
            }
        });
    }

    /** Starts compressing queued batches, in order, while fewer than {@link #ahead} are compressed and unwritten. */
    private void startMore() {
        while (true) {
            Pending b;
            synchronized (queue) {
                if (started >= ahead || queue.isEmpty()) {
                    return;
                }
                b = queue.poll();
                started++;
            }
            try {
                pool.execute(() -> {
                    try {
                        b.frame.complete(frameOf(b.pages, b.sources, b.masks));
                    } catch (Throwable e) {
                        b.frame.completeExceptionally(e);
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // Closed: the writer thread is stopped too, and nothing waits for this batch.
                b.frame.completeExceptionally(e);
            }
        }
    }

    /** Queues the END frame. */
    void end(byte[] digest, long pageCount) {
        ByteBuffer end = ByteBuffer.allocate(41).put((byte) SeedWire.FRAME_END).put(digest).putLong(pageCount).flip();
        submit(() -> emit(end));
    }

    /** {@return whether a queued frame failed} (without waiting) */
    boolean failed() {
        return last != null && last.isDone() && !ok(last);
    }

    private static boolean ok(Future<?> f) {
        try {
            f.get();
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    /**
     * {@return when the first batch's frame was handed to the sink} ({@link System#nanoTime}; read after {@link
     * #finish}; 0 when there was no batch)
     */
    long firstBatchNanos() {
        return firstBatchNanos;
    }

    /** Waits until every queued frame was written; {@return the frames' bytes}; rethrows a write's failure. */
    long finish() throws Exception {
        if (last != null) {
            try {
                last.get();
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                throw c instanceof Exception ex ? ex : new IllegalStateException(c);
            }
        }
        return written;
    }

    /**
     * Puts a FINE_PATCH's data for page {@code page} at {@code raw[at]}: the block mask, a sub-block mask per block in
     * it, then those sub-blocks; {@return the end of what it put}
     */
    private int finePatch(byte[] raw, int page, long subMask, int at) throws IOException {
        long off = (long) page * pageSize;
        int len = (int) Math.min(pageSize, stateBytes - off);
        ByteBuffer whole = ByteBuffer.wrap(raw, at + 1 + SeedWire.BLOCKS_PER_PAGE + pageSize, pageSize).slice();
        whole.limit(len);
        region.read(off, whole);
        int bs = pageSize / SeedWire.BLOCKS_PER_PAGE;
        int ss = bs / SeedWire.SUBBLOCKS_PER_BLOCK;
        int blockMask = 0;
        for (int b = 0; b < SeedWire.BLOCKS_PER_PAGE; b++) {
            if ((subMask >>> (SeedWire.SUBBLOCKS_PER_BLOCK * b) & 0xff) != 0) {
                blockMask |= 1 << b;
            }
        }
        raw[at++] = (byte) blockMask;
        for (int b = 0; b < SeedWire.BLOCKS_PER_PAGE; b++) {
            if ((blockMask & 1 << b) != 0) {
                raw[at++] = (byte) (subMask >>> (SeedWire.SUBBLOCKS_PER_BLOCK * b));
            }
        }
        for (int b = 0; b < SeedWire.BLOCKS_PER_PAGE; b++) {
            int sub = (int) (subMask >>> (SeedWire.SUBBLOCKS_PER_BLOCK * b) & 0xff);
            for (int j = 0; j < SeedWire.SUBBLOCKS_PER_BLOCK; j++) {
                int from = b * bs + j * ss;
                int n = Math.min(ss, len - from);
                if ((sub & 1 << j) != 0 && n > 0) {
                    whole.get(from, raw, at, n);
                    at += n;
                }
            }
        }
        return at;
    }

    private interface Task {
        void run() throws Exception;
    }

    /** Chains the task behind the previous one: a failed write makes every later one fail with the same cause. */
    private void submit(Task task) {
        Future<?> before = last;
        last = thread.submit(() -> {
            if (before != null) {
                try {
                    before.get();
                } catch (ExecutionException e) {
                    Throwable c = e.getCause();
                    throw c instanceof Exception ex ? ex : new IllegalStateException(c);
                }
            }
            task.run();
            return null;
        });
    }

    private void emit(ByteBuffer frame) throws Exception {
        written += frame.remaining();
        sink.accept(frame);
    }

    /** {@return the BATCH frame of one batch of ops} (a task of the pool: reads and compresses its data pages) */
    /**
     * Puts the data of a PATCH, FINE_PATCH or literal op of page {@code page} at {@code raw[at]}: the block mask and the
     * blocks in it, the fine patch ({@link #finePatch}), or the whole page. {@return the end of what it put}
     */
    private int putOp(byte[] raw, int at, int page, int source, long mask) throws IOException {
        if (source == SeedWire.SOURCE_FINE_PATCH) {
            return finePatch(raw, page, mask, at);
        }
        long off = (long) page * pageSize;
        int len = (int) Math.min(pageSize, stateBytes - off);
        if (source == SeedWire.SOURCE_LITERAL) {
            ByteBuffer dst = ByteBuffer.wrap(raw, at, len);
            region.read(off, dst);
            if (dst.hasRemaining()) {
                throw new DwcpException(ErrorCode.IO_ERROR, "short read of page " + page);
            }
            return at + len;
        }
        ByteBuffer whole = ByteBuffer.wrap(raw, at + 1 + pageSize, pageSize).slice();
        whole.limit(len);
        region.read(off, whole);
        int blocks = (int) (mask & 0xff);
        raw[at++] = (byte) blocks;
        int bs = pageSize / SeedWire.BLOCKS_PER_PAGE;
        for (int b = 0; b < SeedWire.BLOCKS_PER_PAGE; b++) {
            int from = b * bs;
            int n = Math.min(bs, len - from);
            if ((blocks & (1 << b)) != 0 && n > 0) {
                whole.get(from, raw, at, n);
                at += n;
            }
        }
        return at;
    }

    private ByteBuffer frameOf(int[] pages, int[] sources, long[] masks) throws Exception {
        int maxLiterals = maxBatchLiterals(pageSize);
        Scratch sc = scratch.get();
        byte[] raw = sc.raw;
        int literals = 0;
        int rawBytes = 0;
        int count = pages.length;
        // A call per op: the JIT compiles the op's small method, not this loop on the stack of its first long batch.
        for (int i = 0; i < count; i++) {
            int source = sources[i];
            if (source == SeedWire.SOURCE_PATCH || source == SeedWire.SOURCE_FINE_PATCH || source == SeedWire.SOURCE_LITERAL) {
                rawBytes = putOp(raw, rawBytes, pages[i], source, masks[i]);
                literals++;
            }
        }
        if (literals > maxLiterals || count > SeedWire.MAX_BATCH_OPS) {
            throw new IllegalArgumentException("a batch of " + count + " ops and " + literals + " literals is over the limits");
        }
        int compressed = format == SeedWire.FORMAT_DEFLATE ? deflate(sc, rawBytes)
                : compressor.compress(raw, 0, rawBytes, sc.out, 0);
        ByteBuffer frame;
        if (format == SeedWire.FORMAT_DEFLATE) {
            frame = ByteBuffer.allocate(1 + 4 + 8 * count + 8 + compressed).put((byte) SeedWire.FRAME_BATCH);
        } else {
            frame = ByteBuffer.allocate(2 + 4 + 8 * count + 8 + compressed).put((byte) SeedWire.FRAME_FORMAT_BATCH)
                    .put((byte) format);
        }
        frame.putInt(count);
        for (int k = 0; k < count; k++) {
            frame.putInt(pages[k]).putInt(sources[k]);
        }
        frame.putInt(literals).putInt(rawBytes).put(sc.out, 0, compressed).flip();
        return frame;
    }

    /** Compresses {@code sc.raw[0, rawBytes)} into {@code sc.out} (grown as needed); returns the compressed length. */
    private static int deflate(Scratch sc, int rawBytes) {
        Deflater deflater = sc.deflater;
        deflater.reset();
        deflater.setInput(sc.raw, 0, rawBytes);
        deflater.finish();
        int compressed = 0;
        while (!deflater.finished()) {
            if (compressed == sc.out.length) {
                sc.out = Arrays.copyOf(sc.out, 2 * sc.out.length);
            }
            compressed += deflater.deflate(sc.out, compressed, sc.out.length - compressed);
        }
        return compressed;
    }

    private Scratch newScratch() {
        // Room for a batch's pages, a patch's mask, and one page beyond as a patch's scratch.
        byte[] raw = new byte[maxBatchLiterals(pageSize) * (pageSize + 1) + 2 * pageSize];
        Deflater deflater = null;
        byte[] out;
        if (format == SeedWire.FORMAT_DEFLATE) {
            deflater = new Deflater(Deflater.BEST_SPEED, true);
            synchronized (deflaters) {
                deflaters.add(deflater);
            }
            out = new byte[raw.length + 1024];
        } else {
            out = new byte[compressor.maxCompressedLength(raw.length)];
        }
        return new Scratch(raw, out, deflater);
    }

    /** A compressing thread's buffers and deflater (DEFLATE format only). */
    private static final class Scratch {
        final byte[] raw;
        byte[] out;
        final Deflater deflater;

        Scratch(byte[] raw, byte[] out, Deflater deflater) {
            this.raw = raw;
            this.out = out;
            this.deflater = deflater;
        }
    }

    /** A batch handed over: its ops, and its frame once compressed. */
    private static final class Pending {
        final int[] pages;
        final int[] sources;
        final long[] masks;
        final CompletableFuture<ByteBuffer> frame = new CompletableFuture<>();

        Pending(int[] pages, int[] sources, long[] masks) {
            this.pages = pages;
            this.sources = sources;
            this.masks = masks;
        }
    }

    /**
     * Stops the writer thread (a write blocked on the sink is interrupted) and the compressing pool, and frees the
     * deflaters once both stopped.
     */
    @Override
    public void close() {
        if (thread.isShutdown()) {
            return;
        }
        thread.shutdownNow();
        pool.shutdownNow();
        try {
            if (!thread.awaitTermination(10, TimeUnit.SECONDS) || !pool.awaitTermination(10, TimeUnit.SECONDS)) {
                return; // still blocked somewhere: leave the deflaters to the garbage collector rather than race them
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        synchronized (deflaters) {
            for (Deflater d : deflaters) {
                d.end();
            }
            deflaters.clear();
        }
    }
}
