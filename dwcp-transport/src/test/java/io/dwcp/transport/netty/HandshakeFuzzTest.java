package io.dwcp.transport.netty;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.config.TransportKeys;
import io.dwcp.core.transport.TransferHandler;
import io.dwcp.core.testing.FuzzSeeds;
import io.dwcp.core.testing.TestContext;
import io.dwcp.transport.wire.Frame;
import io.dwcp.transport.wire.FrameDecoder;
import io.dwcp.transport.wire.FrameHeader;
import io.dwcp.transport.wire.Frames;
import io.dwcp.transport.wire.Hello;
import io.dwcp.transport.wire.HelloAck;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Fuzzes both sides of the AMST handshake as a hostile peer drives them: {@link ServerHandshakeHandler} (with the
 * transport's {@code acceptHello}: new sessions, resumes, data streams, refusals) and {@link ClientHandshakeHandler}
 * (the answer to our HELLO), each in an {@link EmbeddedChannel} behind the real {@link FrameDecoder}. The handshake
 * ends with the first frame, so each input is fed up to the end of its first frame. Checked: nothing escapes the
 * pipeline; the server answers with one well-formed HELLO_ACK or GOAWAY whose code names the peer's fault (never a
 * local-bug or I/O code), and closes the connection after a refusal; a client whose handshake failed closes and
 * reports a {@link DwcpException} whose cause, if any, is no local bug; every buffer is released (the module's leak
 * check at paranoid). Regression mode (the default build) replays the committed inputs; {@code JAZZER_FUZZ=1} fuzzes.
 *
 * <p>Input layout, both targets: byte 0 = options (bit 0: reseal the first frame's CRC32C; bit 1: server, open a
 * session on another connection first and write its id and resume token into a HELLO of the input (reaches resumes
 * and data streams); client: the connection is a data stream, not the control connection; bits 2..7: size of the
 * reads, 1..64 bytes), then the bytes the peer sends.
 */
class HandshakeFuzzTest {
    private static final Set<ErrorCode> PEER_FAULTS = EnumSet.of(ErrorCode.PROTOCOL_ERROR, ErrorCode.LIMIT_EXCEEDED,
            ErrorCode.CHECKSUM_MISMATCH, ErrorCode.CORRUPT_FRAME, ErrorCode.SESSION_UNKNOWN, ErrorCode.AUTH_FAILED);
    private static final InetSocketAddress PEER = new InetSocketAddress("127.0.0.2", 40000);
    private static final byte[] KNOWN_SESSION = new byte[16];
    private static final EventLoop LOOP = new DefaultEventLoop();
    private static final TransferHandler NO_TRANSFERS = (s, t) -> {
        throw new IllegalStateException("the handshake harness delivers no transfer");
    };
    private static final AmstTransport TRANSPORT;

    static {
        for (String c : List.of(ServerHandshakeHandler.class, ClientHandshakeHandler.class, AmstSession.class,
                ConnectionHandler.class, AmstTransport.class).stream().map(Class::getName).toList()) {
            System.setProperty("org.slf4j.simpleLogger.log." + c, "error");
        }
        Arrays.fill(KNOWN_SESSION, (byte) 0x5A);
        // Timers far apart: nothing but the harness thread touches the embedded channels.
        TRANSPORT = AmstTransport.create(TestContext.of(DwcpConfig.builder().set(TransportKeys.TLS_ENABLED, false)
                .set("dwcp.transport.heartbeat-interval", "1m").set("dwcp.transport.adjust-interval", "5m")
                .set("dwcp.transport.max-sessions-per-peer", "4").build()));
        TRANSPORT.start();
        Runtime.getRuntime().addShutdownHook(new Thread(TRANSPORT::stop));
    }

    /** An embedded channel with a socket address, as the transport's channels have. */
    private static final class PeerChannel extends EmbeddedChannel {
        PeerChannel(ChannelHandler... handlers) {
            super(handlers);
        }

