package io.dwcp.transport.wire;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.testing.FuzzSeeds;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Fuzzes the AMST frame decoder and the handshake payloads (HELLO, HELLO_ACK, ABORT/GOAWAY) as a hostile peer would
 * send them. Only the decoder's documented codes may come out; nothing follows a decode error; every buffer is
 * released; no frame exceeds the payload limit. Regression mode (the default build) replays the committed inputs;
 * {@code JAZZER_FUZZ=1} fuzzes (docs/fuzzing.md).
 *
 * <p>Input layout: byte 0 = options (bit 0: reseal every complete frame's CRC32C so the fuzzer reaches the payload
 * parsers; bits 1..6: size of the reads the bytes arrive in, 1..64), bytes 1..2 = payload limit (u16), then the
 * bytes on the wire.
 */
class AmstFrameFuzzTest {
    private static final Set<ErrorCode> DECODER_CODES = EnumSet.of(ErrorCode.PROTOCOL_ERROR, ErrorCode.LIMIT_EXCEEDED,
            ErrorCode.CHECKSUM_MISMATCH, ErrorCode.CORRUPT_FRAME);

    @FuzzTest(maxDuration = "10m")
    void frames(byte[] input) {
        if (input.length < 3) {
            return;
        }
        boolean reseal = (input[0] & 1) != 0;
        int readSize = 1 + ((input[0] >>> 1) & 0x3F);
        int maxPayload = ((input[1] & 0xFF) << 8) | (input[2] & 0xFF);
        byte[] wire = java.util.Arrays.copyOfRange(input, 3, input.length);
        if (reseal) {
            reseal(wire);
        }
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(maxPayload));
        List<ByteBuf> sent = new ArrayList<>();
        DwcpException error = null;
        try {
            for (int at = 0; at < wire.length; at += readSize) {
                ByteBuf read = Unpooled.copiedBuffer(wire, at, Math.min(readSize, wire.length - at));
                sent.add(read);
                read.retain();
                // Frames decoded in the same read as an error preceded it; only later reads must yield nothing.
                DwcpException before = error;
                try {
                    ch.writeInbound(read);
                } catch (DecoderException e) {
                    assertNull(error, "a second error after the first one: " + e);
                    error = DwcpException.find(e);
                    assertNotNull(error, "not a DwcpException: " + e);
                    assertTrue(DECODER_CODES.contains(error.code()), "undocumented code " + error.code() + ": " + e);
                } catch (RuntimeException e) {
                    fail("frame decoder threw " + e, e);
                }
                Frame f;
                while ((f = ch.readInbound()) != null) {
                    try {
                        assertNull(before, "a frame decoded after an error: " + f);
                        check(f, maxPayload);
                    } finally {
                        f.release();
                    }
                }
            }
        } finally {
            ch.finishAndReleaseAll();
            for (ByteBuf b : sent) {
                b.release();
                assertEquals(0, b.refCnt(), "the decoder kept a read buffer alive after close");
            }
        }
    }

    /** One decoded frame: header within limits, payload parsers answer or refuse with PROTOCOL_ERROR only. */
    private static void check(Frame f, int maxPayload) {
        assertTrue(f.payloadLengthBytes() <= maxPayload, "payload above the limit: " + f);
        assertTrue(FrameHeader.isKnownType(f.type()), "unknown type passed: " + f);
        assertEquals(0, f.flags() & ~FrameHeader.KNOWN_FLAGS, "reserved flags passed: " + f);
        assertTrue(f.offset() >= 0, "negative offset passed: " + f);
        try {
            Hello h = Hello.decode(f);
            assertEquals(FrameHeader.TYPE_HELLO, f.type());
            ByteBuf again = h.encode(UnpooledByteBufAllocator.DEFAULT, f.flags());
            try {
                assertArrayEquals(ByteBufUtil.getBytes(f.payload()),
                        ByteBufUtil.getBytes(again, FrameHeader.HEADER_LENGTH, Hello.PAYLOAD_LENGTH), "HELLO round trip");
            } finally {
                again.release();
            }
        } catch (DwcpException e) {
            assertEquals(ErrorCode.PROTOCOL_ERROR, e.code(), e.getMessage());
        }
        try {
            HelloAck a = HelloAck.decode(f);
            assertEquals(FrameHeader.TYPE_HELLO_ACK, f.type());
            ByteBuf again = a.encode(UnpooledByteBufAllocator.DEFAULT);
            try {
                if (again.readableBytes() - FrameHeader.HEADER_LENGTH - HelloAck.FIXED_LENGTH < Frames.MAX_MESSAGE_BYTES) {
                    Frame g = new Frame(FrameHeader.TYPE_HELLO_ACK, 0, 0, 0, 0,
                            again.retainedSlice(FrameHeader.HEADER_LENGTH, again.readableBytes() - FrameHeader.HEADER_LENGTH));
                    try {
                        assertEquals(a, HelloAck.decode(g), "HELLO_ACK round trip");
                    } finally {
                        g.release();
                    }
                }
            } finally {
                again.release();
            }
        } catch (DwcpException e) {
            assertEquals(ErrorCode.PROTOCOL_ERROR, e.code(), e.getMessage());
        }
        if (f.type() == FrameHeader.TYPE_ABORT || f.type() == FrameHeader.TYPE_GOAWAY) {
            assertNotNull(Frames.errorCode(f.payload()));
            assertNotNull(Frames.errorMessage(f.payload()));
        }
    }

    /** Sets the CRC32C of every complete frame in {@code wire}, as a hostile but well-behaved sender would. */
    static void reseal(byte[] wire) {
        ByteBuf b = Unpooled.wrappedBuffer(wire);
        int at = 0;
        while (wire.length - at >= FrameHeader.HEADER_LENGTH) {
            long len = b.getUnsignedInt(at + FrameHeader.PAYLOAD_LENGTH_OFFSET);
            if (len > wire.length - at - FrameHeader.HEADER_LENGTH) {
                return;
            }
            FrameHeader.sealCrc(b, at);
            at += FrameHeader.HEADER_LENGTH + (int) len;
        }
    }

    static byte[] input(boolean reseal, int readSize, int maxPayload, ByteBuf... frames) {
        ByteBuf all = Unpooled.buffer();
        all.writeByte((reseal ? 1 : 0) | ((readSize - 1) << 1));
        all.writeShort(maxPayload);
        for (ByteBuf f : frames) {
            all.writeBytes(f);
            f.release();
        }
        byte[] out = ByteBufUtil.getBytes(all);
        all.release();
        return out;
    }

    /** Valid handshakes and frames of every type, so the fuzzer starts from real traffic. */
    static Map<String, byte[]> seeds() {
        UnpooledByteBufAllocator alloc = UnpooledByteBufAllocator.DEFAULT;
        byte[] id = new byte[16];
        byte[] token = new byte[16];
        for (int i = 0; i < 16; i++) {
            id[i] = (byte) (i * 7 + 1);
            token[i] = (byte) (0xA0 + i);
        }
        Map<String, byte[]> seeds = new LinkedHashMap<>();
        seeds.put("hello", input(true, 64, 4096, new Hello(id, 0, Hello.CAPABILITIES, 1 << 20, new byte[16]).encode(alloc, 0)));
        seeds.put("hello-resume", input(false, 7, 4096,
                new Hello(id, 3, Hello.CAPABILITIES, 1 << 20, token).encode(alloc, FrameHeader.FLAG_RESUME)));
        seeds.put("hello-ack", input(true, 64, 4096, HelloAck.accept(Hello.CAPABILITIES, 8 << 20, token).encode(alloc)));
        seeds.put("hello-ack-refused", input(false, 13, 4096,
                HelloAck.refuse(ErrorCode.LIMIT_EXCEEDED, "too many sessions (dwcp.transport.max-sessions)").encode(alloc)));
        ByteBuf data = alloc.buffer();
        FrameHeader.writeHeader(data, FrameHeader.TYPE_DATA, 0, 9, 4096, 1, 8);
        data.writeLong(0x0102030405060708L);
        FrameHeader.sealCrc(data, 0);
        seeds.put("transfer", input(true, 64, 4096,
                Frames.ping(alloc, FrameHeader.TYPE_PING, 42),
                Frames.open(alloc, 9, 1, "vm-1/memory", 4104),
                data,
                Frames.empty(alloc, FrameHeader.TYPE_END, 9, 4104, 2),
                Frames.empty(alloc, FrameHeader.TYPE_ACK, 9, 4104, 0),
                Frames.empty(alloc, FrameHeader.TYPE_DONE, 9, 4104, 0),
                Frames.error(alloc, FrameHeader.TYPE_ABORT, 9, ErrorCode.CANCELLED, "stopped by the sender"),
                Frames.error(alloc, FrameHeader.TYPE_GOAWAY, 0, ErrorCode.PROTOCOL_ERROR, "bye")));
        return seeds;
    }

    @Test
    void seedsAreValidTraffic() {
        // Each seed decodes without any error (the fuzz method then runs its round-trip checks on real frames).
        for (Map.Entry<String, byte[]> s : seeds().entrySet()) {
            frames(s.getValue());
            byte[] wire = java.util.Arrays.copyOfRange(s.getValue(), 3, s.getValue().length);
            EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(4096));
            ch.writeInbound(Unpooled.wrappedBuffer(wire));
            assertNotNull(ch.readInbound(), s.getKey());
            ch.finishAndReleaseAll();
        }
    }

    @Test
    @EnabledIfSystemProperty(named = FuzzSeeds.WRITE_PROPERTY, matches = "true")
    void writeSeeds() {
        FuzzSeeds.write(AmstFrameFuzzTest.class, "frames", seeds());
    }
}
