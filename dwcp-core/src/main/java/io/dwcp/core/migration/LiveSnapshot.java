package io.dwcp.core.migration;

import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.VmState;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A copy of a region that changes while it is read (a running guest's RAM), taken piece by piece as the region is
 * first read: each piece of {@value #PIECE_BYTES} bytes is copied at its first read, and every later read of it gets
 * that copy. A replica-seeded round of a live source reads it through this, so that what it hashes, what it sends
 * and what its codec adopts as the next round's baseline are the same bytes, although the guest keeps writing: a
 * page written after its piece was copied is sent by the next round, as in any pre-copy round (the piece itself may
 * hold torn pages, which are equally harmless: the copy is what the digest covers).
 *
 * <p>The copy is kept in a temporary file, deleted when this closes: in {@code /dev/shm} when that is a writable
 * directory (memory), else in {@code java.io.tmpdir}. Thread-safe; {@link #close()} is idempotent.
 */
final class LiveSnapshot implements StateRegion {
    /** Copied at a time: 64 pages of 4 KiB. */
    static final int PIECE_BYTES = 256 << 10;
    private static final int LOCKS = 64;

    private final StateRegion live;
    private final FileChannel copy;
    private final long pieces;
    private final AtomicLongArray copied;
    private final Object[] locks = new Object[LOCKS];
    private final ThreadLocal<ByteBuffer> buffers = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(PIECE_BYTES));

    private LiveSnapshot(StateRegion live, FileChannel copy) {
        this.live = live;
        this.copy = copy;
        this.pieces = (live.sizeBytes() + PIECE_BYTES - 1) / PIECE_BYTES;
        this.copied = new AtomicLongArray((int) ((pieces + 63) / 64));
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
        LiveSnapshot region = new LiveSnapshot(state.region(0), ch);
        return VmState.<LiveSnapshot>builder(state.key()).pageSizeBytes(state.pageSizeBytes())
                .lastPagePartial(state.lastPagePartial()).region(region).build();
    }

    @Override
    public String name() {
        return live.name();
    }

    @Override
    public long sizeBytes() {
        return live.sizeBytes();
    }

    @Override
    public void read(long offsetBytes, ByteBuffer dst) throws IOException {
        int want = dst.remaining();
        if (offsetBytes < 0 || offsetBytes + want > live.sizeBytes()) {
            throw new IndexOutOfBoundsException("read of " + want + " bytes at " + offsetBytes + " of " + live.sizeBytes());
        }
        if (want == 0) {
            return;
        }
        for (long p = offsetBytes / PIECE_BYTES, last = (offsetBytes + want - 1) / PIECE_BYTES; p <= last; p++) {
            ensureCopied(p);
        }
        long pos = offsetBytes;
        while (dst.hasRemaining()) {
            int n = copy.read(dst, pos);
            if (n < 0) {
                throw new IOException("the live snapshot ended at " + pos);
            }
            pos += n;
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

    private void ensureCopied(long piece) throws IOException {
        if (isCopied(piece)) {
            return;
        }
        synchronized (locks[(int) (piece % LOCKS)]) {
            if (isCopied(piece)) {
                return;
            }
            long off = piece * PIECE_BYTES;
            ByteBuffer b = buffers.get().clear();
            b.limit((int) Math.min(PIECE_BYTES, live.sizeBytes() - off));
            live.read(off, b);
            b.flip();
            long pos = off;
            while (b.hasRemaining()) {
                pos += copy.write(b, pos);
            }
            int word = (int) (piece >>> 6);
            long bit = 1L << (piece & 63);
            long old;
            do {
                old = copied.get(word);
            } while (!copied.compareAndSet(word, old, old | bit));
        }
    }

    /** Deletes the copy; the live region stays open (its owner closes it). Idempotent. */
    @Override
    public void close() throws IOException {
        copy.close();
    }
}
