package io.dwcp.sync.crdt;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.time.HybridLogicalClock;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each type's required semantics, refusals, and decoding of bad input. */
class CrdtSemanticsTest {
    private final HybridLogicalClock hlc = new HybridLogicalClock(Clock.fixed(Instant.ofEpochMilli(5_000), ZoneOffset.UTC));

    @Test
    void gCounterSumsPerReplicaMaximumsAndRefusesDecrements() {
        GCounter a = GCounter.EMPTY.merge(GCounter.EMPTY.incrementDelta("a", 3));
        GCounter b = GCounter.EMPTY.merge(GCounter.EMPTY.incrementDelta("b", 4));
        GCounter a2 = a.merge(a.incrementDelta("a", 2));
        assertEquals(9, a2.merge(b).merge(a).value());
        assertThrows(IllegalArgumentException.class, () -> a.incrementDelta("a", -1));
        assertThrows(IllegalArgumentException.class, () -> a.incrementDelta("a", 0));
    }

    @Test
    void pnCounterIsPositiveMinusNegative() {
        PNCounter c = PNCounter.EMPTY;
        c = c.merge(c.addDelta("a", 10));
        c = c.merge(c.addDelta("b", -4));
        assertEquals(6, c.value());
        assertEquals(PNCounter.EMPTY, c.addDelta("a", 0));
    }

    @Test
    void twoPSetRemovalIsFinalAndReAddIsRefused() {
        TwoPSet s = TwoPSet.EMPTY;
        s = s.merge(s.addDelta("x"));
        s = s.merge(s.removeDelta("x"));
        assertFalse(s.value().contains("x"));
        TwoPSet removed = s;
        DwcpException e = assertThrows(DwcpException.class, () -> removed.addDelta("x"));
        assertEquals(ErrorCode.ILLEGAL_STATE, e.code());
        assertThrows(IllegalArgumentException.class, () -> TwoPSet.EMPTY.removeDelta("never-added"));
    }

    @Test
    void orSetConcurrentAddWinsOverRemoveAndObservedRemoveRemoves() {
        OrSet base = OrSet.EMPTY.merge(OrSet.EMPTY.addDelta("a", "x"));
        OrSet removing = base.merge(base.removeDelta("x"));
        OrSet adding = base.merge(base.addDelta("b", "x"));
        assertFalse(removing.contains("x"));
        assertTrue(removing.merge(adding).contains("x"), "add concurrent with a remove wins");
        assertTrue(adding.merge(removing).contains("x"));
        OrSet later = removing.merge(adding);
        OrSet gone = later.merge(later.removeDelta("x"));
        assertFalse(gone.merge(adding).contains("x"), "a remove that observed every add removes");
    }

    @Test
    void mvRegisterKeepsConcurrentWritesAndASupersedingWriteReplacesThem() {
        MvRegister a = MvRegister.EMPTY.merge(MvRegister.EMPTY.writeDelta("a", "1"));
        MvRegister b = MvRegister.EMPTY.merge(MvRegister.EMPTY.writeDelta("b", "2"));
        MvRegister both = a.merge(b);
        assertEquals(List.of("1", "2"), both.value());
        MvRegister next = both.merge(both.writeDelta("a", "3"));
        assertEquals(List.of("3"), next.value());
        assertEquals(List.of("3"), next.merge(a).merge(b).value(), "old writes stay superseded");
    }

    @Test
    void lwwHighestTimestampWinsTiesByReplica() {
        LwwRegister first = LwwRegister.EMPTY.writeDelta("z", "old", hlc);
        LwwRegister second = first.writeDelta("a", "new", hlc);
        assertTrue(second.timestamp() > first.timestamp());
        assertEquals("new", first.merge(second).value().orElseThrow());
        assertEquals("new", second.merge(first).value().orElseThrow());
        // same timestamp: higher replica id wins
        HybridLogicalClock c1 = new HybridLogicalClock(Clock.fixed(Instant.ofEpochMilli(9_000), ZoneOffset.UTC));
        HybridLogicalClock c2 = new HybridLogicalClock(Clock.fixed(Instant.ofEpochMilli(9_000), ZoneOffset.UTC));
        LwwRegister x = LwwRegister.EMPTY.writeDelta("r1", "from-r1", c1);
        LwwRegister y = LwwRegister.EMPTY.writeDelta("r2", "from-r2", c2);
        assertEquals(x.timestamp(), y.timestamp());
        assertEquals("from-r2", x.merge(y).value().orElseThrow());
        assertTrue(LwwRegister.EMPTY.value().isEmpty());
    }

    @Test
    void orMapKeyRemovalLosesToAConcurrentUpdateAndTypesAreChecked() {
        OrMap m = OrMap.EMPTY.merge(OrMap.EMPTY.updateDelta("a", "vm1", PNCounter.EMPTY, c -> c.addDelta("a", 5)));
        OrMap removed = m.merge(m.removeDelta("vm1"));
        OrMap updated = m.merge(m.updateDelta("b", "vm1", PNCounter.EMPTY, c -> c.addDelta("b", 1)));
        assertEquals(Set.of(), removed.keys());
        OrMap merged = removed.merge(updated);
        assertEquals(Set.of("vm1"), merged.keys());
        assertEquals(6, ((PNCounter) merged.get("vm1").orElseThrow()).value());
        DwcpException e = assertThrows(DwcpException.class,
                () -> m.updateDelta("a", "vm1", OrSet.EMPTY, s -> s.addDelta("a", "x")));
        assertEquals(ErrorCode.TYPE_MISMATCH, e.code());
    }

