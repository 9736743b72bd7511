package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.spi.BlockCompressor;
import io.dwcp.core.spi.StateCodec;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.StateRegions;
import io.dwcp.core.state.VmState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Replica-seeded rounds end to end without a network: the sender's planner talks to the receiver's answers directly,
 * and its frames go straight into the receiver's decoder. The integration over real managers and sockets is in
 * dwcp-bench's {@code SeededMigrationTest}.
 */
class SeededRoundTest {
    private static final String KEY = "vm";
    private static final int PAGE = 4096;
    private static final int PAGES = 1000; // 15 chunks and a partial one
    private static final int SIZE = PAGES * PAGE - 100; // a partial last page

    private final AtomicInteger drops = new AtomicInteger();
    /** Replicas the receiver asked the codec to adopt as its baseline, with the chain id. */
    private final java.util.List<Long> adopted = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** What the test codec's {@code detachReceived} returns. */
    private static final io.dwcp.core.spi.BaselineRef DETACHED = new io.dwcp.core.spi.BaselineRef(KEY, 42, 3, 7);
    /** The pages the last adoption of a detached baseline was told changed (null: none was). */
    private volatile java.util.BitSet adoptedChanged;
    /** Whether the last round's pages were written from where they were staged as they arrived. */
    private boolean stagedSeen;
    private final StateCodec codec = (StateCodec) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[]{StateCodec.class},
            (proxy, method, args) -> {
                if (method.getName().equals("drop")) {
                    drops.incrementAndGet();
                    return null;
                }
                if (method.getName().equals("detachReceived")) {
                    drops.incrementAndGet();
                    return java.util.Optional.of(DETACHED);
                }
                if (method.getName().equals("adoptReceived")) {
                    adopted.add((Long) args[1]);
                    if (args.length == 4) {
                        assertEquals(DETACHED, args[2], "the baseline detached before the round's writes");
                        adoptedChanged = (java.util.BitSet) ((java.util.BitSet) args[3]).clone();
                    }
                    return java.util.Optional.empty();
                }
                throw new UnsupportedOperationException(method.getName());
            });

    /** The sender's block compressor (null: DEFLATE only, version 1 messages). */
    private BlockCompressor compressor;
    /** The receiver's block compressor (null: it reads DEFLATE only). */
    private BlockCompressor receiverCompressor;

    /** {@return the literal format the receiver reads besides DEFLATE} */
    private int readable() {
        return receiverCompressor == null ? SeedWire.FORMAT_DEFLATE : receiverCompressor.formatId();
    }

    /**
     * A test block format: a u32 length, then the bytes as they are. It exercises the format path without a
     * compression library (core has none); zstd's own tests are in dwcp-compression.
     */
    private static final class StoredBlocks implements BlockCompressor {
        @Override
        public String name() {
            return "stored";
        }

        @Override
        public int formatId() {
            return 5;
        }

        @Override
        public int maxCompressedLength(int length) {
            return length + 4;
        }

        @Override
        public int compress(byte[] src, int srcOffset, int length, byte[] dst, int dstOffset) {
            ByteBuffer.wrap(dst, dstOffset, 4).putInt(length);
            System.arraycopy(src, srcOffset, dst, dstOffset + 4, length);
            return length + 4;
        }

        @Override
        public void decompress(byte[] src, int srcOffset, int length, byte[] dst, int dstOffset, int expected) {
            if (length != expected + 4 || ByteBuffer.wrap(src, srcOffset, 4).getInt() != expected) {
                throw new DwcpException(ErrorCode.CORRUPT_FRAME, "stored block of " + length + " bytes, expected " + expected);
            }
            System.arraycopy(src, srcOffset + 4, dst, dstOffset, expected);
        }
    }

    private static byte[] random(long seed) {
        byte[] b = new byte[SIZE];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static VmState<StateRegion> state(byte[] content) {
        return VmState.<StateRegion>builder(KEY).pageSizeBytes(PAGE).lastPagePartial(true)
                .region(StateRegions.ofBuffer("ram", ByteBuffer.wrap(content))).build();
    }

    /**
     * Plans and applies a round that must be seeded; {@return whether the receiver took the seed's unchanged pages from
     * its description instead of reading them}
     */
    private boolean round(FileReplicas files, byte[] content, List<ByteBuffer> tamper, boolean fromDescription) throws Exception {
        fromDescriptionSeen = null;
        round(files, content, tamper);
        assertNotNull(fromDescriptionSeen, "the round was seeded and applied");
        return fromDescriptionSeen;
    }

    private Boolean fromDescriptionSeen;

    /** Plans against {@code files} and, when seeded, applies the round; returns the planner. */
    private SeedPlanner round(FileReplicas files, byte[] content, List<ByteBuffer> tamper) throws Exception {
        return round(files, content, tamper, 0);
    }

    private SeedPlanner round(FileReplicas files, byte[] content, List<ByteBuffer> tamper, int leadWholePages) throws Exception {
        SeedPlanner planner = new SeedPlanner(state(content), 0.5, compressor, leadWholePages);
        SeedPlanner.Outcome o = planner.plan((request, timeout) -> {
            // What a receiver's control channel takes at most (MigrationReceiver refuses longer requests).
            assertTrue(request.remaining() <= SeedWire.MAX_REQUEST_BYTES, "a seed request of " + request.remaining() + " bytes");
            return SeedService.answer(files, KEY, request, readable());
        }, 1000, 1000);
        if (o != SeedPlanner.Outcome.SEEDED) {
            return planner;
        }
        List<ByteBuffer> frames = new ArrayList<>();
        planner.write(f -> {
            ByteBuffer copy = ByteBuffer.allocate(f.remaining()).put(f.duplicate()).flip();
            frames.add(copy);
        });
        if (tamper != null) {
            tamper.addAll(frames);
            return planner;
        }
        ReceiveBuffers budget = ReceiveBuffers.of(64 << 20);
        try (SeedDecoder d = new SeedDecoder(KEY, PAGE, List.of(new ReplicaFactory.RegionLayout("ram", SIZE)), files, codec, budget, receiverCompressor)) {
            for (ByteBuffer f : frames) {
                d.accept(f);
            }
            d.finish();
            fromDescriptionSeen = d.seedFromDescription();
            stagedSeen = d.wroteStagedPages();
        }
        assertEquals(0, budget.usedBytes(), "the round's batches are released");
        return planner;
    }

    private static void seedReplica(Path dir, byte[] content) throws IOException {
        Files.write(dir.resolve(KEY), content);
    }

    @Test
    void theSameContentSendsOnlyTheDescriptionAndEmptyFrames(@TempDir Path dir) throws Exception {
        byte[] s0 = random(1);
        seedReplica(dir, s0);
        try (FileReplicas files = FileReplicas.open(dir)) {
            SeedPlanner p = round(files, s0, null);
            assertEquals(0, p.chunksDiffering());
            assertEquals(0, p.differingPages());
            assertTrue(p.exchangeBytes() < 400, "chunk hashes only: " + p.exchangeBytes());
            assertArrayEquals(s0, Files.readAllBytes(dir.resolve(KEY)));
            assertTrue(Files.exists(files.descriptionFile(KEY)), "the description is cached beside the replica");
        }
    }

    @Test
    void anOlderVersionGetsOnlyTheDifferencesAsLiteralsCopiesAndZeros(@TempDir Path dir) throws Exception {
        byte[] s0 = random(2);
        seedReplica(dir, s0);
        byte[] s1 = s0.clone();
        Random r = new Random(3);
        for (int i = 0; i < 20; i++) { // 20 pages rewritten
            int page = 10 + i * 37;
            byte[] fresh = new byte[PAGE];
            r.nextBytes(fresh);
            System.arraycopy(fresh, 0, s1, page * PAGE, PAGE);
        }
        System.arraycopy(s0, 5 * PAGE, s1, 500 * PAGE, PAGE); // page 500 becomes a copy of page 5 (kept)
        java.util.Arrays.fill(s1, 600 * PAGE, 601 * PAGE, (byte) 0); // page 600 is zeroed
        s1[700 * PAGE + 5] ^= 1; // pages 700 and 999 (the short last one) change in one block: patches
        s1[SIZE - 1] ^= 1;
        try (FileReplicas files = FileReplicas.open(dir)) {
            SeedPlanner p = round(files, s1, null);
            assertEquals(24, p.differingPages());
            assertEquals(20, p.literalPages());
            assertEquals(2, p.patchedPages());
            assertEquals(1L, p.pagesByClass().get("zero"));
            assertEquals(1L, p.pagesByClass().get("copied"));
            assertArrayEquals(s1, Files.readAllBytes(dir.resolve(KEY)));
            assertFalse(files.inconsistentKeys().contains(KEY));
            assertEquals(1, drops.get(), "the codec's baseline of the key (maybe the replica's pages) was dropped");
            assertEquals(java.util.List.of(p.chainId()), adopted, "the written replica was offered to the codec as its"
                    + " baseline, under the chain id the sender derives from the same digest");
            java.util.BitSet differ = new java.util.BitSet();
            for (int page = 0; page * PAGE < SIZE; page++) {
                int from = page * PAGE;
                int to = Math.min(SIZE, from + PAGE);
                if (java.util.Arrays.mismatch(s0, from, to, s1, from, to) >= 0) {
                    differ.set(page);
                }
            }
            assertEquals(differ, adoptedChanged, "the codec is told exactly which pages the round wrote");
            assertTrue(stagedSeen, "the pages were copied from where they were staged as they arrived");
            try (java.util.stream.Stream<Path> left = Files.list(dir)) {
                assertEquals(List.of(), left.filter(f -> f.getFileName().toString().endsWith(".staging")).toList());
            }
            // The description written while verifying is the new replica's: the next exchange finds nothing to send.
            assertEquals(0, round(files, s1, null).differingPages());
        }
    }

    @Test
    void moreLiteralAndPatchedPagesThanOneBatchHoldsGoInSeveralBatches(@TempDir Path dir) throws Exception {
        byte[] s0 = random(13);
        seedReplica(dir, s0);
        byte[] s1 = s0.clone();
        Random r = new Random(14);
        for (int page = 0; page < 420; page++) { // 300 whole pages, then 120 with one byte changed
            if (page < 300) {
                byte[] fresh = new byte[PAGE];
                r.nextBytes(fresh);
                System.arraycopy(fresh, 0, s1, page * PAGE, PAGE);
            } else {
                s1[page * PAGE + 17] ^= 0x40;
            }
        }
        try (FileReplicas files = FileReplicas.open(dir)) {
            SeedPlanner p = round(files, s1, null);
            assertEquals(300, p.literalPages());
            assertEquals(120, p.patchedPages());
            assertArrayEquals(s1, Files.readAllBytes(dir.resolve(KEY)));
        }
    }

    @Test
    void theFirstWouldBeLiteralPagesGoWholeWithoutBlockHashesWhenTheRoundLeadsWithThem(@TempDir Path dir) throws Exception {
        byte[] s0 = random(13);
        seedReplica(dir, s0);
        byte[] s1 = s0.clone();
        for (int page = 0; page < 120; page++) { // one byte changed: patches, when block hashes are asked
            s1[page * PAGE + 17] ^= 0x40;
        }
        try (FileReplicas files = FileReplicas.open(dir)) {
            // The state's one PAGES group holds the round's first would-be literal pages: with a lead it goes whole, no
            // BLOCKS request is sent for it, and the result is still exact.
            SeedPlanner led = round(files, s1, null, SeedBlockLevel.LEAD_WHOLE_PAGES);
            assertEquals(120, led.literalPages());
            assertEquals(0, led.patchedPages());
            assertEquals(120, led.blockPagesSkipped());
            assertArrayEquals(s1, Files.readAllBytes(dir.resolve(KEY)));
        }
        seedReplica(dir, s0);
        try (FileReplicas files = FileReplicas.open(dir)) {
            SeedPlanner asked = round(files, s1, null, 0);
            assertEquals(0, asked.literalPages());
            assertEquals(120, asked.patchedPages());
            assertEquals(0, asked.blockPagesSkipped());
            assertArrayEquals(s1, Files.readAllBytes(dir.resolve(KEY)));
        }
    }

    @Test
    void theFirstBatchesAreSmallSoThatTheRoundStartsEarlyAndLaterOnesGrow(@TempDir Path dir) throws Exception {
        byte[] s0 = random(15);
        seedReplica(dir, s0);
        byte[] s1 = s0.clone();
        Random r = new Random(16);
        byte[] fresh = new byte[500 * PAGE];
        r.nextBytes(fresh);
        System.arraycopy(fresh, 0, s1, 0, fresh.length); // pages 0..499 rewritten: 500 literal pages
        try (FileReplicas files = FileReplicas.open(dir)) {
            List<ByteBuffer> frames = new ArrayList<>();
            round(files, s1, frames);
            List<Integer> literals = new ArrayList<>();
            for (ByteBuffer f : frames) {
                int type = f.get(0);
                if (type == SeedWire.FRAME_BATCH || type == SeedWire.FRAME_FORMAT_BATCH) {
                    int at = type == SeedWire.FRAME_BATCH ? 1 : 2;
                    int ops = f.getInt(at);
                    literals.add(f.getInt(at + 4 + 8 * ops));
                }
            }
            assertEquals(List.of(64, 128, 256, 52), literals, "64 data pages first, then twice as many each time");
            assertEquals(SeedFrameWriter.maxBatchLiterals(PAGE), SeedOps.batchLiteralLimit(4, PAGE), "up to the largest batch");
            assertEquals(SeedFrameWriter.maxBatchLiterals(PAGE), SeedOps.batchLiteralLimit(40, PAGE));
            // The same frames applied: the exact state.
            round(files, s1, null);
            assertArrayEquals(s1, Files.readAllBytes(dir.resolve(KEY)));
        }
    }

    @Test
    void blockHashesAreAskedOnlyWhilePatchesPayForThem(@TempDir Path dir) throws Exception {
        int page = 512; // windows of 4096 pages: 2 MiB
        int size = 5 * 4096 * page;
        byte[] s0 = new byte[size];
        new Random(31).nextBytes(s0);
        Files.write(dir.resolve(KEY), s0);
        // Wholly rewritten pages: no block of them is the receiver's, so their block hashes never pay.
        byte[] fresh = s0.clone();
        Random r = new Random(32);
        for (int p = 0; p < 12_000; p++) {
            byte[] b = new byte[page];
            r.nextBytes(b);
            System.arraycopy(b, 0, fresh, p * page, page);
        }
        // One byte changed per page: every page is a patch, and asking pays.
        byte[] touched = s0.clone();
        for (int p = 0; p < 12_000; p++) {
            touched[p * page + 7] ^= 0x20;
        }
        try (FileReplicas files = FileReplicas.open(dir)) {
            SeedPlanner.Exchange ex = (request, t) -> SeedService.answer(files, KEY, request, readable());
            SeedPlanner wholesale = new SeedPlanner(VmState.<StateRegion>builder(KEY).pageSizeBytes(page)
                    .region(StateRegions.ofBuffer("ram", ByteBuffer.wrap(fresh))).build(), 0.9, compressor);
            assertEquals(SeedPlanner.Outcome.SEEDED, wholesale.plan(ex, 1000, 1000));
            assertEquals(12_000, wholesale.literalPages());
            assertTrue(wholesale.blockPagesSkipped() >= 12_000 - 2 * 4096, "after the first window, block hashes are"
                    + " asked only for probes: skipped " + wholesale.blockPagesSkipped());
            SeedPlanner patched = new SeedPlanner(VmState.<StateRegion>builder(KEY).pageSizeBytes(page)
                    .region(StateRegions.ofBuffer("ram", ByteBuffer.wrap(touched))).build(), 0.9, compressor);
            assertEquals(SeedPlanner.Outcome.SEEDED, patched.plan(ex, 1000, 1000));
            assertEquals(12_000, patched.patchedPages());
            assertEquals(0, patched.blockPagesSkipped());
            long perPage = SeedWire.BLOCKS_PER_PAGE * SeedWire.blockHashBytes(SeedWire.VERSION) + 4; // hashes and index
            assertTrue(patched.exchangeBytes() - wholesale.exchangeBytes() >= perPage * wholesale.blockPagesSkipped(),
                    "skipped block hashes are not sent: " + wholesale.exchangeBytes() + " vs " + patched.exchangeBytes());
        }
    }

    @Test
    void aReplicaOfAnotherSizeIsNoSeed(@TempDir Path dir) throws Exception {
        seedReplica(dir, new byte[SIZE + PAGE]);
        try (FileReplicas files = FileReplicas.open(dir)) {
            SeedPlanner p = new SeedPlanner(state(random(4)), 0.5, compressor);
            assertEquals(SeedPlanner.Outcome.NO_SEED, p.plan((request, t) -> SeedService.answer(files, KEY, request, readable()), 1000, 1000));
            assertEquals(0, p.hashNanos(), "without a seed of its size the state is not hashed");
        }
    }

    @Test
    void mostPagesDifferentIsAFullRound(@TempDir Path dir) throws Exception {
        seedReplica(dir, random(5));
        try (FileReplicas files = FileReplicas.open(dir)) {
            SeedPlanner p = new SeedPlanner(state(random(6)), 0.5, compressor);
            assertEquals(SeedPlanner.Outcome.TOO_DIFFERENT, p.plan((request, t) -> SeedService.answer(files, KEY, request, readable()), 1000, 1000));
        }
    }

    @Test
    void aReplicaChangedBehindAValidLookingDescriptionFailsTheDigestAndIsNotTouched(@TempDir Path dir) throws Exception {
        aReplicaChangedBehindAValidLookingDescriptionIsCaught(dir, true, false);
    }

    @Test
    void aReplicaChangedWhileTheReceiverWasDownIsReadAgainAndTheChangeCaught(@TempDir Path dir) throws Exception {
        aReplicaChangedBehindAValidLookingDescriptionIsCaught(dir, false, true);
    }

    /**
     * A replica corrupted with its modification time put back (the sidecar cannot notice), by another writer while
     * the receiver was down ({@code restart}), or while it ran with {@code rereadOwnSeeds}: the digest catches it.
     */
    private void aReplicaChangedBehindAValidLookingDescriptionIsCaught(Path dir, boolean reread, boolean restart) throws Exception {
        byte[] s0 = random(7);
        seedReplica(dir, s0);
        Path file = dir.resolve(KEY);
        FileReplicas files = FileReplicas.builder(dir).rereadOwnSeeds(reread).build();
        try {
            assertEquals(0, round(files, s0, null).differingPages()); // describes and caches
            if (restart) {
                files.close();
            }
            // Corrupt one byte of the replica and put its modification time back: the cache cannot notice.
            FileTime mtime = Files.getLastModifiedTime(file);
            byte[] corrupt = s0.clone();
            corrupt[123_456] ^= 1;
            Files.write(file, corrupt);
            Files.setLastModifiedTime(file, mtime);
            if (restart) {
                files = FileReplicas.open(dir);
            }
            byte[] s1 = s0.clone();
            s1[0] ^= 1; // one page differs, so the round writes something
            List<ByteBuffer> frames = new ArrayList<>();
            round(files, s1, frames);
            ReceiveBuffers budget = ReceiveBuffers.of(64 << 20);
            FileReplicas f = files;
            try (SeedDecoder d = new SeedDecoder(KEY, PAGE, List.of(new ReplicaFactory.RegionLayout("ram", SIZE)), f, codec, budget, receiverCompressor)) {
                frames.forEach(b -> d.accept(b.duplicate()));
                assertCode(ErrorCode.CHECKSUM_MISMATCH, d::finish);
            }
            assertArrayEquals(corrupt, Files.readAllBytes(file), "nothing was written");
            assertFalse(Files.exists(files.descriptionFile(KEY)), "the lying description was deleted");
            assertFalse(files.inconsistentKeys().contains(KEY));
            // Described again from the file, the next seeded round is right.
            round(files, s1, null);
            assertArrayEquals(s1, Files.readAllBytes(file));
        } finally {
            files.close();
        }
    }

    @Test
    void aReplicaThisReceiverDescribedIsNotReadAgainUntilARestart(@TempDir Path dir) throws Exception {
        byte[] s0 = random(23);
        seedReplica(dir, s0);
        byte[] s1 = s0.clone();
        s1[PAGE * 5] ^= 1;
        byte[] s2 = s1.clone();
        s2[PAGE * 700] ^= 1;
        try (FileReplicas files = FileReplicas.open(dir)) {
            // Described from the replica's bytes by this object just now: its hashes stand for the pages.
            assertTrue(round(files, s0, null, true), "described just now from the file");
            // Described from the pages the round wrote: the same.
            assertTrue(round(files, s1, null, true) && Arrays.equals(s1, Files.readAllBytes(dir.resolve(KEY))));
            // Written by another round of this object: the description is dropped, and computed again from the file.
            try (VmState<io.dwcp.core.state.WritableRegion> r = files.open(KEY, PAGE, List.of(new ReplicaFactory.RegionLayout("ram", SIZE)))) {
                r.region(0).write(0, ByteBuffer.wrap(new byte[]{s1[0]}));
                r.region(0).flush();
            }
            assertFalse(Files.exists(files.descriptionFile(KEY)));
            assertTrue(round(files, s2, null, true));
            assertArrayEquals(s2, Files.readAllBytes(dir.resolve(KEY)));
        }
        try (FileReplicas files = FileReplicas.open(dir)) { // a restart: the cached sidecar is loaded, not trusted
            assertFalse(round(files, s1, null, true), "after a restart the replica is read again");
            assertArrayEquals(s1, Files.readAllBytes(dir.resolve(KEY)));
        }
    }

    @Test
    void aWriteByAnyRoundInvalidatesTheDescription(@TempDir Path dir) throws Exception {
        byte[] s0 = random(8);
        seedReplica(dir, s0);
        try (FileReplicas files = FileReplicas.open(dir)) {
            round(files, s0, null);
            assertTrue(Files.exists(files.descriptionFile(KEY)));
            try (VmState<io.dwcp.core.state.WritableRegion> r = files.open(KEY, PAGE, List.of(new ReplicaFactory.RegionLayout("ram", SIZE)))) {
                r.region(0).write(0, ByteBuffer.wrap(new byte[]{9}));
                assertFalse(Files.exists(files.descriptionFile(KEY)), "deleted before the first in-place write");
                r.region(0).flush();
            }
        }
    }

    @Test
    void theDescriptionSurvivesARestartAndARoundNeedsTheSameVersion(@TempDir Path dir) throws Exception {
        byte[] s0 = random(9);
        seedReplica(dir, s0);
        List<ByteBuffer> frames = new ArrayList<>();
        byte[] s1 = s0.clone();
        s1[PAGE * 3] ^= 1;
        try (FileReplicas files = FileReplicas.open(dir)) {
            round(files, s1, frames); // planned, not applied
        }
        FileTime described;
        try (FileReplicas files = FileReplicas.open(dir)) { // a receiver restart
            described = Files.getLastModifiedTime(files.descriptionFile(KEY));
            ReceiveBuffers budget = ReceiveBuffers.of(64 << 20);
            try (SeedDecoder d = new SeedDecoder(KEY, PAGE, List.of(new ReplicaFactory.RegionLayout("ram", SIZE)), files, codec, budget, receiverCompressor)) {
                frames.forEach(f -> d.accept(f.duplicate()));
                d.finish();
            }
            assertArrayEquals(s1, Files.readAllBytes(dir.resolve(KEY)));
            // A round planned against the old version is refused before anything is read into it.
            SeedDecoder stale = new SeedDecoder(KEY, PAGE, List.of(new ReplicaFactory.RegionLayout("ram", SIZE)), files, codec, budget, receiverCompressor);
            assertCode(ErrorCode.BASELINE_MISSING, () -> stale.accept(frames.get(0).duplicate()));
            stale.close();
        }
        assertTrue(described.toMillis() > 0);
    }

    @Test
    void aSeedChangedWhileItWasHashedAheadIsReadAgainAndTheChangeIsCaught(@TempDir Path dir) throws Exception {
        byte[] s0 = random(21);
        seedReplica(dir, s0);
        List<ByteBuffer> frames = new ArrayList<>();
        byte[] s1 = s0.clone();
        s1[PAGE * 2] ^= 1;
        try (FileReplicas files = FileReplicas.open(dir)) {
            round(files, s1, frames); // planned, not applied
            ReceiveBuffers budget = ReceiveBuffers.of(64 << 20);
            try (SeedDecoder d = new SeedDecoder(KEY, PAGE, List.of(new ReplicaFactory.RegionLayout("ram", SIZE)), files, codec, budget, receiverCompressor)) {
                d.accept(frames.get(0).duplicate()); // BASE: the seed is being hashed ahead
                assertTrue(d.awaitHashedAhead(), "hashed ahead (before the change)");
                // Altered behind the receiver's back, as in bit rot, but its modification time moves: the hashes
                // computed ahead may predate the change, so verification must not use them.
                Path file = dir.resolve(KEY);
                FileTime before = Files.getLastModifiedTime(file);
                try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
                    ch.write(ByteBuffer.wrap(new byte[]{0x33}), 600L * PAGE);
                }
                Files.setLastModifiedTime(file, FileTime.fromMillis(before.toMillis() + 3000));
                frames.subList(1, frames.size()).forEach(f -> d.accept(f.duplicate()));
                assertCode(ErrorCode.CHECKSUM_MISMATCH, d::finish);
            }
            assertEquals(0, budget.usedBytes(), "batches and the hashes computed ahead are released");
        }
    }

    @Test
    void withoutRoomForTheHashesAheadTheSeedIsHashedAfterTheRound(@TempDir Path dir) throws Exception {
        byte[] s0 = random(22);
        seedReplica(dir, s0);
        List<ByteBuffer> frames = new ArrayList<>();
        byte[] s1 = s0.clone();
        s1[PAGE * 9 + 3] ^= 1;
        try (FileReplicas files = FileReplicas.open(dir)) {
            round(files, s1, frames);
            // Room for the round's one small batch, not for 16 bytes per page of the state.
            ReceiveBuffers budget = ReceiveBuffers.of(12_000);
            try (SeedDecoder d = new SeedDecoder(KEY, PAGE, List.of(new ReplicaFactory.RegionLayout("ram", SIZE)), files, codec, budget, receiverCompressor)) {
                frames.forEach(f -> d.accept(f.duplicate()));
                assertFalse(d.awaitHashedAhead(), "no room: not hashed ahead");
                d.finish();
            }
            assertArrayEquals(s1, Files.readAllBytes(dir.resolve(KEY)));
        }
    }

    @Test
    void aGoldenImageSeedsAKeyWithoutAReplicaAndStaysAsItIs(@TempDir Path dir, @TempDir Path images) throws Exception {
        byte[] golden = random(10);
        Path image = images.resolve("golden.img");
        Files.write(image, golden);
        byte[] s1 = golden.clone();
        s1[PAGE * 7 + 1] ^= 1;
        try (FileReplicas files = FileReplicas.builder(dir).seedImage(KEY, image).build()) {
            SeedPlanner p = round(files, s1, null);
            assertEquals(1, p.patchedPages(), "one byte of one page differs: a patch of one block");
            assertEquals(0, p.literalPages());
            assertArrayEquals(s1, Files.readAllBytes(dir.resolve(KEY)));
            assertArrayEquals(golden, Files.readAllBytes(image));
        }
    }

    @Test
    void anotherKeysReplicaSeedsAKey(@TempDir Path dir) throws Exception {
        byte[] other = random(11);
        Files.write(dir.resolve("base"), other);
        try (FileReplicas files = FileReplicas.builder(dir).seedFrom(KEY, "base").build()) {
            SeedPlanner p = round(files, other, null);
            assertEquals(0, p.differingPages());
            assertArrayEquals(other, Files.readAllBytes(dir.resolve(KEY)));
            assertArrayEquals(other, Files.readAllBytes(dir.resolve("base")));
        }
    }

    @Test
    void hostileFramesAreRefusedWithSpecificCodesAndWriteNothing(@TempDir Path dir) throws Exception {
        byte[] s0 = random(12);
        seedReplica(dir, s0);
        try (FileReplicas files = FileReplicas.open(dir)) {
            round(files, s0, null);
            byte[] version = SeedDescription.load(files.descriptionFile(KEY), dir.resolve(KEY), PAGE).version;
            ByteBuffer base = ByteBuffer.allocate(25).put((byte) SeedWire.FRAME_BASE).put(version).putLong(SIZE).flip();
            ReceiveBuffers budget = ReceiveBuffers.of(1 << 20);
            List<ReplicaFactory.RegionLayout> layout = List.of(new ReplicaFactory.RegionLayout("ram", SIZE));
            // A copy of itself.
            ByteBuffer batch = ByteBuffer.allocate(1 + 4 + 16 + 8 + 2).put((byte) SeedWire.FRAME_BATCH).putInt(2)
                    .putInt(1).putInt(SeedWire.SOURCE_ZERO).putInt(2).putInt(2).putInt(0).putInt(0).put(new byte[]{3, 0}).flip();
            try (SeedDecoder d = new SeedDecoder(KEY, PAGE, layout, files, codec, budget, receiverCompressor)) {
                d.accept(base.duplicate());
                d.accept(batch);
                d.accept(ByteBuffer.allocate(41).put((byte) SeedWire.FRAME_END).put(new byte[32]).putLong(PAGES).flip());
                assertCode(ErrorCode.PROTOCOL_ERROR, d::finish);
            }
            // Ops out of order, too many ops, literals that inflate to the wrong length, more compressed bytes than
            // any encoder makes.
            try (SeedDecoder d = new SeedDecoder(KEY, PAGE, layout, files, codec, budget, receiverCompressor)) {
                d.accept(base.duplicate());
                assertCode(ErrorCode.PROTOCOL_ERROR, () -> d.accept(ByteBuffer.allocate(1 + 4 + 16 + 8).put((byte) SeedWire.FRAME_BATCH)
                        .putInt(2).putInt(5).putInt(-2).putInt(4).putInt(-2).putInt(0).putInt(0).flip()));
            }
            try (SeedDecoder d = new SeedDecoder(KEY, PAGE, layout, files, codec, budget, receiverCompressor)) {
                d.accept(base.duplicate());
                assertCode(ErrorCode.LIMIT_EXCEEDED, () -> d.accept(ByteBuffer.allocate(1 + 4).put((byte) SeedWire.FRAME_BATCH)
                        .putInt(SeedWire.MAX_BATCH_OPS + 1).flip()));
                assertCode(ErrorCode.PROTOCOL_ERROR, () -> d.accept(ByteBuffer.allocate(1 + 4 + 8 + 8).put((byte) SeedWire.FRAME_BATCH)
                        .putInt(1).putInt(0).putInt(-1).putInt(1).putInt(PAGE + 1).flip()));
            }
            try (SeedDecoder d = new SeedDecoder(KEY, PAGE, layout, files, codec, budget, receiverCompressor)) {
                d.accept(base.duplicate());
                ByteBuffer big = ByteBuffer.allocate(1 + 4 + 8 + 8 + (2 << 20)).put((byte) SeedWire.FRAME_BATCH)
                        .putInt(1).putInt(0).putInt(-1).putInt(1).putInt(PAGE);
                big.position(big.limit()).flip();
                // 2 MiB of compressed data for one page: more than any encoder makes, refused before it is copied
                assertCode(ErrorCode.PROTOCOL_ERROR, () -> d.accept(big));
            }
            // A patch whose mask names a block past the short last page (3,996 bytes); a patch whose data runs out; a
            // fine patch naming a sub-block past that page's end (sub-block 7 of block 7 starts at byte 4,032); fine
            // patches whose sub-block masks or data run out.
            byte fine = (byte) SeedWire.SOURCE_FINE_PATCH;
            for (byte[] raw : new byte[][]{{(byte) 0x80, 1, 2}, {0x01, 7}, {fine, (byte) 0x80, (byte) 0x80, 1, 2},
                    {fine, 0x01}, {fine, 0x01, 0x01, 7}}) {
                int source = raw[0] == fine ? SeedWire.SOURCE_FINE_PATCH : SeedWire.SOURCE_PATCH;
                if (source == SeedWire.SOURCE_FINE_PATCH) {
                    raw = Arrays.copyOfRange(raw, 1, raw.length);
                }
                try (SeedDecoder d = new SeedDecoder(KEY, PAGE, layout, files, codec, budget, receiverCompressor)) {
                    d.accept(base.duplicate());
                    java.util.zip.Deflater z = new java.util.zip.Deflater(1, true);
                    z.setInput(raw);
                    z.finish();
                    byte[] out = new byte[64];
                    int len = z.deflate(out);
                    z.end();
                    d.accept(ByteBuffer.allocate(1 + 4 + 8 + 8 + len).put((byte) SeedWire.FRAME_BATCH).putInt(1)
                            .putInt(PAGES - 1).putInt(source).putInt(1).putInt(raw.length).put(out, 0, len).flip());
                    d.accept(ByteBuffer.allocate(41).put((byte) SeedWire.FRAME_END).put(new byte[32]).putLong(PAGES).flip());
                    assertCode(ErrorCode.PROTOCOL_ERROR, d::finish);
                }
            }
            assertEquals(0, budget.usedBytes());
            assertArrayEquals(s0, Files.readAllBytes(dir.resolve(KEY)));
            assertFalse(files.inconsistentKeys().contains(KEY));
        }
    }

    /** s0 with 20 pages rewritten. */
    private static byte[] changed(byte[] s0) {
        byte[] s1 = s0.clone();
        Random r = new Random(3);
        for (int i = 0; i < 20; i++) {
            byte[] fresh = new byte[PAGE];
            r.nextBytes(fresh);
            System.arraycopy(fresh, 0, s1, (10 + i * 37) * PAGE, PAGE);
        }
        return s1;
    }

    @Test
    void aRoundCommittedInPlaceIsDescribedInTheBackgroundAndAnotherRoundStopsThat(@TempDir Path dir) throws Exception {
        byte[] s0 = random(25);
        seedReplica(dir, s0);
        List<ReplicaFactory.RegionLayout> layout = List.of(new ReplicaFactory.RegionLayout("ram", SIZE));
        try (FileReplicas files = FileReplicas.open(dir)) {
            try (VmState<io.dwcp.core.state.WritableRegion> r = files.open(KEY, PAGE, layout)) {
                r.region(0).write(0, ByteBuffer.wrap(new byte[]{9}));
                r.region(0).flush();
            }
            files.awaitBackgroundDescription(KEY);
            s0[0] = 9;
            SeedDescription d = SeedDescription.load(files.descriptionFile(KEY), dir.resolve(KEY), PAGE);
            assertTrue(d != null, "the committed replica's description is cached without a seed exchange");
            SeedPlanner p = round(files, s0, null);
            assertEquals(0, p.differingPages(), "and it describes the replica as committed");
            // A round of the key right after a commit: the background description is stopped or finds a later file.
            try (VmState<io.dwcp.core.state.WritableRegion> r = files.open(KEY, PAGE, layout)) {
                r.region(0).write(1, ByteBuffer.wrap(new byte[]{7}));
                r.region(0).flush();
            }
            try (VmState<io.dwcp.core.state.WritableRegion> r = files.open(KEY, PAGE, layout)) {
                r.region(0).write(2, ByteBuffer.wrap(new byte[]{5}));
                r.region(0).flush();
            }
            files.awaitBackgroundDescription(KEY);
            s0[1] = 7;
            s0[2] = 5;
            assertArrayEquals(s0, Files.readAllBytes(dir.resolve(KEY)));
            assertEquals(0, round(files, s0, null).differingPages(), "the cached description is the last commit's");
        }
    }

    @Test
    void withABlockCompressorAtBothEndsTheLiteralsTravelInItsFormat(@TempDir Path dir) throws Exception {
        compressor = new StoredBlocks();
        receiverCompressor = compressor;
        byte[] s0 = random(21);
        seedReplica(dir, s0);
        byte[] s1 = changed(s0);
        s1[700 * PAGE + 5] ^= 1; // one block of page 700: a patch, found with version 2's 4-byte block hashes
        try (FileReplicas files = FileReplicas.open(dir)) {
            List<ByteBuffer> frames = new ArrayList<>();
            SeedPlanner p = round(files, s1, frames);
            assertEquals(5, p.format(), "the receiver chose the offered format it reads");
            assertTrue(frames.stream().anyMatch(f -> f.get(0) == SeedWire.FRAME_FORMAT_BATCH && f.get(1) == 5));
            assertTrue(frames.stream().noneMatch(f -> f.get(0) == SeedWire.FRAME_BATCH), "no DEFLATE batch");
            p = round(files, s1, null);
            assertEquals(20, p.literalPages());
            assertEquals(1, p.patchedPages());
            assertArrayEquals(s1, Files.readAllBytes(dir.resolve(KEY)));
        }
    }

    @Test
    void aReceiverWithoutTheSendersFormatGetsDeflate(@TempDir Path dir) throws Exception {
        compressor = new StoredBlocks();
        byte[] s0 = random(22);
        seedReplica(dir, s0);
        byte[] s1 = changed(s0);
        try (FileReplicas files = FileReplicas.open(dir)) {
            SeedPlanner p = round(files, s1, null);
            assertEquals(SeedWire.FORMAT_DEFLATE, p.format());
            assertEquals(20, p.literalPages());
            assertArrayEquals(s1, Files.readAllBytes(dir.resolve(KEY)));
        }
    }

    @Test
    void pagesThatMovedAreCopiedFromWhereTheReceiverHeldThemBeforeTheRound(@TempDir Path dir) throws Exception {
        byte[] s0 = random(26);
        seedReplica(dir, s0);
        byte[] s1 = s0.clone();
        Random r = new Random(27);
        // Pages 100 and 700 swap (each one's source is written by the round, before and after it); page 300 gets
        // page 20's old content and page 20 new bytes; page 40 gets page 900's and page 900 new bytes.
        System.arraycopy(s0, 100 * PAGE, s1, 700 * PAGE, PAGE);
        System.arraycopy(s0, 700 * PAGE, s1, 100 * PAGE, PAGE);
        System.arraycopy(s0, 20 * PAGE, s1, 300 * PAGE, PAGE);
        System.arraycopy(s0, 900 * PAGE, s1, 40 * PAGE, PAGE);
        for (int page : new int[]{20, 900}) {
            byte[] fresh = new byte[PAGE];
            r.nextBytes(fresh);
            System.arraycopy(fresh, 0, s1, page * PAGE, PAGE);
        }
        try (FileReplicas files = FileReplicas.open(dir)) {
            SeedPlanner p = round(files, s1, null);
            assertEquals(6, p.differingPages());
            assertEquals(4, p.movedPages(), "the four moved pages are copies");
            assertEquals(2, p.literalPages());
            assertArrayEquals(s1, Files.readAllBytes(dir.resolve(KEY)));
        }
        // A receiver of version 3 does not take such copies: the sender sends those pages.
        seedReplica(dir, s0);
        try (FileReplicas files = FileReplicas.open(dir)) {
            SeedPlanner p = new SeedPlanner(state(s1), 0.5, compressor);
            assertEquals(SeedPlanner.Outcome.SEEDED, p.plan((request, t) -> {
                if (request.get(4) > 3) {
                    throw SeedWire.malformed("seed message with magic 0x44574d53, version 4, type 1");
                }
                return SeedService.answer(files, KEY, request, readable());
            }, 1000, 1000));
            assertEquals(0, p.movedPages());
            assertEquals(6, p.literalPages() + p.patchedPages());
        }
    }

    /**
     * Copies whose source is a page the round writes before the copy are bounded: the receiver keeps such sources in
     * memory until their copy is written, at most 16 MiB of them ({@link SeedWire#maxPreservedPages}: 8 pages of
     * 2 MiB). The sender plans at most that many (the next one travels as a literal) and the receiver takes a round at
     * the limit; one copy more is refused with LIMIT_EXCEEDED before anything is read or written.
     */
    @Test
    void copiesFromPagesWrittenBeforeThemAreRefusedPastSixteenMebibytes(@TempDir Path dir) throws Exception {
        int page = 2 << 20;
        int limit = SeedWire.maxPreservedPages(page);
        assertEquals(8, limit);
        int pages = 12;
        byte[] s0 = new byte[pages * page];
        new Random(41).nextBytes(s0);
        // Page 0 gets new bytes; pages 1 to limit + 1 get page 0's old content: limit + 1 copies from a page the round
        // writes before them.
        byte[] s1 = s0.clone();
        byte[] fresh = new byte[page];
        new Random(42).nextBytes(fresh);
        System.arraycopy(fresh, 0, s1, 0, page);
        for (int i = 1; i <= limit + 1; i++) {
            System.arraycopy(s0, 0, s1, i * page, page);
        }
        List<ReplicaFactory.RegionLayout> layout = List.of(new ReplicaFactory.RegionLayout("ram", s0.length));
        Files.write(dir.resolve(KEY), s0);
        try (FileReplicas files = FileReplicas.open(dir)) {
            // The sender stops at the limit: pages 1 to limit are copies of page 0's old content, the next a literal.
            VmState<StateRegion> state = VmState.<StateRegion>builder(KEY).pageSizeBytes(page)
                    .region(StateRegions.ofBuffer("ram", ByteBuffer.wrap(s1))).build();
            SeedPlanner planner = new SeedPlanner(state, 1.0, compressor);
            assertEquals(SeedPlanner.Outcome.SEEDED, planner.plan((request, t) -> SeedService.answer(files, KEY, request, readable()),
                    1000, 1000));
            assertEquals(limit, planner.movedPages());
            assertEquals(2, planner.literalPages() + planner.patchedPages(), "page 0, and the copy past the limit");
            byte[] version = SeedDescription.load(files.descriptionFile(KEY), dir.resolve(KEY), page).version;
            ReceiveBuffers budget = ReceiveBuffers.of(64 << 20);
            try (SeedDecoder d = new SeedDecoder(KEY, page, layout, files, codec, budget, receiverCompressor)) {
                planner.write(d::accept);
                d.finish();
            }
            assertArrayEquals(s1, Files.readAllBytes(dir.resolve(KEY)), "a round at the limit is taken");
            assertEquals(0, budget.usedBytes());

            // One copy more, from a hand-made round: page 0 zeroed, pages 1 to limit + 1 copies of its old content.
            byte[] now = SeedDescription.load(files.descriptionFile(KEY), dir.resolve(KEY), page).version;
            assertFalse(Arrays.equals(version, now), "the round changed the seed's version");
            ByteBuffer base = ByteBuffer.allocate(25).put((byte) SeedWire.FRAME_BASE).put(now).putLong(s0.length).flip();
            ByteBuffer batch = ByteBuffer.allocate(1 + 4 + 8 * (limit + 2) + 8 + 2).put((byte) SeedWire.FRAME_BATCH)
                    .putInt(limit + 2).putInt(0).putInt(SeedWire.SOURCE_ZERO);
            for (int i = 1; i <= limit + 1; i++) {
                batch.putInt(i).putInt(0);
            }
            batch.putInt(0).putInt(0).put(new byte[]{3, 0}).flip(); // no literals: an empty DEFLATE stream
            try (SeedDecoder d = new SeedDecoder(KEY, page, layout, files, codec, budget, receiverCompressor)) {
                d.accept(base);
                d.accept(batch);
                d.accept(ByteBuffer.allocate(41).put((byte) SeedWire.FRAME_END).put(new byte[32]).putLong(pages).flip());
                DwcpException e = assertThrows(DwcpException.class, d::finish);
                assertEquals(ErrorCode.LIMIT_EXCEEDED, e.code(), e.getMessage());
                assertTrue(e.getMessage().contains((limit + 1) + " pages"), e.getMessage());
            }
            assertEquals(0, budget.usedBytes(), "the refused round's batches are released");
            assertArrayEquals(s1, Files.readAllBytes(dir.resolve(KEY)), "the refused round wrote nothing");
            assertFalse(files.inconsistentKeys().contains(KEY));
        }
    }

    @Test
    void aReceiverThatSpeaksOnlyVersion1IsAskedAgainInVersion1(@TempDir Path dir) throws Exception {
        compressor = new StoredBlocks();
        byte[] s0 = random(23);
        seedReplica(dir, s0);
        byte[] s1 = changed(s0);
        List<Integer> versions = new ArrayList<>();
        try (FileReplicas files = FileReplicas.open(dir)) {
            SeedPlanner p = new SeedPlanner(state(s1), 0.5, compressor);
            // As a receiver from before formats: it refuses every message that is not version 1.
            assertEquals(SeedPlanner.Outcome.SEEDED, p.plan((request, t) -> {
                versions.add(request.get(4) & 0xff);
                if (request.get(4) != 1) {
                    throw SeedWire.malformed("seed message with magic 0x44574d53, version 2, type 1");
                }
                return SeedService.answer(files, KEY, request, SeedWire.FORMAT_DEFLATE);
            }, 1000, 1000));
            assertEquals(SeedWire.FORMAT_DEFLATE, p.format());
            assertEquals(List.of(7, 6, 5, 4, 3, 2, 1), versions.subList(0, 7), "DESCRIBE in version 7, again in 6, 5, 4, 3, 2, then in 1");
            assertTrue(versions.subList(6, versions.size()).stream().allMatch(v -> v == 1), "the rest of the exchange in version 1");
        }
    }

    @Test
    void aVersion2ReceiverIsAskedAgainInVersion2AndSendsFullPageHashes(@TempDir Path dir) throws Exception {
        compressor = new StoredBlocks();
        byte[] s0 = random(25);
        seedReplica(dir, s0);
        byte[] s1 = changed(s0);
        List<Integer> versions = new ArrayList<>();
        List<Integer> pageHashReplies = new ArrayList<>();
        try (FileReplicas files = FileReplicas.open(dir)) {
            SeedPlanner v3 = new SeedPlanner(state(s1), 0.5, compressor); // the newest version
            assertEquals(SeedPlanner.Outcome.SEEDED, v3.plan((request, t) -> SeedService.answer(files, KEY, request, readable()), 1000, 1000));
            SeedPlanner v2 = new SeedPlanner(state(s1), 0.5, compressor);
            // As a receiver from before version 3: it refuses every message of a version it does not speak.
            assertEquals(SeedPlanner.Outcome.SEEDED, v2.plan((request, t) -> {
                versions.add(request.get(4) & 0xff);
                if (request.get(4) > 2) {
                    throw SeedWire.malformed("seed message with magic 0x44574d53, version 3, type 1");
                }
                ByteBuffer reply = SeedService.answer(files, KEY, request, readable());
                if (reply.get(5) == SeedWire.TYPE_PAGE_HASHES) {
                    pageHashReplies.add(reply.remaining());
                }
                return reply;
            }, 1000, 1000));
            assertEquals(List.of(7, 6, 5, 4, 3, 2), versions.subList(0, 6), "DESCRIBE in version 7, again in 6, 5, 4, 3, then in 2");
            assertTrue(versions.subList(5, versions.size()).stream().allMatch(v -> v == 2), "the rest of the exchange in version 2");
            assertEquals(v3.literalPages(), v2.literalPages());
            assertEquals(v3.differingPages(), v2.differingPages());
            long pageHashes = pageHashReplies.stream().mapToLong(Integer::longValue).sum() - 21L * pageHashReplies.size();
            long chunks = SeedHashes.chunks(PAGES);
            long asked = v3.literalPages() + v3.patchedPages();
            assertEquals(5 * (SeedWire.DESCRIBE_BYTES + 1) + pageHashes * 3 / 4 + 12 * chunks - 9 * asked,
                    v2.exchangeBytes() - v3.exchangeBytes(), "version 5 sends a quarter of the page and chunk hash bytes,"
                            + " and 8 + 1 bytes more per page whose block hashes it asks (version 2: five refused DESCRIBEs"
                            + " more)");
        }
    }

    @Test
    void formatBatchesTheReceiverCannotReadOrThatAreCorruptAreRefused(@TempDir Path dir) throws Exception {
        byte[] s0 = random(24);
        seedReplica(dir, s0);
        try (FileReplicas files = FileReplicas.open(dir)) {
            round(files, s0, null);
            byte[] version = SeedDescription.load(files.descriptionFile(KEY), dir.resolve(KEY), PAGE).version;
            ByteBuffer base = ByteBuffer.allocate(25).put((byte) SeedWire.FRAME_BASE).put(version).putLong(SIZE).flip();
            ReceiveBuffers budget = ReceiveBuffers.of(1 << 20);
            List<ReplicaFactory.RegionLayout> layout = List.of(new ReplicaFactory.RegionLayout("ram", SIZE));
            // One literal page 0 in format 5, its data 3 bytes short.
            ByteBuffer batch = ByteBuffer.allocate(2 + 4 + 8 + 8 + 4 + PAGE - 3).put((byte) SeedWire.FRAME_FORMAT_BATCH).put((byte) 5)
                    .putInt(1).putInt(0).putInt(SeedWire.SOURCE_LITERAL).putInt(1).putInt(PAGE).putInt(PAGE);
            batch.position(batch.limit()).flip();
            try (SeedDecoder d = new SeedDecoder(KEY, PAGE, layout, files, codec, budget, null)) {
                d.accept(base.duplicate());
                DwcpException e = assertThrows(DwcpException.class, () -> d.accept(batch.duplicate()));
                assertEquals(ErrorCode.PROTOCOL_ERROR, e.code());
                assertTrue(e.getMessage().contains("literal format 5"), e.getMessage());
            }
            try (SeedDecoder d = new SeedDecoder(KEY, PAGE, layout, files, codec, budget, new StoredBlocks())) {
                d.accept(base.duplicate());
                d.accept(batch.duplicate());
                d.accept(ByteBuffer.allocate(41).put((byte) SeedWire.FRAME_END).put(new byte[32]).putLong(PAGES).flip());
                assertCode(ErrorCode.CORRUPT_FRAME, d::finish);
            }
            assertEquals(0, budget.usedBytes());
            assertArrayEquals(s0, Files.readAllBytes(dir.resolve(KEY)));
        }
    }

    /** A version-4 receiver: it refuses seed messages of later versions, as one from before version 5 does. */
    private static SeedPlanner.Exchange version4(FileReplicas files, int readable) {
        return (request, t) -> {
            if ((request.get(4) & 0xff) > 4) {
                throw SeedWire.malformed("seed message with magic 0x44574d53, version 5, type 1");
            }
            return SeedService.answer(files, KEY, request, readable);
        };
    }

    @Test
    void pagesChangedInAFewBytesTravelAsTheirChangedSubBlocks(@TempDir Path dir) throws Exception {
        byte[] s0 = random(31);
        byte[] s1 = s0.clone();
        // 30 pages with 1 to 3 bytes changed, in one to three blocks; one page with a byte changed in each of 7 blocks.
        Random r = new Random(32);
        for (int i = 0; i < 30; i++) {
            int page = 3 + i * 31;
            for (int b = 0; b <= i % 3; b++) {
                s1[page * PAGE + (b == 2 ? 3000 : 100 + b * 700) + r.nextInt(40)] ^= (byte) (1 + r.nextInt(255));
            }
        }
        for (int b = 0; b < 7; b++) {
            s1[950 * PAGE + b * 512 + 17] ^= 1;
        }
        seedReplica(dir, s0);
        long fineFrames;
        try (FileReplicas files = FileReplicas.open(dir)) {
            SeedPlanner p = round(files, s1, null);
            assertEquals(31, p.differingPages());
            assertEquals(31, p.patchedPages());
            assertEquals(31, p.finePatches(), "every patch carries only its changed 64-byte sub-blocks");
            assertEquals(0, p.literalPages());
            assertArrayEquals(s1, Files.readAllBytes(dir.resolve(KEY)));
            fineFrames = p.frameBytes();
        }
        // The same round planned with a version-4 receiver: patches of whole 512-byte blocks (the page with 7 changed
        // blocks goes whole).
        seedReplica(dir, s0);
        try (FileReplicas files = FileReplicas.open(dir)) {
            SeedPlanner p = new SeedPlanner(state(s1), 0.5, compressor);
            assertEquals(SeedPlanner.Outcome.SEEDED, p.plan(version4(files, readable()), 1000, 1000));
            assertEquals(0, p.finePatches());
            assertEquals(30, p.patchedPages());
            assertEquals(1, p.literalPages());
            // Random pages do not compress: at least 512 bytes a changed block against 64 a changed sub-block.
            assertTrue(p.frameBytes() > 512 * 60 + PAGE, "version 4: " + p.frameBytes());
            assertTrue(fineFrames < 64 * 67 + 2000, "version 5: " + fineFrames);
        }
    }

    @Test
    void version6BlockHashesAreCrc32cAndPlanTheSameRoundAsVersion5WithSha256(@TempDir Path dir) throws Exception {
        byte[] s0 = random(41);
        byte[] s1 = s0.clone();
        // 40 pages with 1 to 4 blocks changed (patches), 10 pages rewritten whole.
        Random r = new Random(42);
        for (int i = 0; i < 40; i++) {
            int page = 5 + i * 23;
            for (int b = 0; b <= i % 4; b++) {
                s1[page * PAGE + b * 1024 + r.nextInt(512)] ^= (byte) (1 + r.nextInt(255));
            }
        }
        for (int i = 0; i < 10; i++) {
            byte[] fresh = new byte[PAGE];
            r.nextBytes(fresh);
            System.arraycopy(fresh, 0, s1, (7 + i * 97) * PAGE, PAGE);
        }
        // The hashes themselves: CRC32C of each 512-byte block in the 4 bytes a reply carries.
        long[] crc = new long[SeedWire.BLOCKS_PER_PAGE];
        new SeedHashes().blockHashes(ByteBuffer.wrap(s1, 5 * PAGE, PAGE), PAGE, crc, 0, true);
        for (int b = 0; b < SeedWire.BLOCKS_PER_PAGE; b++) {
            java.util.zip.CRC32C c = new java.util.zip.CRC32C();
            c.update(s1, 5 * PAGE + b * 512, 512);
            assertEquals(c.getValue() << 32, crc[b], "block " + b);
        }
        seedReplica(dir, s0);
        SeedPlanner v5;
        try (FileReplicas files = FileReplicas.open(dir)) {
            v5 = new SeedPlanner(state(s1), 0.5, compressor);
            // A receiver from before version 6 refuses it: the sender asks again in version 5 (SHA-256 block hashes).
            List<Integer> versions = new ArrayList<>();
            assertEquals(SeedPlanner.Outcome.SEEDED, v5.plan((request, t) -> {
                versions.add(request.get(4) & 0xff);
                if ((request.get(4) & 0xff) > 5) {
                    throw SeedWire.malformed("seed message with magic 0x44574d53, version 6, type 1");
                }
                return SeedService.answer(files, KEY, request, readable());
            }, 1000, 1000));
            assertEquals(List.of(7, 6, 5), versions.subList(0, 3));
            assertTrue(versions.subList(2, versions.size()).stream().allMatch(v -> v == 5), "the rest in version 5");
        }
        seedReplica(dir, s0);
        try (FileReplicas files = FileReplicas.open(dir)) {
            SeedPlanner v6 = round(files, s1, null);
            assertArrayEquals(s1, Files.readAllBytes(dir.resolve(KEY)));
            assertEquals(50, v6.differingPages());
            assertEquals(40, v6.patchedPages());
            assertEquals(10, v6.literalPages());
            assertEquals(v5.patchedPages(), v6.patchedPages());
            assertEquals(v5.finePatches(), v6.finePatches());
            assertEquals(v5.frameBytes(), v6.frameBytes(), "the same ops and data");
            assertEquals(2 * (SeedWire.DESCRIBE_BYTES + 1), v5.exchangeBytes() - v6.exchangeBytes(),
                    "the same exchange (version 7 has version 6's messages) but for the refused DESCRIBEs (7 and 6)");
        }
    }

    @Test
    void aPageThatMovedFromAnywhereInTheStateIsFoundByTheReceiver(@TempDir Path dir) throws Exception {
        // 5,000 pages: more than one window of the sender's pipeline (64 chunks, 4,096 pages): page 10 is planned before
        // the sender could learn page 4,900's old hash from page hashes (version 4); from version 5 on the receiver
        // finds it, and it is the only way (the sender no longer matches moved pages itself).
        int pages = 5000;
        byte[] s0 = new byte[pages * PAGE];
        new Random(33).nextBytes(s0);
        byte[] s1 = s0.clone();
        System.arraycopy(s0, 4900 * PAGE, s1, 10 * PAGE, PAGE); // page 10 gets page 4,900's old content
        byte[] fresh = new byte[PAGE];
        new Random(34).nextBytes(fresh);
        System.arraycopy(fresh, 0, s1, 4900 * PAGE, PAGE); // and page 4,900 new bytes
        List<ReplicaFactory.RegionLayout> layout = List.of(new ReplicaFactory.RegionLayout("ram", s0.length));
        VmState<StateRegion> state = VmState.<StateRegion>builder(KEY).pageSizeBytes(PAGE)
                .region(StateRegions.ofBuffer("ram", ByteBuffer.wrap(s1))).build();
        seedReplica(dir, s0);
        try (FileReplicas files = FileReplicas.open(dir)) {
            SeedPlanner p = new SeedPlanner(state, 0.5, compressor);
            assertEquals(SeedPlanner.Outcome.SEEDED, p.plan((request, t) -> SeedService.answer(files, KEY, request, readable()),
                    1000, 1000));
            assertEquals(2, p.differingPages());
            assertEquals(1, p.movedPages(), "page 10 is a copy of the receiver's page 4,900");
            assertEquals(1, p.literalPages());
            ReceiveBuffers budget = ReceiveBuffers.of(64 << 20);
            try (SeedDecoder d = new SeedDecoder(KEY, PAGE, layout, files, codec, budget, receiverCompressor)) {
                p.write(d::accept);
                d.finish();
            }
            assertArrayEquals(s1, Files.readAllBytes(dir.resolve(KEY)));
        }
    }

    @Test
    void requestsForManyPagesStayWithinWhatAReceiverTakes(@TempDir Path dir) throws Exception {
        // 2,500 of 5,000 pages rewritten: more would-be literal pages than one BLOCKS request of version 5 may ask for
        // (2,048), in one group. Every request is checked against the receiver's limit in round().
        int pages = 5000;
        byte[] s0 = new byte[pages * PAGE];
        new Random(36).nextBytes(s0);
        byte[] s1 = s0.clone();
        Random r = new Random(37);
        for (int i = 0; i < 2500; i++) {
            byte[] fresh = new byte[PAGE];
            r.nextBytes(fresh);
            System.arraycopy(fresh, 0, s1, 2 * i * PAGE, PAGE);
        }
        seedReplica(dir, s0);
        try (FileReplicas files = FileReplicas.open(dir)) {
            SeedPlanner p = new SeedPlanner(VmState.<StateRegion>builder(KEY).pageSizeBytes(PAGE)
                    .region(StateRegions.ofBuffer("ram", ByteBuffer.wrap(s1))).build(), 0.5, compressor);
            List<Integer> sizes = new ArrayList<>();
            assertEquals(SeedPlanner.Outcome.SEEDED, p.plan((request, t) -> {
                sizes.add(request.remaining());
                return SeedService.answer(files, KEY, request, readable());
            }, 1000, 1000));
            assertEquals(2500, p.literalPages());
            assertTrue(sizes.stream().allMatch(n -> n <= SeedWire.MAX_REQUEST_BYTES), "request sizes " + sizes);
            assertTrue(sizes.stream().filter(n -> n > 20_000).count() >= 1, "a full BLOCKS request was made: " + sizes);
        }
    }

    @Test
    void subBlockRequestsOfAnOlderVersionOrAskingNothingAreRefused(@TempDir Path dir) throws Exception {
        byte[] s0 = random(35);
        seedReplica(dir, s0);
        try (FileReplicas files = FileReplicas.open(dir)) {
            round(files, s0, null);
            byte[] version = SeedDescription.load(files.descriptionFile(KEY), dir.resolve(KEY), PAGE).version;
            ByteBuffer v4 = SeedWire.subBlocksRequest(5, 1, PAGE, SIZE, version, new int[]{3}, new byte[]{1}, 0, 1);
            v4.put(4, (byte) 4);
            assertCode(ErrorCode.PROTOCOL_ERROR, () -> SeedService.answer(files, KEY, v4, readable()));
            ByteBuffer nothing = SeedWire.subBlocksRequest(5, 1, PAGE, SIZE, version, new int[]{3}, new byte[]{0}, 0, 1);
            assertCode(ErrorCode.PROTOCOL_ERROR, () -> SeedService.answer(files, KEY, nothing, readable()));
            ByteBuffer descending = SeedWire.subBlocksRequest(5, 1, PAGE, SIZE, version, new int[]{3, 2}, new byte[]{1, 1}, 0, 2);
            assertCode(ErrorCode.PROTOCOL_ERROR, () -> SeedService.answer(files, KEY, descending, readable()));
            // A good one: 8 sub-block hashes per block asked (blocks 0 and 4 of page 3, block 7 of the short last page).
            ByteBuffer ok = SeedService.answer(files, KEY,
                    SeedWire.subBlocksRequest(5, 1, PAGE, SIZE, version, new int[]{3, 999}, new byte[]{0x11, (byte) 0x80}, 0, 2), readable());
            assertEquals(SeedWire.COMMON_BYTES + 5 + 3 * 8 * 4, ok.remaining());
        }
    }

    @Test
    void describeGoldenVector() {
        assertEquals("44574d53010100000000000000000007000010000000000040000000",
                java.util.HexFormat.of().formatHex(SeedWire.describe(7, 4096, 1L << 30, 0).array()));
        // Version 2: the literal formats the sender can write (DEFLATE and zstd).
        assertEquals("44574d5302010000000000000000000700001000000000004000000003",
                java.util.HexFormat.of().formatHex(SeedWire.describe(7, 4096, 1L << 30, 1 << BlockCompressor.ZSTD).array()));
    }

    @Test
    void descriptionsOverTheLimitOrOfAnotherShapeAreRefused() {
        ByteBuffer tooMany = ByteBuffer.allocate(64).put((byte) 0).putInt(PAGE).putInt(SeedHashes.CHUNK_PAGES).putLong(SIZE)
                .put(new byte[16]).putInt(SeedWire.MAX_CHUNKS + 1).flip();
        assertCode(ErrorCode.LIMIT_EXCEEDED, () -> SeedWire.parseChunks(1, tooMany, PAGE, SIZE, 1));
        ByteBuffer otherShape = ByteBuffer.allocate(64).put((byte) 0).putInt(PAGE).putInt(SeedHashes.CHUNK_PAGES).putLong(SIZE + 1)
                .put(new byte[16]).putInt(16).flip();
        assertCode(ErrorCode.PROTOCOL_ERROR, () -> SeedWire.parseChunks(1, otherShape, PAGE, SIZE, 1));
        ByteBuffer shortHashes = ByteBuffer.allocate(64).put((byte) 0).putInt(PAGE).putInt(SeedHashes.CHUNK_PAGES).putLong(SIZE)
                .put(new byte[16]).putInt(16).put(new byte[3]).flip();
        assertCode(ErrorCode.PROTOCOL_ERROR, () -> SeedWire.parseChunks(1, shortHashes, PAGE, SIZE, 1));
        assertCode(ErrorCode.LIMIT_EXCEEDED, () -> SeedWire.checkShape(4096, (long) SeedWire.MAX_CHUNKS * SeedHashes.CHUNK_PAGES * 4096 + 1));
        assertNull(SeedWire.parseChunks(2, ByteBuffer.wrap(new byte[]{SeedWire.STATUS_NONE}), PAGE, SIZE, 3).hashes());
        ByteBuffer unoffered = ByteBuffer.allocate(2 + 4 + 4 + 8 + 16 + 4 + 16 * 16).put((byte) 0).put((byte) 1).putInt(PAGE).putInt(SeedHashes.CHUNK_PAGES)
                .putLong(SIZE).put(new byte[16]).putInt(16).put(new byte[16 * 16]).flip();
        assertCode(ErrorCode.PROTOCOL_ERROR, () -> SeedWire.parseChunks(2, unoffered, PAGE, SIZE, 1));
    }

    private static void assertCode(ErrorCode code, Executable e) {
        DwcpException d = assertThrows(DwcpException.class, e);
        assertEquals(code, d.code(), d.getMessage());
    }
}
