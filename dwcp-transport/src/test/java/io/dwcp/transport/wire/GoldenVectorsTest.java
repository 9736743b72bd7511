package io.dwcp.transport.wire;

import io.dwcp.core.ErrorCode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The golden vectors in src/test/resources/wire were written by an independent encoder (Python struct and a table
 * CRC32C) from docs/amst-wire-format.md; each is encoded by the Java code and compared byte for byte, and decoded.
 */
@Tag("AMST-3")
class GoldenVectorsTest {
    private static final UnpooledByteBufAllocator ALLOC = UnpooledByteBufAllocator.DEFAULT;
    private static final byte[] SID = range(0x10, 16);
    private static final byte[] TOKEN = range(0xA0, 16);

    static byte[] range(int from, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (from + i);
        }
        return b;
    }

    static byte[] vector(String name) throws Exception {
        try (InputStream in = GoldenVectorsTest.class.getResourceAsStream("/wire/" + name)) {
            StringBuilder hex = new StringBuilder();
            for (String line : new String(in.readAllBytes(), StandardCharsets.US_ASCII).split("\n")) {
                if (!line.startsWith("#")) {
                    hex.append(line.trim());
                }
            }
            return ByteBufUtil.decodeHexDump(hex);
        }
    }

    static byte[] bytes(ByteBuf b) {
        try {
            return ByteBufUtil.getBytes(b);
        } finally {
            b.release();
        }
    }

    static <T> T decode(byte[] wire, Function<Frame, T> read) {
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(1 << 20));
        ch.writeInbound(Unpooled.wrappedBuffer(wire));
        Frame f = ch.readInbound();
        try {
            return read.apply(f);
        } finally {
            f.release();
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void dataFrame() throws Exception {
        byte[] payload = "DWCP AMST golden".getBytes(StandardCharsets.US_ASCII);
        ByteBuf b = ALLOC.buffer();
        FrameHeader.writeHeader(b, FrameHeader.TYPE_DATA, 0, 3, 1L << 32, 7, payload.length);
        b.writeBytes(payload);
        FrameHeader.sealCrc(b, 0);
        byte[] golden = vector("data.hex");
        assertArrayEquals(golden, bytes(b));
        decode(golden, f -> {
            assertEquals(FrameHeader.TYPE_DATA, f.type());
            assertEquals(3, f.transferId());
            assertEquals(1L << 32, f.offset());
            assertEquals(7, f.chunkIndex());
            assertEquals("DWCP AMST golden", f.payload().toString(StandardCharsets.US_ASCII));
            return null;
        });
    }

    @Test
    void helloFrames() throws Exception {
        Hello control = new Hello(SID, 0, Hello.CAP_RESUME, 256L << 20, new byte[16]);
        assertArrayEquals(vector("hello-control.hex"), bytes(control.encode(ALLOC, 0)));
        assertEquals(control, decode(vector("hello-control.hex"), Hello::decode));
        Hello resume = new Hello(SID, 0, Hello.CAP_RESUME, 256L << 20, TOKEN);
        assertArrayEquals(vector("hello-resume.hex"), bytes(resume.encode(ALLOC, FrameHeader.FLAG_RESUME)));
        assertEquals(FrameHeader.FLAG_RESUME, (int) decode(vector("hello-resume.hex"), Frame::flags));
        Hello data = new Hello(SID, 5, Hello.CAP_RESUME, 256L << 20, TOKEN);
        assertArrayEquals(vector("hello-data.hex"), bytes(data.encode(ALLOC, 0)));
        assertEquals(data, decode(vector("hello-data.hex"), Hello::decode));
    }

    @Test
    void helloAckFrames() throws Exception {
        HelloAck ok = HelloAck.accept(Hello.CAP_RESUME, 64L << 20, TOKEN);
        assertArrayEquals(vector("hello-ack.hex"), bytes(ok.encode(ALLOC)));
        assertEquals(ok, decode(vector("hello-ack.hex"), HelloAck::decode));
        HelloAck no = HelloAck.refuse(ErrorCode.SESSION_UNKNOWN, "no session");
        assertArrayEquals(vector("hello-ack-refused.hex"), bytes(no.encode(ALLOC)));
        assertEquals(no, decode(vector("hello-ack-refused.hex"), HelloAck::decode));
    }

    @Test
    void controlFrames() throws Exception {
        assertArrayEquals(vector("open.hex"), bytes(Frames.open(ALLOC, 9, 1, "vm-1", 1L << 33)));
        assertArrayEquals(vector("open-streaming.hex"), bytes(Frames.open(ALLOC, 11, 2, "", -1)));
        assertArrayEquals(vector("ack.hex"), bytes(Frames.empty(ALLOC, FrameHeader.TYPE_ACK, 9, 123456789, 0)));
        assertArrayEquals(vector("end.hex"), bytes(Frames.empty(ALLOC, FrameHeader.TYPE_END, 11, 5000, 2)));
        assertArrayEquals(vector("done.hex"), bytes(Frames.empty(ALLOC, FrameHeader.TYPE_DONE, 9, 1L << 33, 0)));
        assertArrayEquals(vector("abort.hex"), bytes(Frames.error(ALLOC, FrameHeader.TYPE_ABORT, 9, ErrorCode.CANCELLED, "cancelled")));
        assertArrayEquals(vector("goaway.hex"), bytes(Frames.error(ALLOC, FrameHeader.TYPE_GOAWAY, 0, ErrorCode.PROTOCOL_ERROR, "bad magic")));
        assertArrayEquals(vector("ping.hex"), bytes(Frames.ping(ALLOC, FrameHeader.TYPE_PING, 0x0102030405060708L)));
        assertEquals(ErrorCode.CANCELLED, decode(vector("abort.hex"), f -> Frames.errorCode(f.payload())));
        assertEquals("bad magic", decode(vector("goaway.hex"), f -> Frames.errorMessage(f.payload())));
        assertEquals(123456789L, (long) decode(vector("ack.hex"), Frame::offset));
        assertEquals(1L << 33, (long) decode(vector("open.hex"), f -> f.payload().getLong(f.payload().readerIndex() + 6)));
    }
}
