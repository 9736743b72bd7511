package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.spi.StateCodec;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.StateRegions;
import io.dwcp.core.state.VmState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.function.ToLongFunction;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A seeded round whose batches do not fit the receiver's share of the receive buffer: the batches past a quarter of
 * the share wait in a spill file beside the replica, and the spill file is gone however the round ends.
 */
class SeedSpillTest {
    private static final String KEY = "vm";
    private static final int PAGE = 4096;
    private static final int PAGES = 4800;
    private static final int SIZE = PAGES * PAGE - 100;
    /** Pages the newer version rewrites (random, so incompressible): batches of 64, 128, 256, 512, 1024 and 216 literal pages
     * (the first batches of a round are small). */
    private static final int CHANGED = 2200;
    /** The peer's share: 8 MiB, less than the round's 9 MB of batches; a quarter of it (2 MiB) is held on the heap. */
    private static final long SHARE = 8 << 20;

    private final StateCodec codec = (StateCodec) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[]{StateCodec.class},
            (proxy, method, args) -> switch (method.getName()) {
                case "drop" -> null;
                case "detachReceived" -> Optional.empty();
                case "adoptReceived" -> Optional.empty();
                default -> throw new UnsupportedOperationException(method.getName());
            });
    private final ReceiveBuffers node = ReceiveBuffers.of(64 << 20, SHARE);
    private final ReceiveBuffers budget = node.forPeer("10.0.0.2:7000");

    private static byte[] s0() {
        byte[] b = new byte[SIZE];
        new Random(1).nextBytes(b);
        return b;
    }

    private static byte[] s1(byte[] s0) {
        byte[] s1 = s0.clone();
        Random r = new Random(2);
        byte[] fresh = new byte[PAGE];
        for (int page = 100; page < 100 + CHANGED; page++) {
            r.nextBytes(fresh);
            System.arraycopy(fresh, 0, s1, page * PAGE, PAGE);
        }
        return s1;
    }

    /** The frames of the round from {@code content} against the replica in {@code files}. */
    private static List<ByteBuffer> frames(FileReplicas files, byte[] content) throws Exception {
        VmState<StateRegion> state = VmState.<StateRegion>builder(KEY).pageSizeBytes(PAGE).lastPagePartial(true)
                .region(StateRegions.ofBuffer("ram", ByteBuffer.wrap(content))).build();
        SeedPlanner planner = new SeedPlanner(state, 0.9, null);
        SeedPlanner.Outcome o = planner.plan((request, timeout) -> SeedService.answer(files, KEY, request,
                SeedWire.FORMAT_DEFLATE), 1000, 1000);
        assertEquals(SeedPlanner.Outcome.SEEDED, o);
        assertEquals(CHANGED, planner.literalPages());
        List<ByteBuffer> frames = new ArrayList<>();
        planner.write(f -> frames.add(ByteBuffer.allocate(f.remaining()).put(f.duplicate()).flip()));
        return frames;
    }

    private SeedDecoder decoder(FileReplicas files, ToLongFunction<Path> space) {
        return new SeedDecoder(KEY, PAGE, List.of(new ReplicaFactory.RegionLayout("ram", SIZE)), files, codec, budget,
                null, space);
    }

    private static List<Path> spillFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".spill.staging")).toList();
        }
    }

    private static void assertCode(ErrorCode code, org.junit.jupiter.api.function.Executable e) {
        DwcpException d = assertThrows(DwcpException.class, e);
        assertEquals(code, d.code(), d.getMessage());
    }

    @Test
    void batchesPastTheHeapShareWaitOnDiskAndTheRoundIsExact(@TempDir Path dir) throws Exception {
        byte[] s0 = s0();
        Files.write(dir.resolve(KEY), s0);
        byte[] s1 = s1(s0);
        try (FileReplicas files = FileReplicas.open(dir)) {
            List<ByteBuffer> frames = frames(files, s1);
            SeedDecoder d = decoder(files, SeedBatchStore::usableSpace);
            for (ByteBuffer f : frames) {
                d.accept(f);
            }
            assertEquals(3, d.spilledBatches(), "the batches of 512, 1024 and 216 pages are past the heap share");
            assertEquals(1, spillFiles(dir).size());
            d.finish();
            d.close();
            d.close(); // idempotent
            assertArrayEquals(s1, Files.readAllBytes(dir.resolve(KEY)));
            assertEquals(List.of(), spillFiles(dir), "deleted after success");
            assertEquals(0, budget.usedBytes());
            // The description installed is that of s1: the same content again differs in nothing.
            SeedPlanner again = new SeedPlanner(VmState.<StateRegion>builder(KEY).pageSizeBytes(PAGE).lastPagePartial(true)
                    .region(StateRegions.ofBuffer("ram", ByteBuffer.wrap(s1))).build(), 0.9, null);
            again.plan((request, timeout) -> SeedService.answer(files, KEY, request, SeedWire.FORMAT_DEFLATE), 1000, 1000);
            assertEquals(0, again.differingPages());
        }
    }

    @Test
    void theSameRoundWithoutRoomToHashAheadIsVerifiedFromTheSpillFile(@TempDir Path dir) throws Exception {
        byte[] s0 = s0();
        Files.write(dir.resolve(KEY), s0);
        byte[] s1 = s1(s0);
        try (FileReplicas files = FileReplicas.open(dir)) {
            List<ByteBuffer> frames = frames(files, s1);
            // Another round of the peer holds all but 64 KiB of its share: no hashing ahead, every batch on disk.
            budget.reserve(SHARE - (64 << 10), "another round");
            try (SeedDecoder d = decoder(files, SeedBatchStore::usableSpace)) {
                for (ByteBuffer f : frames) {
                    d.accept(f);
                }
                assertFalse(d.awaitHashedAhead(), "no room to hash ahead");
                assertEquals(6, d.spilledBatches());
                d.finish();
                assertFalse(d.wroteStagedPages());
            }
            budget.release(SHARE - (64 << 10));
            assertArrayEquals(s1, Files.readAllBytes(dir.resolve(KEY)));
            assertEquals(List.of(), spillFiles(dir));
            assertEquals(0, budget.usedBytes());
        }
    }

    @Test
    void withoutRoomForAStateBesidesThePagesAreNotStagedAndTheRoundIsExact(@TempDir Path dir) throws Exception {
        byte[] s0 = s0();
        Files.write(dir.resolve(KEY), s0);
        byte[] s1 = s1(s0);
        try (FileReplicas files = FileReplicas.open(dir)) {
            List<ByteBuffer> frames = frames(files, s1);
            // Room for the spilled batches, not for a whole state and the staging headroom besides.
            try (SeedDecoder d = decoder(files, p -> SeedDecoder.STAGING_HEADROOM + s1.length - 1)) {
                for (ByteBuffer f : frames) {
                    d.accept(f);
                }
                d.finish();
                assertFalse(d.wroteStagedPages(), "inflated again after END");
            }
            assertArrayEquals(s1, Files.readAllBytes(dir.resolve(KEY)));
            assertEquals(List.of(), stagingFiles(dir));
        }
        Files.write(dir.resolve(KEY), s0);
        try (FileReplicas files = FileReplicas.open(dir)) {
            byte[] s2 = s1;
            List<ByteBuffer> frames = frames(files, s2);
            try (SeedDecoder d = decoder(files, p -> SeedDecoder.STAGING_HEADROOM + s2.length)) {
                for (ByteBuffer f : frames) {
                    d.accept(f);
                }
                d.finish();
                assertTrue(d.wroteStagedPages(), "with room, copied from where they were staged");
            }
            assertArrayEquals(s2, Files.readAllBytes(dir.resolve(KEY)));
            assertEquals(List.of(), stagingFiles(dir), "deleted after the round");
        }
    }

    private static List<Path> stagingFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".staging")).toList();
        }
    }

    @Test
    void aWrongDigestFailsTheRoundLeavesTheReplicaAndDeletesTheSpillFile(@TempDir Path dir) throws Exception {
        byte[] s0 = s0();
        Files.write(dir.resolve(KEY), s0);
        try (FileReplicas files = FileReplicas.open(dir)) {
            List<ByteBuffer> frames = frames(files, s1(s0));
            ByteBuffer end = frames.get(frames.size() - 1);
            end.put(1, (byte) (end.get(1) ^ 1)); // the END frame's digest
            try (SeedDecoder d = decoder(files, SeedBatchStore::usableSpace)) {
                for (ByteBuffer f : frames) {
                    d.accept(f);
                }
                assertEquals(1, spillFiles(dir).size());
                assertCode(ErrorCode.CHECKSUM_MISMATCH, d::finish);
            }
            assertArrayEquals(s0, Files.readAllBytes(dir.resolve(KEY)));
            assertEquals(List.of(), stagingFiles(dir), "deleted after a failure");
            assertEquals(0, budget.usedBytes());
        }
    }

    @Test
    void aTruncatedSpilledBatchIsACorruptFrameAndTheReplicaIsUnchanged(@TempDir Path dir) throws Exception {
        byte[] s0 = s0();
        Files.write(dir.resolve(KEY), s0);
        try (FileReplicas files = FileReplicas.open(dir)) {
            List<ByteBuffer> frames = frames(files, s1(s0));
            // A spilled batch (the fifth, of 1024 pages) loses the end of its compressed data: it inflates to fewer bytes
            // than declared.
            int second = 5;
            assertEquals(SeedWire.FRAME_BATCH, frames.get(second).get(0));
            ByteBuffer cut = frames.get(second);
            cut.limit(cut.limit() - 1000);
            try (SeedDecoder d = decoder(files, SeedBatchStore::usableSpace)) {
                for (ByteBuffer f : frames) {
                    d.accept(f);
                }
                assertEquals(3, d.spilledBatches());
                DwcpException e = assertThrows(DwcpException.class, d::finish);
                assertEquals(ErrorCode.CORRUPT_FRAME, e.code(), e.getMessage());
                assertTrue(e.getMessage().contains("inflates to"), e.getMessage());
            }
            assertArrayEquals(s0, Files.readAllBytes(dir.resolve(KEY)));
            assertEquals(List.of(), spillFiles(dir));
            assertEquals(List.of(), List.copyOf(files.inconsistentKeys()), "nothing was written in place");
        }
    }

    @Test
    void anAbortedRoundDeletesItsSpillFile(@TempDir Path dir) throws Exception {
        byte[] s0 = s0();
        Files.write(dir.resolve(KEY), s0);
        try (FileReplicas files = FileReplicas.open(dir)) {
            List<ByteBuffer> frames = frames(files, s1(s0));
            try (SeedDecoder d = decoder(files, SeedBatchStore::usableSpace)) {
                for (ByteBuffer f : frames.subList(0, frames.size() - 1)) { // the sender went away before END
                    d.accept(f);
                }
                assertEquals(1, spillFiles(dir).size());
                assertCode(ErrorCode.TRANSFER_INCOMPLETE, d::finish);
            }
            assertEquals(List.of(), spillFiles(dir), "deleted after an abort");
            assertArrayEquals(s0, Files.readAllBytes(dir.resolve(KEY)));
            assertEquals(0, budget.usedBytes());
        }
    }

    @Test
    void aFullDiskIsResourceExhaustedNamingTheCause(@TempDir Path dir) throws Exception {
        byte[] s0 = s0();
        Files.write(dir.resolve(KEY), s0);
        try (FileReplicas files = FileReplicas.open(dir)) {
            List<ByteBuffer> frames = frames(files, s1(s0));
            try (SeedDecoder d = decoder(files, p -> 4096)) {
                for (ByteBuffer f : frames.subList(0, 4)) { // BASE and the batches held on the heap
                    d.accept(f);
                }
                DwcpException e = assertThrows(DwcpException.class, () -> d.accept(frames.get(4)));
                assertEquals(ErrorCode.RESOURCE_EXHAUSTED, e.code(), e.getMessage());
                assertTrue(e.getMessage().contains("4096 bytes free") && e.getMessage().contains("receive-buffer-per-peer"),
                        e.getMessage());
            }
            assertArrayEquals(s0, Files.readAllBytes(dir.resolve(KEY)));
            assertEquals(List.of(), spillFiles(dir));
            assertEquals(0, budget.usedBytes());
        }
    }

    @Test
    void aSpillFileLeftByACrashIsDeletedWhenTheDirectoryIsOpenedAgain(@TempDir Path dir) throws Exception {
        byte[] s0 = s0();
        Files.write(dir.resolve(KEY), s0);
        SeedDecoder crashed;
        try (FileReplicas files = FileReplicas.open(dir)) {
            List<ByteBuffer> frames = frames(files, s1(s0));
            crashed = decoder(files, SeedBatchStore::usableSpace);
            for (ByteBuffer f : frames.subList(0, 6)) { // up to the first spilled batches
                crashed.accept(f);
            }
            // The process dies here: the decoder is never closed.
        }
        Path left = spillFiles(dir).get(0);
        assertNotNull(left);
        try (FileReplicas again = FileReplicas.open(dir)) {
            assertEquals(List.of(), spillFiles(dir), "a restart cleans what a crash left");
            assertArrayEquals(s0, Files.readAllBytes(dir.resolve(KEY)));
        }
        crashed.close(); // only to release this test's file handle and threads
    }
}
