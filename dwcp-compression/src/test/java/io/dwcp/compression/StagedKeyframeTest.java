package io.dwcp.compression;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.DecodeResult;
import io.dwcp.core.spi.EncodeOptions;
import io.dwcp.core.spi.StateDecoder;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.StateRegions;
import io.dwcp.core.state.VmState;
import io.dwcp.core.state.WritableRegion;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Keyframes decoded into a staging replica ({@code newKeyframeDecoder}): pages are written behind the decode, but
 * publish happens only after the digest verified, at most once, and a failure before or during it commits no baseline.
 */
class StagedKeyframeTest {
    private static final int PAGE = 4096;
    private static HdeCodec tx;
    private static HdeCodec rx;

    @BeforeAll
    static void start() {
        // Small batches and write-behind pieces: many batches, duplicates across them, several replica writes.
        DwcpConfig config = DwcpConfig.builder().set("dwcp.compression.batch-size", "64KiB")
                .set("dwcp.compression.level.wan", "zstd:1").build();
        tx = Rounds.codec(config, Clock.systemUTC(), 2);
        rx = Rounds.codec(config, Clock.systemUTC(), 2);
    }

    @AfterAll
    static void stop() throws Exception {
        tx.stop();
        rx.stop();
    }

    /** Text-like, zero and repeated pages (repeats far apart, so their sources are in earlier batches). */
    private static byte[] memory(long seed, int pages, int tailBytes) {
        Random r = new Random(seed);
        byte[] m = new byte[pages * PAGE + tailBytes];
        for (int p = 0; p < pages; p++) {
            int kind = r.nextInt(10);
            if (kind < 2) {
                continue;
            }
            if (kind < 4 && p > 100) {
                System.arraycopy(m, r.nextInt(p - 50) * PAGE, m, p * PAGE, PAGE);
                continue;
            }
            for (int i = 0; i < PAGE; i++) {
                m[p * PAGE + i] = (byte) ('a' + r.nextInt(r.nextBoolean() ? 4 : 26));
            }
        }
        for (int i = 0; i < tailBytes; i++) {
            m[pages * PAGE + i] = (byte) r.nextInt();
        }
        return m;
    }

    private static List<byte[]> keyframe(VmState<StateRegion> state) {
        return Rounds.encode(tx, state, EncodeOptions.builder().forceKeyframe(true).build()).frames;
    }

    /** A replica in {@code bytes} whose writes reaching past {@code limitBytes} fail like a full disk. */
    private static final class DiskFullAt implements WritableRegion {
        private final WritableRegion inner;
        private final long limitBytes;

        DiskFullAt(byte[] bytes, long limitBytes) {
            this.inner = StateRegions.ofBuffer("r0", ByteBuffer.wrap(bytes));
            this.limitBytes = limitBytes;
        }

        @Override public String name() { return inner.name(); }
        @Override public long sizeBytes() { return inner.sizeBytes(); }
        @Override public void read(long o, ByteBuffer dst) throws IOException { inner.read(o, dst); }
        @Override public void flush() { }

        @Override
        public void write(long offsetBytes, ByteBuffer src) throws IOException {
            if (offsetBytes + src.remaining() > limitBytes) {
                throw new IOException("No space left on device");
            }
            inner.write(offsetBytes, src);
        }
    }

    /**
     * A file replica that counts its writes, fails those past {@link #diskFullAt} like a full disk and, when asked to,
     * cannot be mapped (like some network filesystems).
     */
    private static final class FileStaging implements WritableRegion {
        final AtomicInteger writes = new AtomicInteger();
        final AtomicLong bytesWritten = new AtomicLong();
        volatile long diskFullAt = Long.MAX_VALUE;
        private final WritableRegion file;
        private final boolean mapFails;

        FileStaging(Path path, long sizeBytes, boolean mapFails) throws IOException {
            this.file = StateRegions.fileReplica("ram", path, sizeBytes);
            this.mapFails = mapFails;
        }

        @Override public String name() { return file.name(); }
        @Override public long sizeBytes() { return file.sizeBytes(); }
        @Override public void read(long o, ByteBuffer dst) throws IOException { file.read(o, dst); }
        @Override public void flush() throws IOException { file.flush(); }
        @Override public boolean mappable() { return true; }
        @Override public void close() throws IOException { file.close(); }

