package io.dwcp.core.spi;

import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import io.dwcp.core.transport.Transport;

/**
 * The running metadata-replication component: a replicated store of conflict-free replicated values, kept
 * convergent with peers by delta gossip and anti-entropy over the {@link Transport}.
 *
 * <p>Like the transport, it starts with no peer: {@link #listen} accepts peers' sessions and {@link #addPeer} names
 * the peers this node pushes to and reconciles with. Thread-safe.
 */
public interface SyncService extends Component {
    /**
     * Accepts sync messages from peers on {@code bindAddress} (port 0 picks a free port).
     *
     * @param bindAddress the local address to listen on
     * @return completes with the bound address, or exceptionally ({@code IO_ERROR}, {@code ILLEGAL_STATE})
     */
    CompletableFuture<InetSocketAddress> listen(InetSocketAddress bindAddress);

    /**
     * Adds a peer to push deltas to and reconcile with; sessions are opened on demand. Idempotent.
     *
     * @param address the peer's sync address
     */
    void addPeer(InetSocketAddress address);

    /**
     * Removes a peer; its open session is closed. Unknown addresses are ignored.
     *
     * @param address the peer's sync address
     */
    void removePeer(InetSocketAddress address);

    /**
     * The peers currently configured.
     *
     * @return the peer addresses, never null
     */
    Set<InetSocketAddress> peers();

    /**
     * The replicated store.
     *
     * @return the store of this node
     */
    MetadataStore metadata();

    /**
     * The VM records of the cluster metadata (placement, migration phase, baseline version) over this component's
     * store, which the migration API updates and the placer reads. The default has none.
     *
     * @return the VM metadata, empty when this component offers none or has not started yet
     */
    default java.util.Optional<VmMetadata> vmMetadata() {
        return java.util.Optional.empty();
    }
}
