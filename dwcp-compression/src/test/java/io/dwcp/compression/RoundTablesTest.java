package io.dwcp.compression;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

class RoundTablesTest {
    @Test
    void aKeptMapOfTheSameCapacityComesBackEmpty() {
        RoundTables tables = new RoundTables();
        LongIntMap m = tables.map(1000);
        m.putIfAbsent(42L, 7);
        tables.give(m);
        LongIntMap again = tables.map(1000);
        assertSame(m, again);
        assertEquals(0, again.size());
        assertEquals(-1, again.get(42L));
        assertNotSame(again, tables.map(1000), "a table is handed to one round at a time");
    }

    @Test
    void aKeptRoundIndexComesBackEmpty() {
        RoundTables tables = new RoundTables();
        RoundSpliceIndex r = tables.roundIndex(10);
        r.insert(0x1234_5678_9ABC_DEF0L, 4096);
        assertEquals(4096, r.get(0x1234_5678_9ABC_DEF0L, Long.MAX_VALUE));
        tables.give(r);
        RoundSpliceIndex again = tables.roundIndex(10);
        assertSame(r, again);
        assertEquals(-1, again.get(0x1234_5678_9ABC_DEF0L, Long.MAX_VALUE));
    }

    @Test
    void onlyTablesOfTheRequestedSizeAreReusedAndTheLeastRecentlyGivenGoFirst() {
        RoundTables tables = new RoundTables();
        LongIntMap small = tables.map(100);
        LongIntMap medium = tables.map(10_000);
        LongIntMap large = tables.map(1_000_000);
        tables.give(small);
        tables.give(medium);
        tables.give(large);                          // three given, two kept: small goes
        assertNotSame(small, tables.map(100));
        assertSame(medium, tables.map(10_000));
        assertSame(large, tables.map(1_000_000));
        assertNotSame(tables.roundIndex(10), tables.roundIndex(10));
        tables.give(tables.roundIndex(11));
        assertEquals(1, tables.keptRoundIndexes());
        assertEquals(1 << 10, tables.roundIndex(10).capacity(), "another size is allocated, not resized");
        tables.clear();
        assertEquals(0, tables.keptRoundIndexes());
    }
}
