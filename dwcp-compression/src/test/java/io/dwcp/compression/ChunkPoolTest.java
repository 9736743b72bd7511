package io.dwcp.compression;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * Recycled page chunks: cut from slabs, reused while rounds follow each other, freed (a slab whole) once nobody took
 * them for a while.
 */
class ChunkPoolTest {
    private static final int CHUNK = PageStore.CHUNK_BYTES;
    private static final int SLAB = ChunkPool.SLAB_CHUNKS;
    private static final long IDLE = TimeUnit.SECONDS.toNanos(5);

    @Test
    void aNewChunkComesWithTheRestOfItsSlabPooledAndAChunkGivenBackIsTakenAgain() {
        ChunkPool pool = new ChunkPool(64L * CHUNK);
        ByteBuffer a = pool.take(CHUNK);
        assertEquals(CHUNK, a.capacity());
        assertEquals((SLAB - 1L) * CHUNK, pool.pooledBytes(), "the slab's other chunks wait in the pool");
        List<ByteBuffer> rest = new ArrayList<>();
        for (int i = 1; i < SLAB; i++) {
            rest.add(pool.take(CHUNK));
        }
        assertEquals(0, pool.pooledBytes());
        assertNull(pool.takeRecycled(CHUNK), "the slab is all in use");
        pool.give(a);
        assertEquals(0, pool.trimIdle(System.nanoTime(), IDLE), "a chunk given back just now is not idle");
        assertSame(a, pool.takeRecycled(CHUNK));
        pool.give(a);
        rest.forEach(pool::give);
        pool.clear();
        assertEquals(0, pool.pooledBytes());
    }

    @Test
    void aSlabIsFreedOnlyWhenAllItsChunksAreBackAndIdle() {
        ChunkPool pool = new ChunkPool(64L * CHUNK);
        ByteBuffer inUse = pool.take(CHUNK);
        assertEquals(0, pool.trimIdle(System.nanoTime() + IDLE + 1, IDLE), "one of the slab's chunks is in use");
        assertEquals((SLAB - 1L) * CHUNK, pool.pooledBytes());
        pool.give(inUse);
        assertEquals(0, pool.trimIdle(System.nanoTime(), IDLE), "one of the slab's chunks was given back just now");
        assertEquals((long) SLAB * CHUNK, pool.trimIdle(System.nanoTime() + IDLE + 1, IDLE));
        assertEquals(0, pool.pooledBytes());
        assertNull(pool.takeRecycled(CHUNK), "the idle slab was freed, not pooled");
        assertEquals(0, pool.trimIdle(System.nanoTime() + IDLE + 1, IDLE), "an empty pool frees nothing");
    }

    @Test
    void aCallersOwnChunkIsPooledAndFreedAloneOldestFirst() {
        ChunkPool pool = new ChunkPool(4L * CHUNK);
        ByteBuffer old = DirectMemory.allocate(CHUNK);
        ByteBuffer recent = DirectMemory.allocate(CHUNK);
        pool.give(old);
        long between = System.nanoTime();
        pool.give(recent);
        assertEquals(CHUNK, pool.trimIdle(between + IDLE + 1, IDLE), "only the first is older than the limit");
        assertSame(recent, pool.takeRecycled(CHUNK));
        assertNull(pool.takeRecycled(CHUNK));
        pool.give(recent);
        pool.clear();
        assertEquals(0, pool.pooledBytes());
    }

    @Test
    void clearFreesWhatIsBackAndASlabWithAChunkInUseWhenThatComesBack() {
        ChunkPool pool = new ChunkPool(64L * CHUNK);
        ByteBuffer inUse = pool.take(CHUNK);
        pool.give(DirectMemory.allocate(CHUNK));
        pool.clear();
        assertEquals((SLAB - 1L) * CHUNK, pool.pooledBytes(), "the caller's own chunk was freed, the slab waits");
        pool.give(inUse);
        assertEquals((long) SLAB * CHUNK, pool.trimIdle(System.nanoTime() + IDLE + 1, IDLE));
        assertEquals(0, pool.pooledBytes());
    }

    @Test
    void overTheBoundAWholeSlabIsFreedAsSoonAsItsLastChunkIsBack() {
        ChunkPool pool = new ChunkPool(0);
        ByteBuffer a = pool.take(CHUNK);
        assertNotNull(a);
        pool.give(a);
        assertEquals(0, pool.pooledBytes(), "nothing may be pooled: the slab was freed");
        ChunkPool mixed = new ChunkPool(0);
        ByteBuffer own = DirectMemory.allocate(CHUNK);
        mixed.give(own);
        assertEquals(0, mixed.pooledBytes(), "a chunk of the caller's own over the bound is freed at once");
    }
}
