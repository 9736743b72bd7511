package io.dwcp.bench;

import io.dwcp.core.DwcpManager;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.migration.FileReplicas;
import io.dwcp.core.migration.MigrationSender;
import io.dwcp.core.migration.RoundReport;
import io.dwcp.core.transport.TransportListener;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.StateRegions;
import io.dwcp.core.state.VmState;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A state four times the default baseline memory cap (4 GiB + one page, sparse files) migrates with default settings:
 * round 0 full, later rounds deltas (the receiver's baseline is its replica file, the sender's the snapshot's views),
 * the replica byte-exact after each. Slow: run with {@code -Pslow}.
 */
@Tag("slow")
@Timeout(value = 15, unit = java.util.concurrent.TimeUnit.MINUTES)
class LargeStateMigrationTest {
    private static final long SIZE = (4L << 30) + 4096;
    private static final String KEY = "vm-big";

    /** Sparse: 1 MiB of mixed content every 64 MiB, the rest zero pages; then {@code edits} small in-place edits. */
    private static void write(Path file, long seed, int edits) throws IOException {
        SplittableRandom rnd = new SplittableRandom(seed);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(ByteBuffer.allocate(1), SIZE - 1);
            ByteBuffer mib = ByteBuffer.allocate(1 << 20);
            for (long off = 0; off + mib.capacity() <= SIZE; off += 64L << 20) {
                SyntheticVm.fill(mib.clear(), off ^ 77);
                ch.write(mib.flip(), off);
            }
            // In-place edits of 64 bytes (a changed field, a counter), as most of a running guest's changes are.
            ByteBuffer edit = ByteBuffer.allocate(64);
            for (int i = 0; i < edits; i++) {
                rnd.nextBytes(edit.clear().array());
                ch.write(edit, rnd.nextLong(SIZE - 64));
            }
        }
    }

    private static void assertSameContent(Path expected, Path actual) throws IOException {
        try (FileChannel a = FileChannel.open(expected); FileChannel b = FileChannel.open(actual)) {
            assertEquals(a.size(), b.size());
            ByteBuffer x = ByteBuffer.allocateDirect(4 << 20);
            ByteBuffer y = ByteBuffer.allocateDirect(4 << 20);
            for (long off = 0; off < a.size(); off += x.capacity()) {
                x.clear();
                y.clear();
                while (x.hasRemaining() && a.read(x, off + x.position()) > 0) {
                    // read fully
                }
                while (y.hasRemaining() && b.read(y, off + y.position()) > 0) {
                    // read fully
                }
                assertEquals(x.flip(), y.flip(), "replica differs in the 4 MiB at " + off);
            }
        }
    }

    @Test
    void aStateFourTimesTheBaselineCapMigratesInDeltaRoundsWithDefaultSettings(@TempDir Path dir) throws Exception {
        Path s0 = dir.resolve("s0.ram");
        Path s1 = dir.resolve("s1.ram");
        Path s2 = dir.resolve("s2.ram");
        write(s0, 1, 0);
        write(s1, 1, 2000);
        write(s2, 1, 6000);
        Path out = dir.resolve("replicas");
        DwcpConfig config = DwcpConfig.builder().set("dwcp.transport.tls.enabled", "false").build();
        try (DwcpManager receiverNode = DwcpManager.builder().config(config).meterRegistry(new SimpleMeterRegistry()).build();
             DwcpManager senderNode = DwcpManager.builder().config(config).meterRegistry(new SimpleMeterRegistry()).build();
             FileReplicas replicas = FileReplicas.open(out)) {
            receiverNode.start();
            senderNode.start();
            TransportListener listener = receiverNode.transport().listen(new InetSocketAddress("127.0.0.1", 0),
                    receiverNode.migrationReceiver(replicas, r -> { })).join();
            try (listener; MigrationSender sender = senderNode.openMigration(listener.localAddress()).join()) {
                Path[] rounds = {s0, s1, s2};
                for (int i = 0; i < rounds.length; i++) {
                    try (StateRegion region = StateRegions.mappedSnapshot(rounds[i])) {
                        VmState<StateRegion> state = VmState.<StateRegion>builder(KEY).region(region).lastPagePartial(true).build();
                        RoundReport r = sender.sendRound(state, null);
                        assertEquals(i == 0, r.keyframe(), "round " + i);
                        assertFalse(r.fallback(), "round " + i);
                        if (i > 0) {
                            assertTrue(r.wireBytes() < 64L << 20, "a delta of a few thousand pages: " + r.wireBytes());
                        }
                    }
                    assertSameContent(rounds[i], out.resolve(KEY));
                }
            }
        }
    }
}