        @Override
        public void write(long o, ByteBuffer src) throws IOException {
            if (o + src.remaining() > diskFullAt) {
                throw new IOException("No space left on device");
            }
            writes.incrementAndGet();
            bytesWritten.addAndGet(src.remaining());
            file.write(o, src);
        }

        @Override
        public ByteBuffer mapWritable(long o, int n) throws IOException {
            if (mapFails) {
                throw new IOException("No such device (a filesystem without shared writable mappings)");
            }
            return file.mapWritable(o, n);
        }
    }

    /** Decodes a staged keyframe into {@code region}; publish checks that the file holds {@code expected}. */
    private static DecodeResult decodeStaged(String key, WritableRegion region, List<byte[]> frames, Path file, byte[] expected)
            throws IOException {
        try (VmState<WritableRegion> staging = VmState.<WritableRegion>builder(key).pageSizeBytes(PAGE).region(region).build();
             StateDecoder d = rx.newKeyframeDecoder(staging, () -> assertArrayEquals(expected, Files.readAllBytes(file)))) {
            for (byte[] f : frames) {
                d.accept(ByteBuffer.wrap(f));
            }
            return d.finish();
        }
    }

    @Test
    void aFileStagingReplicaIsDecodedInPlaceAndItsPagesBecomeTheBaseline(@TempDir Path dir) throws Exception {
        String key = "staged-in-place";
        byte[] v0 = memory(3, 2000, 0);
        Path file = dir.resolve("replica.ram");
        FileStaging staging = new FileStaging(file, v0.length, false);
        DecodeResult r0 = decodeStaged(key, staging, keyframe(Rounds.state(key, PAGE, v0)), file, v0);
        assertEquals(nonZeroPages(v0) * PAGE, staging.bytesWritten.get(),
                "every non-zero page written once, in place (nothing written behind); the new file's holes already read"
                        + " as the zero pages");
        assertTrue(staging.writes.get() < 2000 * 3 / 4, "adjacent pages written together: " + staging.writes.get());
        assertArrayEquals(v0, Files.readAllBytes(file));
        tx.acknowledge(r0.baseline());

        // A delta against that baseline, decoded into the (now closed and reopened) replica file.
        byte[] v1 = v0.clone();
        for (int p = 0; p < 2000; p += 37) {
            v1[p * PAGE + 11] ^= 0x5A;
        }
        System.arraycopy(v0, 5 * PAGE, v1, 1500 * PAGE, PAGE);
        List<byte[]> delta = Rounds.encode(tx, Rounds.state(key, PAGE, v1), Rounds.against(r0.baseline())).frames;
        DecodeResult r1;
        try (VmState<WritableRegion> replica = VmState.<WritableRegion>builder(key).pageSizeBytes(PAGE)
                .region(StateRegions.fileReplica("ram", file, v1.length)).build()) {
            r1 = Rounds.decode(rx, replica, delta);
        }
        assertArrayEquals(v1, Files.readAllBytes(file));
        assertEquals(r1.baseline(), rx.baseline(key).orElseThrow());
        rx.drop(key);
        tx.drop(key);
    }

    private static int nonZeroPages(byte[] m) {
        int n = 0;
        for (int p = 0; p * PAGE < m.length; p++) {
            for (int i = p * PAGE; i < Math.min(m.length, (p + 1) * PAGE); i++) {
                if (m[i] != 0) {
                    n++;
                    break;
                }
            }
        }
        return n;
    }

    @Test
    void zeroPagesOverwriteOldDataOfAReusedStagingFile(@TempDir Path dir) throws Exception {
        String key = "staged-reused";
        byte[] v0 = memory(5, 900, 0);
        Path file = dir.resolve("replica.ram");
        // The file holds data everywhere (an earlier guest's memory): every zero page must be written.
        byte[] old = new byte[v0.length];
        new Random(6).nextBytes(old);
        Files.write(file, old);
        FileStaging staging = new FileStaging(file, v0.length, false);
        decodeStaged(key, staging, keyframe(Rounds.state(key, PAGE, v0)), file, v0);
        assertArrayEquals(v0, Files.readAllBytes(file));
        assertEquals(v0.length, staging.bytesWritten.get(), "zero pages written over the old data, each page once");

        // Zero pages over a file that is zero in some places and data in others: exact either way.
        byte[] mixed = new byte[v0.length];
        for (int p = 0; p < 900; p += 3) {
            System.arraycopy(old, p * PAGE, mixed, p * PAGE, PAGE);
        }
        Files.write(file, mixed);
        FileStaging again = new FileStaging(file, v0.length, false);
        decodeStaged(key, again, keyframe(Rounds.state(key, PAGE, v0)), file, v0);
        assertArrayEquals(v0, Files.readAllBytes(file));
        rx.drop(key);
        tx.drop(key);
    }