    @Test
    void rgaInsertsAfterElementsDeletesByTombstoneAndInterleavesConcurrentInsertsDeterministically() {
        Rga s = Rga.EMPTY;
        s = s.merge(s.insertDelta("a", 0, "h"));
        s = s.merge(s.insertDelta("a", 1, "o"));
        Rga base = s;
        Rga x = base.merge(base.insertDelta("x", 1, "X"));
        Rga y = base.merge(base.insertDelta("y", 1, "Y"));
        assertEquals(x.merge(y).value(), y.merge(x).value());
        assertEquals(4, x.merge(y).size());
        assertEquals("h", x.merge(y).value().get(0));
        assertEquals("o", x.merge(y).value().get(3));
        Rga deleted = x.merge(x.removeDelta(0));
        assertEquals(List.of("X", "o"), deleted.value());
        assertEquals(List.of("X", "o", "Y").size(), deleted.merge(y).size());
        assertThrows(IndexOutOfBoundsException.class, () -> Rga.EMPTY.removeDelta(0));
    }

    @Test
    void rgaInsertWhosePredecessorIsMissingStaysInvisibleUntilItArrives() {
        Rga one = Rga.EMPTY.insertDelta("a", 0, "first");
        Rga withOne = Rga.EMPTY.merge(one);
        Rga two = withOne.insertDelta("a", 1, "second");
        Rga orphan = Rga.EMPTY.merge(two);
        assertEquals(List.of(), orphan.value());
        assertEquals(List.of("first", "second"), orphan.merge(one).value());
    }

    @Test
    void dottedVersionVectorCompactsAndDecidesInclusion() {
        DottedVersionVector v = DottedVersionVector.of(List.of(new Dot("a", 1), new Dot("a", 3), new Dot("b", 2)));
        assertTrue(v.contains(new Dot("a", 1)));
        assertFalse(v.contains(new Dot("a", 2)));
        assertTrue(v.contains(new Dot("a", 3)));
        assertEquals(1, v.contiguous("a"));
        assertEquals(3, v.max("a"));
        assertEquals(new Dot("a", 4), v.next("a"));
        DottedVersionVector filled = v.add(new Dot("a", 2));
        assertEquals(3, filled.contiguous("a"));
        assertEquals(DottedVersionVector.of(List.of(new Dot("a", 1), new Dot("a", 2), new Dot("a", 3), new Dot("b", 2))), filled);
        assertTrue(filled.includes(v));
        assertFalse(v.includes(filled));
        CanonicalWriter w = new CanonicalWriter();
        filled.encode(w);
        assertEquals(filled, DottedVersionVector.decode(new CanonicalReader(w.toByteArray())));
    }

    @Test
    void unknownTagUnsupportedVersionAndTruncationAreRefusedWithCodes() {
        assertEquals(ErrorCode.PROTOCOL_ERROR, assertThrows(DwcpException.class,
                () -> TypeRegistry.defaults().decode(new byte[]{(byte) 200, 1})).code());
        assertEquals(ErrorCode.PROTOCOL_ERROR, assertThrows(DwcpException.class,
                () -> TypeRegistry.defaults().decode(new byte[]{1, 9, 0})).code());
        byte[] ok = OrSet.EMPTY.merge(OrSet.EMPTY.addDelta("a", "x")).encode();
        for (int cut = 0; cut < ok.length; cut++) {
            byte[] part = java.util.Arrays.copyOf(ok, cut);
            assertTrue(Set.of(ErrorCode.CORRUPT_FRAME, ErrorCode.PROTOCOL_ERROR).contains(
                    assertThrows(DwcpException.class, () -> TypeRegistry.defaults().decode(part)).code()));
        }
        byte[] trailing = java.util.Arrays.copyOf(ok, ok.length + 1);
        assertEquals(ErrorCode.CORRUPT_FRAME, assertThrows(DwcpException.class, () -> TypeRegistry.defaults().decode(trailing)).code());
    }

    /** Fuzz: arbitrary bytes give a state or a DwcpException, nothing else (no OOM, no runtime exceptions). */
    @Property(tries = 2000)
    void arbitraryBytesDecodeOrFailWithACode(@ForAll byte[] bytes, @ForAll CrdtType type) {
        byte[] tagged = new byte[bytes.length + 2];
        tagged[0] = (byte) type.tag();
        tagged[1] = 1;
        System.arraycopy(bytes, 0, tagged, 2, bytes.length);
        try {
            Crdt<?> c = TypeRegistry.defaults().decode(tagged);
            assertEquals(type, c.type());
        } catch (DwcpException e) {
            assertTrue(Set.of(ErrorCode.CORRUPT_FRAME, ErrorCode.PROTOCOL_ERROR).contains(e.code()), e.toString());
        }
    }
}
