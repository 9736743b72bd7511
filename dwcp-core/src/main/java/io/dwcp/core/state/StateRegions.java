package io.dwcp.core.state;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Factories for {@link StateRegion}s over files, buffers and memory mappings. None of them loads a region onto the
 * heap: files are read positionally, mappings in windows of at most 1 GiB.
 */
public final class StateRegions {
    /** Largest single mapping; a region larger than this is mapped as several windows. */
    static final long MAP_WINDOW_BYTES = 1L << 30;

    private StateRegions() {
    }

    /**
     * A read-only region over a whole file, named after it. The region owns the file: close it.
     *
     * @param path the file
     * @return the region
     * @throws IOException when the file cannot be opened
     */
    public static StateRegion ofFile(Path path) throws IOException {
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
        return new FileRegion(path.getFileName().toString(), ch, 0, ch.size(), true);
    }

    /**
     * A read-only region over {@code [offsetBytes, offsetBytes + sizeBytes)} of a caller's channel. The region borrows
     * the channel: closing the region does not close it.
     *
     * @param name the region's name
     * @param channel the channel, open for reading
     * @param offsetBytes where the region starts in the channel
     * @param sizeBytes the region's size
     * @return the region
     */
    public static StateRegion ofChannel(String name, FileChannel channel, long offsetBytes, long sizeBytes) {
        return new FileRegion(name, channel, offsetBytes, sizeBytes, false);
    }

    /**
     * A writable region backed by a file of exactly {@code sizeBytes} (created sparse, or truncated/extended). The
     * region owns the file: close it.
     *
     * @param name the region's name
     * @param path the file
     * @param sizeBytes the region's size
     * @return the region
     * @throws IOException when the file cannot be opened or sized
     */
    public static WritableRegion fileReplica(String name, Path path, long sizeBytes) throws IOException {
        FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            if (ch.size() > sizeBytes) {
                ch.truncate(sizeBytes);
            } else if (ch.size() < sizeBytes && sizeBytes > 0) {
                // Extends sparsely: one byte at the end, no zero-filling of the gap.
                ch.write(ByteBuffer.allocate(1), sizeBytes - 1);
            }
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        return new FileRegion(name, ch, 0, sizeBytes, true);
    }

    /**
     * A writable region over an existing file that must be exactly {@code sizeBytes} long; unlike
     * {@link #fileReplica} it never creates, truncates or extends the file. The region owns the file: close it.
     *
     * @param name the region's name
     * @param path the file
     * @param sizeBytes the size the file must have
     * @return the region
     * @throws java.nio.file.NoSuchFileException when the file does not exist
     * @throws IOException when it cannot be opened or its size is not {@code sizeBytes}
     */
    public static WritableRegion existingFile(String name, Path path, long sizeBytes) throws IOException {
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            if (ch.size() != sizeBytes) {
                throw new IOException(path + " is " + ch.size() + " bytes, expected " + sizeBytes);
            }
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        return new FileRegion(name, ch, 0, sizeBytes, true);
    }

    /**
     * A region over the remaining bytes of {@code buffer} (heap, direct or mapped). The region borrows the buffer and
     * is writable unless the buffer is read-only.
     *
     * @param name the region's name
     * @param buffer the buffer; its position and limit bound the region
     * @return the region
     */
    public static WritableRegion ofBuffer(String name, ByteBuffer buffer) {
        return new BufferRegion(name, buffer.slice());
    }

    /**
     * A zero-filled writable region in direct memory (at most 2 GiB − 1), for tests and in-memory replicas.
     *
     * @param name the region's name
     * @param sizeBytes the region's size
     * @return the region
     */
    public static WritableRegion allocateDirect(String name, int sizeBytes) {
        return new BufferRegion(name, ByteBuffer.allocateDirect(sizeBytes));
    }

    /**
     * A read-only region over a whole file through memory mappings of at most 1 GiB each. The region owns the file
     * channel (mappings are released by the JVM once unreachable).
     *
     * @param path the file
     * @return the region
     * @throws IOException when the file cannot be opened or mapped
     */
    public static StateRegion mapped(Path path) throws IOException {
        return mapped(path, false);
    }