    @Test
    void aStagingReplicaThatCannotBeMappedIsWrittenBehindInstead(@TempDir Path dir) throws Exception {
        String key = "staged-no-map";
        byte[] v0 = memory(9, 600, 0);
        Path file = dir.resolve("replica.ram");
        FileStaging staging = new FileStaging(file, v0.length, true);
        DecodeResult r0 = decodeStaged(key, staging, keyframe(Rounds.state(key, PAGE, v0)), file, v0);
        assertTrue(staging.writes.get() > 0, "written behind the decode");
        assertArrayEquals(v0, Files.readAllBytes(file));
        assertEquals(r0.baseline(), rx.baseline(key).orElseThrow());
        rx.drop(key);
        tx.drop(key);
    }

    @Test
    void publishesOnceAfterEveryPageIsWritten() {
        byte[] a = memory(1, 3000, 0);
        byte[] b = memory(2, 700, 1234);
        List<byte[]> frames = keyframe(Rounds.state("staged-ok", PAGE, a, b));
        byte[] sa = new byte[a.length];
        byte[] sb = new byte[b.length];
        AtomicInteger published = new AtomicInteger();
        DecodeResult result;
        try (StateDecoder d = rx.newKeyframeDecoder(Rounds.replica("staged-ok", PAGE, sa, sb), () -> {
            // Publish sees the complete staging copy.
            assertArrayEquals(a, sa);
            assertArrayEquals(b, sb);
            published.incrementAndGet();
        })) {
            for (byte[] f : frames) {
                d.accept(ByteBuffer.wrap(f));
            }
            result = d.finish();
        }
        assertEquals(1, published.get());
        assertEquals(result.baseline(), rx.baseline("staged-ok").orElseThrow());
        rx.drop("staged-ok");
        tx.drop("staged-ok");
    }

    @Test
    void digestMismatchPublishesNothingAndCommitsNoBaseline() {
        byte[] a = memory(3, 2000, 0);
        List<byte[]> frames = keyframe(Rounds.state("staged-bad", PAGE, a));
        byte[] end = frames.get(frames.size() - 1);
        ByteBuffer.wrap(end).putLong(Wire.END_DIGEST_OFFSET, ByteBuffer.wrap(end).getLong(Wire.END_DIGEST_OFFSET) ^ 1);
        DecoderRobustnessTest.reseal(end);
        AtomicInteger published = new AtomicInteger();
        try (StateDecoder d = rx.newKeyframeDecoder(Rounds.replica("staged-bad", PAGE, new byte[a.length]),
                published::incrementAndGet)) {
            for (byte[] f : frames) {
                d.accept(ByteBuffer.wrap(f));
            }
            assertEquals(ErrorCode.CHECKSUM_MISMATCH, assertThrows(DwcpException.class, d::finish).code());
        }
        assertEquals(0, published.get());
        assertTrue(rx.baseline("staged-bad").isEmpty());
        tx.drop("staged-bad");
    }

    @Test
    void failedPublishIsAnIoErrorAndCommitsNoBaseline() {
        byte[] a = memory(4, 1000, 0);
        List<byte[]> frames = keyframe(Rounds.state("staged-io", PAGE, a));
        try (StateDecoder d = rx.newKeyframeDecoder(Rounds.replica("staged-io", PAGE, new byte[a.length]), () -> {
            throw new IOException("disk full");
        })) {
            for (byte[] f : frames) {
                d.accept(ByteBuffer.wrap(f));
            }
            assertEquals(ErrorCode.IO_ERROR, assertThrows(DwcpException.class, d::finish).code());
        }
        assertTrue(rx.baseline("staged-io").isEmpty());
        tx.drop("staged-io");
    }

    /** Decodes a keyframe of {@code key} into {@code region}: IO_ERROR, nothing published, no baseline committed. */
    private static void assertKeyframeFailsWithIoError(String key, WritableRegion region, List<byte[]> frames) throws IOException {
        AtomicInteger published = new AtomicInteger();
        try (VmState<WritableRegion> staging = VmState.<WritableRegion>builder(key).pageSizeBytes(PAGE).region(region).build();
             StateDecoder d = rx.newKeyframeDecoder(staging, published::incrementAndGet)) {
            DwcpException e = assertThrows(DwcpException.class, () -> {
                for (byte[] f : frames) {
                    d.accept(ByteBuffer.wrap(f));
                }
                d.finish();
            });
            assertEquals(ErrorCode.IO_ERROR, e.code(), e.getMessage());
        }
        assertEquals(0, published.get());
        assertTrue(rx.baseline(key).isEmpty());
        tx.drop(key);
    }

