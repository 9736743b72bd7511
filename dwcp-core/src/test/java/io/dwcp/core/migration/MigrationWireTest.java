package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.spi.BaselineRef;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MigrationWireTest {
    private static final List<ReplicaFactory.RegionLayout> LAYOUT = List.of(
            new ReplicaFactory.RegionLayout("pc.ram", 1L << 30), new ReplicaFactory.RegionLayout("vga.vram", 16 << 20));

    @Test
    void roundHeaderGoldenVector() {
        ByteBuffer b = MigrationWire.roundHeader(3, 4096, List.of(new ReplicaFactory.RegionLayout("ram", 8192)), false);
        assertEquals("44574d52" + "02" + "00" + "0000" + "00000003" + "00001000" + "00000001"
                + "0003" + "72616d" + "0000000000002000", HexFormat.of().formatHex(b.array()));
    }

    @Test
    void keyframeFlagGoldenVectorAndRoundTrip() {
        ByteBuffer b = MigrationWire.roundHeader(0, 4096, List.of(new ReplicaFactory.RegionLayout("ram", 8192)), true);
        assertEquals("44574d52" + "02" + "01" + "0000" + "00000000" + "00001000" + "00000001"
                + "0003" + "72616d" + "0000000000002000", HexFormat.of().formatHex(b.array()));
        assertTrue(MigrationWire.parseRoundHeader(b).keyframe());
        assertFalse(MigrationWire.parseRoundHeader(MigrationWire.roundHeader(1, 4096, LAYOUT, false)).keyframe());
    }

    @Test
    void controlGoldenVector() {
        ByteBuffer b = MigrationWire.control(MigrationWire.TYPE_BASELINE_STATE, 7, new BaselineRef("vm", 1, 2, 3));
        assertEquals("44574d43" + "02" + "02" + "0000" + "0000000000000007" + "01"
                + "0000000000000001" + "0000000000000002" + "0000000000000003", HexFormat.of().formatHex(b.array()));
    }

    @Property(tries = 100)
    void headerParsesOnlyWhenCompleteAtAnySplit(@ForAll @IntRange(min = 0, max = 60) int available) {
        ByteBuffer whole = MigrationWire.roundHeader(5, 4096, LAYOUT, false);
        int n = Math.min(available, whole.remaining());
        ByteBuffer part = ByteBuffer.allocate(n);
        part.put(whole.duplicate().limit(n)).flip();
        MigrationWire.RoundHeader h = MigrationWire.parseRoundHeader(part);
        if (n < whole.remaining()) {
            assertNull(h);
            assertEquals(0, part.position(), "an incomplete header consumes nothing");
        } else {
            assertEquals(new MigrationWire.RoundHeader(5, 4096, LAYOUT, false), h);
        }
    }

    @Test
    void controlRoundTripsWithAndWithoutBaseline() {
        BaselineRef ref = new BaselineRef("vm-9", 0xabcdefL, 4, -1L);
        MigrationWire.Control c = MigrationWire.parseControl(MigrationWire.control(MigrationWire.TYPE_BASELINE_STATE, 42, ref));
        assertEquals(42, c.requestId());
        assertEquals(ref, c.baseline("vm-9"));
        assertNull(MigrationWire.parseControl(MigrationWire.control(MigrationWire.TYPE_BASELINE_QUERY, 1, null)).baseline("vm-9"));
    }

    @Test
    void regionNameThatIsNotUtf8IsRefused() {
        // Found by MigrationWireFuzzTest: 0xFF bytes were read as U+FFFD, a different name (and longer than 255 bytes
        // once written back). The header names region "ram" at offset 22..24.
        ByteBuffer b = MigrationWire.roundHeader(0, 4096, List.of(new ReplicaFactory.RegionLayout("ram", 4096)), false);
        b.put(23, (byte) 0xFF);
        DwcpException e = assertThrows(DwcpException.class, () -> MigrationWire.parseRoundHeader(b));
        assertEquals(ErrorCode.PROTOCOL_ERROR, e.code());
        assertTrue(e.getMessage().contains("not valid UTF-8"), e.getMessage());
    }

    @Test
    void hostileHeadersAreRefused() {
        ByteBuffer wrongMagic = MigrationWire.roundHeader(0, 4096, LAYOUT, false);
        wrongMagic.put(0, (byte) 'X');
        assertEquals(ErrorCode.PROTOCOL_ERROR, assertThrows(DwcpException.class, () -> MigrationWire.parseRoundHeader(wrongMagic)).code());

        ByteBuffer futureVersion = MigrationWire.roundHeader(0, 4096, LAYOUT, false);
        futureVersion.put(4, (byte) 9);
        assertEquals(ErrorCode.PROTOCOL_ERROR, assertThrows(DwcpException.class, () -> MigrationWire.parseRoundHeader(futureVersion)).code());

        ByteBuffer unknownFlag = MigrationWire.roundHeader(0, 4096, LAYOUT, false);
        unknownFlag.put(5, (byte) 4);
        assertEquals(ErrorCode.PROTOCOL_ERROR, assertThrows(DwcpException.class, () -> MigrationWire.parseRoundHeader(unknownFlag)).code());

        ByteBuffer seededKeyframe = MigrationWire.roundHeader(0, 4096, LAYOUT, MigrationWire.FLAG_KEYFRAME | MigrationWire.FLAG_SEEDED);
        assertEquals(ErrorCode.PROTOCOL_ERROR, assertThrows(DwcpException.class, () -> MigrationWire.parseRoundHeader(seededKeyframe)).code());
        assertTrue(MigrationWire.parseRoundHeader(MigrationWire.roundHeader(0, 4096, LAYOUT, MigrationWire.FLAG_SEEDED)).seeded());

        ByteBuffer tooManyRegions = MigrationWire.roundHeader(0, 4096, LAYOUT, false);
        tooManyRegions.putInt(16, 1_000_000);
        assertEquals(ErrorCode.LIMIT_EXCEEDED, assertThrows(DwcpException.class, () -> MigrationWire.parseRoundHeader(tooManyRegions)).code());

        ByteBuffer badPage = MigrationWire.roundHeader(0, 4096, LAYOUT, false);
        badPage.putInt(12, 3000);
        assertEquals(ErrorCode.PROTOCOL_ERROR, assertThrows(DwcpException.class, () -> MigrationWire.parseRoundHeader(badPage)).code());

        ByteBuffer control = MigrationWire.control(MigrationWire.TYPE_BASELINE_QUERY, 1, null);
        control.put(5, (byte) 77);
        assertEquals(ErrorCode.PROTOCOL_ERROR, assertThrows(DwcpException.class, () -> MigrationWire.parseControl(control)).code());
        assertEquals(ErrorCode.PROTOCOL_ERROR, assertThrows(DwcpException.class, () -> MigrationWire.parseControl(ByteBuffer.allocate(3))).code());
    }
}
