package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The receiver's hashing ahead of a seeded round written in place (see {@link SeedDecoder}): from the BASE frame on it
 * hashes the seed's file on a thread of its own, and each arriving batch's pages on another, so that verification
 * after the END frame only folds hashes. When the seed's description was computed by this receiver itself and the
 * replica has not changed since ({@link FileReplicas#describedHere}), the description's page hashes stand for the
 * seed's and the file is not read again.
 *
 * <p>The pages the batches produce are also staged in a file as they are hashed ({@link StagedPages}), so that the
 * round writes them after its verification by copying, not by inflating its batches again.
 *
 * <p>Owns two threads, the staged pages' file and {@code 2 × 16} bytes a page of the receive budget (the second half
 * only when there was room for it; without it only the seed is hashed ahead). Threading: the decoder's thread calls every method; the
 * hashing threads write {@link #seedHashes} and {@link #targetHashes}, read after a join. {@link #close()} stops both
 * threads, waits for them and gives the budget back (idempotent).
 */
final class SeedAheadHasher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SeedAheadHasher.class);

    /** Opens the round's pages over the seed file for the given batches. */
    @FunctionalInterface
    interface PagesOpener {
        SeedPages open(FileChannel in, List<SeedBatch> batches);
    }

    /** Creates a staging file of the replica directory (empty, unique). */
    @FunctionalInterface
    interface StagingFiles {
        Path create() throws IOException;
    }

    private final String key;
    private final Path seedFile;
    private final ReceiveBuffers buffers;
    private final PagesOpener pages;
    private long reserved;
    /** The seed's page hashes, computed from its file. */
    private final CompletableFuture<long[]> seedHashes = new CompletableFuture<>();
    /** The seed file as it was when {@link #seedHashes} started: they count only if it is still so. */
    private final SeedDescription.Stamp seedStamp;
    private final AtomicBoolean stop = new AtomicBoolean();
    /**
     * The hashes (hi, lo) of the pages the round writes, computed on {@link #batchHasher} as each batch arrives (from
     * the batch and the seed's file, which nothing writes before the round is verified). Null when there was no room;
     * a failed batch leaves the work to the verification after END, which then reports the batch's fault.
     */
    private final long[] targetHashes;
    private ExecutorService batchHasher;
    private Future<?> lastBatchHash;
    private boolean closed;
    /** Creates {@link #staged}'s file; null: the pages are not staged. */
    private final StagingFiles stagingFiles;
    /**
     * The pages the batches produce, staged in a file as they are hashed (created with the first batch; written by
     * the batch thread, read by the decoder's after {@link #batchHashes()}); null when not (yet) made.
     */
    private StagedPages staged;
    /** Set when staging failed (a full disk): the round then inflates its batches again after END (batch thread only). */
    private boolean stagingFailed;
    private final int pageSize;

    private SeedAheadHasher(String key, Path seedFile, SeedDescription trusted, long stateBytes, int pageSize,
                            ReceiveBuffers buffers, PagesOpener pages, long reserved, boolean hashBatches,
                            StagingFiles stagingFiles) throws IOException {
        this.key = key;
        this.stagingFiles = stagingFiles;
        this.pageSize = pageSize;
        this.seedFile = seedFile;
        this.buffers = buffers;
        this.pages = pages;
        this.reserved = reserved;
        long pageCount = SeedHashes.pages(stateBytes, pageSize);
        this.targetHashes = hashBatches ? new long[(int) (2 * pageCount)] : null;
        if (hashBatches) {
            batchHasher = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "dwcp-seed-batch-hash");
                t.setDaemon(true);
                return t;
            });
        }
        this.seedStamp = SeedDescription.Stamp.of(seedFile);
        Thread t = new Thread(() -> {
            try {
                seedHashes.complete(trusted != null ? trusted.allPageHashes()
                        : FilePageHashes.hash(seedFile, stateBytes, pageSize, stop));
            } catch (Throwable e) {
                seedHashes.completeExceptionally(e);
            }
        }, "dwcp-seed-verify");
        t.setDaemon(true);
        t.start();
    }

    /**
     * Starts hashing a seed ahead, within the receive budget (16 bytes a page for the seed's hashes, 16 more for the
     * round's pages); {@return the hasher, or null when there is no room: verification then hashes the whole state
     * after the END frame}
     *
     * @param trusted the seed's description, when its page hashes may stand for the file's (else null: the file is
     *     read and hashed)
     * @param stagingFiles where the pages the batches produce are staged as they are hashed ({@link #stagedPages}),
     *     or null: they are not
     */
    static SeedAheadHasher start(String key, Path seedFile, SeedDescription trusted, long stateBytes, int pageSize,
                                 ReceiveBuffers buffers, PagesOpener pages, StagingFiles stagingFiles) throws IOException {
        long cost = 2L * Long.BYTES * SeedHashes.pages(stateBytes, pageSize);
        try {
            buffers.reserve(cost, "seed page hashes of " + key);
        } catch (DwcpException e) {
            LOG.debug("seeded round of '{}': no room to hash the seed ahead ({}); it is hashed after the round", key, e.getMessage());
            return null;
        }
        long reserved = cost;
        boolean hashBatches = false;
        try {
            buffers.reserve(cost, "result page hashes of " + key);
            reserved += cost;
            hashBatches = true;
        } catch (DwcpException e) {
            LOG.debug("seeded round of '{}': no room to hash the batches as they arrive ({})", key, e.getMessage());
        }
        try {
            return new SeedAheadHasher(key, seedFile, trusted, stateBytes, pageSize, buffers, pages, reserved, hashBatches,
                    stagingFiles);
        } catch (IOException | RuntimeException e) {
            buffers.release(reserved);
            throw e;
        }
    }

    /** Hashes a batch's pages on the batch thread, after the batches before it (when there is room for them). */
    void batchArrived(SeedBatch batch) {
        if (batchHasher == null) {
            return;
        }
        Future<?> before = lastBatchHash;
        lastBatchHash = batchHasher.submit(() -> {
            if (before != null) {
                before.get(); // one failed batch fails every later one: verification then does it all again
            }
            hashBatch(batch);
            return null;
        });
    }

    /**
     * Hashes the pages one batch produces into {@link #targetHashes} (on {@link #batchHasher}); a batch in the round's
     * spill file is read back from it (its bytes were written before the batch was handed over, and the decoder closes
     * this hasher before it deletes the file).
     */
    private void hashBatch(SeedBatch b) throws IOException {
        SeedHashes hashes = new SeedHashes();
        long[] h = new long[2];
        if (staged == null && stagingFiles != null && !stagingFailed && !stop.get()) {
            try {
                staged = new StagedPages(stagingFiles.create(), pageSize);
            } catch (IOException | RuntimeException e) {
                stagingFailed(e);
            }
        }
        try (FileChannel in = FileChannel.open(seedFile, StandardOpenOption.READ); SeedPages p = pages.open(in, List.of(b))) {
            for (int page : b.pages()) {
                if (stop.get()) {
                    throw new CancellationException("seeded round closed");
                }
                ByteBuffer bytes = p.page(page);
                hashes.pageHash(bytes, h, 0);
                targetHashes[2 * page] = h[0];
                targetHashes[2 * page + 1] = h[1];
                if (staged != null && !stagingFailed) {
                    try {
                        staged.add(bytes);
                    } catch (IOException | RuntimeException e) {
                        stagingFailed(e);
                    }
                }
            }
        }
        if (staged != null && !stagingFailed) {
            try {
                staged.flush();
            } catch (IOException | RuntimeException e) {
                stagingFailed(e);
            }
        }
    }

    /** Staging the pages failed: they are hashed on, and written from the batches after the round is verified. */
    private void stagingFailed(Exception e) {
        stagingFailed = true;
        LOG.info("seeded round of '{}': staging its pages failed ({}); they are inflated again after its END frame",
                key, e.toString());
    }

    /**
     * {@return the pages the round's batches produced, in page order, when every batch was hashed and staged as it
     * arrived; else null} (waits for the last batch; owned by this hasher, valid until {@link #close()})
     */
    StagedPages stagedPages() {
        return batchHashes() != null && staged != null && !stagingFailed ? staged : null;
    }

    /** Waits until the seed's hashing ended; for tests. */
    void awaitSeedHashed() {
        seedHashes.handle((r, e) -> null).join();
    }

    /**
     * {@return the seed's page hashes, if they were computed and the seed file has not changed since they started}
     * (the key is held by then, so it cannot change any more); null otherwise. Waits for them.
     */
    long[] seedHashesIfCurrent() throws IOException {
        try {
            long[] h = seedHashes.join();
            if (SeedDescription.Stamp.of(seedFile).equals(seedStamp)) {
                return h;
            }
            LOG.info("seeded round of '{}': the seed changed while it was hashed ahead; hashing it again", key);
        } catch (CompletionException e) {
            LOG.info("seeded round of '{}': hashing the seed ahead failed ({}); hashing it again", key, e.getCause().toString());
        }
        return null;
    }

    /**
     * {@return the hashes of the pages the round writes, when every batch's pages were hashed as they arrived; else
     * null} (waits for the last batch)
     */
    long[] batchHashes() {
        if (batchHasher == null) {
            return null;
        }
        if (lastBatchHash == null) {
            return targetHashes;
        }
        try {
            lastBatchHash.get();
            return targetHashes;
        } catch (ExecutionException e) {
            LOG.debug("seeded round of '{}': hashing a batch on arrival failed ({}); verifying from the batches",
                    key, e.getCause().toString());
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DwcpException(ErrorCode.CANCELLED, "interrupted while verifying the seeded round of '" + key + "'");
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        stop.set(true);
        if (batchHasher != null) {
            batchHasher.shutdownNow();
            try {
                if (!batchHasher.awaitTermination(30, TimeUnit.SECONDS)) {
                    LOG.warn("seeded round of '{}': a batch was still being hashed 30 s after close", key);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            batchHasher = null;
        }
        if (staged != null) {
            // The batch thread has ended, or (after 30 s) its next write fails on the closed channel: the staged
            // pages' direct buffer is freed only by the collector, so nothing it still uses is freed here.
            staged.close();
        }
        // The hashing thread stops at its next chunk; the budget it uses is given back only then.
        seedHashes.handle((r, e) -> null).join();
        buffers.release(reserved);
        reserved = 0;
    }
}