        @Override
        protected SocketAddress remoteAddress0() {
            return PEER;
        }
    }

    @FuzzTest(maxDuration = "10m")
    void server(byte[] input) {
        if (input.length < 1) {
            return;
        }
        boolean withSession = (input[0] & 2) != 0;
        byte[] wire = firstFrame(input);
        try {
            byte[] token = null;
            if (withSession) {
                token = openKnownSession();
                patchHello(wire, token);
            }
            if ((input[0] & 1) != 0) {
                reseal(wire);
            }
            PeerChannel ch = new PeerChannel(new FrameDecoder(AmstTransport.HANDSHAKE_MAX_PAYLOAD),
                    new ServerHandshakeHandler(TRANSPORT, NO_TRANSFERS));
            int sessionsBefore = TRANSPORT.sessions().size();
            feed(ch, wire, readSize(input));
            ch.runPendingTasks();
            ch.checkException();
            List<Frame> answers = outbound(ch);
            try {
                assertTrue(answers.size() <= 1, "one answer at most: " + answers);
                if (answers.isEmpty()) {
                    assertTrue(ch.isOpen(), "closed without an answer");
                    assertEquals(sessionsBefore, TRANSPORT.sessions().size());
                    return;
                }
                Frame a = answers.get(0);
                if (a.type() == FrameHeader.TYPE_GOAWAY) {
                    ErrorCode code = Frames.errorCode(a.payload());
                    assertTrue(PEER_FAULTS.contains(code), "GOAWAY " + code + ": " + Frames.errorMessage(a.payload()));
                    assertFalse(ch.isOpen(), "a GOAWAY closes the connection");
                    return;
                }
                HelloAck ack = HelloAck.decode(a);
                if (!ack.accepted()) {
                    assertTrue(PEER_FAULTS.contains(ack.code()), "refusal " + ack.code() + ": " + ack.message());
                    assertFalse(ch.isOpen(), "a refusal closes the connection");
                    assertEquals(sessionsBefore, TRANSPORT.sessions().size(), "a refused HELLO made a session");
                } else {
                    assertTrue(ch.isOpen(), "an accepted connection stays open");
                    assertNotNull(ch.pipeline().get(ConnectionHandler.class), "an accepted connection is established");
                    assertTrue(TRANSPORT.sessions().size() <= 8, "sessions " + TRANSPORT.sessions().size());
                }
            } finally {
                answers.forEach(Frame::release);
                ch.finishAndReleaseAll();
            }
        } finally {
            closeAllSessions();
        }
    }

    @FuzzTest(maxDuration = "10m")
    void client(byte[] input) {
        if (input.length < 1) {
            return;
        }
        boolean stream = (input[0] & 2) != 0;
        byte[] wire = firstFrame(input);
        if ((input[0] & 1) != 0) {
            reseal(wire);
        }
        byte[] id = new byte[16];
        id[0] = 1;
        AmstSession session = new AmstSession(TRANSPORT, AmstSession.Role.CLIENT, id, new byte[16], NO_TRANSFERS, PEER, LOOP,
                TRANSPORT.receiveBudget().reserve(null, 1 << 20, 1));
        CompletableFuture<io.netty.channel.Channel> result = new CompletableFuture<>();
        PeerChannel ch = new PeerChannel(new FrameDecoder(AmstTransport.HANDSHAKE_MAX_PAYLOAD),
                new ClientHandshakeHandler(session, stream ? 1 : 0, 0, false, 1 << 20, result));
        try {
            List<Frame> hello = outbound(ch);
            try {
                assertEquals(1, hello.size(), "the client sends its HELLO first");
                Hello.decode(hello.get(0));
            } finally {
                hello.forEach(Frame::release);
            }
            feed(ch, wire, readSize(input));
            ch.runPendingTasks();
            ch.checkException();
            if (!result.isDone()) {
                assertTrue(ch.isOpen(), "closed while the handshake is pending");
                return;
            }
            if (result.isCompletedExceptionally()) {
                DwcpException d = failure(result);
                assertFalse(ch.isOpen(), "a failed handshake closes the connection");
                Throwable cause = d.getCause();
                assertTrue(cause == null || cause instanceof DwcpException || cause instanceof java.io.IOException,
                        "a local bug in the client handshake: " + cause);
            } else {
                assertTrue(ch.isOpen(), "an accepted connection stays open");
                assertNotNull(ch.pipeline().get(ConnectionHandler.class));
                if (!stream) {
                    assertTrue(session.controlChannel() == ch, "the control connection is attached");
                }
            }
        } finally {
            session.terminate(new DwcpException(ErrorCode.CANCELLED, "fuzz input done"));
            ch.finishAndReleaseAll();
        }
    }

