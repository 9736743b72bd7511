package io.dwcp.bench;

import io.dwcp.core.DwcpException;
import io.dwcp.core.DwcpManager;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.migration.FileReplicas;
import io.dwcp.core.migration.MigrationSender;
import io.dwcp.core.migration.RoundReport;
import io.dwcp.core.transport.TransportListener;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.StateRegions;
import io.dwcp.core.state.VmState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's "Using it" example, verbatim between the markers, so that the user guide's code compiles and works.
 * Keep the two in step: {@link #readmeHoldsThisExample} fails when they drift.
 */
class ReadmeExampleTest {
    @Test
    void theReadmeExampleMigratesAStateInTwoRoundsAndCancelsAThird(@TempDir Path tmp) throws Exception {
        Path replicaDir = tmp.resolve("replicas");
        Path snapshot0 = tmp.resolve("s0.ram");
        Path snapshot1 = tmp.resolve("s1.ram");
        ByteBuffer ram = ByteBuffer.allocate(8 << 20);
        SyntheticVm.fill(ram, 1);
        Files.write(snapshot0, ram.array());
        SyntheticVm.dirty(ram, 2, 0.05);
        Files.write(snapshot1, ram.array());

        // README-BEGIN
        DwcpConfig config = DwcpConfig.builder()
                .set("dwcp.transport.tls.enabled", "false")   // TLS is on by default: give it certificates instead
                .build();                                     // every problem reported at once, INVALID_CONFIG

        // Destination host: a manager, a replica directory, a listener.
        try (DwcpManager destination = DwcpManager.builder().config(config).build();
             FileReplicas replicas = FileReplicas.open(replicaDir)) {
            destination.start();
            TransportListener listener = destination.transport().listen(new InetSocketAddress("127.0.0.1", 0),
                    destination.migrationReceiver(replicas,
                            round -> System.out.println("verified round " + round.round()),
                            failed -> System.err.println("round failed: " + failed.cause().getMessage()))).join();

            // Source host: one session to the destination, then one round per snapshot.
            try (DwcpManager source = DwcpManager.builder().config(config).build()) {
                source.start();
                try (listener; MigrationSender sender = source.openMigration(listener.localAddress()).join()) {
                    sender.progress((acked, total) -> { /* acknowledged bytes of the round; total -1 while encoding */ });
                    for (Path snapshot : new Path[]{snapshot0, snapshot1}) {
                        try (StateRegion ram0 = StateRegions.mappedSnapshot(snapshot)) {
                            VmState<StateRegion> state = VmState.<StateRegion>builder("vm-42").region(ram0)
                                    .lastPagePartial(true).build();
                            RoundReport report = sender.sendRoundAsync(state, null).join(); // cancel() stops it
                            System.out.println(report);
                        } catch (java.util.concurrent.CompletionException e) {
                            DwcpException cause = DwcpException.find(e);   // its code says whose fault it was
                            throw cause != null ? cause : e;
                        }
                    }
                    // Cancel: both ends abort the round, and the replica keeps its last verified one.
                    try (StateRegion ram1 = StateRegions.mappedSnapshot(snapshot1)) {
                        var round = sender.sendRoundAsync(VmState.<StateRegion>builder("vm-42").region(ram1)
                                .lastPagePartial(true).build(), null);
                        round.cancel(true);
                        sender.idle().join();                      // the round's work has stopped
                    }
                }
            }
        }
        // README-END

        assertArrayEquals(ram.array(), Files.readAllBytes(replicaDir.resolve("vm-42")));
    }

    @Test
    void readmeHoldsThisExample() throws Exception {
        String source = Files.readString(Path.of("src/test/java/io/dwcp/bench/ReadmeExampleTest.java"));
        String example = source.substring(source.indexOf("// README-BEGIN\n") + "// README-BEGIN\n".length(),
                source.indexOf("        // README-END"));
        String readme = Files.readString(Path.of("../README.md"));
        String unindented = example.lines().map(l -> l.length() >= 8 ? l.substring(8) : l.strip())
                .reduce((a, b) -> a + "\n" + b).orElse("");
        assertTrue(readme.contains(unindented), "README.md's \"Using it\" block must be this test's example verbatim"
                + " (dedented by 8 spaces)");
        assertFalse(unindented.isBlank());
    }
}
