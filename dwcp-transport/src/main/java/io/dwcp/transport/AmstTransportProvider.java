package io.dwcp.transport;

import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.transport.Transport;
import io.dwcp.core.spi.TransportProvider;
import io.dwcp.transport.netty.AmstTransport;

/**
 * Provides AMST, the adaptive multi-stream TCP transport, under the name {@code amst}. Registered in
 * {@code META-INF/services/io.dwcp.core.spi.TransportProvider}; the {@code DwcpManager} finds it by ServiceLoader.
 *
 * <pre>{@code
 * Transport t = new AmstTransportProvider().create(context);
 * t.start();
 * Session s = t.connect(new InetSocketAddress("peer", 7400), handler).join();
 * }</pre>
 *
 * <p>Stateless and thread-safe; {@link #create} starts nothing (threads and sockets appear at {@code start()}).
 */
public final class AmstTransportProvider implements TransportProvider {
    /** Needed by ServiceLoader. */
    public AmstTransportProvider() {
    }

    @Override
    public String name() {
        return "amst";
    }

    @Override
    public int priority() {
        return 100;
    }

    @Override
    public Transport create(ComponentContext context) {
        return AmstTransport.create(context);
    }
}