    private static DwcpException failure(CompletableFuture<?> f) {
        try {
            f.join();
            throw new AssertionError("not failed");
        } catch (CompletionException e) {
            DwcpException d = DwcpException.find(e);
            if (d == null) {
                fail("the handshake failed with " + e.getCause(), e.getCause());
            }
            return d;
        }
    }

    private static int readSize(byte[] input) {
        return 1 + ((input[0] >>> 2) & 0x3F);
    }

    /** The bytes after the option byte, up to the end of the first frame when its header announces one. */
    static byte[] firstFrame(byte[] input) {
        byte[] wire = Arrays.copyOfRange(input, 1, input.length);
        if (wire.length >= FrameHeader.HEADER_LENGTH) {
            long len = Unpooled.wrappedBuffer(wire).getUnsignedInt(FrameHeader.PAYLOAD_LENGTH_OFFSET);
            if (len <= AmstTransport.HANDSHAKE_MAX_PAYLOAD && FrameHeader.HEADER_LENGTH + len < wire.length) {
                return Arrays.copyOf(wire, FrameHeader.HEADER_LENGTH + (int) len);
            }
        }
        return wire;
    }

    private static void feed(EmbeddedChannel ch, byte[] wire, int readSize) {
        for (int at = 0; at < wire.length && ch.isOpen(); at += readSize) {
            ch.writeInbound(Unpooled.copiedBuffer(wire, at, Math.min(readSize, wire.length - at)));
        }
    }

    /** Everything the handler wrote, decoded (our own frames must always decode). */
    private static List<Frame> outbound(EmbeddedChannel ch) {
        EmbeddedChannel decoder = new EmbeddedChannel(new FrameDecoder(1 << 20));
        Object o;
        while ((o = ch.readOutbound()) != null) {
            decoder.writeInbound(o);
        }
        List<Frame> frames = new ArrayList<>();
        Frame f;
        while ((f = decoder.readInbound()) != null) {
            frames.add(f);
        }
        assertFalse(decoder.finishAndReleaseAll(), "a partial frame was written");
        return frames;
    }

    /** A session opened by a well-formed HELLO on another connection; returns its resume token. */
    private static byte[] openKnownSession() {
        PeerChannel ch = new PeerChannel(new FrameDecoder(AmstTransport.HANDSHAKE_MAX_PAYLOAD),
                new ServerHandshakeHandler(TRANSPORT, NO_TRANSFERS));
        ch.writeInbound(new Hello(KNOWN_SESSION, 0, Hello.CAPABILITIES, 1 << 20, new byte[16])
                .encode(UnpooledByteBufAllocator.DEFAULT, 0));
        List<Frame> answers = outbound(ch);
        try {
            HelloAck ack = HelloAck.decode(answers.get(0));
            assertTrue(ack.accepted(), "the known session was refused: " + ack);
            return ack.resumeToken();
        } finally {
            answers.forEach(Frame::release);
        }
    }

