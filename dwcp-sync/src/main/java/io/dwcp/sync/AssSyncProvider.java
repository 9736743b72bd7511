package io.dwcp.sync;

import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.spi.SyncProvider;
import io.dwcp.core.spi.SyncService;
import io.dwcp.core.transport.Transport;

/**
 * Provides ASS, δ-CRDT metadata replication, under the name {@code ass}. Registered in
 * {@code META-INF/services/io.dwcp.core.spi.SyncProvider}; {@code DwcpManager} finds it by ServiceLoader and starts
 * it after the transport.
 *
 * <pre>{@code
 * AssSync sync = (AssSync) new AssSyncProvider().create(context, transport);
 * sync.start();
 * sync.listen(new InetSocketAddress(0)).join();
 * }</pre>
 *
 * <p>Stateless and thread-safe; {@link #create} starts nothing.
 */
public final class AssSyncProvider implements SyncProvider {
    /** Needed by ServiceLoader. */
    public AssSyncProvider() {
    }

    @Override
    public String name() {
        return "ass";
    }

    @Override
    public int priority() {
        return 100;
    }

    @Override
    public SyncService create(ComponentContext context, Transport transport) {
        java.util.Objects.requireNonNull(context, "context");
        java.util.Objects.requireNonNull(transport, "transport");
        return new AssSync(context, transport);
    }
}
