package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.spi.BlockCompressor;
import io.dwcp.core.spi.FrameSink;
import io.dwcp.core.state.StateRegion;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.Deflater;

/**
 * Writes the frames of a replica-seeded round (BASE, batches, END; see {@link SeedWire}) on a thread of its own, so
 * that reading and compressing the literal pages and waiting for room in the link overlap the sender's hashing and
 * description exchange. Batches are written in the order they are handed over.
 *
 * <p>Methods other than the writer's own task are called by one planner thread. {@link #close} stops the thread
 * (interrupting a write blocked on a full sink) and is idempotent.
 */
final class SeedFrameWriter implements AutoCloseable {
    private final StateRegion region;
    private final int pageSize;
    private final long stateBytes;
    private final int format;
    private final BlockCompressor compressor;
    private final FrameSink sink;
    private final ExecutorService thread;
    /** The last task handed over; its completion means every earlier one completed (one thread, in order). */
    private Future<?> last;
    /** Written by the writer thread only; read after {@link #finish} waited for it. */
    private long written;
    /** Literal bytes of the batches written so far, before and after compression (writer thread; read by any). */
    private volatile long rawTotal;
    private volatile long compressedTotal;
    /** Writer thread only: a batch's pages before compression, and the compressed data. */
    private byte[] raw;
    private byte[] out;
    private final Deflater deflater;

    SeedFrameWriter(StateRegion region, int pageSize, int format, BlockCompressor compressor, FrameSink sink) {
        this.region = region;
        this.pageSize = pageSize;
        this.stateBytes = region.sizeBytes();
        this.format = format;
        this.compressor = compressor;
        this.sink = sink;
        this.deflater = format == SeedWire.FORMAT_DEFLATE ? new Deflater(Deflater.BEST_SPEED, true) : null;
        this.thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "dwcp-migration-seed-write");
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

    /** Queues one batch of ops {@code [from, to)} (copied here). */
    void batch(int[] pages, int[] sources, long[] masks, int from, int to) {
        int[] p = Arrays.copyOfRange(pages, from, to);
        int[] s = Arrays.copyOfRange(sources, from, to);
        long[] m = Arrays.copyOfRange(masks, from, to);
        submit(() -> writeBatch(p, s, m));
    }

    /** Queues the END frame. */
    void end(byte[] digest, long pageCount) {
        ByteBuffer end = ByteBuffer.allocate(41).put((byte) SeedWire.FRAME_END).put(digest).putLong(pageCount).flip();
        submit(() -> emit(end));
    }

    /**
     * {@return the share of literal bytes left after compression in the batches written so far}, or {@code dflt} before
     * the first batch with literals
     */
    double compressedShare(double dflt) {
        long raw = rawTotal;
        return raw == 0 ? dflt : (double) compressedTotal / raw;
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
    private int finePatch(int page, long subMask, int at) throws IOException {
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
                before.get();
            }
            task.run();
            return null;
        });
    }

    private void emit(ByteBuffer frame) throws Exception {
        written += frame.remaining();
        sink.accept(frame);
    }

    private void writeBatch(int[] pages, int[] sources, long[] masks) throws Exception {
        int maxLiterals = maxBatchLiterals(pageSize);
        if (raw == null) {
            // Room for the batch's pages, a patch's mask, and one page beyond as a patch's scratch.
            raw = new byte[maxLiterals * (pageSize + 1) + 2 * pageSize];
            out = new byte[format == SeedWire.FORMAT_DEFLATE ? raw.length + 1024 : compressor.maxCompressedLength(raw.length)];
        }
        int literals = 0;
        int rawBytes = 0;
        int count = pages.length;
        for (int i = 0; i < count; i++) {
            if (sources[i] == SeedWire.SOURCE_PATCH) {
                long off = (long) pages[i] * pageSize;
                int len = (int) Math.min(pageSize, stateBytes - off);
                ByteBuffer whole = ByteBuffer.wrap(raw, rawBytes + 1 + pageSize, pageSize).slice();
                whole.limit(len);
                region.read(off, whole);
                int mask = (int) (masks[i] & 0xff);
                raw[rawBytes++] = (byte) mask;
                int bs = pageSize / SeedWire.BLOCKS_PER_PAGE;
                for (int b = 0; b < SeedWire.BLOCKS_PER_PAGE; b++) {
                    int from = b * bs;
                    int n = Math.min(bs, len - from);
                    if ((mask & (1 << b)) != 0 && n > 0) {
                        whole.get(from, raw, rawBytes, n);
                        rawBytes += n;
                    }
                }
                literals++;
            } else if (sources[i] == SeedWire.SOURCE_FINE_PATCH) {
                rawBytes = finePatch(pages[i], masks[i], rawBytes);
                literals++;
            } else if (sources[i] == SeedWire.SOURCE_LITERAL) {
                long off = (long) pages[i] * pageSize;
                int len = (int) Math.min(pageSize, stateBytes - off);
                ByteBuffer dst = ByteBuffer.wrap(raw, rawBytes, len);
                region.read(off, dst);
                if (dst.hasRemaining()) {
                    throw new DwcpException(ErrorCode.IO_ERROR, "short read of page " + pages[i]);
                }
                rawBytes += len;
                literals++;
            }
        }
        if (literals > maxLiterals || count > SeedWire.MAX_BATCH_OPS) {
            throw new IllegalArgumentException("a batch of " + count + " ops and " + literals + " literals is over the limits");
        }
        int compressed = format == SeedWire.FORMAT_DEFLATE ? deflate(rawBytes) : compressor.compress(raw, 0, rawBytes, out, 0);
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
        frame.putInt(literals).putInt(rawBytes).put(out, 0, compressed).flip();
        rawTotal += rawBytes;
        compressedTotal += compressed;
        written += frame.remaining();
        sink.acceptOwned(frame);
    }

    /** Compresses {@code raw[0, rawBytes)} into {@link #out} (grown as needed); returns the compressed length. */
    private int deflate(int rawBytes) {
        deflater.reset();
        deflater.setInput(raw, 0, rawBytes);
        deflater.finish();
        int compressed = 0;
        while (!deflater.finished()) {
            if (compressed == out.length) {
                out = Arrays.copyOf(out, 2 * out.length);
            }
            compressed += deflater.deflate(out, compressed, out.length - compressed);
        }
        return compressed;
    }

    /** Stops the writer thread (a write blocked on the sink is interrupted) and frees the deflater once it stopped. */
    @Override
    public void close() {
        if (thread.isShutdown()) {
            return;
        }
        thread.shutdownNow();
        try {
            if (!thread.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS)) {
                return; // still blocked somewhere: leave the deflater to the garbage collector rather than race it
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        if (deflater != null) {
            deflater.end();
        }
    }
}
