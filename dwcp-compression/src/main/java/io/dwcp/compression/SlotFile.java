package io.dwcp.compression;

import io.dwcp.core.spi.StateCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/*
 * A receiver's delta round keeps the pages it replaces in a scratch file instead of direct memory (hundreds of MiB at a
 * large change: the round's peak). Each batch is decoded into a direct buffer of its own (take); once the batch
 * completed, in batch order, and its copies from earlier pages were made, the feeding thread writes the buffer's pages
 * to the file with positional writes and maps them back read-only (stage): later reads (copies from earlier pages, the
 * replica write, the baseline's update) see the mapping, which is page cache, not memory of this process's own; the
 * buffer goes back for the next batch. So the round's memory is its batches in flight, not its pages.
 *
 * Nothing writes into a mapping (a store into a mapped page of a full file system is a SIGBUS, and native zstd output
 * would crash the JVM): a full disk is an IOException from the positional write. Then (or when no file could be
 * opened) the round goes on in memory as before: staged batches stay mapped, the rest keep their buffers, and later
 * batches carve from the round's arena. The file is deleted when its channel closes (the opener's contract).
 *
 * Ownership: every buffer handed out is in `lent` until staged (then in `idle`, or back to the pool) or until close();
 * every mapping in `mapped` until close(). Threading: take() from workers (synchronised); stage(), close() on the
 * feeding thread, close() only after every job ended (HdeDecoder.releaseScratch).
 */
final class SlotFile implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SlotFile.class);

    private final StateCodec.ScratchFiles opener;
    private final ChunkPool pool;
    private final String key;
    private final int maxIdle;
    private final Set<ByteBuffer> lent = Collections.newSetFromMap(new IdentityHashMap<>());
    private final ArrayDeque<ByteBuffer> idle = new ArrayDeque<>();
    private final List<MappedByteBuffer> mapped = new ArrayList<>();
    private FileChannel channel;
    private long position;
    /** The file could not be opened or written: the round goes on in memory. */
    private volatile boolean off;
    private boolean closed;

    /** Stages in files from {@code opener}, with buffers from {@code pool}; keeps up to {@code maxIdle} idle ones. */
    SlotFile(StateCodec.ScratchFiles opener, ChunkPool pool, String key, int maxIdle) {
        this.opener = opener;
        this.pool = pool;
        this.key = key;
        this.maxIdle = maxIdle;
    }

    /** Whether batches are still staged in the file (false after a failure to open or write it). */
    boolean active() {
        return !off;
    }

    /** A direct buffer of at least {@code bytes} for one batch's pages (any thread; contents undefined). */
    synchronized ByteBuffer take(int bytes) {
        ByteBuffer b = null;
        for (int i = idle.size(); i > 0; i--) {
            ByteBuffer c = idle.pollFirst();
            if (c.capacity() >= bytes) {
                b = c;
                break;
            }
            idle.addLast(c);
        }
        if (b == null) {
            b = bytes <= PageStore.CHUNK_BYTES ? pool.take(PageStore.CHUNK_BYTES) : DirectMemory.allocate(bytes);
        }
        lent.add(b);
        return b;
    }

    /**
     * Writes {@code [0, bytes)} of {@code buffer} (from {@link #take}) to the file and {@return a read-only mapping of
     * those bytes}, taking the buffer back; or null, the buffer kept by its user, when the file cannot be written (the
     * round goes on in memory).
     */
    ByteBuffer stage(ByteBuffer buffer, int bytes) {
        synchronized (this) {
            if (off || !lent.contains(buffer)) {
                return null;
            }
        }
        MappedByteBuffer m;
        try {
            if (channel == null) {
                channel = opener.open();
                if (channel == null) {
                    off = true;
                    LOG.debug("no scratch file for the delta round of {}: its pages stay in memory", key);
                    return null;
                }
            }
            ByteBuffer src = buffer.duplicate().position(0).limit(bytes);
            long at = position;
            while (src.hasRemaining()) {
                at += channel.write(src, at);
            }
            m = channel.map(FileChannel.MapMode.READ_ONLY, position, bytes);
            position = at;
        } catch (IOException | RuntimeException e) {
            off = true;
            LOG.warn("cannot stage the delta round of {} in a scratch file ({}); its remaining pages stay in memory", key,
                    e.toString());
            return null;
        }
        mapped.add(m);
        synchronized (this) {
            lent.remove(buffer);
            giveBack(buffer);
        }
        return m;
    }

    /** Bytes written to the file so far. */
    long stagedBytes() {
        return position;
    }

    private void giveBack(ByteBuffer b) {
        if (idle.size() < maxIdle) {
            idle.addFirst(b);
        } else {
            pool.give(b);
        }
    }

    /** Unmaps, frees every buffer and closes (so deletes) the file. Idempotent; only after every job ended. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            for (ByteBuffer b : lent) {
                pool.give(b);
            }
            lent.clear();
            for (ByteBuffer b : idle) {
                pool.give(b);
            }
            idle.clear();
        }
        for (MappedByteBuffer m : mapped) {
            DirectMemory.free(m);
        }
        mapped.clear();
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                LOG.warn("closing the scratch file of the delta round of {} failed", key, e);
            }
            channel = null;
        }
    }
}
