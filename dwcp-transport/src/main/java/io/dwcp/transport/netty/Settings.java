package io.dwcp.transport.netty;

import io.dwcp.core.DataRate;
import io.dwcp.core.DataSize;
import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.Tier;
import io.dwcp.core.config.CoreKeys;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.config.TransportKeys;
import io.netty.util.internal.PlatformDependent;

import java.time.Duration;
import java.util.Optional;

/**
 * The transport's view of {@link DwcpConfig}: every {@code dwcp.transport.*} value it uses, read once at start.
 * Tier-dependent values are read per session once the handshake has measured the RTT. Immutable.
 */
final class Settings {
    final DwcpConfig config;
    final int minStreams;
    final Duration adjustInterval;
    final double minGain;
    final int minChunkBytes;
    final int maxChunkBytes;
    final Optional<DataRate> rateCap;
    final Optional<DataRate> globalRateCap;
    final Optional<Long> sendWindowBytes;
    final long reorderBufferBytes;
    final Optional<Long> socketBufferBytes;
    final Duration connectTimeout;
    final Duration ioTimeout;
    final Duration closeTimeout;
    final Duration heartbeatInterval;
    final Duration stallTimeout;
    final Duration reconnectInitialBackoff;
    final Duration reconnectMaxBackoff;
    final int reconnectMaxAttempts;
    final Duration sessionTimeout;
    final Duration idleTimeout;
    final Duration transferIdleTimeout;
    final boolean tlsEnabled;
    final boolean tlsMutual;
    final Optional<String> tlsCertificate;
    final Optional<String> tlsPrivateKey;
    final Optional<String> tlsTrustedCa;
    final int maxSessions;
    final int maxSessionsPerPeer;
    /** Accepted connections before their handshake is done, per node and per peer address. */
    final int maxPendingConnections;
    final int maxPendingConnectionsPerPeer;
    /** Inbound transfers open at once on this node (dwcp.transport.max-transfers); also the sending threads' bound. */
    final int maxTransfers;
    /** Inbound transfers open at once from one peer identity (max-transfers-per-peer, at most {@link #maxTransfers}). */
    final int maxTransfersPerPeer;
    /** Receive windows all sessions together may be promised (dwcp.transport.max-buffered, auto resolved). */
    final long maxBufferedBytes;
    /** Receive windows one peer's sessions may be promised (max-buffered-per-peer, auto resolved, at most the above). */
    final long maxBufferedPerPeerBytes;
    /** dwcp.transport.forecast-pacing: forecast-advised pacing (with advice only). */
    final boolean forecastPacing;
    final int maxFramePayloadBytes;
    final Duration localMaxRtt;
    final Duration regionalMaxRtt;

