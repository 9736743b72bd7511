package io.dwcp.bench;

import io.dwcp.core.ComponentState;
import io.dwcp.core.DwcpException;
import io.dwcp.core.DwcpManager;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.migration.FileReplicas;
import io.dwcp.core.migration.MigrationSender;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.StateRegions;
import io.dwcp.core.state.VmState;
import io.dwcp.core.transport.TransportListener;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link DwcpStart}: the manager and the session come up on their own thread; close leaves nothing open. */
@Timeout(60)
class DwcpStartTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private final LoopbackNodes nodes = new LoopbackNodes();

    @AfterEach
    void closeAll() throws Exception {
        nodes.close();
    }

    /** A built, not started manager (the start-up starts it). */
    private static DwcpManager unstarted(AtomicReference<DwcpManager> made) {
        DwcpManager m = DwcpManager.builder().config(DwcpConfig.builder().set("dwcp.transport.tls.enabled", "false")
                .set("dwcp.tier.pin", "local").build()).meterRegistry(new SimpleMeterRegistry()).build();
        made.set(m);
        return m;
    }

    private static void assertSenderClosed(MigrationSender s) {
        VmState<StateRegion> state = VmState.of("vm", StateRegions.ofBuffer("ram", ByteBuffer.allocate(4096)));
        ExecutionException e = assertThrows(ExecutionException.class, () -> s.sendRoundAsync(state, null).get());
        assertEquals(ErrorCode.ILLEGAL_STATE, DwcpException.find(e).code(), e.toString());
    }

    @Test
    void theSessionComesUpAndCloseClosesTheSenderAndTheManager(@TempDir Path dir) throws Exception {
        DwcpManager receiver = nodes.node();
        FileReplicas replicas = nodes.own(FileReplicas.open(dir));
        TransportListener l = nodes.own(receiver.transport().listen(new InetSocketAddress("127.0.0.1", 0),
                receiver.migrationReceiver(replicas, r -> { })).join());
        AtomicReference<DwcpManager> made = new AtomicReference<>();
        MigrationSender sender;
        DwcpManager manager;
        try (DwcpStart start = new DwcpStart(() -> unstarted(made), l.localAddress())) {
            manager = start.manager(WAIT);
            assertEquals(ComponentState.RUNNING, manager.state());
            sender = start.sender(WAIT);
            assertSame(sender, start.sender(WAIT));
        }
        assertSame(made.get(), manager);
        assertNotEquals(ComponentState.RUNNING, manager.state(), "the manager was closed");
        assertSenderClosed(sender);
    }

    @Test
    void aRefusedConnectionIsThrownAndTheStartedManagerStillCloses() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort(); // closed again: nothing listens there
        }
        AtomicReference<DwcpManager> made = new AtomicReference<>();
        DwcpStart start = new DwcpStart(() -> unstarted(made), new InetSocketAddress("127.0.0.1", port));
        try {
            assertThrows(DwcpException.class, () -> start.sender(WAIT));
            assertEquals(ComponentState.RUNNING, start.manager(WAIT).state());
        } finally {
            start.close();
            start.close(); // idempotent
        }
        assertNotEquals(ComponentState.RUNNING, made.get().state());
    }

    @Test
    void aManagerThatCannotBeBuiltFailsBothSteps() {
        IllegalStateException boom = new IllegalStateException("no manager here");
        try (DwcpStart start = new DwcpStart(() -> {
            throw boom;
        }, new InetSocketAddress("127.0.0.1", 9))) {
            assertSame(boom, assertThrows(IllegalStateException.class, () -> start.manager(WAIT)));
            assertSame(boom, assertThrows(IllegalStateException.class, () -> start.sender(WAIT)));
        }
    }

    @Test
    void closingBeforeTheStartUpEndedWaitsForItAndClosesWhatCameUp(@TempDir Path dir) throws Exception {
        DwcpManager receiver = nodes.node();
        FileReplicas replicas = nodes.own(FileReplicas.open(dir));
        TransportListener l = nodes.own(receiver.transport().listen(new InetSocketAddress("127.0.0.1", 0),
                receiver.migrationReceiver(replicas, r -> { })).join());
        AtomicReference<DwcpManager> made = new AtomicReference<>();
        // The caller failed at once (QEMU not running, say) and never asked for the manager or the sender.
        new DwcpStart(() -> unstarted(made), l.localAddress()).close();
        assertTrue(made.get() != null, "the start-up ran");
        assertNotEquals(ComponentState.RUNNING, made.get().state());
    }
}
