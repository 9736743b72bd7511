package io.dwcp.bench;

import io.dwcp.core.DwcpManager;
import io.dwcp.core.config.DwcpConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.util.ArrayList;
import java.util.List;

/**
 * Started plaintext managers on the local tier for migration tests over loopback, and everything a test opens beside
 * them, closed in reverse order by {@link #close()}.
 */
final class LoopbackNodes implements AutoCloseable {
    private final List<AutoCloseable> owned = new ArrayList<>();

    /** A started manager: plaintext, tier pinned to local, zstd:1, then {@code settings} as key, value pairs. */
    DwcpManager node(String... settings) {
        return node(b -> { }, settings);
    }

    /** As {@link #node(String...)}, with {@code builder} applied to the manager's builder before it is built. */
    DwcpManager node(java.util.function.Consumer<DwcpManager.Builder> builder, String... settings) {
        DwcpConfig.Builder b = DwcpConfig.builder().set("dwcp.transport.tls.enabled", "false").set("dwcp.tier.pin", "local")
                .set("dwcp.compression.level.local", "zstd:1");
        for (int i = 0; i < settings.length; i += 2) {
            b.set(settings[i], settings[i + 1]);
        }
        DwcpManager.Builder mb = DwcpManager.builder().config(b.build()).meterRegistry(new SimpleMeterRegistry());
        builder.accept(mb);
        DwcpManager m = own(mb.build());
        m.start();
        return m;
    }

    /** Closes {@code c} with the nodes, before the ones opened earlier. */
    <T extends AutoCloseable> T own(T c) {
        owned.add(c);
        return c;
    }

    @Override
    public void close() throws Exception {
        for (int i = owned.size() - 1; i >= 0; i--) {
            owned.get(i).close();
        }
        owned.clear();
    }
}
