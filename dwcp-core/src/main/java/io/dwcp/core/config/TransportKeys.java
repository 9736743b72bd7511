package io.dwcp.core.config;

import io.dwcp.core.DataRate;
import io.dwcp.core.DataSize;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** Keys of the transport provider, AMST. */
public final class TransportKeys {
    private TransportKeys() {
    }

    /** Key {@code dwcp.transport.min-streams}: Lower bound of the data stream count. */
    public static final ConfigKey<Integer> MIN_STREAMS = Ranges.ints(
            ConfigKey.builder("dwcp.transport.min-streams", ValueType.INT).defaultValue(1), 1, 256)
            .description("Lower bound of the data stream count.").build();

    /** Key {@code dwcp.transport.initial-streams}: Data streams opened at session start; min ≤ initial ≤ max. */
    public static final ConfigKey<Integer> INITIAL_STREAMS = Ranges.ints(
            ConfigKey.builder("dwcp.transport.initial-streams", ValueType.INT).tierDefaults(2, 4, 8), 1, 256)
            .description("Data streams opened at session start; min ≤ initial ≤ max.").build();

    /** Key {@code dwcp.transport.max-streams}: Upper bound of the data stream count. */
    public static final ConfigKey<Integer> MAX_STREAMS = Ranges.ints(
            ConfigKey.builder("dwcp.transport.max-streams", ValueType.INT).tierDefaults(16, 32, 64), 1, 256)
            .description("Upper bound of the data stream count.").build();

    /** Key {@code dwcp.transport.adjust-interval}: Stream-count controller period. */
    public static final ConfigKey<Duration> ADJUST_INTERVAL = Ranges.durations(
            ConfigKey.builder("dwcp.transport.adjust-interval", ValueType.DURATION).defaultValue(Duration.ofSeconds(5)), "500ms", "5m")
            .description("Stream-count controller period.").build();

    /** Key {@code dwcp.transport.min-gain}: Relative goodput gain needed to keep a growth step. */
    public static final ConfigKey<Double> MIN_GAIN = Ranges.doubles(
            ConfigKey.builder("dwcp.transport.min-gain", ValueType.DOUBLE).defaultValue(0.05), 0, 1)
            .description("Relative goodput gain needed to keep a growth step.").build();

    /**
     * Key {@code dwcp.transport.forecast-pacing}: Pace a session's streams near the path's bandwidth forecast when a
     * drop is foreseen (needs the prediction module, as advice). Off by default: on the emulated moving link it has
     * not yet shortened a migration.
     */
    public static final ConfigKey<Boolean> FORECAST_PACING = ConfigKey.builder("dwcp.transport.forecast-pacing",
            ValueType.BOOLEAN).defaultValue(false).description("Pace a session's streams near the path's bandwidth "
            + "forecast when a drop is foreseen (needs the prediction module, as advice); off by default: not shown to "
            + "shorten a migration yet.").build();

    /** Key {@code dwcp.transport.chunk-size}: Initial chunk size. */
    public static final ConfigKey<DataSize> CHUNK_SIZE = Ranges.sizes(
            ConfigKey.builder("dwcp.transport.chunk-size", ValueType.SIZE)
                    .tierDefaults(DataSize.ofKibibytes(512), DataSize.ofKibibytes(256), DataSize.ofKibibytes(256)), "16KiB", "4MiB", 4096)
            .description("Initial chunk size.").build();

    /** Key {@code dwcp.transport.min-chunk}: Smallest chunk the controller may choose. */
    public static final ConfigKey<DataSize> MIN_CHUNK = Ranges.sizes(
            ConfigKey.builder("dwcp.transport.min-chunk", ValueType.SIZE).defaultValue(DataSize.ofKibibytes(16)), "16KiB", "4MiB", 4096)
            .description("Smallest chunk the controller may choose.").build();

    /** Key {@code dwcp.transport.max-chunk}: Largest chunk the controller may choose. */
    public static final ConfigKey<DataSize> MAX_CHUNK = Ranges.sizes(
            ConfigKey.builder("dwcp.transport.max-chunk", ValueType.SIZE).defaultValue(DataSize.ofMebibytes(4)), "16KiB", "4MiB", 4096)
            .description("Largest chunk the controller may choose.").build();

