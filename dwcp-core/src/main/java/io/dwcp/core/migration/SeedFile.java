package io.dwcp.core.migration;

import io.dwcp.core.memory.DirectBuffers;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A seed file (an image, another key's replica) mapped read only for the reads of one seeded round: a page copied from
 * the seed is one memory copy out of the mapping instead of a read system call of its own (an image-seeded round copies
 * most of its pages, each from anywhere in the seed). Reads follow {@link SeedDescription#readSeed}: past the size the
 * file had when it was mapped the seed reads as zeros, and what such bytes produce fails the round's state digest like
 * any content the seed's description did not promise.
 *
 * <p>Pitfall: a file that shrinks while it is mapped faults on a read past its new end. Bytes are only ever copied out
 * of the mapping (a copy the JVM guards), so the fault never takes the process down: the JVM raises an
 * {@link InternalError} in the reading thread, from compiled code possibly a little after the read returned (then
 * with the page's bytes not all copied). Either way the round fails: by the error, or by its state digest, which the
 * bytes that were not copied do not have. Nothing reads the mapping in place (a hash of it would not be guarded).
 *
 * <p>Mapped in windows of up to {@link #WINDOW_BYTES} (a multiple of every page size). Not thread-safe for
 * {@link #close()}: its owner calls it only once no thread reads any more (or leaves the mapping to the collector when
 * it cannot know that). Reads from several threads at once are safe. {@link #close()} is idempotent.
 */
final class SeedFile implements AutoCloseable {
    /** The largest window of the file one mapping covers. */
    static final long WINDOW_BYTES = 1L << 30;

    /** Zeros to copy from (only read). */
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(64 << 10);

    private final Path file;
    private final long size;
    private final MappedByteBuffer[] windows;
    private volatile boolean closed;

    private SeedFile(Path file, long size, MappedByteBuffer[] windows) {
        this.file = file;
        this.size = size;
        this.windows = windows;
    }

    /** Maps {@code file} read only as it is now. */
    static SeedFile map(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            MappedByteBuffer[] w = new MappedByteBuffer[(int) ((size + WINDOW_BYTES - 1) / WINDOW_BYTES)];
            try {
                for (int i = 0; i < w.length; i++) {
                    long start = i * WINDOW_BYTES;
                    w[i] = ch.map(FileChannel.MapMode.READ_ONLY, start, Math.min(WINDOW_BYTES, size - start));
                }
            } catch (IOException | RuntimeException e) {
                for (MappedByteBuffer m : w) {
                    DirectBuffers.free(m);
                }
                throw e;
            }
            return new SeedFile(file, size, w);
        }
    }

    /** {@return the size the file had when it was mapped} */
    long size() {
        return size;
    }

    /**
     * Copies the seed's bytes from {@code position} into {@code dst} until it is full; zeros past the mapped size.
     *
     * @throws IOException when the mapping is closed, or the file shrank under it and the JVM said so at once (see the
     *     class's pitfall)
     */
    void read(ByteBuffer dst, long position) throws IOException {
        if (closed) {
            throw new IOException("the mapping of the seed " + file + " is closed");
        }
        long p = position;
        try {
            while (dst.hasRemaining() && p < size) {
                MappedByteBuffer w = windows[(int) (p / WINDOW_BYTES)];
                int at = (int) (p % WINDOW_BYTES);
                int n = Math.min(dst.remaining(), w.capacity() - at);
                dst.put(dst.position(), w, at, n); // absolute: no slice object a page
                dst.position(dst.position() + n);
                p += n;
            }
        } catch (InternalError e) {
            // The JVM's answer to a fault in a guarded copy: the file lost the page under the mapping.
            throw new IOException("the seed " + file + " shrank while it was read: " + e.getMessage(), e);
        }
        while (dst.hasRemaining()) {
            dst.put(ZEROS.duplicate().limit(Math.min(dst.remaining(), ZEROS.capacity())));
        }
    }

    /** Unmaps the file; only once no thread reads it any more. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (int i = 0; i < windows.length; i++) {
            DirectBuffers.free(windows[i]);
            windows[i] = null;
        }
    }
}
