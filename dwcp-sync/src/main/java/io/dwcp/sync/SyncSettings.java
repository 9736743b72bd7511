package io.dwcp.sync;

import io.dwcp.core.Tier;
import io.dwcp.core.config.CoreKeys;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.config.SyncKeys;

import java.time.Duration;

/** The {@code dwcp.sync.*} values the component reads, taken once at start. Immutable. */
final class SyncSettings {
    final String nodeId;
    final boolean nodeIdExplicit;
    final int fanout;
    final int maxHops;
    final Duration gossipInterval;
    final Duration seenTtl;
    final Duration antiEntropyInterval;
    final Duration fullReconciliationInterval;
    final Duration maxClockSkew;
    final int causalBufferEntries;
    final int maxMessageBytes;
    final Duration requestTimeout;
    /** The transport's connect-timeout: how long a request waits for a session being opened. */
    final Duration connectTimeout;
    final Duration shutdownTimeout;
    /**
     * Transfers in flight per session: 32, or half the transport's {@code max-transfers-per-peer} when that is lower
     * (peers are assumed to share it; the other half is left to responses on the peer's own session).
     */
    final int sendWindow;
    final PushMode pushMode;
    /** {@code dwcp.sync.gc-interval}: period of tombstone collection and automatic retirement. */
    final Duration gcInterval;
    /** {@code dwcp.sync.replica-retirement}: silence after which a member is retired. */
    final Duration replicaRetirement;
    /** {@code dwcp.sync.data-dir}; null: in memory only. */
    final java.nio.file.Path dataDir;
    private final DwcpConfig config;

    /** What replication ships ({@code dwcp.sync.push-mode}). */
    enum PushMode {
        /** Each update pushes its delta; rumour rounds forward δ-groups (the default). */
        DELTA,
        /** Each update pushes its key's whole entry state (a comparison baseline). */
        ENTRY_STATE,
        /** No per-update push; every gossip interval the whole store is shipped (state-based replication; a baseline). */
        FULL_STATE
    }

    SyncSettings(DwcpConfig c) {
        this.config = c;
        this.nodeIdExplicit = c.get(CoreKeys.NODE_ID).isPresent();
        // Without dwcp.node-id a random one is used (and warned about at start): dots carry an incarnation anyway, so
        // this is safe, but peers and logs see a different name after every restart.
        this.nodeId = c.get(CoreKeys.NODE_ID).orElseGet(
                () -> "node-" + Long.toString(java.util.concurrent.ThreadLocalRandom.current().nextLong() >>> 24, 36));
        this.fanout = c.get(SyncKeys.GOSSIP_FANOUT);
        this.maxHops = c.get(SyncKeys.GOSSIP_MAX_HOPS);
        this.gossipInterval = c.get(SyncKeys.GOSSIP_INTERVAL);
        this.seenTtl = c.get(SyncKeys.GOSSIP_SEEN_TTL);
        this.antiEntropyInterval = c.get(SyncKeys.ANTI_ENTROPY_INTERVAL);
        this.fullReconciliationInterval = c.get(SyncKeys.FULL_RECONCILIATION_INTERVAL);
        this.maxClockSkew = c.get(SyncKeys.MAX_CLOCK_SKEW);
        this.causalBufferEntries = c.get(SyncKeys.CAUSAL_BUFFER_MAX_ENTRIES);
        this.maxMessageBytes = (int) Math.min(Integer.MAX_VALUE - 64, c.get(SyncKeys.MAX_MESSAGE).bytes());
        this.requestTimeout = c.get(SyncKeys.REQUEST_TIMEOUT);
        this.connectTimeout = c.get(io.dwcp.core.config.TransportKeys.CONNECT_TIMEOUT);
        this.shutdownTimeout = c.get(CoreKeys.SHUTDOWN_TIMEOUT);
        this.sendWindow = Math.max(1, Math.min(Messenger.DEFAULT_SEND_WINDOW,
                c.get(io.dwcp.core.config.TransportKeys.MAX_TRANSFERS_PER_PEER) / 2));
        this.gcInterval = c.get(SyncKeys.GC_INTERVAL);
        this.replicaRetirement = c.get(SyncKeys.REPLICA_RETIREMENT);
        this.dataDir = c.get(SyncKeys.DATA_DIR).map(java.nio.file.Path::of).orElse(null);
        this.pushMode = PushMode.valueOf(c.get(SyncKeys.PUSH_MODE).toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
    }

    /** The staleness bound for a peer whose path is in {@code tier} (the pinned tier wins when set). */
    Duration maxStaleness(Tier tier) {
        return config.get(SyncKeys.MAX_STALENESS, config.pinnedTier().orElse(tier));
    }
}