    /** Key {@code dwcp.transport.rate-cap}: Aggregate rate cap per session. */
    public static final ConfigKey<Optional<DataRate>> RATE_CAP = Ranges.optionalRates(
            ConfigKey.builder("dwcp.transport.rate-cap", ValueType.optional(ValueType.RATE, "none")).defaultValue(Optional.empty()))
            .dynamic().description("Aggregate rate cap per session.").build();

    /** Key {@code dwcp.transport.global-rate-cap}: Aggregate rate cap over all sessions of the process. */
    public static final ConfigKey<Optional<DataRate>> GLOBAL_RATE_CAP = Ranges.optionalRates(
            ConfigKey.builder("dwcp.transport.global-rate-cap", ValueType.optional(ValueType.RATE, "none")).defaultValue(Optional.empty()))
            .dynamic().description("Aggregate rate cap over all sessions of the process.").build();

    /** Key {@code dwcp.transport.send-window}: Unacknowledged bytes per session. */
    public static final ConfigKey<Optional<DataSize>> SEND_WINDOW = Ranges.optionalSizes(
            ConfigKey.builder("dwcp.transport.send-window", ValueType.optional(ValueType.SIZE, "auto")).defaultValue(Optional.empty()),
            "auto", "1MiB", "4GiB")
            .defaultText("auto (2 × BDP, at least 64MiB)")
            .description("Unacknowledged bytes per session.").build();

    /** Key {@code dwcp.transport.reorder-buffer}: Receiver reassembly memory per session. */
    public static final ConfigKey<DataSize> REORDER_BUFFER = Ranges.sizes(
            ConfigKey.builder("dwcp.transport.reorder-buffer", ValueType.SIZE).defaultValue(DataSize.ofMebibytes(256)), "1MiB", "16GiB", 1)
            .description("Receiver reassembly memory per session: the receive window a session asks for. It gets"
                    + " less when max-buffered or max-buffered-per-peer is nearly taken, down to min(this, max(16MiB,"
                    + " max-frame-payload)); below that the session is refused.").build();

    /** Key {@code dwcp.transport.socket-buffer}: Socket send/receive buffer per stream. */
    public static final ConfigKey<Optional<DataSize>> SOCKET_BUFFER = Ranges.optionalSizes(
            ConfigKey.builder("dwcp.transport.socket-buffer", ValueType.optional(ValueType.SIZE, "auto")).defaultValue(Optional.empty()),
            "auto", "64KiB", "256MiB")
            .defaultText("auto (BDP share)")
            .description("Socket send/receive buffer per stream.").build();

    /** Key {@code dwcp.transport.connect-timeout}. */
    public static final ConfigKey<Duration> CONNECT_TIMEOUT = Ranges.durations(
            ConfigKey.builder("dwcp.transport.connect-timeout", ValueType.DURATION).defaultValue(Duration.ofSeconds(30)), "1s", "5m").build();

    /** Key {@code dwcp.transport.io-timeout}. */
    public static final ConfigKey<Duration> IO_TIMEOUT = Ranges.durations(
            ConfigKey.builder("dwcp.transport.io-timeout", ValueType.DURATION).defaultValue(Duration.ofSeconds(60)), "1s", "1h").build();

    /** Key {@code dwcp.transport.close-timeout}: Graceful close drains in-flight transfers up to this long. */
    public static final ConfigKey<Duration> CLOSE_TIMEOUT = Ranges.durations(
            ConfigKey.builder("dwcp.transport.close-timeout", ValueType.DURATION).defaultValue(Duration.ofSeconds(30)), "0s", "10m")
            .description("Graceful close drains in-flight transfers up to this long.").build();

    /** Key {@code dwcp.transport.heartbeat-interval}. */
    public static final ConfigKey<Duration> HEARTBEAT_INTERVAL = Ranges.durations(
            ConfigKey.builder("dwcp.transport.heartbeat-interval", ValueType.DURATION).defaultValue(Duration.ofSeconds(1)), "100ms", "1m").build();

