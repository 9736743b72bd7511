package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.state.VmState;
import io.dwcp.core.state.WritableRegion;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Replica files: nothing is touched before a round verified (staged full rounds, deltas never resize), one writer per
 * key, and a replica left partly written is marked and repaired by the next full round.
 */
class FileReplicasTest {
    private static final List<ReplicaFactory.RegionLayout> ONE = List.of(new ReplicaFactory.RegionLayout("ram", 8192));

    private static byte[] filled(int value) {
        byte[] b = new byte[8192];
        Arrays.fill(b, (byte) value);
        return b;
    }

    private static void write(VmState<WritableRegion> state, byte[] content) throws IOException {
        state.region(0).write(0, ByteBuffer.wrap(content));
    }

    /** A verified full round: staged, written, published. */
    private static void fullRound(FileReplicas files, String key, byte[] content) throws IOException {
        try (ReplicaFactory.StagedReplica staged = files.openStaged(key, 4096, ONE)) {
            write(staged.state(), content);
            staged.publish();
        }
    }

    private static List<String> listing(Path dir) throws IOException {
        try (var l = Files.list(dir)) {
            List<String> names = new ArrayList<>(l.map(p -> p.getFileName().toString()).filter(n -> !n.equals(".dwcp-replicas.lock")).sorted().toList());
            return names;
        }
    }

    private static void assertCode(ErrorCode code, Executable e) {
        DwcpException d = assertThrows(DwcpException.class, e);
        assertEquals(code, d.code(), d.getMessage());
    }

    @Test
    void unpublishedStagingLeavesTheOldReplicaAndNoStagingFile(@TempDir Path dir) throws IOException {
        try (FileReplicas files = FileReplicas.open(dir)) {
            fullRound(files, "vm", filled(1));
            try (ReplicaFactory.StagedReplica staged = files.openStaged("vm", 4096, ONE)) {
                write(staged.state(), filled(2));
                // A failed round: closed without publish.
            }
        }
        assertArrayEquals(filled(1), Files.readAllBytes(dir.resolve("vm")));
        assertEquals(List.of("vm"), listing(dir), "the staging file must be gone");
    }

    @Test
    void publishReplacesTheReplicaWholeAndIsIdempotent(@TempDir Path dir) throws IOException {
        try (FileReplicas files = FileReplicas.open(dir)) {
            fullRound(files, "vm", filled(1));
            ReplicaFactory.StagedReplica staged = files.openStaged("vm", 4096, ONE);
            write(staged.state(), filled(3));
            staged.publish();
            staged.publish();
            staged.close();
            staged.close();
        }
        assertArrayEquals(filled(3), Files.readAllBytes(dir.resolve("vm")));
        assertEquals(List.of("vm"), listing(dir));
    }

    @Test
    void stagingFilesAreUniquePerRoundAndLeftoversAreDeletedAtOpen(@TempDir Path dir) throws IOException {
        Files.write(dir.resolve(".vm.0123456789abcdef.staging"), filled(9));
        try (FileReplicas files = FileReplicas.open(dir)) {
            assertEquals(List.of(), listing(dir), "a crashed round's staging file is deleted at start-up");
            try (ReplicaFactory.StagedReplica staged = files.openStaged("vm", 4096, ONE)) {
                ByteBuffer b = ByteBuffer.allocate(8192);
                staged.state().region(0).read(0, b);
                assertArrayEquals(new byte[8192], b.array(), "a staging copy starts empty");
                assertEquals(1, listing(dir).size());
                assertTrue(listing(dir).get(0).matches("\\.vm\\.[0-9a-f]{16}\\.staging"), listing(dir).toString());
            }
        }
    }

    @Test
    void aKeyThatLooksLikeAStagingNameKeepsItsReplica(@TempDir Path dir) throws IOException {
        try (FileReplicas files = FileReplicas.open(dir)) {
            fullRound(files, "vm.staging", filled(4));
            try (VmState<WritableRegion> again = files.open("vm.staging", 4096, ONE)) {
                ByteBuffer b = ByteBuffer.allocate(8192);
                again.region(0).read(0, b);
                assertArrayEquals(filled(4), b.array(), "opening a replica for a delta must not empty it");
            }
        }
    }

    @Test
    void keysAndRegionNamesThatAreNotPlainFileNamesAreRefused(@TempDir Path dir) throws IOException {
        try (FileReplicas files = FileReplicas.open(dir)) {
            for (String key : List.of("..", ".", ".vm.staging", "a/b", "")) {
                assertCode(ErrorCode.PROTOCOL_ERROR, () -> files.open(key, 4096, ONE));
                assertCode(ErrorCode.PROTOCOL_ERROR, () -> files.openStaged(key, 4096, ONE));
            }
            List<ReplicaFactory.RegionLayout> bad = List.of(new ReplicaFactory.RegionLayout("../x", 8192));
            assertCode(ErrorCode.PROTOCOL_ERROR, () -> files.openStaged("vm", 4096, bad));
        }
        assertEquals(List.of(), listing(dir));
    }

