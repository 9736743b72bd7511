package io.dwcp.core;

import io.dwcp.core.RecordingComponents.Log;
import io.dwcp.core.RecordingComponents.RecordingCodec;
import io.dwcp.core.RecordingComponents.RecordingTransport;
import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.spi.StateCodec;
import io.dwcp.core.spi.StateCodecProvider;
import io.dwcp.core.transport.Transport;
import io.dwcp.core.spi.TransportProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Providers are found with ServiceLoader, the highest priority wins, and the builder overrides discovery. */
class ServiceDiscoveryTest {
    static final Log LOG = new Log();
    static final RecordingTransport HIGH = new RecordingTransport(LOG);
    static final RecordingTransport LOW = new RecordingTransport(LOG);
    static final RecordingCodec CODEC = new RecordingCodec(LOG);

    /** Priority 10. */
    public static final class HighPriorityTransportProvider implements TransportProvider {
        @Override
        public String name() {
            return "high";
        }

        @Override
        public int priority() {
            return 10;
        }

        @Override
        public Transport create(ComponentContext context) {
            return HIGH;
        }
    }

    /** Priority 0. */
    public static final class LowPriorityTransportProvider implements TransportProvider {
        @Override
        public String name() {
            return "low";
        }

        @Override
        public Transport create(ComponentContext context) {
            return LOW;
        }
    }

    public static final class TestCodecProvider implements StateCodecProvider {
        @Override
        public String name() {
            return "test-codec";
        }

        @Override
        public StateCodec create(ComponentContext context) {
            return CODEC;
        }
    }

    /** A class loader that sees this test's classes plus service files written to {@code dir}. */
    private static ClassLoader withServices(Path dir) throws IOException {
        Path services = Files.createDirectories(dir.resolve("META-INF/services"));
        Files.writeString(services.resolve(TransportProvider.class.getName()),
                "# test providers\n" + LowPriorityTransportProvider.class.getName() + "\n" + HighPriorityTransportProvider.class.getName() + "\n");
        Files.writeString(services.resolve(StateCodecProvider.class.getName()), TestCodecProvider.class.getName() + "\n");
        return new URLClassLoader(new URL[]{dir.toUri().toURL()}, ServiceDiscoveryTest.class.getClassLoader());
    }

    @Test
    void discoversProvidersAndPrefersHighestPriority(@TempDir Path dir) throws IOException {
        DwcpManager m = DwcpManager.builder().classLoader(withServices(dir)).build();
        assertSame(HIGH, m.transport());
        assertSame(CODEC, m.codec());
        assertEquals(java.util.List.of("transport", "compression"), m.componentNames());
    }

    @Test
    void builderOverridesDiscovery(@TempDir Path dir) throws IOException {
        RecordingTransport mine = new RecordingTransport(new Log());
        DwcpManager m = DwcpManager.builder().classLoader(withServices(dir))
                .transportProvider(RecordingComponents.provider(mine)).build();
        assertSame(mine, m.transport());
        assertSame(CODEC, m.codec());
    }

    @Test
    void nothingOnTheClassPathMeansNoComponents() {
        DwcpManager m = DwcpManager.builder().classLoader(new ClassLoader(null) { }).build();
        assertTrue(m.componentNames().isEmpty());
    }
}
