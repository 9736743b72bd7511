package io.dwcp.core.transport;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Objects;

/**
 * Bytes to send: a buffer, a file region or a stream. Read sequentially by one transport thread at a time; closed by
 * the transport when the transfer ends, whatever the outcome.
 *
 * <p>A source whose length is known ({@link #lengthBytes()} &ge; 0) must deliver exactly that many bytes; a streaming
 * source ({@code -1}) ends when {@link #read} returns -1.
 */
public interface PayloadSource extends AutoCloseable {
    /** {@return total length in bytes, or -1 when streaming} */
    long lengthBytes();

    /**
     * Reads up to {@code dst.remaining()} bytes; returns the count, or -1 at the end. May block (not an event loop).
     *
     * @param dst where to put the bytes
     * @return the count, or -1 at the end
     * @throws IOException when reading fails; the transfer fails with it
     */
    int read(ByteBuffer dst) throws IOException;

    @Override
    default void close() throws IOException {
    }

    /**
     * The remaining bytes of {@code buffer} (borrowed: not copied, must not change until the transfer ends).
     *
     * @param buffer the bytes
     * @return the source
     */
    static PayloadSource of(ByteBuffer buffer) {
        ByteBuffer view = buffer.slice();
        return new PayloadSource() {
            @Override
            public long lengthBytes() {
                return view.capacity();
            }

            @Override
            public int read(ByteBuffer dst) {
                if (!view.hasRemaining()) {
                    return -1;
                }
                int n = Math.min(dst.remaining(), view.remaining());
                ByteBuffer part = view.slice();
                part.limit(n);
                dst.put(part);
                view.position(view.position() + n);
                return n;
            }
        };
    }

    /**
     * A whole file; the source opens it lazily and closes it.
     *
     * @param path the file
     * @return the source
     * @throws IOException when the file cannot be sized
     */
    static PayloadSource ofFile(Path path) throws IOException {
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
        return ofChannel(ch, ch.size());
    }

    /**
     * A channel of known length ({@code -1} for streaming); the source owns the channel and closes it.
     *
     * @param channel the channel
     * @param lengthBytes its length, or -1
     * @return the source
     */
    static PayloadSource ofChannel(ReadableByteChannel channel, long lengthBytes) {
        Objects.requireNonNull(channel, "channel");
        return new PayloadSource() {
            private long remaining = lengthBytes;

            @Override
            public long lengthBytes() {
                return lengthBytes;
            }

            @Override
            public int read(ByteBuffer dst) throws IOException {
                if (lengthBytes >= 0) {
                    if (remaining == 0) {
                        return -1;
                    }
                    int limit = dst.limit();
                    if (dst.remaining() > remaining) {
                        dst.limit(dst.position() + (int) remaining);
                    }
                    try {
                        int n = channel.read(dst);
                        if (n < 0) {
                            throw new java.io.EOFException("source ended " + remaining + " bytes before its announced length " + lengthBytes);
                        }
                        remaining -= n;
                        return n;
                    } finally {
                        dst.limit(limit);
                    }
                }
                return channel.read(dst);
            }

            @Override
            public void close() throws IOException {
                channel.close();
            }
        };
    }
}