    /** Key {@code dwcp.transport.stall-timeout}. */
    public static final ConfigKey<Duration> STALL_TIMEOUT = Ranges.durations(
            ConfigKey.builder("dwcp.transport.stall-timeout", ValueType.DURATION).defaultValue(Duration.ofSeconds(10)), "1s", "10m").build();

    /** Key {@code dwcp.transport.reconnect.initial-backoff}. */
    public static final ConfigKey<Duration> RECONNECT_INITIAL_BACKOFF = Ranges.durations(
            ConfigKey.builder("dwcp.transport.reconnect.initial-backoff", ValueType.DURATION).defaultValue(Duration.ofMillis(100)), "10ms", "10s").build();

    /** Key {@code dwcp.transport.reconnect.max-backoff}. */
    public static final ConfigKey<Duration> RECONNECT_MAX_BACKOFF = Ranges.durations(
            ConfigKey.builder("dwcp.transport.reconnect.max-backoff", ValueType.DURATION).defaultValue(Duration.ofSeconds(5)), "100ms", "5m").build();

    /** Key {@code dwcp.transport.reconnect.max-attempts}. */
    public static final ConfigKey<Integer> RECONNECT_MAX_ATTEMPTS = Ranges.ints(
            ConfigKey.builder("dwcp.transport.reconnect.max-attempts", ValueType.INT).defaultValue(3), 0, 100).build();

    /** Key {@code dwcp.transport.session-timeout}: A session without a control connection this long fails. */
    public static final ConfigKey<Duration> SESSION_TIMEOUT = Ranges.durations(
            ConfigKey.builder("dwcp.transport.session-timeout", ValueType.DURATION).defaultValue(Duration.ofSeconds(60)), "1s", "1h")
            .description("A session without a control connection this long fails.").build();

    /** Key {@code dwcp.transport.idle-timeout}: a session with no transfer this long is closed. */
    public static final ConfigKey<Duration> IDLE_TIMEOUT = Ranges.durations(
            ConfigKey.builder("dwcp.transport.idle-timeout", ValueType.DURATION).defaultValue(Duration.ofMinutes(30)), "1s", "7d")
            .description("A listener closes a session that has had no transfer for this long (heartbeats do not count),"
                    + " so idle peers do not hold sessions of max-sessions.").build();

    /**
     * Key {@code dwcp.transport.transfer-idle-timeout}: an inbound transfer that has had no data for this long is
     * aborted.
     */
    public static final ConfigKey<Duration> TRANSFER_IDLE_TIMEOUT = Ranges.durations(
            ConfigKey.builder("dwcp.transport.transfer-idle-timeout", ValueType.DURATION).defaultValue(Duration.ofMinutes(2)),
            "1s", "24h")
            .description("A receiver aborts an inbound transfer that has had no frame from its sender and delivered"
                    + " nothing to the application for this long (TIMEOUT, reported to the sender too), so a transfer"
                    + " opened and never fed does not keep its place of max-transfers-per-peer, its delivery thread and"
                    + " its buffered bytes. Time the application spends in the transfer's sink does not count. A sender"
                    + " that can pause longer between two chunks of one transfer (a starved encoder) needs a higher"
                    + " value.").build();

    /**
     * Key {@code dwcp.transport.tls.enabled}: TLS 1.3 on every connection; plaintext needs false, and logs a warning.
     */
    public static final ConfigKey<Boolean> TLS_ENABLED = ConfigKey.builder("dwcp.transport.tls.enabled", ValueType.BOOLEAN)
            .defaultValue(true).description("TLS 1.3 on every connection; plaintext needs false, and logs a warning.").build();

    /** Key {@code dwcp.transport.tls.mutual}: Require and verify client certificates. */
    public static final ConfigKey<Boolean> TLS_MUTUAL = ConfigKey.builder("dwcp.transport.tls.mutual", ValueType.BOOLEAN)
            .defaultValue(true).description("Require and verify client certificates.").build();

    /** Key {@code dwcp.transport.tls.certificate}: PEM certificate chain file of this node. */
    public static final ConfigKey<Optional<String>> TLS_CERTIFICATE = ConfigKey.builder("dwcp.transport.tls.certificate",
                    ValueType.optional(ValueType.STRING, "none"))
            .defaultValue(Optional.empty()).description("PEM certificate chain file of this node.").build();

