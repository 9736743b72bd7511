package io.dwcp.core.migration;

import io.dwcp.core.memory.DirectBuffers;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.VmState;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A copy of a region that changes while it is read (a running guest's RAM), taken piece by piece as the region is
 * first read: each piece of {@value #PIECE_BYTES} bytes is copied at its first read, and every later read of it gets
 * that copy. A replica-seeded round of a live source reads it through this, so that what it hashes, what it sends
 * and what its codec adopts as the next round's baseline are the same bytes, although the guest keeps writing: a
 * page written after its piece was copied is sent by the next round, as in any pre-copy round (the piece itself may
 * hold torn pages, which are equally harmless: the copy is what the digest covers).
 *
 * <p>The copy is kept in a temporary file, deleted when this closes: in {@code /dev/shm} when that is a writable
 * directory (memory), else in {@code java.io.tmpdir}. A piece's first read is served from the buffer the piece was
 * just read into (the copy is written from it, not read back); later reads come from a read-only mapping of the copy
 * (no system call, no bounce buffer). Closing unmaps it at once, so the copy's memory is returned then, not when the
 * collector gets to the mapping; reads after closing fail. Thread-safe; {@link #close()} is idempotent.
 */
final class LiveSnapshot implements StateRegion {
    /** Copied at a time: 64 pages of 4 KiB. */
    static final int PIECE_BYTES = 256 << 10;
    /** The copy is mapped in windows of this size (a multiple of {@link #PIECE_BYTES}), each at its first later read. */
    static final long WINDOW_BYTES = 1L << 30;
    private static final int LOCKS = 64;

    private final StateRegion live;
    private final FileChannel copy;
    private final long size;
    private final long pieces;
    private final AtomicLongArray copied;
    private final Object[] locks = new Object[LOCKS];
    private final ThreadLocal<ByteBuffer> buffers = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(PIECE_BYTES));
    /** Read-only mappings of the copy, made at first use; unmapped by close (under the write lock). */
    private final MappedByteBuffer[] windows;
    /** Reads hold the read lock while they touch the mappings; close takes the write lock to unmap them. */
    private final ReentrantReadWriteLock open = new ReentrantReadWriteLock();
    private boolean closed;

    private LiveSnapshot(StateRegion live, FileChannel copy) {
        this.live = live;
        this.copy = copy;
        this.size = live.sizeBytes();
        this.pieces = (size + PIECE_BYTES - 1) / PIECE_BYTES;
        this.copied = new AtomicLongArray((int) ((pieces + 63) / 64));
        this.windows = new MappedByteBuffer[(int) ((size + WINDOW_BYTES - 1) / WINDOW_BYTES)];
        for (int i = 0; i < LOCKS; i++) {
            locks[i] = new Object();
        }
    }

    /** {@return {@code state} (of one region) read through a copy taken as it is first read} Close its region after the round. */
    static VmState<LiveSnapshot> of(VmState<? extends StateRegion> state) throws IOException {
        Path dir = Path.of("/dev/shm");
        if (!Files.isDirectory(dir) || !Files.isWritable(dir)) {
            dir = Path.of(System.getProperty("java.io.tmpdir"));
        }
        Path file = Files.createTempFile(dir, ".dwcp-live-" + state.key().replaceAll("[^A-Za-z0-9_.-]", "_") + "-", ".snapshot");
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE,
                StandardOpenOption.DELETE_ON_CLOSE);
        LiveSnapshot region;
        try {
            region = new LiveSnapshot(state.region(0), ch);
            region.extend();
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        return VmState.<LiveSnapshot>builder(state.key()).pageSizeBytes(state.pageSizeBytes())
                .lastPagePartial(state.lastPagePartial()).region(region).build();
    }

    @Override
    public String name() {
        return live.name();
    }

    @Override
    public long sizeBytes() {
        return size;
    }

    @Override
    public void read(long offsetBytes, ByteBuffer dst) throws IOException {
        int want = dst.remaining();
        if (offsetBytes < 0 || offsetBytes + want > size) {
            throw new IndexOutOfBoundsException("read of " + want + " bytes at " + offsetBytes + " of " + size);
        }
        if (want == 0) {
            return;
        }
        open.readLock().lock();
        try {
            if (closed) {
                throw new IOException("the live snapshot of " + live.name() + " is closed");
            }
            long pos = offsetBytes;
            while (dst.hasRemaining()) {
                long piece = pos / PIECE_BYTES;
                long pieceStart = piece * PIECE_BYTES;
                int inPiece = (int) (pos - pieceStart);
                int n = (int) Math.min(dst.remaining(), Math.min(PIECE_BYTES, size - pieceStart) - inPiece);
                ByteBuffer justRead = copyFirst(piece);
                if (justRead != null) {
                    dst.put(justRead.slice(inPiece, n));
                } else {
                    MappedByteBuffer w = window((int) (pos / WINDOW_BYTES));
                    dst.put(w.slice((int) (pos % WINDOW_BYTES), n));
                }
                pos += n;
            }
        } finally {
            open.readLock().unlock();
        }
    }

    /** {@return pieces copied so far} (for tests) */
    long piecesCopied() {
        long n = 0;
        for (int i = 0; i < copied.length(); i++) {
            n += Long.bitCount(copied.get(i));
        }
        return n;
    }

    private boolean isCopied(long piece) {
        return (copied.get((int) (piece >>> 6)) & 1L << (piece & 63)) != 0;
    }

    /**
     * Copies {@code piece} if no read has yet: {@return the buffer it was read into (this thread's, valid until its
     * next call), or null when it was copied before} (then the copy has it).
     */
    private ByteBuffer copyFirst(long piece) throws IOException {
        if (isCopied(piece)) {
            return null;
        }
        synchronized (locks[(int) (piece % LOCKS)]) {
            if (isCopied(piece)) {
                return null;
            }
            long off = piece * PIECE_BYTES;
            ByteBuffer b = buffers.get().clear();
            b.limit((int) Math.min(PIECE_BYTES, size - off));
            live.read(off, b);
            b.flip();
            ByteBuffer w = b.duplicate();
            long pos = off;
            while (w.hasRemaining()) {
                pos += copy.write(w, pos);
            }
            int word = (int) (piece >>> 6);
            long bit = 1L << (piece & 63);
            long old;
            do {
                old = copied.get(word);
            } while (!copied.compareAndSet(word, old, old | bit));
            return b;
        }
    }

    /** The file takes the region's size at once (a hole: no memory until pieces are written), so every window maps. */
    private void extend() throws IOException {
        if (size > 0) {
            copy.write(ByteBuffer.allocate(1), size - 1);
        }
    }

    /** Window {@code w} of the copy, mapped at its first use. Under the read lock. */
    private MappedByteBuffer window(int w) throws IOException {
        synchronized (windows) {
            if (windows[w] == null) {
                long start = w * WINDOW_BYTES;
                windows[w] = copy.map(FileChannel.MapMode.READ_ONLY, start, Math.min(WINDOW_BYTES, size - start));
            }
            return windows[w];
        }
    }

    /** Unmaps and deletes the copy; the live region stays open (its owner closes it). Idempotent. */
    @Override
    public void close() throws IOException {
        open.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            synchronized (windows) {
                for (int i = 0; i < windows.length; i++) {
                    DirectBuffers.free(windows[i]);
                    windows[i] = null;
                }
            }
            copy.close();
        } finally {
            open.writeLock().unlock();
        }
    }
}
