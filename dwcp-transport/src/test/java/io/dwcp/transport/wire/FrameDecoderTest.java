package io.dwcp.transport.wire;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Tag("AMST-3")
class FrameDecoderTest {
    static ByteBuf data(long transferId, long offset, long index, byte[] payload) {
        ByteBuf b = Unpooled.buffer();
        FrameHeader.writeHeader(b, FrameHeader.TYPE_DATA, 0, transferId, offset, index, payload.length);
        b.writeBytes(payload);
        FrameHeader.sealCrc(b, 0);
        return b;
    }

    static DwcpException decodeError(EmbeddedChannel ch, ByteBuf in) {
        DecoderException e = assertThrows(DecoderException.class, () -> ch.writeInbound(in));
        DwcpException d = DwcpException.find(e);
        assertTrue(d != null, "a DwcpException inside " + e);
        return d;
    }

    @Test
    void decodesAFrameThatArrivesByteByByte() {
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(1024));
        ByteBuf wire = data(5, 99, 2, new byte[] {1, 2, 3, 4, 5});
        while (wire.isReadable()) {
            ch.writeInbound(wire.readRetainedSlice(1));
        }
        wire.release();
        Frame f = ch.readInbound();
        assertEquals(5, f.transferId());
        assertEquals(99, f.offset());
        assertEquals(2, f.chunkIndex());
        assertEquals(5, f.payloadLengthBytes());
        f.release();
        assertNull(ch.readInbound());
        ch.finishAndReleaseAll();
    }

    @Test
    void rejectsGarbageAsSoonAsTheMagicIsWrong() {
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(1024));
        DwcpException d = decodeError(ch, Unpooled.wrappedBuffer("GET / HTTP/1.1\r\n".getBytes()));
        assertEquals(ErrorCode.PROTOCOL_ERROR, d.code());
        assertTrue(d.getMessage().contains("magic"));
        ch.finishAndReleaseAll();
    }

    @Test
    void rejectsAnUnsupportedVersion() {
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(1024));
        ByteBuf wire = data(1, 0, 0, new byte[3]);
        wire.setByte(FrameHeader.VERSION_OFFSET, 2);
        DwcpException d = decodeError(ch, wire);
        assertEquals(ErrorCode.PROTOCOL_ERROR, d.code());
        assertTrue(d.getMessage().contains("version 2"));
        ch.finishAndReleaseAll();
    }

    @Test
    void rejectsReservedFlagBitsAndUnknownTypes() {
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(1024));
        ByteBuf wire = data(1, 0, 0, new byte[3]);
        wire.setShort(FrameHeader.FLAGS_OFFSET, 0x8000);
        assertEquals(ErrorCode.PROTOCOL_ERROR, decodeError(ch, wire).code());
        ch.finishAndReleaseAll();
        EmbeddedChannel ch2 = new EmbeddedChannel(new FrameDecoder(1024));
        ByteBuf wire2 = data(1, 0, 0, new byte[3]);
        wire2.setByte(FrameHeader.TYPE_OFFSET, 0x7F);
        assertEquals(ErrorCode.PROTOCOL_ERROR, decodeError(ch2, wire2).code());
        ch2.finishAndReleaseAll();
    }

    @Test
    void rejectsPayloadAboveLimitFromTheHeaderAlone() {
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(4096));
        ByteBuf header = Unpooled.buffer(FrameHeader.HEADER_LENGTH);
        FrameHeader.writeHeader(header, FrameHeader.TYPE_DATA, 0, 1, 0, 0, Integer.MAX_VALUE);
        // Only the 36 header bytes are sent: the decoder must refuse without waiting for (or allocating) 2 GiB.
        DwcpException d = decodeError(ch, header);
        assertEquals(ErrorCode.LIMIT_EXCEEDED, d.code());
        assertTrue(d.getMessage().contains("4096"));
        ch.finishAndReleaseAll();
    }

    @Test
    void rejectsACorruptedPayloadByItsCrc() {
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(1024));
        ByteBuf wire = data(1, 0, 0, new byte[] {9, 9, 9, 9});
        wire.setByte(FrameHeader.HEADER_LENGTH + 2, 8);
        assertEquals(ErrorCode.CHECKSUM_MISMATCH, decodeError(ch, wire).code());
        ch.finishAndReleaseAll();
    }

    @Test
    void rejectsANegativeOffset() {
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(1024));
        assertEquals(ErrorCode.CORRUPT_FRAME, decodeError(ch, data(1, -5, 0, new byte[1])).code());
        ch.finishAndReleaseAll();
    }

    @Test
    void discardsEverythingAfterTheFirstError() {
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(1024));
        decodeError(ch, Unpooled.wrappedBuffer(new byte[] {0, 0, 0, 0}));
        ch.writeInbound(data(1, 0, 0, new byte[] {1}));
        assertNull(ch.readInbound(), "no frame after an error: the connection is being closed");
        ch.finishAndReleaseAll();
    }

    @Property(tries = 200)
    void decodeOfEncodeIsIdentityWhateverTheSplit(@ForAll("frames") List<Object[]> frames, @ForAll @IntRange(min = 1, max = 97) int split) {
        ByteBuf wire = Unpooled.buffer();
        for (Object[] f : frames) {
            ByteBuf one = data((Long) f[0], (Long) f[1], (Long) f[2], (byte[]) f[3]);
            wire.writeBytes(one);
            one.release();
        }
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(1 << 16));
        while (wire.isReadable()) {
            ch.writeInbound(wire.readRetainedSlice(Math.min(split, wire.readableBytes())));
        }
        wire.release();
        for (Object[] f : frames) {
            Frame got = ch.readInbound();
            assertEquals((long) (Long) f[0], got.transferId());
            assertEquals((long) (Long) f[1], got.offset());
            assertEquals((long) (Long) f[2], got.chunkIndex());
            byte[] p = new byte[got.payloadLengthBytes()];
            got.payload().getBytes(got.payload().readerIndex(), p);
            assertArrayEquals((byte[]) f[3], p);
            got.release();
        }
        assertNull(ch.readInbound());
        ch.finishAndReleaseAll();
    }

    @Provide
    Arbitrary<List<Object[]>> frames() {
        Arbitrary<Object[]> one = Combinators.combine(
                Arbitraries.longs(),
                Arbitraries.longs().greaterOrEqual(0),
                Arbitraries.longs().between(0, 0xFFFF_FFFFL),
                Arbitraries.bytes().array(byte[].class).ofMaxSize(300)).as((a, b, c, d) -> new Object[] {a, b, c, d});
        return one.list().ofMinSize(1).ofMaxSize(5);
    }

    /** Fuzz: arbitrary bytes produce frames or one of the documented codes, never another exception. */
    @Property(tries = 500)
    void hostileBytesOnlyEverGiveDocumentedErrors(@ForAll @Size(max = 400) byte[] junk, @ForAll boolean validPrefix) {
        Set<ErrorCode> allowed = Set.of(ErrorCode.PROTOCOL_ERROR, ErrorCode.LIMIT_EXCEEDED, ErrorCode.CHECKSUM_MISMATCH,
                ErrorCode.CORRUPT_FRAME);
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(256));
        ByteBuf in = Unpooled.buffer();
        if (validPrefix) {
            // A plausible header start (magic, version, DATA) so the fuzz reaches the later checks.
            in.writeInt(FrameHeader.MAGIC).writeByte(FrameHeader.CURRENT_VERSION).writeByte(FrameHeader.TYPE_DATA);
        }
        in.writeBytes(junk);
        try {
            ch.writeInbound(in);
        } catch (DecoderException e) {
            DwcpException d = DwcpException.find(e);
            assertTrue(d != null && allowed.contains(d.code()), "unexpected " + e);
        }
        List<Object> out = new ArrayList<>();
        Object o;
        while ((o = ch.readInbound()) != null) {
            out.add(o);
            ((Frame) o).release();
        }
        ch.finishAndReleaseAll();
    }
}
