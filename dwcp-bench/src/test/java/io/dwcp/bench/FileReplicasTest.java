package io.dwcp.bench;

import io.dwcp.core.migration.ReplicaFactory;
import io.dwcp.core.state.VmState;
import io.dwcp.core.state.WritableRegion;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The CLI receiver's replicas: staged keyframes replace the file atomically on publish and never otherwise. */
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

    @Test
    void unpublishedStagingLeavesTheOldReplicaAndNoStagingFile(@TempDir Path dir) throws IOException {
        ReplicaFactory files = ReceiveCommand.fileReplicas(dir);
        try (VmState<WritableRegion> old = files.open("vm", 4096, ONE)) {
            write(old, filled(1));
        }
        try (ReplicaFactory.StagedReplica staged = files.openStaged("vm", 4096, ONE)) {
            write(staged.state(), filled(2));
            // A failed round: closed without publish.
        }
        assertArrayEquals(filled(1), Files.readAllBytes(dir.resolve("vm")));
        try (var listing = Files.list(dir)) {
            assertEquals(List.of(dir.resolve("vm")), listing.toList(), "the staging file must be gone");
        }
    }

    @Test
    void publishReplacesTheReplicaWhole(@TempDir Path dir) throws IOException {
        ReplicaFactory files = ReceiveCommand.fileReplicas(dir);
        try (VmState<WritableRegion> old = files.open("vm", 4096, ONE)) {
            write(old, filled(1));
        }
        ReplicaFactory.StagedReplica staged = files.openStaged("vm", 4096, ONE);
        write(staged.state(), filled(3));
        staged.publish();
        staged.publish();
        staged.close();
        staged.close();
        assertArrayEquals(filled(3), Files.readAllBytes(dir.resolve("vm")));
        assertFalse(Files.exists(dir.resolve(".vm.staging")));
    }

    @Test
    void aLeftoverStagingFileIsNotReused(@TempDir Path dir) throws IOException {
        Files.write(dir.resolve(".vm.staging"), filled(9));
        ReplicaFactory files = ReceiveCommand.fileReplicas(dir);
        try (ReplicaFactory.StagedReplica staged = files.openStaged("vm", 4096, ONE)) {
            ByteBuffer b = ByteBuffer.allocate(8192);
            staged.state().region(0).read(0, b);
            assertArrayEquals(new byte[8192], b.array(), "a staging copy starts empty, not with a crashed round's pages");
        }
    }

    @Test
    void aKeyThatLooksLikeAStagingNameKeepsItsReplica(@TempDir Path dir) throws IOException {
        ReplicaFactory files = ReceiveCommand.fileReplicas(dir);
        try (VmState<WritableRegion> first = files.open("vm.staging", 4096, ONE)) {
            write(first, filled(4));
        }
        try (VmState<WritableRegion> again = files.open("vm.staging", 4096, ONE)) {
            ByteBuffer b = ByteBuffer.allocate(8192);
            again.region(0).read(0, b);
            assertArrayEquals(filled(4), b.array(), "opening a replica for a delta must not empty it");
        }
    }

    @Test
    void keysThatAreNotPlainFileNamesAreRefused(@TempDir Path dir) {
        ReplicaFactory files = ReceiveCommand.fileReplicas(dir);
        for (String key : List.of("..", ".", ".vm.staging", "a/b", "")) {
            assertThrows(IOException.class, () -> files.open(key, 4096, ONE), key);
            assertThrows(IOException.class, () -> files.openStaged(key, 4096, ONE), key);
        }
    }
}