    @Test
    void aDeltaNeverCreatesTruncatesOrExtendsAReplica(@TempDir Path dir) throws IOException {
        try (FileReplicas files = FileReplicas.open(dir)) {
            assertCode(ErrorCode.BASELINE_MISSING, () -> files.open("new", 4096, ONE));
            assertFalse(Files.exists(dir.resolve("new")), "no replica is created for a delta");

            fullRound(files, "vm", filled(5));
            for (long size : new long[]{4096, 16384, 1L << 40}) {
                List<ReplicaFactory.RegionLayout> other = List.of(new ReplicaFactory.RegionLayout("ram", size));
                assertCode(ErrorCode.BASELINE_MISSING, () -> files.open("vm", 4096, other));
            }
            assertArrayEquals(filled(5), Files.readAllBytes(dir.resolve("vm")), "the replica is as it was");
            // The key is free again after each refusal.
            try (VmState<WritableRegion> ok = files.open("vm", 4096, ONE)) {
                assertEquals(8192, ok.totalBytes());
            }
        }
    }

    @Test
    void oversizedOrTooManyRegionsAreRefusedBeforeAnyFileIsCreated(@TempDir Path dir) throws IOException {
        try (FileReplicas files = FileReplicas.builder(dir).maxStateSize(io.dwcp.core.DataSize.ofMebibytes(1)).maxRegions(4).build()) {
            List<ReplicaFactory.RegionLayout> big = List.of(new ReplicaFactory.RegionLayout("ram", 2L << 20));
            assertCode(ErrorCode.LIMIT_EXCEEDED, () -> files.openStaged("vm", 4096, big));
            List<ReplicaFactory.RegionLayout> many = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                many.add(new ReplicaFactory.RegionLayout("r" + i, 4096));
            }
            assertCode(ErrorCode.LIMIT_EXCEEDED, () -> files.openStaged("vm", 4096, many));
            assertCode(ErrorCode.LIMIT_EXCEEDED, () -> files.openStaged("vm", 4096, List.of()));
        }
        try (FileReplicas files = FileReplicas.open(dir)) {
            // Within the 1 TiB default limit, but more than the disk has.
            long tooBig = Math.min(Files.getFileStore(dir).getUsableSpace() + (1L << 30), 1L << 40);
            List<ReplicaFactory.RegionLayout> huge = List.of(new ReplicaFactory.RegionLayout("ram", tooBig));
            assertCode(ErrorCode.RESOURCE_EXHAUSTED, () -> files.openStaged("vm", 4096, huge));
        }
        assertEquals(List.of(), listing(dir), "no file was created");
    }

    @Test
    void oneWriterPerKey(@TempDir Path dir) throws IOException {
        try (FileReplicas files = FileReplicas.open(dir)) {
            fullRound(files, "vm", filled(1));
            try (ReplicaFactory.StagedReplica first = files.openStaged("vm", 4096, ONE)) {
                assertCode(ErrorCode.KEY_BUSY, () -> files.openStaged("vm", 4096, ONE));
                assertCode(ErrorCode.KEY_BUSY, () -> files.open("vm", 4096, ONE));
                fullRound(files, "other", filled(2)); // another key is not held up
                write(first.state(), filled(7));
                first.publish();
            }
            try (VmState<WritableRegion> delta = files.open("vm", 4096, ONE)) {
                assertCode(ErrorCode.KEY_BUSY, () -> files.openStaged("vm", 4096, ONE));
            }
            fullRound(files, "vm", filled(8));
        }
        assertArrayEquals(filled(8), Files.readAllBytes(dir.resolve("vm")));
    }

    @Test
    void aDirectoryHasOneOwner(@TempDir Path dir) throws IOException {
        try (FileReplicas files = FileReplicas.open(dir)) {
            assertCode(ErrorCode.KEY_BUSY, () -> FileReplicas.open(dir));
        }
        FileReplicas.open(dir).close();
    }

    @Test
    void aFlushedDeltaLeavesNoMark(@TempDir Path dir) throws IOException {
        try (FileReplicas files = FileReplicas.open(dir)) {
            fullRound(files, "vm", filled(1));
            try (VmState<WritableRegion> delta = files.open("vm", 4096, ONE)) {
                delta.region(0).write(4096, ByteBuffer.wrap(filled(2), 0, 4096));
                assertTrue(Files.exists(dir.resolve(".vm.inconsistent")), "marked before the in-place write");
                delta.region(0).flush();
            }
            assertEquals(Set.of(), files.inconsistentKeys());
        }
        // A flushed in-place round starts a background description of the replica; whether its sidecar (.vm.desc)
        // was written before close() stopped it is a race, and either outcome is right. The mark must be gone.
        assertEquals(List.of("vm"), listing(dir).stream().filter(n -> !n.endsWith(".desc")).toList());
    }

    @Test
    void aDeltaLeftPartlyWrittenIsMarkedAcrossRestartsUntilAFullRoundRepairsIt(@TempDir Path dir) throws IOException {
        try (FileReplicas files = FileReplicas.open(dir)) {
            fullRound(files, "vm", filled(1));
            try (VmState<WritableRegion> delta = files.open("vm", 4096, ONE)) {
                delta.region(0).write(0, ByteBuffer.wrap(filled(2), 0, 4096));
                // The round fails (or the process dies) before the flush.
            }
            assertEquals(Set.of("vm"), files.inconsistentKeys());
        }
        try (FileReplicas files = FileReplicas.open(dir)) {
            assertEquals(Set.of("vm"), files.inconsistentKeys(), "the mark survives a restart");
            assertCode(ErrorCode.BASELINE_MISSING, () -> files.open("vm", 4096, ONE));
            fullRound(files, "vm", filled(3));
            assertEquals(Set.of(), files.inconsistentKeys());
        }
        assertEquals(List.of("vm"), listing(dir));
        try (FileReplicas files = FileReplicas.open(dir)) {
            assertEquals(Set.of(), files.inconsistentKeys());
        }
    }

    @Test
    void aMultiRegionStateIsOneFilePerRegionAndPublishesUnmarked(@TempDir Path dir) throws IOException {
        List<ReplicaFactory.RegionLayout> two = List.of(new ReplicaFactory.RegionLayout("ram", 8192),
                new ReplicaFactory.RegionLayout("disk", 8192));
        try (FileReplicas files = FileReplicas.open(dir)) {
            try (ReplicaFactory.StagedReplica staged = files.openStaged("vm", 4096, two)) {
                staged.state().region(0).write(0, ByteBuffer.wrap(filled(1)));
                staged.state().region(1).write(0, ByteBuffer.wrap(filled(2)));
                staged.publish();
            }
            assertEquals(Set.of(), files.inconsistentKeys());
        }
        assertEquals(List.of("vm~disk", "vm~ram"), listing(dir));
        assertArrayEquals(filled(2), Files.readAllBytes(dir.resolve("vm~disk")));
    }

    @Test
    void aOneRegionKeyNamedLikeAnotherKeysRegionIsAFileOfItsOwn(@TempDir Path dir) throws Exception {
        List<ReplicaFactory.RegionLayout> two = List.of(new ReplicaFactory.RegionLayout("ram", 8192),
                new ReplicaFactory.RegionLayout("disk", 8192));
        try (FileReplicas files = FileReplicas.open(dir)) {
            try (ReplicaFactory.StagedReplica staged = files.openStaged("vm", 4096, two)) {
                staged.state().region(0).write(0, ByteBuffer.wrap(filled(1)));
                staged.state().region(1).write(0, ByteBuffer.wrap(filled(2)));
                staged.publish();
            }
            fullRound(files, "vm.ram", filled(3));
        }
        assertArrayEquals(filled(1), Files.readAllBytes(dir.resolve("vm~ram")), "key vm's region ram is untouched");
        assertArrayEquals(filled(3), Files.readAllBytes(dir.resolve("vm.ram")));
    }

    @Test
    void aLayoutThatNamesARegionTwiceIsRefusedBeforeAnyFileExists(@TempDir Path dir) throws IOException {
        List<ReplicaFactory.RegionLayout> twice = List.of(new ReplicaFactory.RegionLayout("a", 4096),
                new ReplicaFactory.RegionLayout("a", 8192));
        try (FileReplicas files = FileReplicas.open(dir)) {
            assertCode(ErrorCode.PROTOCOL_ERROR, () -> files.openStaged("vm", 4096, twice));
            assertCode(ErrorCode.PROTOCOL_ERROR, () -> files.open("vm", 4096, twice));
            assertEquals(List.of(), listing(dir));
            fullRound(files, "vm", filled(4));
        }
    }

    @Test
    void anInvalidPageSizeIsRefusedAndLeavesTheKeyFree(@TempDir Path dir) throws IOException {
        try (FileReplicas files = FileReplicas.open(dir)) {
            assertThrows(IllegalArgumentException.class, () -> files.openStaged("vm", 4095, ONE));
            assertThrows(IllegalArgumentException.class, () -> files.open("vm", 4095, ONE));
            fullRound(files, "vm", filled(5));
        }
        assertArrayEquals(filled(5), Files.readAllBytes(dir.resolve("vm")));
    }
}
