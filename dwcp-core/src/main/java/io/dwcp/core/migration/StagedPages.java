package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.state.WritableRegion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.BitSet;

/**
 * The pages a seeded round writes into the key's replica, as its batches produced them while they arrived (inflated,
 * patched, copied from the seed as it was before the round), in a staging file of the replica directory: the round's
 * k-th written page at {@code k × pageSize}. After the round is verified they are copied into the replica in runs,
 * so the batches are not inflated a second time after the END frame (see {@link SeedAheadHasher}). The file is
 * never synced: it is only read back while the round runs, and one left by a crash is deleted when the directory is
 * opened again ({@link FileReplicas#createSpillFile}).
 *
 * <p>Owns the file and a direct buffer of {@link SeedHashes#runPages} pages. {@link #add} and {@link #flush} on one
 * thread, then (after a join with it) {@link #writeTo} on another; {@link #close()} deletes the file (idempotent).
 */
final class StagedPages implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StagedPages.class);

    private final Path file;
    private final FileChannel channel;
    private final int pageSize;
    private final int runPages;
    private final ByteBuffer buffer;
    private long pages;
    /** Where the buffered pages go in the file. */
    private long position;
    private boolean closed;

    StagedPages(Path file, int pageSize) throws IOException {
        this.file = file;
        this.pageSize = pageSize;
        this.runPages = SeedHashes.runPages(pageSize);
        this.channel = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.READ);
        this.buffer = ByteBuffer.allocateDirect(Math.multiplyExact(pageSize, runPages));
    }

    /** Appends the next written page (its remaining bytes, a whole page but for the state's last; position unchanged). */
    void add(ByteBuffer page) throws IOException {
        if (buffer.position() % pageSize != 0) {
            throw new IllegalStateException("a page after the state's short last page");
        }
        if (buffer.remaining() < pageSize) {
            flush();
        }
        buffer.put(page.duplicate());
        pages++;
    }

    /** Writes the buffered pages to the file. */
    void flush() throws IOException {
        buffer.flip();
        while (buffer.hasRemaining()) {
            position += channel.write(buffer, position);
        }
        buffer.clear();
    }

    /** {@return the pages added} */
    long pages() {
        return pages;
    }

    /**
     * Writes the staged pages into {@code r}: the k-th set bit of {@code targets} gets the k-th page, consecutive pages
     * in one write. {@return the pages written}
     */
    long writeTo(WritableRegion r, BitSet targets, long stateBytes) throws IOException {
        if (targets.cardinality() != pages) {
            throw new DwcpException(ErrorCode.INTERNAL_ERROR, pages + " pages staged for " + targets.cardinality() + " written");
        }
        flush();
        long k = 0;
        int page = targets.nextSetBit(0);
        while (page >= 0) {
            // The next up to runPages staged pages, read at once; then written in runs of consecutive page indexes.
            int n = (int) Math.min(runPages, pages - k);
            buffer.clear().limit((int) Math.min((long) n * pageSize, position - k * pageSize));
            SeedDescription.readFully(channel, buffer, k * pageSize);
            int at = 0;
            while (at < n) {
                int first = page;
                int from = at;
                do {
                    at++;
                    page = targets.nextSetBit(page + 1);
                } while (at < n && page == first + (at - from));
                long end = Math.min(stateBytes, (long) (first + at - from) * pageSize);
                ByteBuffer run = buffer.duplicate();
                run.position(from * pageSize).limit(from * pageSize + (int) (end - (long) first * pageSize));
                r.write((long) first * pageSize, run);
            }
            k += n;
        }
        buffer.clear();
        return pages;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("closing {} failed", file, e);
        }
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.warn("deleting the staged pages {} failed; the replica directory's next open deletes them", file, e);
        }
    }
}
