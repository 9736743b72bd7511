package io.dwcp.core.migration;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.spi.BaselineRef;
import io.dwcp.core.transport.InboundTransfer;
import io.dwcp.core.transport.Session;
import io.dwcp.core.spi.StateCodec;
import io.dwcp.core.spi.StateDecoder;
import io.dwcp.core.transport.TransferKind;
import io.dwcp.core.transport.TransferSink;
import io.dwcp.core.state.StateRegions;
import io.dwcp.core.state.VmState;
import io.dwcp.core.state.WritableRegion;
import io.dwcp.core.testing.FuzzSeeds;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.io.ByteArrayOutputStream;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Fuzzes the migration protocol's control messages and round framing as a hostile sender would write them: the
 * parsers ({@link MigrationWire#parseRoundHeader}, {@link MigrationWire#parseControl}) and a {@link MigrationReceiver}
 * with a small {@link ReceiveBuffers} budget, a stub codec and a bounded in-memory replica factory. Only documented
 * codes come out; a failed round is reported once; the frames handed to the codec are exactly the length-prefixed
 * ones that were sent (in order); the budget is never exceeded and is fully returned when the round ends.
 * Regression mode replays the committed inputs; {@code JAZZER_FUZZ=1} fuzzes (docs/fuzzing.md).
 *
 * <p>Input layout: byte 0 = target (low 2 bits: 0 control parser, 1 round-header parser, 2 round transfer, 3 control
 * transfer) and read size (bits 2..7: the bytes arrive in reads of 1..64), then the transfer's bytes.
 */
class MigrationWireFuzzTest {
    private static final Set<ErrorCode> RECEIVER_CODES = EnumSet.of(ErrorCode.PROTOCOL_ERROR, ErrorCode.LIMIT_EXCEEDED,
            ErrorCode.TRANSFER_INCOMPLETE);
    private static final long BUDGET = 192 * 1024;
    /** The stub replica factory refuses layouts above this, as a configured receiver would. */
    private static final long MAX_REPLICA = 64 * 1024;

    static {
        // Every refused round logs a WARN: at thousands of rounds a second that would be the fuzzer's main cost.
        // Takes effect only if the receiver's logger is created after this (a fuzzing JVM, not always the default build).
        System.setProperty("org.slf4j.simpleLogger.log." + MigrationReceiver.class.getName(), "error");
    }

    @FuzzTest(maxDuration = "10m")
    void wire(byte[] input) throws Exception {
        if (input.length == 0) {
            return;
        }
        int target = input[0] & 3;
        int readSize = 1 + ((input[0] & 0xFF) >>> 2);
        byte[] bytes = Arrays.copyOfRange(input, 1, input.length);
        switch (target) {
            case 0:
                control(bytes);
                break;
            case 1:
                roundHeader(bytes);
                break;
            case 2:
                roundTransfer(bytes, readSize);
                break;
            default:
                controlTransfer(bytes, readSize);
                break;
        }
    }

    private static void control(byte[] bytes) {
        MigrationWire.Control c;
        try {
            c = MigrationWire.parseControl(ByteBuffer.wrap(bytes));
        } catch (DwcpException e) {
            assertEquals(ErrorCode.PROTOCOL_ERROR, e.code(), e.getMessage());
            return;
        }
        ByteBuffer again = MigrationWire.control(c.type(), c.requestId(), c.baseline("k"));
        assertEquals(c.present() ? c : new MigrationWire.Control(c.type(), c.requestId(), false, 0, 0, 0),
                MigrationWire.parseControl(again), "control round trip");
    }

    private static void roundHeader(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        MigrationWire.RoundHeader h;
        try {
            h = MigrationWire.parseRoundHeader(b);
        } catch (DwcpException e) {
            assertTrue(e.code() == ErrorCode.PROTOCOL_ERROR || e.code() == ErrorCode.LIMIT_EXCEEDED, e.toString());
            return;
        }
        if (h == null) {
            assertEquals(0, b.position(), "an incomplete header consumes nothing");
            return;
        }
        assertTrue(h.regions().size() <= MigrationWire.MAX_REGIONS);
        // Every flag goes back (the SEEDED one too: a harness that dropped it was the campaign's one finding).
        int flags = (h.keyframe() ? MigrationWire.FLAG_KEYFRAME : 0) | (h.seeded() ? MigrationWire.FLAG_SEEDED : 0);
        ByteBuffer again = MigrationWire.roundHeader(h.round(), h.pageSize(), h.regions(), flags);
        assertEquals(h, MigrationWire.parseRoundHeader(again), "round header round trip");
        assertEquals(0, again.remaining());
    }

    /** A codec whose decoders record the frames they get. */
    private static StateCodec recordingCodec(List<byte[]> frames) {
        StateDecoder decoder = (StateDecoder) Proxy.newProxyInstance(StateDecoder.class.getClassLoader(),
                new Class<?>[]{StateDecoder.class}, (p, m, a) -> {
                    if (m.getName().equals("accept")) {
                        ByteBuffer f = (ByteBuffer) a[0];
                        byte[] copy = new byte[f.remaining()];
                        f.get(copy);
                        frames.add(copy);
                    }
                    return null;
                });
        return (StateCodec) Proxy.newProxyInstance(StateCodec.class.getClassLoader(), new Class<?>[]{StateCodec.class},
                (p, m, a) -> m.getName().equals("newDecoder") || m.getName().equals("newKeyframeDecoder") ? decoder : null);
    }

    /** In-memory replicas of at most {@link #MAX_REPLICA} bytes in all. */
    private static VmState<WritableRegion> replica(String key, int pageSize, List<ReplicaFactory.RegionLayout> regions) {
        long total = 0;
        for (ReplicaFactory.RegionLayout r : regions) {
            total += r.sizeBytes();
            if (total > MAX_REPLICA) {
                throw new DwcpException(ErrorCode.LIMIT_EXCEEDED, "replica larger than " + MAX_REPLICA + " bytes");
            }
        }
        try {
            VmState.Builder<WritableRegion> b = VmState.<WritableRegion>builder(key).pageSizeBytes(pageSize).lastPagePartial(true);
            for (ReplicaFactory.RegionLayout r : regions) {
                b.region(StateRegions.ofBuffer(r.name(), ByteBuffer.allocate((int) r.sizeBytes())));
            }
            return b.build();
        } catch (IllegalArgumentException e) {
            // What a real factory does with a layout it cannot open (duplicate or empty names, ...).
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "cannot open the announced layout: " + e.getMessage(), e);
        }
    }

    private static void roundTransfer(byte[] bytes, int readSize) throws Exception {
        ReceiveBuffers budget = ReceiveBuffers.of(BUDGET);
        List<byte[]> frames = new ArrayList<>();
        List<MigrationReceiver.FailedRound> failed = new ArrayList<>();
        List<MigrationReceiver.ReceivedRound> received = new ArrayList<>();
        MigrationReceiver receiver = new MigrationReceiver(recordingCodec(frames), MigrationWireFuzzTest::replicaOrRefuse,
                received::add, failed::add, budget);
        TransferSink sink = receiver.onTransfer(null, new InboundTransfer(1, TransferKind.MEMORY, "vm", -1));
        DwcpException error = null;
        for (int at = 0; at < bytes.length && error == null; at += readSize) {
            try {
                sink.write(ByteBuffer.wrap(bytes, at, Math.min(readSize, bytes.length - at)).slice());
            } catch (DwcpException e) {
                error = e;
            } catch (RuntimeException e) {
                fail("round transfer threw " + e, e);
            }
            assertTrue(budget.usedBytes() <= BUDGET, "budget exceeded: " + budget.usedBytes());
        }
        if (error == null) {
            try {
                sink.complete();
            } catch (DwcpException e) {
                error = e;
            }
        }
        if (error != null) {
            // As the transport does (Reassembly): a sink whose write or complete threw is failed with that error.
            sink.fail(error);
        }
        assertEquals(0, budget.usedBytes(), "the round gave its buffers back");
        if (error != null) {
            assertTrue(RECEIVER_CODES.contains(error.code()), "undocumented code " + error.code() + ": " + error.getMessage());
            assertEquals(1, failed.size(), "the application hears of a failed round once");
            assertTrue(received.isEmpty());
            assertFramesArePrefixOf(frames, bytes);
        } else {
            assertTrue(failed.isEmpty());
            assertEquals(1, received.size());
            List<byte[]> expected = expectedFrames(bytes);
            assertNotNull(expected, "a round the receiver completed is well framed");
            assertEquals(expected.size(), frames.size());
            for (int i = 0; i < frames.size(); i++) {
                assertArrayEquals(expected.get(i), frames.get(i), "frame " + i);
            }
        }
    }

    private static VmState<WritableRegion> replicaOrRefuse(String key, int pageSize, List<ReplicaFactory.RegionLayout> regions) {
        return replica(key, pageSize, regions);
    }

    /** The frames between the header and the end marker, or null when {@code bytes} is not a complete round. */
    private static List<byte[]> expectedFrames(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        if (MigrationWire.parseRoundHeader(b) == null) {
            return null;
        }
        List<byte[]> out = new ArrayList<>();
        while (b.remaining() >= 4) {
            int len = b.getInt();
            if (len == 0) {
                return b.hasRemaining() ? null : out;
            }
            if (len < 0 || len > b.remaining()) {
                return null;
            }
            byte[] f = new byte[len];
            b.get(f);
            out.add(f);
        }
        return null;
    }

    /** Every frame the codec got before a failure is one the sender framed, in order. */
    private static void assertFramesArePrefixOf(List<byte[]> frames, byte[] bytes) {
        if (frames.isEmpty()) {
            return;
        }
        ByteBuffer b = ByteBuffer.wrap(bytes);
        assertNotNull(MigrationWire.parseRoundHeader(b), "frames were decoded without a complete header");
        for (byte[] f : frames) {
            int len = b.getInt();
            assertEquals(len, f.length);
            byte[] sent = new byte[len];
            b.get(sent);
            assertArrayEquals(sent, f);
        }
    }

    private static void controlTransfer(byte[] bytes, int readSize) throws Exception {
        List<ByteBuffer> replies = new ArrayList<>();
        Session session = (Session) Proxy.newProxyInstance(Session.class.getClassLoader(), new Class<?>[]{Session.class},
                (p, m, a) -> {
                    if (m.getName().equals("send")) {
                        replies.add(ByteBuffer.allocate(0));
                    }
                    return null;
                });
        StateCodec codec = (StateCodec) Proxy.newProxyInstance(StateCodec.class.getClassLoader(), new Class<?>[]{StateCodec.class},
                (p, m, a) -> m.getName().equals("baseline") ? java.util.Optional.of(new BaselineRef("vm", 7, 3, 99)) : null);
        MigrationReceiver receiver = new MigrationReceiver(codec, MigrationWireFuzzTest::replicaOrRefuse, r -> { }, r -> { },
                ReceiveBuffers.of(BUDGET));
        TransferSink sink = receiver.onTransfer(session, new InboundTransfer(2, TransferKind.METADATA, "vm", -1));
        try {
            for (int at = 0; at < bytes.length; at += readSize) {
                sink.write(ByteBuffer.wrap(bytes, at, Math.min(readSize, bytes.length - at)).slice());
            }
            sink.complete();
        } catch (DwcpException e) {
            assertTrue(e.code() == ErrorCode.PROTOCOL_ERROR || e.code() == ErrorCode.LIMIT_EXCEEDED, e.toString());
            sink.fail(e);
            assertTrue(replies.isEmpty(), "no reply to a malformed query");
            return;
        }
        assertEquals(1, replies.size(), "a well-formed query gets one reply");
        if (bytes.length >= 4 && ByteBuffer.wrap(bytes).getInt() == SeedWire.MAGIC) {
            return; // a seed message, answered by the seed service (a harness that expected a baseline query here was
                    // the second finding of the campaign: regression-seed-message-on-control-transfer)
        }
        MigrationWire.Control c = MigrationWire.parseControl(ByteBuffer.wrap(bytes));
        assertEquals(MigrationWire.TYPE_BASELINE_QUERY, c.type());
    }

    static byte[] input(int target, int readSize, ByteBuffer... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(target | ((readSize - 1) << 2));
        for (ByteBuffer p : parts) {
            byte[] b = new byte[p.remaining()];
            p.get(b);
            out.write(b, 0, b.length);
        }
        return out.toByteArray();
    }

    private static ByteBuffer frame(int length, int fill) {
        ByteBuffer b = ByteBuffer.allocate(4 + length).putInt(length);
        for (int i = 0; i < length; i++) {
            b.put((byte) (fill + i));
        }
        return b.flip();
    }

    /** A query, a baseline answer, headers and whole rounds (delta and keyframe), so the fuzzer starts from real traffic. */
    static Map<String, byte[]> seeds() {
        List<ReplicaFactory.RegionLayout> two = List.of(new ReplicaFactory.RegionLayout("ram", 16384),
                new ReplicaFactory.RegionLayout("vga", 4096));
        Map<String, byte[]> seeds = new LinkedHashMap<>();
        seeds.put("control-query", input(0, 1, MigrationWire.control(MigrationWire.TYPE_BASELINE_QUERY, 5, null)));
        seeds.put("control-state", input(0, 1, MigrationWire.control(MigrationWire.TYPE_BASELINE_STATE, 5,
                new BaselineRef("vm", 0x1001, 2, 0x5eed))));
        seeds.put("round-header", input(1, 1, MigrationWire.roundHeader(3, 4096, two, false)));
        ByteBuffer end = ByteBuffer.allocate(4);
        seeds.put("round-delta", input(2, 16, MigrationWire.roundHeader(2, 4096, two, false), frame(40, 1), frame(100, 7),
                end.duplicate()));
        seeds.put("round-keyframe", input(2, 64, MigrationWire.roundHeader(1, 4096, two, true), frame(300, 3),
                end.duplicate()));
        seeds.put("control-transfer", input(3, 7, MigrationWire.control(MigrationWire.TYPE_BASELINE_QUERY, 9, null)));
        return seeds;
    }

    @Test
    void seedsAreValidTraffic() throws Exception {
        for (Map.Entry<String, byte[]> s : seeds().entrySet()) {
            wire(s.getValue());
            if ((s.getValue()[0] & 3) == 2) {
                assertNotNull(expectedFrames(Arrays.copyOfRange(s.getValue(), 1, s.getValue().length)), s.getKey());
            }
        }
    }

    @Test
    @EnabledIfSystemProperty(named = FuzzSeeds.WRITE_PROPERTY, matches = "true")
    void writeSeeds() {
        FuzzSeeds.write(MigrationWireFuzzTest.class, "wire", seeds());
    }
}
