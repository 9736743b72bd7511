package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.state.WritableRegion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.ToLongFunction;

/**
 * A seeded round into an {@link InPlaceReplica} whose seed is another file (an image, another key's replica): the
 * file is written as the round's batches arrive, each batch's pages hashed on the way, so that after the END frame
 * only the pages the round does not touch (the seed's pages at their index) are read, hashed and written, and the
 * hashes folded into the state digest. This is what an in-place full round does too: the file may hold a round that
 * is then refused (its digest differs), and {@link InPlaceReplica} marks it inconsistent until a round commits; the
 * destination only runs from a file whose final round committed. A replica in a {@link FileReplicas} directory is
 * never written before it is verified ({@link SeedDecoder}).
 *
 * <p>Owns one thread, the staged replica (closed unpublished unless {@link #publish()}ed), a read-only mapping of the
 * seed ({@link SeedFile}: a copied page is a memory copy, not a read call of its own) and 16 bytes a page of the
 * receive budget (24 with the codec's page hashes). The decoder's thread calls every method; the writing thread fills {@link #hashes} and writes the
 * file, read after a join. {@link #close()} is idempotent.
 */
final class SeedWriteAhead implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SeedWriteAhead.class);

    private final String key;
    private final Path seedFile;
    private final int pageSize;
    private final long stateBytes;
    private final long pages;
    private final ReplicaFactory.StagedReplica staged;
    private final SeedAheadHasher.PagesOpener opener;
    private final ReceiveBuffers buffers;
    private final long reserved;
    private final long[] hashes;
    /** The codec's hash of a page, or null; with it {@link #codecHashes} has one a page, filled as {@link #hashes}. */
    private final ToLongFunction<ByteBuffer> codecHash;
    private final long[] codecHashes;
    private final ExecutorService writer;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final PageRunWriter runs;
    /** The seed mapped read only: the writing thread's and then {@link #finish}'s reads; unmapped by close. */
    private final SeedFile seed;
    private Future<?> last;
    private boolean closed;

    /**
     * @param codecHash the codec's hash of a written page ({@link io.dwcp.core.spi.StateCodec#receivedPageHash}), so
     *     that the codec adopts the result from the hashes of the bytes written here; null: none (the state's size must
     *     be a whole number of pages for one)
     */
    SeedWriteAhead(String key, Path seedFile, int pageSize, long stateBytes, ReplicaFactory.StagedReplica staged,
                   ReceiveBuffers buffers, SeedAheadHasher.PagesOpener opener, ToLongFunction<ByteBuffer> codecHash)
            throws IOException {
        this.key = key;
        this.seedFile = seedFile;
        this.pageSize = pageSize;
        this.stateBytes = stateBytes;
        this.pages = SeedHashes.pages(stateBytes, pageSize);
        this.staged = staged;
        this.opener = opener;
        this.buffers = buffers;
        if (codecHash != null && stateBytes % pageSize != 0) {
            throw new IllegalArgumentException("codec page hashes of a state of " + stateBytes + " bytes, not whole pages of "
                    + pageSize);
        }
        long cost = (codecHash != null ? 3L : 2L) * Long.BYTES * pages;
        buffers.reserve(cost, "page hashes of the seeded round of " + key);
        this.reserved = cost;
        this.hashes = new long[(int) (2 * pages)];
        this.codecHash = codecHash;
        this.codecHashes = codecHash == null ? null : new long[(int) pages];
        try {
            this.seed = SeedFile.map(seedFile);
        } catch (IOException | RuntimeException e) {
            buffers.release(cost);
            throw e;
        }
        this.runs = new PageRunWriter(region(), pageSize, SeedHashes.runPages(pageSize));
        this.writer = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "dwcp-seed-write-ahead");
            t.setDaemon(true);
            return t;
        });
    }

    private WritableRegion region() {
        return staged.state().region(0);
    }

    /** {@return the replica written} (for the codec to adopt once published) */
    ReplicaFactory.StagedReplica staged() {
        return staged;
    }

    /** Writes and hashes a batch's pages on the writing thread, after the batches before it. */
    void batchArrived(SeedBatch batch) {
        Future<?> before = last;
        last = writer.submit(() -> {
            if (before != null) {
                before.get(); // one failed batch fails the round: finish() reports it
            }
            SeedHashes h = new SeedHashes();
            long[] out = new long[2];
            try (FileChannel in = FileChannel.open(seedFile, StandardOpenOption.READ); SeedPages p = opener.open(in, List.of(batch))) {
                p.mapped(seed);
                for (int page : batch.pages()) {
                    if (stop.get()) {
                        throw new CancellationException("seeded round closed");
                    }
                    hashAndWrite(page, p.page(page), h, out, runs);
                }
            }
            return null;
        });
    }

    /**
     * After the END frame: waits for the batches, then reads, hashes and writes the pages no batch wrote (the seed's
     * page at the same index), and folds every page's hash into {@code next} in page order. {@return the pages written}
     */
    long finish(BitSet targets, SeedDescription.Writer next) throws IOException {
        if (last != null) {
            try {
                last.get();
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                if (c instanceof DwcpException d) {
                    throw d;
                }
                throw c instanceof IOException io ? io : new IOException("writing the seeded round of '" + key + "' failed: " + c, c);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DwcpException(ErrorCode.CANCELLED, "interrupted while writing the seeded round of '" + key + "'");
            }
        }
        runs.flush();
        PageRunWriter rest = new PageRunWriter(region(), pageSize, SeedHashes.runPages(pageSize));
        SeedHashes h = new SeedHashes();
        long[] out = new long[2];
        ByteBuffer page = ByteBuffer.allocateDirect(pageSize);
        long kept = 0;
        for (int i = targets.nextClearBit(0); i < pages; i = targets.nextClearBit(i + 1)) {
            page.clear().limit((int) Math.min(pageSize, stateBytes - (long) i * pageSize));
            seed.read(page, (long) i * pageSize);
            page.flip();
            hashAndWrite(i, page, h, out, rest);
            kept++;
        }
        rest.flush();
        next.addHashes(hashes);
        LOG.debug("seeded round of '{}': {} pages written as they arrived, {} from the seed after its END frame", key,
                pages - kept, kept);
        return pages;
    }

    /**
     * {@return the codec's hash of every page as written, or null when there is no codec hash} Complete after
     * {@link #finish}; the array is this object's (the codec copies what it keeps).
     */
    long[] codecHashes() {
        return codecHashes;
    }

    /**
     * Hashes page {@code i}'s {@code bytes} into {@link #hashes} (and {@link #codecHashes}, with a codec hash), then
     * hands them to {@code w} to be written ({@code out}: scratch). The hashes are of the very bytes written.
     */
    private void hashAndWrite(int i, ByteBuffer bytes, SeedHashes h, long[] out, PageRunWriter w) throws IOException {
        h.pageHash(bytes.duplicate(), out, 0);
        hashes[2 * i] = out[0];
        hashes[2 * i + 1] = out[1];
        if (codecHash != null) {
            codecHashes[i] = codecHash.applyAsLong(bytes.duplicate());
        }
        w.add(i, bytes);
    }

    /** Makes the written file the replica (flushes it). */
    void publish() throws IOException {
        staged.publish();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        stop.set(true);
        writer.shutdownNow();
        boolean ended = false;
        try {
            ended = writer.awaitTermination(30, TimeUnit.SECONDS);
            if (!ended) {
                LOG.warn("seeded round of '{}': a batch was still being written 30 s after close", key);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (ended) {
            seed.close(); // else the writing thread may still read it: the collector unmaps it once it is unreachable
        }
        FileReplicas.closeQuietly(staged); // unpublished: the in-place replica stays marked inconsistent
        buffers.release(reserved);
    }
}