    /** Writes the known session id and resume token into the input's first frame if it is a HELLO of the right length. */
    private static void patchHello(byte[] wire, byte[] token) {
        if (wire.length < FrameHeader.HEADER_LENGTH + Hello.PAYLOAD_LENGTH || (wire[FrameHeader.TYPE_OFFSET] & 0xFF) != FrameHeader.TYPE_HELLO) {
            return;
        }
        System.arraycopy(KNOWN_SESSION, 0, wire, FrameHeader.HEADER_LENGTH, 16);
        System.arraycopy(token, 0, wire, FrameHeader.HEADER_LENGTH + 32, 16);
    }

    static void reseal(byte[] wire) {
        ByteBuf b = Unpooled.wrappedBuffer(wire);
        if (wire.length >= FrameHeader.HEADER_LENGTH
                && b.getUnsignedInt(FrameHeader.PAYLOAD_LENGTH_OFFSET) <= wire.length - FrameHeader.HEADER_LENGTH) {
            FrameHeader.sealCrc(b, 0);
        }
    }

    private static void closeAllSessions() {
        for (AmstSession s : TRANSPORT.sessions()) {
            s.terminate(new DwcpException(ErrorCode.CANCELLED, "fuzz input done"));
        }
    }

    static Map<String, byte[]> seeds() {
        Map<String, byte[]> seeds = new LinkedHashMap<>();
        byte[] id = new byte[16];
        id[3] = 7;
        seeds.put("server-new-session", input(0, new Hello(id, 0, Hello.CAPABILITIES, 1 << 20, new byte[16]).encode(
                UnpooledByteBufAllocator.DEFAULT, 0)));
        seeds.put("server-resume", input(2, new Hello(id, 0, Hello.CAPABILITIES, 1 << 20, new byte[16]).encode(
                UnpooledByteBufAllocator.DEFAULT, FrameHeader.FLAG_RESUME)));
        seeds.put("server-stream", input(2 | 4, new Hello(id, 3, Hello.CAPABILITIES, 1 << 20, new byte[16]).encode(
                UnpooledByteBufAllocator.DEFAULT, 0)));
        byte[] token = new byte[16];
        token[0] = 9;
        seeds.put("client-accepted", input(0, HelloAck.accept(Hello.CAPABILITIES, 1 << 20, token)
                .encode(UnpooledByteBufAllocator.DEFAULT)));
        seeds.put("client-stream-accepted", input(2, HelloAck.accept(Hello.CAPABILITIES, 1 << 20, token)
                .encode(UnpooledByteBufAllocator.DEFAULT)));
        seeds.put("client-refused", input(8, HelloAck.refuse(ErrorCode.LIMIT_EXCEEDED, "too many")
                .encode(UnpooledByteBufAllocator.DEFAULT)));
        seeds.put("client-goaway", input(0, Frames.error(UnpooledByteBufAllocator.DEFAULT, FrameHeader.TYPE_GOAWAY, 0,
                ErrorCode.AUTH_FAILED, "no")));
        return seeds;
    }

    private static byte[] input(int options, ByteBuf frame) {
        try {
            byte[] out = new byte[1 + frame.readableBytes()];
            out[0] = (byte) options;
            frame.getBytes(frame.readerIndex(), out, 1, frame.readableBytes());
            return out;
        } finally {
            frame.release();
        }
    }

    @Test
    void seedsAreValidHandshakes() {
        for (Map.Entry<String, byte[]> s : seeds().entrySet()) {
            if (s.getKey().startsWith("server")) {
                server(s.getValue());
            } else {
                client(s.getValue());
            }
        }
    }

    @Test
    @EnabledIfSystemProperty(named = FuzzSeeds.WRITE_PROPERTY, matches = "true")
    void writeSeeds() {
        Map<String, byte[]> server = new LinkedHashMap<>();
        Map<String, byte[]> client = new LinkedHashMap<>();
        seeds().forEach((k, v) -> (k.startsWith("server") ? server : client).put(k, v));
        FuzzSeeds.write(HandshakeFuzzTest.class, "server", server);
        FuzzSeeds.write(HandshakeFuzzTest.class, "client", client);
    }

    static String hex(byte[] b) {
        return ByteBufUtil.hexDump(b);
    }
}
