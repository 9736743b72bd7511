package io.dwcp.transport.netty;

import io.dwcp.core.ErrorCode;
import io.dwcp.transport.wire.FrameHeader;
import io.dwcp.transport.wire.Frames;
import io.dwcp.transport.wire.Hello;
import io.dwcp.transport.wire.HelloAck;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A raw socket plays a hostile peer: every bad input ends with a GOAWAY (or refusal) naming the error, then a close. */
@Tag("AMST-1")
class HostileInputTest {
    private Peers peers;

    @BeforeEach
    void start() throws Exception {
        peers = new Peers(b -> b.set("dwcp.transport.max-frame-payload", "4MiB"));
    }

    @AfterEach
    void stop() throws Exception {
        peers.close();
    }

    /** Sends {@code bytes}, reads one frame back and checks the connection then closes. Returns type, code, message. */
    private Object[] exchange(byte[] bytes) throws IOException {
        InetSocketAddress a = peers.listener.localAddress();
        try (Socket s = new Socket(a.getAddress(), a.getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(bytes);
            s.getOutputStream().flush();
            DataInputStream in = new DataInputStream(s.getInputStream());
            byte[] header = new byte[FrameHeader.HEADER_LENGTH];
            in.readFully(header);
            ByteBuf h = Unpooled.wrappedBuffer(header);
            assertEquals(FrameHeader.MAGIC, h.getInt(FrameHeader.MAGIC_OFFSET));
            int type = h.getUnsignedByte(FrameHeader.TYPE_OFFSET);
            int len = h.getInt(FrameHeader.PAYLOAD_LENGTH_OFFSET);
            assertTrue(len >= 0 && len < 4096, "small answer: " + len);
            byte[] payload = new byte[len];
            in.readFully(payload);
            ByteBuf p = Unpooled.wrappedBuffer(payload);
            Object[] out;
            if (type == FrameHeader.TYPE_HELLO_ACK) {
                HelloAck ack = HelloAck.decode(new io.dwcp.transport.wire.Frame(type, 0, 0, 0, 0, p));
                out = new Object[] {type, ack.code(), ack.message()};
            } else {
                out = new Object[] {type, Frames.errorCode(p), Frames.errorMessage(p)};
            }
            try {
                int next = in.read();
                assertEquals(-1, next, "the connection is closed after the error");
            } catch (IOException reset) {
                // A reset also closes the connection.
            }
            return out;
        }
    }

    private static byte[] bytes(ByteBuf b) {
        try {
            return ByteBufUtil.getBytes(b);
        } finally {
            b.release();
        }
    }

    private static byte[] hello(int index, byte[] token) {
        byte[] sid = new byte[16];
        sid[0] = 42;
        return bytes(new Hello(sid, index, Hello.CAP_RESUME, 1 << 20, token).encode(UnpooledByteBufAllocator.DEFAULT, 0));
    }

    @Test
    void garbageIsAProtocolError() throws Exception {
        Object[] r = exchange("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        assertEquals(FrameHeader.TYPE_GOAWAY, r[0]);
        assertEquals(ErrorCode.PROTOCOL_ERROR, r[1]);
        assertTrue(((String) r[2]).contains("magic"), (String) r[2]);
    }

    @Test
    void wrongVersionIsAProtocolError() throws Exception {
        byte[] h = hello(0, new byte[16]);
        h[FrameHeader.VERSION_OFFSET] = 9;
        Object[] r = exchange(h);
        assertEquals(ErrorCode.PROTOCOL_ERROR, r[1]);
        assertTrue(((String) r[2]).contains("version 9"), (String) r[2]);
    }

    @Test
    void oversizedLengthIsRefusedBeforeAnyPayloadArrives() throws Exception {
        ByteBuf b = Unpooled.buffer();
        FrameHeader.writeHeader(b, FrameHeader.TYPE_HELLO, 0, 0, 0, 0, 1 << 30);
        Object[] r = exchange(bytes(b));
        assertEquals(ErrorCode.LIMIT_EXCEEDED, r[1]);
    }

    @Test
    void badCrcIsAChecksumMismatch() throws Exception {
        byte[] h = hello(0, new byte[16]);
        h[h.length - 1] ^= 1;
        Object[] r = exchange(h);
        assertEquals(ErrorCode.CHECKSUM_MISMATCH, r[1]);
        assertEquals(1.0, peers.server.metrics().crcErrors.count());
    }

    @Test
    void aFirstFrameOtherThanHelloIsAProtocolError() throws Exception {
        Object[] r = exchange(bytes(Frames.ping(UnpooledByteBufAllocator.DEFAULT, FrameHeader.TYPE_PING, 1)));
        assertEquals(ErrorCode.PROTOCOL_ERROR, r[1]);
    }

    @Test
    void aDataStreamOfAnUnknownSessionIsRefused() throws Exception {
        Object[] r = exchange(hello(3, new byte[16]));
        assertEquals(FrameHeader.TYPE_HELLO_ACK, r[0]);
        assertEquals(ErrorCode.SESSION_UNKNOWN, r[1]);
    }

    @Test
    void aDataStreamWithTheWrongResumeTokenIsRefused() throws Exception {
        peers.connect();
        AmstSession s = peers.serverSession();
        byte[] h = bytes(new Hello(s.sessionId, 7, Hello.CAP_RESUME, 1 << 20, new byte[16])
                .encode(UnpooledByteBufAllocator.DEFAULT, 0));
        Object[] r = exchange(h);
        assertEquals(ErrorCode.AUTH_FAILED, r[1]);
    }

    @Test
    void peerThatIgnoresTheWindowIsCutOffNotBuffered() throws Exception {
        // A data stream that sends far more than the receive window, for a transfer never opened: LIMIT_EXCEEDED.
        Peers small = new Peers(b -> b.set("dwcp.transport.reorder-buffer", "1MiB"));
        try {
            small.connect();
            AmstSession s = small.serverSession();
            InetSocketAddress a = small.listener.localAddress();
            try (Socket sock = new Socket(a.getAddress(), a.getPort())) {
                sock.setSoTimeout(10_000);
                byte[] h = bytes(new Hello(s.sessionId, 9, Hello.CAP_RESUME, 1 << 20, s.resumeToken())
                        .encode(UnpooledByteBufAllocator.DEFAULT, 0));
                sock.getOutputStream().write(h);
                DataInputStream in = new DataInputStream(sock.getInputStream());
                byte[] ack = new byte[FrameHeader.HEADER_LENGTH + HelloAck.FIXED_LENGTH];
                in.readFully(ack);
                byte[] chunk = new byte[256 * 1024];
                boolean cut = false;
                for (int i = 0; i < 64 && !cut; i++) {
                    ByteBuf f = Unpooled.buffer();
                    FrameHeader.writeHeader(f, FrameHeader.TYPE_DATA, 0, 1, (long) i * chunk.length, i, chunk.length);
                    f.writeBytes(chunk);
                    FrameHeader.sealCrc(f, 0);
                    try {
                        sock.getOutputStream().write(bytes(f));
                    } catch (IOException e) {
                        cut = true;
                    }
                }
                // Whatever was written, the server answers with a GOAWAY LIMIT_EXCEEDED and closes.
                byte[] header = new byte[FrameHeader.HEADER_LENGTH];
                try {
                    in.readFully(header);
                    ByteBuf hb = Unpooled.wrappedBuffer(header);
                    assertEquals(FrameHeader.TYPE_GOAWAY, hb.getUnsignedByte(FrameHeader.TYPE_OFFSET));
                    byte[] p = new byte[hb.getInt(FrameHeader.PAYLOAD_LENGTH_OFFSET)];
                    in.readFully(p);
                    assertEquals(ErrorCode.LIMIT_EXCEEDED, Frames.errorCode(Unpooled.wrappedBuffer(p)));
                } catch (EOFException | java.net.SocketException closed) {
                    // The server closed with our unread data still queued: the kernel may turn that into a reset that
                    // overtakes its GOAWAY. Closed either way (a server that kept the connection open would make
                    // readFully time out and fail the test); what matters next is that nothing was buffered past the limit.
                }
                assertTrue(s.reorderBytes() <= 1 << 20, "reorder memory " + s.reorderBytes());
            }
        } finally {
            small.close();
        }
    }
}
