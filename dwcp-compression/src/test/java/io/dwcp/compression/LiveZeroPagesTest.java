package io.dwcp.compression;

import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.DecodeResult;
import io.dwcp.core.spi.EncodeOptions;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.StateRegions;
import io.dwcp.core.state.VmState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A keyframe of memory that is not a snapshot (a mapped file a guest writes) finds zero pages in place and never copies
 * them; the baseline records them, and later rounds compare those pages with zeros instead of the store. The replica
 * must stay exact whatever the store is: a staging file (a state above the baseline memory cap: zero pages stay
 * holes), new direct memory, or recycled direct chunks that still hold an earlier state's pages.
 */
class LiveZeroPagesTest {
    private static final int PS = 4096;

    @TempDir
    Path dir;

    /** Every third page zero, the others memory-like. */
    private static byte[] withZeroPages(int pages, long seed) {
        byte[] v = RoundTripTest.memoryLike(pages * PS, seed);
        for (int p = 0; p < pages; p += 3) {
            Arrays.fill(v, p * PS, (p + 1) * PS, (byte) 0);
        }
        return v;
    }

    private static void write(Path file, byte[] content) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(content), 0);
        }
    }

    private static VmState<StateRegion> live(String key, StateRegion region) {
        return VmState.<StateRegion>builder(key).pageSizeBytes(PS).region(region).build();
    }

    /** Whether the sender's committed baseline of {@code key} holds zeros wherever it says a page is known zero. */
    private static int knownZeroPagesHoldingZeros(HdeCodec tx, String key, int pages) {
        Baseline b = tx.baselines().acquire(BaselineStore.Side.SENDER, key);
        try {
            int known = 0;
            byte[] page = new byte[PS];
            for (int p = 0; p < pages; p++) {
                if (b.knownZero(p)) {
                    b.store.chunk(p).get(b.store.offset(p), page);
                    for (byte x : page) {
                        assertEquals(0, x, "page " + p + " is known zero but the store holds data");
                    }
                    known++;
                }
            }
            return known;
        } finally {
            b.release();
        }
    }

    /**
     * Keyframe, then two deltas that turn zero pages into data and data pages into zeros; every round decodes to the
     * file's bytes, and each delta sends exactly the pages that changed.
     */
    private void roundsStayExact(HdeCodec tx, HdeCodec rx, String key, int pages, boolean stagingFile) throws IOException {
        Path file = dir.resolve(key + ".ram");
        byte[] v = withZeroPages(pages, 5);
        Files.write(file, v);
        byte[] replica = new byte[pages * PS];
        try (StateRegion region = StateRegions.mapped(file)) {
            Rounds.Encoded k = Rounds.encode(tx, live(key, region), EncodeOptions.keyframe());
            assertTrue(k.result.keyframe());
            assertEquals((pages + 2) / 3, k.result.pagesByClass().get("zero"));
            DecodeResult d = Rounds.decode(rx, Rounds.replica(key, PS, replica), k.frames);
            assertArrayEquals(v, replica, "keyframe");
            tx.acknowledge(d.baseline());
            Baseline b = tx.baselines().acquire(BaselineStore.Side.SENDER, key);
            try {
                assertEquals(stagingFile, b.store.isFileBacked(), "the store kind this case is about");
            } finally {
                b.release();
            }
            assertEquals((pages + 2) / 3, knownZeroPagesHoldingZeros(tx, key, pages));

            for (int round = 1; round <= 2; round++) {
                byte[] next = v.clone();
                int changed = 0;
                // Zero pages that become data, data pages that become zero, a zero page written with zeros (unchanged).
                for (int p = round; p < pages; p += 17) {
                    if (p % 3 == 0) {
                        Arrays.fill(next, p * PS + 100, p * PS + 200, (byte) (round + 1));
                    } else {
                        Arrays.fill(next, p * PS, (p + 1) * PS, (byte) 0);
                    }
                    changed++;
                }
                write(file, next);
                Rounds.Encoded e = Rounds.encode(tx, live(key, region), Rounds.against(d.baseline()));
                assertFalse(e.result.keyframe(), "round " + round);
                Map<String, Long> classes = e.result.pagesByClass();
                assertEquals(pages - changed, classes.get("unchanged"), "round " + round + ": " + classes);
                d = Rounds.decode(rx, Rounds.replica(key, PS, replica), e.frames);
                assertArrayEquals(next, replica, "round " + round);
                tx.acknowledge(d.baseline());
                v = next;
                // Pages a delta wrote are no longer known zero; the others still are, and hold zeros.
                int known = knownZeroPagesHoldingZeros(tx, key, pages);
                assertTrue(known < (pages + 2) / 3, "round " + round + ": " + known + " known zero pages");
            }
        } finally {
            tx.drop(key);
            rx.drop(key);
        }
    }

    @Test
    void aStateAboveTheMemoryCapKeepsZeroPagesOutOfItsStagingFile() throws IOException, InterruptedException {
        // 20 MiB above a 16 MiB cap: the sender's baseline is a staging file.
        DwcpConfig config = DwcpConfig.builder().set("dwcp.compression.baseline.max-memory", "16MiB")
                .set("dwcp.compression.level.wan", "zstd:1").build();
        HdeCodec tx = Rounds.codec(config, Clock.systemUTC(), 2);
        HdeCodec rx = Rounds.codec(DwcpConfig.builder().set("dwcp.compression.level.wan", "zstd:1").build(),
                Clock.systemUTC(), 2);
        try {
            roundsStayExact(tx, rx, "big", 5 * 1024, true);
        } finally {
            tx.stop();
            rx.stop();
        }
    }

    @Test
    void theStagingFileIsCreatedInTheConfiguredDirectory() throws IOException, InterruptedException {
        Path missing = dir.resolve("no-such-dir");
        DwcpConfig config = DwcpConfig.builder().set("dwcp.compression.baseline.max-memory", "16MiB")
                .set("dwcp.compression.staging-dir", missing.toString()).build();
        HdeCodec tx = Rounds.codec(config, Clock.systemUTC(), 1);
        try {
            Path file = dir.resolve("big.ram");
            Files.write(file, withZeroPages(5 * 1024, 3));
            try (StateRegion region = StateRegions.mapped(file)) {
                RuntimeException e = assertThrows(RuntimeException.class,
                        () -> Rounds.encode(tx, live("big", region), EncodeOptions.keyframe()));
                assertTrue(String.valueOf(e.getMessage()).contains(missing.toString())
                        || String.valueOf(e.getCause()).contains(missing.toString()), String.valueOf(e));
            }
        } finally {
            tx.stop();
        }
    }

    @Test
    void recycledChunksGetTheirZeroPagesWritten() throws IOException, InterruptedException {
        DwcpConfig config = DwcpConfig.builder().set("dwcp.compression.level.wan", "zstd:1").build();
        HdeCodec tx = Rounds.codec(config, Clock.systemUTC(), 2);
        HdeCodec rx = Rounds.codec(config, Clock.systemUTC(), 2);
        try {
            int pages = 3 * 1024;
            // Chunks that an earlier state left in the pool, full of its data.
            for (int i = 0; i * PageStore.CHUNK_BYTES < pages * PS; i++) {
                ByteBuffer chunk = DirectMemory.allocate(PageStore.CHUNK_BYTES);
                while (chunk.hasRemaining()) {
                    chunk.put((byte) 0x5A);
                }
                tx.chunks().give(chunk);
            }
            assertTrue(tx.chunks().pooledBytes() >= (long) pages * PS, "the store will be made of recycled chunks");
            roundsStayExact(tx, rx, "small", pages, false);
        } finally {
            tx.stop();
            rx.stop();
        }
    }

    /** Blocks of 512 bytes the file takes (stat's %b). */
    private static long allocatedBlocks(Path file) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("stat", "-c", "%b", file.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        assertEquals(0, p.waitFor(), out);
        return Long.parseLong(out);
    }

    /**
     * A guest's RAM file on tmpfs is mostly holes (memory the guest never touched). Reading a hole through a shared
     * mapping would allocate it (memory of the source host, and CPU); the rounds read such parts with read calls, so
     * the file takes no more memory after a keyframe and a delta than before, and the replica is exact.
     */
    @Test
    void liveRoundsLeaveTheHolesOfATmpfsFileUnallocated() throws IOException, InterruptedException {
        Path shm = Path.of("/dev/shm");
        assumeTrue(Files.isDirectory(shm) && "tmpfs".equals(Files.getFileStore(shm).type()), "needs tmpfs at /dev/shm");
        Path file = Files.createTempFile(shm, "dwcp-live-holes", ".ram");
        DwcpConfig config = DwcpConfig.builder().set("dwcp.compression.level.wan", "zstd:1").build();
        HdeCodec tx = Rounds.codec(config, Clock.systemUTC(), 2);
        HdeCodec rx = Rounds.codec(config, Clock.systemUTC(), 2);
        String key = "holes";
        int pages = 4096;
        try {
            // Data in the first and the last MiB, holes between them.
            byte[] data = withZeroPages(512, 7);
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.wrap(data, 0, 1 << 20), 0);
                ch.write(ByteBuffer.wrap(data, 1 << 20, 1 << 20), (long) pages * PS - (1 << 20));
            }
            long blocks = allocatedBlocks(file);
            assertTrue(blocks * 512 <= 3L << 20, "the file is sparse to begin with: " + blocks + " blocks");
            byte[] replica = new byte[pages * PS];
            try (StateRegion region = StateRegions.mapped(file)) {
                Rounds.Encoded k = Rounds.encode(tx, live(key, region), EncodeOptions.keyframe());
                DecodeResult d = Rounds.decode(rx, Rounds.replica(key, PS, replica), k.frames);
                assertArrayEquals(Files.readAllBytes(file), replica, "keyframe");
                tx.acknowledge(d.baseline());
                // A delta: a page of the first MiB changes; the holes are compared again.
                write(file, new byte[] {1, 2, 3});
                Rounds.Encoded e = Rounds.encode(tx, live(key, region), Rounds.against(d.baseline()));
                assertEquals(1L, e.result.pagesByClass().get("xor") + e.result.pagesByClass().get("literal"),
                        e.result.pagesByClass().toString());
                Rounds.decode(rx, Rounds.replica(key, PS, replica), e.frames);
                assertArrayEquals(Files.readAllBytes(file), replica, "delta");
            }
            assertEquals(blocks, allocatedBlocks(file), "no hole of the file was allocated by reading it");
        } finally {
            tx.drop(key);
            rx.drop(key);
            tx.stop();
            rx.stop();
            Files.deleteIfExists(file);
        }
    }
}
