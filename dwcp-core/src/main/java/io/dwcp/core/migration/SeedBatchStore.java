package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.ToLongFunction;

/**
 * Where a seeded round's batches wait for the END frame (see {@link SeedDecoder}): a batch's compressed bytes are held
 * on the heap while the round's heap share allows (reserved in the receive budget), and beyond it appended to a spill
 * file in the replica directory, of which the batch keeps only its offset and length. The spill file is a staging
 * file of {@link FileReplicas} ({@link FileReplicas#createSpillFile}): it is created on the first spilled batch,
 * deleted by {@link #close()}, and one left by a crash is deleted when the directory is opened again.
 *
 * <p>Owned by one decoder. Threading: the decoder's thread adds batches and closes; a batch's bytes may be read back
 * ({@link #read}) on the round's hashing thread too (positional reads, of bytes written before the batch was handed
 * over), which the decoder stops before it closes the store. {@link #close()} is idempotent.
 */
final class SeedBatchStore implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SeedBatchStore.class);

    /** Creates the round's spill file (empty, unique to the round). */
    @FunctionalInterface
    interface SpillFiles {
        Path create() throws IOException;
    }

    private final String key;
    private final ReceiveBuffers buffers;
    private final long heapShare;
    private final SpillFiles files;
    private final ToLongFunction<Path> usableSpace;
    /** Bytes of batches on the heap, all reserved in {@link #buffers}. */
    private long onHeap;
    private volatile FileChannel channel;
    private Path file;
    private long spilledBytes;
    private int spilledBatches;
    private boolean closed;

    /**
     * @param heapShare   at most this many bytes of batches are held on the heap (and reserved in {@code buffers})
     * @param usableSpace the free bytes of the file system of a path (tests give a full disk)
     */
    SeedBatchStore(String key, ReceiveBuffers buffers, long heapShare, SpillFiles files, ToLongFunction<Path> usableSpace) {
        this.key = key;
        this.buffers = buffers;
        this.heapShare = heapShare;
        this.files = files;
        this.usableSpace = usableSpace;
    }

    /**
     * {@return the usable space of {@code p}'s file system; {@link Long#MAX_VALUE} when it cannot be read, so that an
     * unknown free space does not refuse a spill that would fit (the write itself then reports a full disk)}
     */
    static long usableSpace(Path p) {
        try {
            return Files.getFileStore(p).getUsableSpace();
        } catch (IOException e) {
            LOG.debug("the free space of {} is unknown: {}", p, e.toString());
            return Long.MAX_VALUE;
        }
    }

    /** Keeps the batch whose compressed bytes are {@code bytes}' remaining ones (consumed); {@return the batch} */
    SeedBatch add(int[] pages, int[] sources, int literals, int rawBytes, int format, ByteBuffer bytes) {
        if (closed) {
            throw new DwcpException(ErrorCode.ILLEGAL_STATE, "the batches of the seeded round of '" + key + "' were discarded");
        }
        int length = bytes.remaining();
        if (onHeap + length <= heapShare && tryReserve(length)) {
            onHeap += length;
            byte[] deflated = new byte[length];
            bytes.get(deflated);
            return new SeedBatch(pages, sources, literals, rawBytes, format, deflated);
        }
        long offset = spill(bytes);
        return new SeedBatch(pages, sources, literals, rawBytes, format, null, this, offset, length);
    }

    private boolean tryReserve(long length) {
        try {
            buffers.reserve(length, "a batch of the seeded round of " + key);
            return true;
        } catch (DwcpException e) {
            return false; // other rounds hold the budget: this batch waits on disk
        }
    }

    /** Appends the bytes to the spill file (created on the first batch); {@return their offset} */
    private long spill(ByteBuffer bytes) {
        int length = bytes.remaining();
        try {
            if (channel == null) {
                file = files.create();
                channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
                LOG.info("seeded round of '{}': its batches pass its share of the receive buffer ({} bytes); the rest"
                        + " wait in {}", key, heapShare, file);
            }
            long free = usableSpace.applyAsLong(file);
            if (length > free) {
                throw full(length, free, null);
            }
            long offset = spilledBytes;
            while (bytes.hasRemaining()) {
                channel.write(bytes, offset + (length - bytes.remaining()));
            }
            spilledBytes += length;
            spilledBatches++;
            return offset;
        } catch (IOException e) {
            long free = file == null ? 0 : usableSpace.applyAsLong(file);
            if (free < length) {
                throw full(length, free, e);
            }
            throw new DwcpException(ErrorCode.IO_ERROR, "spilling a batch of the seeded round of '" + key + "' to "
                    + file + " failed: " + e.getMessage() + "; the replica is unchanged", e);
        }
    }

    private DwcpException full(int length, long free, IOException cause) {
        return new DwcpException(ErrorCode.RESOURCE_EXHAUSTED, "the seeded round of '" + key + "' needs " + length
                + " more bytes for a batch that does not fit its share of the receive buffer, and the file system of "
                + (file != null ? file.getParent() : "the replica directory") + " has " + free + " bytes free; free"
                + " disk space there or raise dwcp.migration.receive-buffer-per-peer; the replica is unchanged", cause);
    }

    /** {@return the {@code length} bytes spilled at {@code offset}} */
    byte[] read(long offset, int length) {
        return read(offset, length, new byte[length]);
    }

    /** Reads the {@code length} bytes spilled at {@code offset} into the start of {@code into}; {@return into} */
    byte[] read(long offset, int length, byte[] into) {
        FileChannel ch = channel;
        if (ch == null || offset < 0 || offset + length > spilledBytes) {
            throw new DwcpException(ErrorCode.ILLEGAL_STATE, "no spilled batch of " + length + " bytes at " + offset
                    + " in the seeded round of '" + key + "'");
        }
        ByteBuffer b = ByteBuffer.wrap(into, 0, length);
        try {
            while (b.hasRemaining()) {
                if (ch.read(b, offset + b.position()) < 0) {
                    throw new DwcpException(ErrorCode.CORRUPT_FRAME, "the spill file " + file + " of the seeded round of '"
                            + key + "' ends at " + (offset + b.position()) + " bytes; it held " + spilledBytes
                            + " (something else truncated it); nothing was written");
                }
            }
        } catch (IOException e) {
            throw new DwcpException(ErrorCode.IO_ERROR, "reading a spilled batch of the seeded round of '" + key
                    + "' from " + file + " failed: " + e.getMessage(), e);
        }
        return b.array();
    }

    /** {@return the bytes of batches in the spill file} */
    long spilledBytes() {
        return spilledBytes;
    }

    /** {@return how many batches are in the spill file} */
    int spilledBatches() {
        return spilledBatches;
    }

    /** {@return the spill file, null when nothing was spilled} (for tests) */
    Path file() {
        return file;
    }

    /** Gives back the heap share and deletes the spill file (idempotent). */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        buffers.release(onHeap);
        onHeap = 0;
        FileChannel ch = channel;
        channel = null;
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException e) {
                LOG.warn("closing the spill file {} failed", file, e);
            }
        }
        if (file != null) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                LOG.warn("deleting the spill file {} failed; the replica directory's next open deletes it", file, e);
            }
        }
    }
}