    /**
     * As {@link #mapped(Path)}, for a snapshot file that nothing writes while it is in use: the region is
     * {@link StateRegion#immutable() immutable}, so a sender's codec keeps views of the file as its baseline instead
     * of copying the state into memory. Pitfall: the file must not change until the key's next round has been sent
     * (or the codec stopped); see {@link StateRegion#immutable()}.
     *
     * @param path the snapshot file
     * @return the region
     * @throws IOException when the file cannot be opened or mapped
     */
    public static StateRegion mappedSnapshot(Path path) throws IOException {
        return mapped(path, true);
    }

    private static StateRegion mapped(Path path, boolean immutable) throws IOException {
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
        try {
            return new MappedRegion(path.getFileName().toString(), path, ch, ch.size(), immutable);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    static void checkRange(String name, long size, long offset, long length) {
        if (offset < 0 || length < 0 || offset > size - length) {
            throw new IndexOutOfBoundsException("range [" + offset + ", +" + length + ") is outside region '" + name
                    + "' of " + size + " bytes");
        }
    }

    /** Positional reads and writes on a file channel; thread-safe. */
    private static final class FileRegion implements WritableRegion {
        private final String name;
        private final FileChannel channel;
        private final long base;
        private final long size;
        private final boolean owned;
        private final AtomicBoolean closed = new AtomicBoolean();

        FileRegion(String name, FileChannel channel, long base, long size, boolean owned) {
            this.name = Objects.requireNonNull(name, "name");
            this.channel = Objects.requireNonNull(channel, "channel");
            if (base < 0 || size < 0) {
                throw new IllegalArgumentException("offset and size must be >= 0, got " + base + " and " + size);
            }
            this.base = base;
            this.size = size;
            this.owned = owned;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public long sizeBytes() {
            return size;
        }

        @Override
        public void read(long offsetBytes, ByteBuffer dst) throws IOException {
            checkRange(name, size, offsetBytes, dst.remaining());
            long pos = base + offsetBytes;
            while (dst.hasRemaining()) {
                int n = channel.read(dst, pos);
                if (n < 0) {
                    // Sparse or short file: the bytes past its end read as zeros (a replica extended sparsely).
                    while (dst.hasRemaining()) {
                        dst.put((byte) 0);
                    }
                    return;
                }
                pos += n;
            }
        }

        @Override
        public void write(long offsetBytes, ByteBuffer src) throws IOException {
            checkRange(name, size, offsetBytes, src.remaining());
            long pos = base + offsetBytes;
            while (src.hasRemaining()) {
                pos += channel.write(src, pos);
            }
        }

        @Override
        public void flush() throws IOException {
            channel.force(false);
        }

        @Override
        public boolean mappable() {
            return true;
        }

        @Override
        public ByteBuffer mapWritable(long offsetBytes, int lengthBytes) throws IOException {
            checkRange(name, size, offsetBytes, lengthBytes);
            return channel.map(FileChannel.MapMode.READ_WRITE, base + offsetBytes, lengthBytes);
        }

        @Override
        public void close() throws IOException {
            if (owned && closed.compareAndSet(false, true)) {
                channel.close();
            }
        }

        @Override
        public String toString() {
            return "FileRegion{" + name + ", " + size + " bytes}";
        }
    }

    /** Reads and writes through absolute-index duplicates of one buffer; thread-safe. */
    private static final class BufferRegion implements WritableRegion {
        private final String name;
        private final ByteBuffer buffer;

        BufferRegion(String name, ByteBuffer buffer) {
            this.name = Objects.requireNonNull(name, "name");
            this.buffer = buffer;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public long sizeBytes() {
            return buffer.capacity();
        }

        @Override
        public void read(long offsetBytes, ByteBuffer dst) {
            checkRange(name, buffer.capacity(), offsetBytes, dst.remaining());
            ByteBuffer view = buffer.duplicate();
            view.position((int) offsetBytes).limit((int) offsetBytes + dst.remaining());
            dst.put(view);
        }

        @Override
        public boolean parallelWrites() {
            return true;
        }

        @Override
        public ByteBuffer view(long offsetBytes, int lengthBytes) {
            checkRange(name, buffer.capacity(), offsetBytes, lengthBytes);
            return buffer.slice((int) offsetBytes, lengthBytes).asReadOnlyBuffer();
        }

        @Override
        public void write(long offsetBytes, ByteBuffer src) {
            checkRange(name, buffer.capacity(), offsetBytes, src.remaining());
            ByteBuffer view = buffer.duplicate();
            view.position((int) offsetBytes);
            view.put(src);
        }

        @Override
        public void flush() {
            if (buffer instanceof MappedByteBuffer) {
                ((MappedByteBuffer) buffer).force();
            }
        }

        @Override
        public String toString() {
            return "BufferRegion{" + name + ", " + buffer.capacity() + " bytes}";
        }
    }

    /** A file mapped in windows of {@link #MAP_WINDOW_BYTES}; windows are mapped lazily. Thread-safe. */
    private static final class MappedRegion implements StateRegion {
        private final String name;
        /** The file, opened again for the reads of pages that are not in memory (see {@link #read}). */
        private final Path path;
        private final FileChannel channel;
        private final long size;
        private final MappedByteBuffer[] windows;
        private final boolean immutable;
        private final AtomicBoolean closed = new AtomicBoolean();

        MappedRegion(String name, Path path, FileChannel channel, long size, boolean immutable) {
            this.name = name;
            this.path = path;
            this.channel = channel;
            this.size = size;
            this.immutable = immutable;
            this.windows = new MappedByteBuffer[(int) ((size + MAP_WINDOW_BYTES - 1) / MAP_WINDOW_BYTES)];
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public long sizeBytes() {
            return size;
        }

        /**
         * Copies from the mapping where the pages are in memory; reads the rest with read calls. The bytes are the same,
         * but a hole of a tmpfs file (memory a guest never touched) read through a shared mapping gets a page allocated
         * and zeroed, while a read call copies zeros and allocates nothing. The read calls go through a channel opened
         * for the call: an interrupt of the reading thread closes that channel only, not the region's.
         */
        @Override
        public void read(long offsetBytes, ByteBuffer dst) throws IOException {
            checkRange(name, size, offsetBytes, dst.remaining());
            long pos = offsetBytes;
            FileChannel reader = null;
            try {
                while (dst.hasRemaining()) {
                    int w = (int) (pos / MAP_WINDOW_BYTES);
                    int inWindow = (int) (pos % MAP_WINDOW_BYTES);
                    MappedByteBuffer window = window(w);
                    int n = Math.min(dst.remaining(), window.capacity() - inWindow);
                    MappedByteBuffer part = window.slice(inWindow, n);
                    if (part.isLoaded()) {
                        dst.put(part);
                    } else {
                        if (reader == null) {
                            reader = FileChannel.open(path, StandardOpenOption.READ);
                        }
                        ByteBuffer into = dst.slice().limit(n);
                        while (into.hasRemaining()) {
                            if (reader.read(into, pos + into.position()) < 0) {
                                throw new IOException(name + " is shorter than the " + size
                                        + " bytes it had when it was opened");
                            }
                        }
                        dst.position(dst.position() + n);
                    }
                    pos += n;
                }
            } finally {
                if (reader != null) {
                    reader.close();
                }
            }
        }

        @Override
        public ByteBuffer view(long offsetBytes, int lengthBytes) throws IOException {
            checkRange(name, size, offsetBytes, lengthBytes);
            int w = (int) (offsetBytes / MAP_WINDOW_BYTES);
            int inWindow = (int) (offsetBytes % MAP_WINDOW_BYTES);
            MappedByteBuffer window = window(w);
            if (inWindow + lengthBytes > window.capacity()) {
                return null;
            }
            return window.slice(inWindow, lengthBytes).asReadOnlyBuffer();
        }

        @Override
        public boolean immutable() {
            return immutable;
        }

        private MappedByteBuffer window(int w) throws IOException {
            synchronized (windows) {
                if (windows[w] == null) {
                    long start = w * MAP_WINDOW_BYTES;
                    windows[w] = channel.map(FileChannel.MapMode.READ_ONLY, start, Math.min(MAP_WINDOW_BYTES, size - start));
                }
                return windows[w];
            }
        }

        @Override
        public void close() throws IOException {
            if (closed.compareAndSet(false, true)) {
                channel.close();
            }
        }
    }
}
