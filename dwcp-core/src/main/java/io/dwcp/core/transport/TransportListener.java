package io.dwcp.core.transport;

import java.net.InetSocketAddress;

/** A bound listening endpoint. Closing it stops accepting; sessions already accepted stay open. Idempotent close. */
public interface TransportListener extends AutoCloseable {
    /** {@return the bound address (with the actual port when 0 was asked for)} */
    InetSocketAddress localAddress();

    @Override
    void close();
}