    Settings(DwcpConfig c) {
        this.config = c;
        minStreams = c.get(TransportKeys.MIN_STREAMS);
        adjustInterval = c.get(TransportKeys.ADJUST_INTERVAL);
        minGain = c.get(TransportKeys.MIN_GAIN);
        forecastPacing = c.get(TransportKeys.FORECAST_PACING);
        minChunkBytes = (int) c.get(TransportKeys.MIN_CHUNK).bytes();
        maxChunkBytes = (int) c.get(TransportKeys.MAX_CHUNK).bytes();
        rateCap = c.get(TransportKeys.RATE_CAP);
        globalRateCap = c.get(TransportKeys.GLOBAL_RATE_CAP);
        sendWindowBytes = c.get(TransportKeys.SEND_WINDOW).map(s -> s.bytes());
        reorderBufferBytes = c.get(TransportKeys.REORDER_BUFFER).bytes();
        socketBufferBytes = c.get(TransportKeys.SOCKET_BUFFER).map(s -> s.bytes());
        connectTimeout = c.get(TransportKeys.CONNECT_TIMEOUT);
        ioTimeout = c.get(TransportKeys.IO_TIMEOUT);
        closeTimeout = c.get(TransportKeys.CLOSE_TIMEOUT);
        heartbeatInterval = c.get(TransportKeys.HEARTBEAT_INTERVAL);
        stallTimeout = c.get(TransportKeys.STALL_TIMEOUT);
        reconnectInitialBackoff = c.get(TransportKeys.RECONNECT_INITIAL_BACKOFF);
        reconnectMaxBackoff = c.get(TransportKeys.RECONNECT_MAX_BACKOFF);
        reconnectMaxAttempts = c.get(TransportKeys.RECONNECT_MAX_ATTEMPTS);
        sessionTimeout = c.get(TransportKeys.SESSION_TIMEOUT);
        idleTimeout = c.get(TransportKeys.IDLE_TIMEOUT);
        transferIdleTimeout = c.get(TransportKeys.TRANSFER_IDLE_TIMEOUT);
        tlsEnabled = c.get(TransportKeys.TLS_ENABLED);
        tlsMutual = c.get(TransportKeys.TLS_MUTUAL);
        tlsCertificate = c.get(TransportKeys.TLS_CERTIFICATE);
        tlsPrivateKey = c.get(TransportKeys.TLS_PRIVATE_KEY);
        tlsTrustedCa = c.get(TransportKeys.TLS_TRUSTED_CA);
        maxSessions = c.get(TransportKeys.MAX_SESSIONS);
        maxSessionsPerPeer = c.get(TransportKeys.MAX_SESSIONS_PER_PEER);
        maxPendingConnections = c.get(TransportKeys.MAX_PENDING_CONNECTIONS);
        maxPendingConnectionsPerPeer = c.get(TransportKeys.MAX_PENDING_CONNECTIONS_PER_PEER);
        maxTransfers = c.get(TransportKeys.MAX_TRANSFERS);
        maxTransfersPerPeer = Math.min(maxTransfers, c.get(TransportKeys.MAX_TRANSFERS_PER_PEER));
        maxBufferedBytes = c.get(TransportKeys.MAX_BUFFERED).map(DataSize::bytes)
                .orElse(Math.max(1L << 20, PlatformDependent.maxDirectMemory() / 2));
        maxBufferedPerPeerBytes = Math.min(maxBufferedBytes,
                c.get(TransportKeys.MAX_BUFFERED_PER_PEER).map(DataSize::bytes).orElse(maxBufferedBytes / 2));
        maxFramePayloadBytes = (int) Math.min(Integer.MAX_VALUE - 64, c.get(TransportKeys.MAX_FRAME_PAYLOAD).bytes());
        localMaxRtt = c.get(CoreKeys.TIER_LOCAL_MAX_RTT);
        regionalMaxRtt = c.get(CoreKeys.TIER_REGIONAL_MAX_RTT);
        if (maxFramePayloadBytes < maxChunkBytes) {
            throw new DwcpException(ErrorCode.INVALID_CONFIG, TransportKeys.MAX_FRAME_PAYLOAD.name() + " = "
                    + maxFramePayloadBytes + " bytes is below " + TransportKeys.MAX_CHUNK.name() + " = " + maxChunkBytes
                    + " bytes: raise max-frame-payload or lower max-chunk");
        }
    }

    /** The tier for a measured RTT, or the pinned tier. */
    Tier tierFor(long rttNanos) {
        Optional<Tier> pinned = config.pinnedTier();
        if (pinned.isPresent()) {
            return pinned.get();
        }
        if (rttNanos < localMaxRtt.toNanos()) {
            return Tier.LOCAL;
        }
        return rttNanos < regionalMaxRtt.toNanos() ? Tier.REGIONAL : Tier.WAN;
    }

    int initialStreams(Tier tier) {
        return Math.max(minStreams, Math.min(maxStreams(tier), config.get(TransportKeys.INITIAL_STREAMS, tier)));
    }

    int maxStreams(Tier tier) {
        return Math.max(minStreams, config.get(TransportKeys.MAX_STREAMS, tier));
    }

    int chunkBytes(Tier tier) {
        long c = config.get(TransportKeys.CHUNK_SIZE, tier).bytes();
        return (int) Math.max(minChunkBytes, Math.min(maxChunkBytes, c));
    }

    /**
     * The smallest receive window a session is opened with: a sender's single chunk (up to max-frame-payload) must
     * fit, and a window much smaller would make the session useless. At most the reorder buffer.
     */
    long minReceiveWindowBytes() {
        return Math.min(reorderBufferBytes, Math.max(16L << 20, maxFramePayloadBytes));
    }

    /** Send window: the configured size, or auto = max(2 × BDP, 64 MiB). */
    long sendWindowBytes(long bdpBytes) {
        return sendWindowBytes.orElse(Math.max(2 * bdpBytes, 64L << 20));
    }
}
