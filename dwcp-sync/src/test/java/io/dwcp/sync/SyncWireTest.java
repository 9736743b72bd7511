package io.dwcp.sync;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.sync.crdt.OrMap;
import io.dwcp.sync.crdt.PNCounter;
import io.dwcp.sync.crdt.TypeRegistry;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SyncWireTest {
    private static final SyncMessage.Header H = new SyncMessage.Header(7, 0x0102030405060708L, "n1");
    private static final TypeRegistry REG = TypeRegistry.defaults();

    private static OrMap entry() {
        return OrMap.EMPTY.updateDelta("r", "k", PNCounter.EMPTY, c -> c.addDelta("r", 5));
    }

    private static List<SyncMessage> samples() {
        Map<String, Long> leaf = new TreeMap<>(Map.of("k", 42L));
        return List.of(
                new SyncMessage.Delta(H, 99, 2, false, List.of("n0", "n1"), List.of(new SyncMessage.KeyState("k", entry()))),
                new SyncMessage.TreeRequest(H, 1, new int[]{3, 15}),
                new SyncMessage.TreeResponse(H, 0, new long[][]{new long[16]}),
                new SyncMessage.LeafRequest(H, new int[]{65535}),
                new SyncMessage.LeafResponse(H, List.of(leaf)),
                new SyncMessage.PullRequest(H, List.of("k")),
                new SyncMessage.PullResponse(H, List.of(new SyncMessage.KeyState("k", entry()))),
                new SyncMessage.PushRequest(H, List.of(new SyncMessage.KeyState("k", entry()))),
                new SyncMessage.PushAck(H, 1),
                new SyncMessage.Error(H, ErrorCode.TIMEOUT.number(), "slow"));
    }

    @Test
    void everyMessageRoundTripsToTheSameBytes() {
        for (SyncMessage m : samples()) {
            byte[] b = SyncWire.encode(m);
            SyncMessage back = SyncWire.decode(b, REG);
            assertEquals(m.getClass(), back.getClass());
            assertEquals(m.header(), back.header());
            assertArrayEquals(b, SyncWire.encode(back), m.getClass().getSimpleName());
        }
    }

    /** Golden vector: a PUSH_ACK; the layout documented in docs/sync.md. */
    @Test
    void pushAckMatchesTheDocumentedLayout() {
        byte[] b = SyncWire.encode(new SyncMessage.PushAck(H, 3));
        assertEquals("4453" + "01" + "09" + "00" + "0000000000000007" + "0102030405060708" + "02" + "6e31" + "03",
                HexFormat.of().formatHex(b));
    }

    @Test
    void badMagicVersionFlagsTypeAndTruncationAreRefusedWithCodes() {
        byte[] ok = SyncWire.encode(new SyncMessage.PushAck(H, 3));
        byte[] magic = ok.clone();
        magic[0] = 0;
        assertEquals(ErrorCode.PROTOCOL_ERROR, assertThrows(DwcpException.class, () -> SyncWire.decode(magic, REG)).code());
        byte[] version = ok.clone();
        version[SyncWire.VERSION_OFFSET] = 2;
        assertEquals(ErrorCode.PROTOCOL_ERROR, assertThrows(DwcpException.class, () -> SyncWire.decode(version, REG)).code());
        byte[] flags = ok.clone();
        flags[SyncWire.FLAGS_OFFSET] = 1;
        assertEquals(ErrorCode.PROTOCOL_ERROR, assertThrows(DwcpException.class, () -> SyncWire.decode(flags, REG)).code());
        byte[] type = ok.clone();
        type[SyncWire.TYPE_OFFSET] = 77;
        assertEquals(ErrorCode.PROTOCOL_ERROR, assertThrows(DwcpException.class, () -> SyncWire.decode(type, REG)).code());
        assertTrue(SyncWire.headerValid(type));
        assertTrue(!SyncWire.headerValid(magic) && !SyncWire.headerValid(version) && !SyncWire.headerValid(flags));
        for (int cut = 0; cut < ok.length; cut++) {
            byte[] part = java.util.Arrays.copyOf(ok, cut);
            assertTrue(Set.of(ErrorCode.CORRUPT_FRAME, ErrorCode.PROTOCOL_ERROR)
                    .contains(assertThrows(DwcpException.class, () -> SyncWire.decode(part, REG)).code()));
        }
    }

    @Test
    void anEntryHoldingAnotherKeyIsRefused() {
        SyncMessage.Delta d = new SyncMessage.Delta(H, 1, 0, true, List.of("n1"), List.of(new SyncMessage.KeyState("other", entry())));
        assertEquals(ErrorCode.CORRUPT_FRAME, assertThrows(DwcpException.class, () -> SyncWire.decode(SyncWire.encode(d), REG)).code());
    }

    /** Fuzz: mutated valid messages decode or fail with a code; nothing else escapes, nothing allocates without bound. */
    @Property(tries = 3000)
    void mutatedMessagesDecodeOrFailWithACode(@ForAll int which, @ForAll int position, @ForAll byte value) {
        List<SyncMessage> s = samples();
        byte[] b = SyncWire.encode(s.get(Math.floorMod(which, s.size())));
        b[Math.floorMod(position, b.length)] = value;
        try {
            SyncWire.decode(b, REG);
        } catch (DwcpException e) {
            assertTrue(Set.of(ErrorCode.CORRUPT_FRAME, ErrorCode.PROTOCOL_ERROR).contains(e.code()), e.toString());
        }
    }
}
