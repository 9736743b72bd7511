package io.dwcp.compression;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.BaselineRef;
import io.dwcp.core.spi.DecodeResult;
import io.dwcp.core.spi.EncodeOptions;
import io.dwcp.core.spi.StateCodec;
import io.dwcp.core.spi.StateDecoder;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.VmState;
import io.dwcp.core.state.WritableRegion;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Delta rounds decoded with scratch files ({@code newDecoder(replica, scratch)}): the replaced pages go to the file
 * batch by batch and are read back from it (copies from earlier batches, the replica write, the baseline's update);
 * a failed round leaves replica and baseline as they were and deletes the file; a file that cannot be had or written
 * (a full disk) leaves the round in memory, still exact.
 */
class StagedDeltaTest {
    private static final int PAGE = 4096;
    private static final int PAGES = 3000;
    private static HdeCodec tx;
    private static HdeCodec rx;
    private final String key = "staged-delta";

    @BeforeAll
    static void start() {
        // Small batches: many of them, with duplicates and splice copies whose sources are in earlier, staged batches.
        DwcpConfig config = DwcpConfig.builder().set("dwcp.compression.batch-size", "64KiB")
                .set("dwcp.compression.level.wan", "zstd:1").set("dwcp.compression.splice", "on").build();
        tx = Rounds.codec(config, Clock.systemUTC(), 2);
        rx = Rounds.codec(config, Clock.systemUTC(), 2);
    }

    @AfterAll
    static void stop() throws Exception {
        tx.stop();
        rx.stop();
    }

    @AfterEach
    void forget() {
        tx.drop(key);
        rx.drop(key);
    }

    /** Text-like pages, some zero. */
    private static byte[] memory(long seed) {
        Random r = new Random(seed);
        byte[] m = new byte[PAGES * PAGE];
        for (int p = 0; p < PAGES; p++) {
            if (r.nextInt(10) < 2) {
                continue;
            }
            for (int i = 0; i < PAGE; i++) {
                m[p * PAGE + i] = (byte) ('a' + r.nextInt(r.nextBoolean() ? 4 : 26));
            }
        }
        return m;
    }

    /**
     * A new version: a third of the pages changed (small edits, new random bytes, and copies of pages changed far earlier in
     * the same version, so their sources are in earlier batches of the delta).
     */
    private static byte[] change(byte[] old, long seed) {
        Random r = new Random(seed);
        byte[] m = old.clone();
        List<Integer> changed = new ArrayList<>();
        for (int p = 0; p < PAGES; p++) {
            if (r.nextInt(3) != 0) {
                continue;
            }
            int kind = r.nextInt(4);
            if (kind == 0 && changed.size() > 50) {
                int src = changed.get(r.nextInt(changed.size() - 40));
                System.arraycopy(m, src * PAGE, m, p * PAGE, PAGE);
            } else if (kind == 1) {
                for (int i = 0; i < 64; i++) {
                    m[p * PAGE + r.nextInt(PAGE)] ^= (byte) (1 + r.nextInt(255));
                }
            } else {
                byte[] noise = new byte[PAGE];
                r.nextBytes(noise);
                System.arraycopy(noise, 0, m, p * PAGE, PAGE);
            }
            changed.add(p);
        }
        return m;
    }

    /** Scratch files in {@code dir}, deleted on close; remembers the channels it opened. */
    private static final class Scratch implements StateCodec.ScratchFiles {
        final Path dir;
        final List<FileChannel> opened = new ArrayList<>();
        final List<Path> files = new ArrayList<>();

        Scratch(Path dir) {
            this.dir = dir;
        }

        @Override
        public FileChannel open() throws IOException {
            Path p = Files.createTempFile(dir, "delta-", ".pages");
            files.add(p);
            FileChannel c = FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE,
                    StandardOpenOption.DELETE_ON_CLOSE);
            opened.add(c);
            return c;
        }
    }

    /** A keyframe of {@code v0} decoded into {@code replica}, acknowledged; {@return its baseline} */
    private BaselineRef keyframe(byte[] v0, byte[] replica) {
        Rounds.Encoded k = Rounds.encode(tx, Rounds.state(key, PAGE, v0), EncodeOptions.keyframe());
        DecodeResult r = Rounds.decode(rx, Rounds.replica(key, PAGE, replica), k.frames);
        assertArrayEquals(v0, replica);
        tx.acknowledge(r.baseline());
        return r.baseline();
    }

    private List<byte[]> delta(byte[] next, BaselineRef against) {
        Rounds.Encoded d = Rounds.encode(tx, Rounds.state(key, PAGE, next), Rounds.against(against));
        assertFalse(d.result.keyframe(), "a delta round");
        return d.frames;
    }

    private static DecodeResult decode(VmState<? extends WritableRegion> replica, List<byte[]> frames,
                                       StateCodec.ScratchFiles scratch) {
        try (StateDecoder d = rx.newDecoder(replica, scratch)) {
            for (byte[] f : frames) {
                d.accept(ByteBuffer.wrap(f));
            }
            return d.finish();
        }
    }

    @Test
    void aDeltaStagedInAScratchFileIsExactAndTheFileIsDeletedAfterTheRound(@TempDir Path dir) throws IOException {
        byte[] v0 = memory(1);
        byte[] v1 = change(v0, 2);
        byte[] v2 = change(v1, 3);
        byte[] replica = new byte[v0.length];
        BaselineRef b0 = keyframe(v0, replica);
        Scratch scratch = new Scratch(dir);
        List<byte[]> d1 = delta(v1, b0);
        long staged;
        DecodeResult r1;
        try (StateDecoder d = rx.newDecoder(Rounds.replica(key, PAGE, replica), scratch)) {
            for (byte[] f : d1) {
                d.accept(ByteBuffer.wrap(f));
            }
            staged = scratch.opened.get(0).size();
            r1 = d.finish();
        }
        assertArrayEquals(v1, replica);
        assertEquals(1, scratch.opened.size(), "one scratch file a round");
        assertTrue(staged >= (long) r1.pagesWritten() * PAGE, "every replaced page staged: " + staged + " bytes for "
                + r1.pagesWritten() + " pages");
        assertFalse(scratch.opened.get(0).isOpen());
        assertFalse(Files.exists(scratch.files.get(0)), "the scratch file is deleted with the round");
        assertEquals(r1.baseline(), rx.baseline(key).orElseThrow());
        tx.acknowledge(r1.baseline());

        // The baseline the staged round updated is right: the next delta against it is exact too.
        DecodeResult r2 = decode(Rounds.replica(key, PAGE, replica), delta(v2, r1.baseline()), scratch);
        assertArrayEquals(v2, replica);
        assertEquals(2, scratch.opened.size());
        assertEquals(r2.baseline(), rx.baseline(key).orElseThrow());
    }

    @Test
    void aFailedStagedDeltaLeavesReplicaAndBaselineAsTheyWereAndDeletesTheFile(@TempDir Path dir) {
        byte[] v0 = memory(4);
        byte[] v1 = change(v0, 5);
        byte[] replica = new byte[v0.length];
        BaselineRef b0 = keyframe(v0, replica);
        List<byte[]> d1 = delta(v1, b0);
        Scratch scratch = new Scratch(dir);

        // Every batch arrives (those that completed are staged), the END frame does not.
        assertTrue(d1.size() > 9, "more batches than in flight: " + d1.size());
        try (StateDecoder d = rx.newDecoder(Rounds.replica(key, PAGE, replica), scratch)) {
            for (byte[] f : d1.subList(0, d1.size() - 1)) {
                d.accept(ByteBuffer.wrap(f));
            }
            assertEquals(1, scratch.opened.size(), "batches staged before the round failed");
            DwcpException e = assertThrows(DwcpException.class, d::finish);
            assertEquals(ErrorCode.TRANSFER_INCOMPLETE, e.code());
        }
        // A round whose digest does not match (one bit of the END frame's digest changed: its CRC fixed up).
        List<byte[]> bad = new ArrayList<>(d1);
        bad.set(bad.size() - 1, withDigestBitFlipped(d1.get(d1.size() - 1)));
        DwcpException e = assertThrows(DwcpException.class,
                () -> decode(Rounds.replica(key, PAGE, replica), bad, scratch));
        assertEquals(ErrorCode.CHECKSUM_MISMATCH, e.code(), e.getMessage());

        assertArrayEquals(v0, replica, "the replica is as it was");
        assertEquals(b0.digest(), rx.baseline(key).orElseThrow().digest(), "the baseline is as it was");
        assertEquals(2, scratch.opened.size());
        for (int i = 0; i < 2; i++) {
            assertFalse(scratch.opened.get(i).isOpen());
            assertFalse(Files.exists(scratch.files.get(i)));
        }
        // The same delta against the untouched baseline now goes through.
        decode(Rounds.replica(key, PAGE, replica), d1, scratch);
        assertArrayEquals(v1, replica);
    }

    private static byte[] withDigestBitFlipped(byte[] end) {
        byte[] b = end.clone();
        b[Wire.END_DIGEST_OFFSET] ^= 1;
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(b, 0, b.length - Wire.CRC_LENGTH);
        ByteBuffer.wrap(b).putInt(b.length - Wire.CRC_LENGTH, (int) crc.getValue());
        return b;
    }

    @Test
    void aFullDiskKeepsTheRoundInMemoryAndItStaysExact() throws IOException {
        Path full = Path.of("/dev/full");
        assumeTrue(Files.isWritable(full), "needs /dev/full (Linux)");
        byte[] v0 = memory(6);
        byte[] v1 = change(v0, 7);
        byte[] replica = new byte[v0.length];
        BaselineRef b0 = keyframe(v0, replica);
        List<FileChannel> opened = new ArrayList<>();
        // Every write fails with ENOSPC ("No space left on device"), as on a full file system. Not deleted on close.
        StateCodec.ScratchFiles fullDisk = () -> {
            FileChannel c = FileChannel.open(full, StandardOpenOption.READ, StandardOpenOption.WRITE);
            opened.add(c);
            return c;
        };
        DecodeResult r1 = decode(Rounds.replica(key, PAGE, replica), delta(v1, b0), fullDisk);
        assertArrayEquals(v1, replica);
        assertEquals(r1.baseline(), rx.baseline(key).orElseThrow());
        assertEquals(1, opened.size(), "tried once, then the round went on in memory");
        assertFalse(opened.get(0).isOpen());
    }

    @Test
    void noScratchFileOrOneThatCannotBeCreatedKeepsTheRoundInMemory() {
        byte[] v0 = memory(8);
        byte[] v1 = change(v0, 9);
        byte[] v2 = change(v1, 10);
        byte[] replica = new byte[v0.length];
        BaselineRef b0 = keyframe(v0, replica);
        AtomicInteger asked = new AtomicInteger();
        DecodeResult r1 = decode(Rounds.replica(key, PAGE, replica), delta(v1, b0), () -> {
            asked.incrementAndGet();
            return null;
        });
        assertArrayEquals(v1, replica);
        tx.acknowledge(r1.baseline());
        decode(Rounds.replica(key, PAGE, replica), delta(v2, r1.baseline()), () -> {
            asked.incrementAndGet();
            throw new IOException("cannot create the file");
        });
        assertArrayEquals(v2, replica);
        assertEquals(2, asked.get());
    }

    @Test
    void aKeyframeOpensNoScratchFile() {
        byte[] v0 = memory(11);
        byte[] replica = new byte[v0.length];
        AtomicInteger asked = new AtomicInteger();
        VmState<StateRegion> state = Rounds.state(key, PAGE, v0);
        decode(Rounds.replica(key, PAGE, replica), Rounds.encode(tx, state, EncodeOptions.keyframe()).frames, () -> {
            asked.incrementAndGet();
            return null;
        });
        assertArrayEquals(v0, replica);
        assertEquals(0, asked.get());
    }
}
