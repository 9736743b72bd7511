package io.dwcp.core.migration;

import io.dwcp.core.state.WritableRegion;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Writes the pages of a seeded round's result into a replica as runs: pages handed over in ascending order are copied
 * into one buffer while they are consecutive, and each run goes to the region in one write. A round's differing pages
 * come in runs (about 27 pages on average on the 1 GiB corpus), so this makes one write call where there were dozens,
 * after the END frame, when every call is on the round's critical path.
 *
 * <p>Delaying a page's write is safe for the round's later pages: a later page's copy source is either a page the round
 * does not write, a page after it (not written yet either way), or a page before it that was read into memory before
 * anything was written ({@link SeedPages.Preserved}).
 *
 * <p>One instance per apply; not thread-safe. Owns a direct buffer of {@code maxPages × pageSize} bytes, released to the
 * garbage collector with the instance.
 */
final class PageRunWriter {
    private final WritableRegion region;
    private final int pageSize;
    private final ByteBuffer run;
    /** The run's first page, or -1 when the run is empty. */
    private long first = -1;
    /** The page the run ends before. */
    private long next = -1;
    private long writes;

    /**
     * @param region where the pages go
     * @param pageSize the state's page size
     * @param maxPages the most pages one write carries (at least 1)
     */
    PageRunWriter(WritableRegion region, int pageSize, int maxPages) {
        if (pageSize <= 0 || maxPages <= 0) {
            throw new IllegalArgumentException("page size " + pageSize + " and pages per run " + maxPages + " must be positive");
        }
        this.region = region;
        this.pageSize = pageSize;
        this.run = ByteBuffer.allocateDirect(Math.multiplyExact(pageSize, maxPages));
    }

    /**
     * Adds page {@code page}'s bytes (the buffer's remaining bytes; a page shorter than {@code pageSize} only as the
     * state's last page). Pages come in ascending order.
     */
    void add(long page, ByteBuffer bytes) throws IOException {
        if (page < next) {
            throw new IllegalArgumentException("page " + page + " after page " + (next - 1) + ": pages must ascend");
        }
        if (bytes.remaining() > pageSize) {
            throw new IllegalArgumentException("page " + page + " has " + bytes.remaining() + " bytes, pages have " + pageSize);
        }
        if (first >= 0 && (page != next || run.remaining() < pageSize || run.position() % pageSize != 0)) {
            flush();
        }
        if (first < 0) {
            first = page;
        }
        run.put(bytes.duplicate());
        next = page + 1;
    }

    /** Writes the pending run, if any. */
    void flush() throws IOException {
        if (first < 0) {
            return;
        }
        run.flip();
        region.write(first * pageSize, run);
        run.clear();
        first = -1;
        writes++;
    }

    /** {@return the write calls made so far} */
    long writes() {
        return writes;
    }
}