    /** Key {@code dwcp.transport.tls.private-key}: PEM (PKCS#8) private key file of this node. */
    public static final ConfigKey<Optional<String>> TLS_PRIVATE_KEY = ConfigKey.builder("dwcp.transport.tls.private-key",
                    ValueType.optional(ValueType.STRING, "none"))
            .defaultValue(Optional.empty()).secret().description("PEM (PKCS#8) private key file of this node.").build();

    /** Key {@code dwcp.transport.tls.trusted-ca}: PEM file of the CA certificates trusted for peers. */
    public static final ConfigKey<Optional<String>> TLS_TRUSTED_CA = ConfigKey.builder("dwcp.transport.tls.trusted-ca",
                    ValueType.optional(ValueType.STRING, "none"))
            .defaultValue(Optional.empty()).description("PEM file of the CA certificates trusted for peers.").build();

    /** Key {@code dwcp.transport.max-sessions}: Sessions a listener accepts at once. */
    public static final ConfigKey<Integer> MAX_SESSIONS = Ranges.ints(
            ConfigKey.builder("dwcp.transport.max-sessions", ValueType.INT).defaultValue(64), 1, 4096)
            .description("Sessions a listener accepts at once.").build();

    /**
     * Key {@code dwcp.transport.max-sessions-per-peer}: Sessions a listener accepts at once from one peer identity (its
     * TLS certificate's subject, or its IP address without client certificates), so that one peer cannot take every
     * session of max-sessions.
     */
    public static final ConfigKey<Integer> MAX_SESSIONS_PER_PEER = Ranges.ints(
            ConfigKey.builder("dwcp.transport.max-sessions-per-peer", ValueType.INT).defaultValue(8), 1, 4096)
            .description("Sessions a listener accepts at once from one peer identity (its TLS certificate's subject, or"
                    + " its IP address without client certificates), so that one peer cannot take every session of"
                    + " max-sessions.").build();

    /**
     * Key {@code dwcp.transport.max-transfers}: inbound transfers this node has open at once over all sessions and
     * peers (one delivery thread each); also the bound of the threads that send outbound transfers.
     */
    public static final ConfigKey<Integer> MAX_TRANSFERS = Ranges.ints(
            ConfigKey.builder("dwcp.transport.max-transfers", ValueType.INT).defaultValue(256), 1, 4096)
            .description("Inbound transfers this node has open at once over all its sessions and peers; each holds a"
                    + " delivery thread while it runs. More are aborted with LIMIT_EXCEEDED naming this key. Also the"
                    + " number of threads that may send outbound transfers at once.").build();

    /**
     * Key {@code dwcp.transport.max-pending-connections}: connections a node's listeners hold at once before their
     * handshake is done.
     */
    public static final ConfigKey<Integer> MAX_PENDING_CONNECTIONS = Ranges.ints(
            ConfigKey.builder("dwcp.transport.max-pending-connections", ValueType.INT).defaultValue(1024), 1, 65536)
            .description("Connections this node's listeners hold at once that have not finished their handshake (no"
                    + " HELLO yet, or TLS still negotiating); each is otherwise held until connect-timeout. More are"
                    + " closed at once with LIMIT_EXCEEDED naming this key.").build();

    /**
     * Key {@code dwcp.transport.max-pending-connections-per-peer}: connections from one IP address a node holds at once
     * before their handshake is done.
     */
    public static final ConfigKey<Integer> MAX_PENDING_CONNECTIONS_PER_PEER = Ranges.ints(
            ConfigKey.builder("dwcp.transport.max-pending-connections-per-peer", ValueType.INT).defaultValue(128), 1, 65536)
            .description("Connections from one IP address this node holds at once that have not finished their"
                    + " handshake, so one peer opening raw connections cannot take all of max-pending-connections. A"
                    + " sender opens up to max-streams + 1 connections at once: keep this above that. More are closed"
                    + " at once with LIMIT_EXCEEDED naming this key.").build();

