package io.dwcp.transport.netty;

import io.dwcp.core.ErrorCode;
import io.dwcp.core.transport.TransferKind;
import io.dwcp.transport.wire.Frame;
import io.dwcp.transport.wire.FrameHeader;
import io.dwcp.transport.wire.Frames;
import io.dwcp.transport.wire.Hello;
import io.dwcp.transport.wire.HelloAck;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A peer that speaks the wire protocol over plain sockets from an address of its choice (another peer identity for a
 * listener without client certificates), and does only what a test tells it: open sessions and data streams, announce
 * transfers, send DATA anywhere in a transfer. Its sessions answer PINGs; every other frame the listener sends on a
 * control connection is queued for the test. Close it to close every socket.
 */
final class RawPeer implements AutoCloseable {
    private final InetSocketAddress to;
    private final InetAddress bind;
    private final SecureRandom random = new SecureRandom();
    private final List<Socket> sockets = new ArrayList<>();
    /** Transfer ids of a connecting side are odd. */
    private long nextTransferId = 1;

    RawPeer(InetSocketAddress to, InetAddress bind) {
        this.to = to;
        this.bind = bind;
    }

    /** A session the listener accepted, or the refusal it answered. */
    final class RawSession {
        final HelloAck ack;
        final byte[] sessionId;
        private final Socket control;
        /** Frames the listener sent on the control connection, PINGs excepted (answered). */
        final BlockingQueue<Frame> received = new LinkedBlockingQueue<>();
        private Socket data;
        private long nextIndex;

        private RawSession(HelloAck ack, byte[] sessionId, Socket control) {
            this.ack = ack;
            this.sessionId = sessionId;
            this.control = control;
        }

        /** Announces a transfer of {@code totalBytes} that this peer need never feed; returns its id. */
        long open(String key, long totalBytes) throws IOException {
            long id;
            synchronized (RawPeer.this) {
                id = nextTransferId;
                nextTransferId += 2;
            }
            write(control, Frames.open(UnpooledByteBufAllocator.DEFAULT, id, TransferKind.MEMORY.wire(), key, totalBytes));
            return id;
        }

        /** Sends {@code bytes} of transfer {@code id} from {@code offset} on this session's data stream, in 256 KiB DATA frames. */
        void data(long id, long offset, int bytes) throws IOException {
            if (data == null) {
                data = connect();
                write(data, new Hello(sessionId, 1, Hello.CAP_RESUME, 1 << 20, ack.resumeToken())
                        .encode(UnpooledByteBufAllocator.DEFAULT, 0));
                HelloAck streamAck = HelloAck.decode(readFrame(new DataInputStream(data.getInputStream())));
                if (!streamAck.accepted()) {
                    throw new IOException("data stream refused: " + streamAck.message());
                }
            }
            byte[] chunk = new byte[256 * 1024];
            for (int done = 0; done < bytes; done += chunk.length) {
                int n = Math.min(chunk.length, bytes - done);
                ByteBuf f = Unpooled.buffer(FrameHeader.HEADER_LENGTH + n);
                FrameHeader.writeHeader(f, FrameHeader.TYPE_DATA, 0, id, offset + done, nextIndex++, n);
                f.writeBytes(chunk, 0, n);
                FrameHeader.sealCrc(f, 0);
                write(data, f);
            }
        }

        /** The next frame of {@code type} the listener sent on the control connection, waiting up to 30 s. */
        Frame next(int type) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            for (;;) {
                Frame f = received.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (f == null || f.type() == type) {
                    return f;
                }
            }
        }
    }

    /** Says HELLO for a new session on a new control connection; accepted or not, per its {@code ack}. */
    RawSession session() throws IOException {
        Socket s = connect();
        byte[] id = new byte[16];
        random.nextBytes(id);
        write(s, new Hello(id, 0, Hello.CAPABILITIES, 64L << 20, new byte[16]).encode(UnpooledByteBufAllocator.DEFAULT, 0));
        DataInputStream in = new DataInputStream(s.getInputStream());
        HelloAck ack = HelloAck.decode(readFrame(in));
        RawSession session = new RawSession(ack, id, s);
        if (ack.accepted()) {
            Thread reader = new Thread(() -> readControl(session, in), "raw-peer-control");
            reader.setDaemon(true);
            reader.start();
        }
        return session;
    }

    /** A connection that never says HELLO: it only holds its place among the listener's pending connections. */
    Socket silent() throws IOException {
        return connect();
    }

    /**
     * The GOAWAY the listener answered on {@code s}, or null when it sent nothing and did not close within
     * {@code millis} (the connection is still held).
     */
    static Frame goAwayOn(Socket s, int millis) throws IOException {
        s.setSoTimeout(millis);
        try {
            Frame f = readFrame(new DataInputStream(s.getInputStream()));
            return f.type() == FrameHeader.TYPE_GOAWAY ? f : null;
        } catch (java.net.SocketTimeoutException held) {
            return null;
        }
    }

    private void readControl(RawSession session, DataInputStream in) {
        try {
            for (;;) {
                Frame f = readFrame(in);
                if (f.type() == FrameHeader.TYPE_PING) {
                    write(session.control, Frames.ping(UnpooledByteBufAllocator.DEFAULT, FrameHeader.TYPE_PONG,
                            f.payload().getLong(0)));
                } else {
                    session.received.add(f);
                }
            }
        } catch (IOException closed) {
            // The test closed the peer, or the listener ended the session: nothing more to read.
        }
    }

    private synchronized Socket connect() throws IOException {
        Socket s = new Socket();
        sockets.add(s);
        s.bind(new InetSocketAddress(bind, 0));
        s.connect(to, 10_000);
        return s;
    }

    private static void write(Socket s, ByteBuf frame) throws IOException {
        try {
            byte[] b = ByteBufUtil.getBytes(frame);
            synchronized (s) {
                OutputStream out = s.getOutputStream();
                out.write(b);
                out.flush();
            }
        } finally {
            frame.release();
        }
    }

    /** One frame; its payload is an unpooled copy (nothing to release). */
    static Frame readFrame(DataInputStream in) throws IOException {
        byte[] header = new byte[FrameHeader.HEADER_LENGTH];
        in.readFully(header);
        ByteBuf h = Unpooled.wrappedBuffer(header);
        int len = h.getInt(FrameHeader.PAYLOAD_LENGTH_OFFSET);
        if (len < 0 || len > 1 << 20) {
            throw new IOException("frame of " + len + " bytes from the listener");
        }
        byte[] payload = new byte[len];
        in.readFully(payload);
        return new Frame(h.getUnsignedByte(FrameHeader.TYPE_OFFSET), 0, h.getLong(8), h.getLong(16), 0,
                Unpooled.wrappedBuffer(payload));
    }

    /** The error code and message of an ABORT or GOAWAY frame. */
    static String describe(Frame f) {
        ErrorCode code = Frames.errorCode(f.payload());
        return code + ": " + Frames.errorMessage(f.payload());
    }

    @Override
    public synchronized void close() throws IOException {
        for (Socket s : sockets) {
            s.close();
        }
        sockets.clear();
    }
}