    @Test
    void aStagingWriteFailureFailsTheRoundAndCommitsNoBaseline() throws IOException {
        byte[] a = memory(6, 6000, 0);
        assertKeyframeFailsWithIoError("staged-disk", new DiskFullAt(new byte[a.length], 4L << 20),
                keyframe(Rounds.state("staged-disk", PAGE, a)));
    }

    @Test
    void aFullDiskUnderAnInPlaceKeyframeIsAnIoErrorAndCommitsNoBaseline(@TempDir Path dir) throws IOException {
        byte[] v0 = memory(8, 3000, 0);
        FileStaging region = new FileStaging(dir.resolve("replica.ram"), v0.length, false);
        region.diskFullAt = 5L << 20;
        assertKeyframeFailsWithIoError("in-place-disk", region, keyframe(Rounds.state("in-place-disk", PAGE, v0)));
    }

    @Test
    void aFailedReplicaWriteOfADeltaDropsTheReceiversBaseline() {
        String key = "delta-disk";
        byte[] v0 = memory(8, 1000, 0);
        byte[] v1 = v0.clone();
        for (int p = 0; p < 1000; p += 10) {
            v1[p * PAGE + 3] ^= 1;
        }
        Rounds.Encoded k = Rounds.encode(tx, Rounds.state(key, PAGE, v0), EncodeOptions.builder().build());
        byte[] replica = new byte[v0.length];
        DecodeResult r0 = Rounds.decode(rx, Rounds.replica(key, PAGE, replica), k.frames);
        tx.acknowledge(r0.baseline());
        Rounds.Encoded delta = Rounds.encode(tx, Rounds.state(key, PAGE, v1), Rounds.against(r0.baseline()));
        WritableRegion failing = new DiskFullAt(replica, 500L * PAGE + 1);
        DwcpException e = assertThrows(DwcpException.class, () -> Rounds.decode(rx,
                VmState.<WritableRegion>builder(key).pageSizeBytes(PAGE).region(failing).build(), delta.frames));
        assertEquals(ErrorCode.IO_ERROR, e.code(), e.getMessage());
        // Half of the round reached the replica: a later delta against the old baseline would leave it wrong.
        assertTrue(rx.baseline(key).isEmpty(), "the receiver must not offer that baseline again");
        DwcpException again = assertThrows(DwcpException.class,
                () -> Rounds.decode(rx, Rounds.replica(key, PAGE, new byte[v0.length]), delta.frames));
        assertEquals(ErrorCode.BASELINE_MISSING, again.code());
        tx.drop(key);
    }

    @Test
    void deltaIntoStagingIsRefusedAndLeavesTheBaseline() {
        byte[] v0 = memory(5, 1000, 0);
        byte[] v1 = v0.clone();
        v1[5 * PAGE + 7] ^= 1;
        Rounds.Encoded k = Rounds.encode(tx, Rounds.state("staged-delta", PAGE, v0), EncodeOptions.builder().build());
        byte[] replica = new byte[v0.length];
        DecodeResult r0 = Rounds.decode(rx, Rounds.replica("staged-delta", PAGE, replica), k.frames);
        tx.acknowledge(r0.baseline());
        Rounds.Encoded delta = Rounds.encode(tx, Rounds.state("staged-delta", PAGE, v1), Rounds.against(r0.baseline()));
        AtomicInteger published = new AtomicInteger();
        try (StateDecoder d = rx.newKeyframeDecoder(Rounds.replica("staged-delta", PAGE, new byte[v0.length]),
                published::incrementAndGet)) {
            DwcpException e = assertThrows(DwcpException.class, () -> d.accept(ByteBuffer.wrap(delta.frames.get(0))));
            assertEquals(ErrorCode.PROTOCOL_ERROR, e.code());
        }
        assertEquals(0, published.get());
        assertEquals(r0.baseline(), rx.baseline("staged-delta").orElseThrow());
        tx.drop("staged-delta");
        rx.drop("staged-delta");
    }
}
