package io.dwcp.compression;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/*
 * The writes behind the decode of a keyframe into a staging replica (HdeDecoder with a Publisher). Decoded pages go to
 * the staging replica in pieces of at least WRITE_BEHIND_BYTES, on the codec's workers; or, when the keyframe is decoded
 * in place (its page store is the staging file's mapping, nothing to write), pieces of an eighth of the state, at most
 * FLUSH_BEHIND_MAX_BYTES, are made durable on the codec's flusher (so the decode never waits for the disk). Either way
 * the pieces form one chain of futures, so they run one at a time in page order (writers of one file contend in the
 * kernel), and the decoder's finish() only waits for the chain's end (await), its
 * releaseScratch for the same before the staging pages are freed (drain).
 *
 * Threading: the chain's head and the first page not yet handed to it are confined to the decoder's feeding thread;
 * the tasks read only the store they were handed and the writer (stateless).
 */
final class WriteBehind {
    /** Staged keyframes are written behind in pieces of at least this many bytes (and the rest at the end). */
    private static final long WRITE_BEHIND_BYTES = 8L << 20;
    /**
     * A keyframe decoded in place is made durable behind the decode in pieces of an eighth of the state, at most this
     * many bytes, so finish() has only the tail to wait for (a 1 GiB msync at the end took half a second on the round's
     * critical path).
     */
    private static final long FLUSH_BEHIND_MAX_BYTES = 32L << 20;

    private final HdeCodec codec;
    private final ReplicaWriter writer;
    private final Layout layout;
    private final int pageSize;
    /** The last piece queued; each piece runs after the one before it. */
    private CompletableFuture<Void> writeBehind = CompletableFuture.completedFuture(null);
    /** Staged keyframe: pages decoded but not yet handed to {@link #writeBehind}, from here. */
    private long unwrittenFrom;

    WriteBehind(HdeCodec codec, ReplicaWriter writer, Layout layout) {
        this.codec = codec;
        this.writer = writer;
        this.layout = layout;
        this.pageSize = layout.pageSizeBytes;
    }

    /** Whether a piece failed (the decoder then fails at once, not after the last frame). */
    boolean failed() {
        return writeBehind.isCompletedExceptionally();
    }

    /**
     * The batch ending at {@code endPage} completed, and every batch before it: queues the pages decoded since the last
     * piece once they make a piece (a staged keyframe: {@code staged}; in place: {@code inPlace}).
     */
    void batchCompleted(long endPage, PageStore staging, boolean staged, boolean inPlace) {
        if (staged && !inPlace
                && ((endPage - unwrittenFrom) * pageSize >= WRITE_BEHIND_BYTES || endPage == layout.totalPages())) {
            scheduleWrite(staging, unwrittenFrom, endPage);
            unwrittenFrom = endPage;
        }
        if (inPlace && (endPage - unwrittenFrom) * pageSize >= Math.min(FLUSH_BEHIND_MAX_BYTES, layout.totalBytes / 8)) {
            // Pages before endPage are final: later batches write only their own pages (copies included).
            scheduleFlush(staging, unwrittenFrom, endPage);
            unwrittenFrom = endPage;
        }
    }

    /** In-place keyframe: queues making pages {@code [from, to)} durable in the staging replica (finish() forces all). */
    private void scheduleFlush(PageStore store, long from, long to) {
        writeBehind = writeBehind.thenRunAsync(() -> store.force(from, to), codec.flusher());
    }

    /**
     * Staged keyframe: queues the replica write of pages {@code [from, to)} (decoded, with their frame checksums
     * verified; the digest is checked at finish() before anything is published).
     */
    private void scheduleWrite(PageStore store, long from, long to) {
        writeBehind = writeBehind.thenRunAsync(() -> {
            try {
                writer.writePages(store, from, to);
            } catch (IOException e) {
                throw new CompletionException(e);
            }
        }, codec.workers());
    }

    /** Staged keyframe: waits until every page is in the staging replica; throws the first write failure. */
    long await() throws IOException {
        try {
            writeBehind.join();
        } catch (CompletionException e) {
            Throwable c = e.getCause();
            throw c instanceof IOException ? (IOException) c : new IOException("staging replica write failed: " + c, c);
        }
        return layout.totalPages();
    }

    /** Waits for every queued piece, ignoring failures (the decoder is failing already); before the pages are freed. */
    void drain() {
        try {
            writeBehind.join();
        } catch (CompletionException | java.util.concurrent.CancellationException e) {
            // Already failing; the staging replica is discarded by its owner.
        }
    }
}