    /** Key {@code dwcp.transport.max-transfers-per-peer}: inbound transfers open at once from one peer. */
    public static final ConfigKey<Integer> MAX_TRANSFERS_PER_PEER = Ranges.ints(
            ConfigKey.builder("dwcp.transport.max-transfers-per-peer", ValueType.INT).defaultValue(64), 1, 4096)
            .description("Inbound transfers one peer identity may have open at once over all its sessions, so one peer"
                    + " cannot take all of max-transfers (a value above max-transfers acts as max-transfers). More are"
                    + " aborted with LIMIT_EXCEEDED.").build();

    /**
     * Key {@code dwcp.transport.max-buffered}: reorder memory all sessions of this node together may be promised; auto
     * is half of the JVM's direct-memory limit.
     */
    public static final ConfigKey<Optional<DataSize>> MAX_BUFFERED = Ranges.optionalSizes(
            ConfigKey.builder("dwcp.transport.max-buffered", ValueType.optional(ValueType.SIZE, "auto")).defaultValue(Optional.empty()),
            "auto", "1MiB", "1TiB")
            .defaultText("auto (half the JVM's direct-memory limit)")
            .description("Reorder memory all sessions of this node may be promised together, so that peers cannot run"
                    + " the JVM out of memory. Each session reserves its receive window (reorder-buffer, or what is"
                    + " left of this and of max-buffered-per-peer, whichever is least) when it opens and returns it"
                    + " when it ends; a session that cannot get a usable window is refused with LIMIT_EXCEEDED.").build();

    /**
     * Key {@code dwcp.transport.max-buffered-per-peer}: reorder memory the sessions of one peer identity may be promised
     * together; auto is half of max-buffered.
     */
    public static final ConfigKey<Optional<DataSize>> MAX_BUFFERED_PER_PEER = Ranges.optionalSizes(
            ConfigKey.builder("dwcp.transport.max-buffered-per-peer", ValueType.optional(ValueType.SIZE, "auto"))
                    .defaultValue(Optional.empty()),
            "auto", "1MiB", "1TiB")
            .defaultText("auto (half of max-buffered)")
            .description("Reorder memory a listener promises the sessions of one peer identity together, so that one"
                    + " peer cannot take the node's whole max-buffered. A further session of that peer gets a smaller"
                    + " receive window, or is refused with LIMIT_EXCEEDED naming this key.").build();

    /** Key {@code dwcp.transport.max-frame-payload}: Largest frame payload accepted; must be ≥ max-chunk. */
    public static final ConfigKey<DataSize> MAX_FRAME_PAYLOAD = Ranges.sizes(
            ConfigKey.builder("dwcp.transport.max-frame-payload", ValueType.SIZE).defaultValue(DataSize.ofMebibytes(4)), "16KiB", "64MiB", 1)
            .description("Largest frame payload accepted; must be ≥ max-chunk.").build();

    static final List<ConfigKey<?>> KEYS = List.of(MIN_STREAMS, INITIAL_STREAMS, MAX_STREAMS, ADJUST_INTERVAL, MIN_GAIN,
            FORECAST_PACING, CHUNK_SIZE, MIN_CHUNK, MAX_CHUNK, RATE_CAP, GLOBAL_RATE_CAP, SEND_WINDOW,
            REORDER_BUFFER, SOCKET_BUFFER, CONNECT_TIMEOUT, IO_TIMEOUT, CLOSE_TIMEOUT, HEARTBEAT_INTERVAL, STALL_TIMEOUT,
            RECONNECT_INITIAL_BACKOFF, RECONNECT_MAX_BACKOFF, RECONNECT_MAX_ATTEMPTS, SESSION_TIMEOUT, IDLE_TIMEOUT, TRANSFER_IDLE_TIMEOUT, TLS_ENABLED,
            TLS_MUTUAL, TLS_CERTIFICATE, TLS_PRIVATE_KEY, TLS_TRUSTED_CA, MAX_SESSIONS, MAX_SESSIONS_PER_PEER, MAX_PENDING_CONNECTIONS, MAX_PENDING_CONNECTIONS_PER_PEER,
            MAX_TRANSFERS, MAX_TRANSFERS_PER_PEER,
            MAX_BUFFERED, MAX_BUFFERED_PER_PEER, MAX_FRAME_PAYLOAD);
}
