package io.dwcp.compression;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/** Recycled page chunks: reused while rounds follow each other, freed once nobody took them for a while. */
class ChunkPoolTest {
    private static final int CHUNK = PageStore.CHUNK_BYTES;
    private static final long IDLE = TimeUnit.SECONDS.toNanos(5);

    @Test
    void aChunkGivenBackIsTakenAgainAndRecentOnesSurviveATrim() {
        ChunkPool pool = new ChunkPool(4L * CHUNK);
        ByteBuffer a = pool.take(CHUNK);
        pool.give(a);
        assertEquals(0, pool.trimIdle(System.nanoTime(), IDLE), "a chunk given back just now is not idle");
        assertEquals(CHUNK, pool.pooledBytes());
        assertSame(a, pool.takeRecycled(CHUNK));
        assertEquals(0, pool.pooledBytes());
        pool.give(a);
        pool.clear();
    }

    @Test
    void chunksNobodyTookForLongerThanTheLimitAreFreedOldestFirst() {
        ChunkPool pool = new ChunkPool(4L * CHUNK);
        ByteBuffer old = pool.take(CHUNK);
        ByteBuffer recent = pool.take(CHUNK);
        pool.give(old);
        long between = System.nanoTime();
        pool.give(recent);
        // Measured from just after the first give: only the first chunk is older than the limit.
        assertEquals(CHUNK, pool.trimIdle(between + IDLE + 1, IDLE));
        assertEquals(CHUNK, pool.pooledBytes());
        assertSame(recent, pool.takeRecycled(CHUNK), "the chunk given back last stays pooled");
        assertNull(pool.takeRecycled(CHUNK), "the idle chunk was freed, not pooled");
        pool.give(recent);
        assertEquals(CHUNK, pool.trimIdle(System.nanoTime() + IDLE + 1, IDLE));
        assertEquals(0, pool.pooledBytes());
        assertEquals(0, pool.trimIdle(System.nanoTime() + IDLE + 1, IDLE), "an empty pool frees nothing");
    }
}
