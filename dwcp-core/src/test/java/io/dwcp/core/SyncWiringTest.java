package io.dwcp.core;

import io.dwcp.core.RecordingComponents.Log;
import io.dwcp.core.RecordingComponents.RecordingTransport;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.config.SyncKeys;
import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.spi.MetadataStore;
import io.dwcp.core.spi.SyncProvider;
import io.dwcp.core.spi.SyncService;
import io.dwcp.core.transport.Transport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The sync provider is discovered, overridable, given the transport, started after it and stopped before it. */
class SyncWiringTest {
    static final Log LOG = new Log();
    static final RecordingSync FOUND = new RecordingSync(LOG);

    static final class RecordingSync extends RecordingComponents.Recording implements SyncService {
        volatile Transport transport;

        RecordingSync(Log log) {
            super("sync", log);
        }

        @Override
        public CompletableFuture<InetSocketAddress> listen(InetSocketAddress bindAddress) {
            throw new UnsupportedOperationException("lifecycle-only test component");
        }

        @Override
        public void addPeer(InetSocketAddress address) {
        }

        @Override
        public void removePeer(InetSocketAddress address) {
        }

        @Override
        public Set<InetSocketAddress> peers() {
            return Set.of();
        }

        @Override
        public MetadataStore metadata() {
            throw new UnsupportedOperationException("lifecycle-only test component");
        }
    }

    /** Found through the service file the test writes. */
    public static final class DiscoveredSyncProvider implements SyncProvider {
        @Override
        public String name() {
            return "discovered";
        }

        @Override
        public SyncService create(ComponentContext context, Transport transport) {
            FOUND.transport = transport;
            return FOUND;
        }
    }

    private static ClassLoader withSyncService(Path dir) throws IOException {
        Path services = Files.createDirectories(dir.resolve("META-INF/services"));
        Files.writeString(services.resolve(SyncProvider.class.getName()), DiscoveredSyncProvider.class.getName() + "\n");
        return new URLClassLoader(new URL[]{dir.toUri().toURL()}, SyncWiringTest.class.getClassLoader());
    }

    private static SyncProvider provider(SyncService s) {
        return new SyncProvider() {
            @Override
            public String name() {
                return "given";
            }

            @Override
            public SyncService create(ComponentContext context, Transport transport) {
                return s;
            }
        };
    }

    @Test
    void discoveredSyncGetsTheTransportAndStartsAfterItAndStopsBeforeIt(@TempDir Path dir) throws IOException {
        Log log = new Log();
        RecordingTransport t = new RecordingTransport(log);
        FOUND.log.events.clear();
        try (DwcpManager m = DwcpManager.builder().config(DwcpConfig.builder().set(SyncKeys.ENABLED, true).build()).classLoader(withSyncService(dir))
                .transportProvider(RecordingComponents.provider(t)).build()) {
            assertSame(FOUND, m.sync());
            assertSame(t, FOUND.transport);
            assertEquals(List.of("transport", "sync"), m.componentNames());
            m.start();
            m.stop();
        }
        assertEquals(List.of("start:sync", "stop:sync"), FOUND.log.events);
        assertEquals(List.of("start:transport", "stop:transport"), log.events);
    }

    @Test
    void builderOverridesDiscoveryAndOrderIsTransportFirst(@TempDir Path dir) throws IOException {
        Log log = new Log();
        RecordingTransport t = new RecordingTransport(log);
        RecordingSync mine = new RecordingSync(log);
        try (DwcpManager m = DwcpManager.builder().config(DwcpConfig.builder().set(SyncKeys.ENABLED, true).build()).classLoader(withSyncService(dir))
                .transportProvider(RecordingComponents.provider(t)).syncProvider(provider(mine)).build()) {
            assertSame(mine, m.sync());
            m.start();
        }
        assertEquals(List.of("start:transport", "start:sync", "stop:sync", "stop:transport"), log.events);
    }

    @Test
    void disabledSyncOrMissingTransportCreatesNoSyncComponent(@TempDir Path dir) throws IOException {
        DwcpConfig off = DwcpConfig.builder().set(SyncKeys.ENABLED, false).build();
        DwcpManager disabled = DwcpManager.builder().config(off).classLoader(withSyncService(dir))
                .transportProvider(RecordingComponents.provider(new RecordingTransport(new Log()))).build();
        assertEquals(List.of("transport"), disabled.componentNames());
        DwcpException e = assertThrows(DwcpException.class, disabled::sync);
        assertEquals(ErrorCode.ILLEGAL_STATE, e.code());

        DwcpManager noTransport = DwcpManager.builder().config(DwcpConfig.builder().set(SyncKeys.ENABLED, true).build()).classLoader(withSyncService(dir))
                .syncProvider(provider(new RecordingSync(new Log()))).build();
        assertTrue(noTransport.componentNames().stream().noneMatch("sync"::equals));
    }

    @Test
    void gossipIntervalAboveMaxStalenessIsRejected() {
        DwcpException e = assertThrows(DwcpException.class, () -> DwcpConfig.builder()
                .set(SyncKeys.GOSSIP_INTERVAL, Duration.ofSeconds(10)).set(SyncKeys.MAX_STALENESS, Duration.ofSeconds(2)).build());
        assertEquals(ErrorCode.INVALID_CONFIG, e.code());
        assertTrue(e.getMessage().contains("dwcp.sync.gossip.interval"), e.getMessage());
    }
}
