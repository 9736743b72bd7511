package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The {@link SeedHashes} page hashes of a whole file, computed by one thread per core (up to
 * {@value #MAX_THREADS}): the SHA-256 of 1 GiB takes a core about a second even with the CPU's SHA instructions.
 * Threads take chunks of {@value SeedHashes#CHUNK_PAGES} pages in turn. The result is {@code 2 * pages} longs
 * (16 bytes a page: 4 MiB for 1 GiB), hi then lo per page.
 */
final class FilePageHashes {
    static final int MAX_THREADS = 8;

    private FilePageHashes() {
    }

    /** {@return how many threads hash a file} (one per available core, at most {@value #MAX_THREADS}) */
    static int threads() {
        return Math.max(1, Math.min(MAX_THREADS, Runtime.getRuntime().availableProcessors()));
    }

    /**
     * Hashes every page of the first {@code bytes} of {@code file}.
     *
     * @param stop checked between chunks: when set, the hashing stops with {@code CANCELLED}
     */
    static long[] hash(Path file, long bytes, int pageSize, AtomicBoolean stop) throws IOException {
        long pages = SeedHashes.pages(bytes, pageSize);
        if (2 * pages > Integer.MAX_VALUE - 8) {
            throw new DwcpException(ErrorCode.LIMIT_EXCEEDED, "a state of " + pages + " pages is too large to hash at once");
        }
        long[] out = new long[(int) (2 * pages)];
        long chunks = SeedHashes.chunks(pages);
        AtomicLong next = new AtomicLong();
        List<Thread> workers = new ArrayList<>();
        Throwable[] failure = new Throwable[1];
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            Runnable work = () -> {
                try {
                    // A chunk of 4 KiB pages at a time; fewer pages of larger ones (at most 256 KiB or one page).
                    int runPages = SeedHashes.runPages(pageSize);
                    ByteBuffer block = ByteBuffer.allocate(pageSize * runPages);
                    SeedHashes hashes = new SeedHashes();
                    long[] h = new long[2];
                    for (long c = next.getAndIncrement(); c < chunks; c = next.getAndIncrement()) {
                        if (stop.get()) {
                            throw new DwcpException(ErrorCode.CANCELLED, "hashing " + file + " was stopped");
                        }
                        long chunkFirst = c * SeedHashes.CHUNK_PAGES;
                        long chunkEnd = Math.min(pages, chunkFirst + SeedHashes.CHUNK_PAGES);
                        for (long first = chunkFirst; first < chunkEnd; first += runPages) {
                            long off = first * pageSize;
                            block.clear().limit((int) Math.min(Math.min(chunkEnd - first, runPages) * pageSize, bytes - off));
                            SeedDescription.readSeed(in, block, off);
                            block.flip();
                            // Each page as the block's own window (no slice per page: a 4 GiB state made 1 M of them).
                            int end = block.limit();
                            for (int p = 0, at = 0; at < end; p++, at += pageSize) {
                                block.limit(Math.min(end, at + pageSize)).position(at);
                                hashes.pageHash(block, h, 0);
                                out[(int) (2 * (first + p))] = h[0];
                                out[(int) (2 * (first + p)) + 1] = h[1];
                            }
                        }
                    }
                } catch (Throwable t) {
                    synchronized (failure) {
                        if (failure[0] == null) {
                            failure[0] = t;
                        }
                    }
                    // The others stop at their next chunk.
                    next.set(Long.MAX_VALUE / 2);
                }
            };
            int threads = (int) Math.min(threads(), chunks);
            for (int t = 1; t < threads; t++) {
                Thread w = new Thread(work, "dwcp-seed-hash-" + t);
                w.setDaemon(true);
                w.start();
                workers.add(w);
            }
            work.run();
            for (Thread w : workers) {
                w.join();
            }
        } catch (InterruptedException e) {
            // The workers stop at their next chunk; none is left reading a closed channel for long.
            next.set(Long.MAX_VALUE / 2);
            Thread.currentThread().interrupt();
            throw new DwcpException(ErrorCode.CANCELLED, "interrupted while hashing " + file, e);
        }
        Throwable f = failure[0];
        if (f instanceof IOException io) {
            throw io;
        }
        if (f instanceof RuntimeException r) {
            throw r;
        }
        if (f != null) {
            throw new DwcpException(ErrorCode.INTERNAL_ERROR, "hashing " + file + " failed: " + f, f);
        }
        return out;
    }
}
