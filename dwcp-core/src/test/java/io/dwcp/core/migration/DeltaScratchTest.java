package io.dwcp.core.migration;

import io.dwcp.core.spi.StateCodec;
import io.dwcp.core.state.VmState;
import io.dwcp.core.state.WritableRegion;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Scratch files of a receiver's delta rounds: in the replica directory, only with room, deleted on close. */
class DeltaScratchTest {
    private static List<Path> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> !p.getFileName().toString().equals(".dwcp-replicas.lock")).toList();
        }
    }

    @Test
    void aScratchFileIsInTheDirectoryAndGoneWhenItsChannelCloses(@TempDir Path dir) throws IOException {
        try (FileReplicas replicas = FileReplicas.open(dir)) {
            FileChannel c = DeltaScratch.open(replicas, "vm", 1 << 20, p -> Long.MAX_VALUE);
            assertNotNull(c);
            // Deleted on close: on Linux the JDK unlinks it at once, elsewhere it is a staging file of the directory.
            for (Path p : files(dir)) {
                String name = p.getFileName().toString();
                assertTrue(name.startsWith(".vm.") && name.endsWith(".staging"), name);
            }
            assertEquals(4096, c.write(ByteBuffer.wrap(new byte[4096]), 0));
            c.close();
            assertEquals(List.of(), files(dir));
        }
    }

    @Test
    void tooLittleRoomForTheStateAndTheHeadroomGivesNoFileAndLeavesNone(@TempDir Path dir) throws IOException {
        long state = 1L << 30;
        try (FileReplicas replicas = FileReplicas.open(dir)) {
            assertNull(DeltaScratch.open(replicas, "vm", state, p -> state + SeedDecoder.STAGING_HEADROOM - 1));
            assertEquals(List.of(), files(dir));
            FileChannel c = DeltaScratch.open(replicas, "vm", state, p -> state + SeedDecoder.STAGING_HEADROOM);
            assertNotNull(c);
            c.close();
        }
    }

    @Test
    void aReceiverWithAReplicaDirectoryGivesItsDeltaDecoderScratchFilesThere(@TempDir Path dir) throws IOException {
        AtomicReference<StateCodec.ScratchFiles> given = new AtomicReference<>();
        StateCodec codec = (StateCodec) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {StateCodec.class}, (proxy, method, args) -> {
                    if (method.getName().equals("newDecoder") && args.length == 2) {
                        given.set((StateCodec.ScratchFiles) args[1]);
                    }
                    return null;
                });
        Files.write(dir.resolve("vm"), new byte[8192]);
        try (FileReplicas replicas = FileReplicas.open(dir);
             VmState<WritableRegion> replica = replicas.open("vm", 4096, List.of(new ReplicaFactory.RegionLayout("ram", 8192)))) {
            DeltaScratch.decoder(codec, replicas, replica);
            assertNotNull(given.get());
            try (FileChannel c = given.get().open()) {
                assertNotNull(c);
                assertEquals(0, c.size());
            }
            assertEquals(List.of(dir.resolve("vm")), files(dir));
        }
    }
}
