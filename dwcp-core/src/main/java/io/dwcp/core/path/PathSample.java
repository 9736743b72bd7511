package io.dwcp.core.path;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * One measurement of the path to a peer, taken at {@link #time()} (the end of the measured interval). Every quantity
 * may be unknown: a source fills in only what it measured, and nothing is estimated on its behalf.
 *
 * <pre>{@code
 * PathSample s = PathSample.goodput("peer-a", clock.instant(), PathSample.Source.TRANSPORT, 412e6);
 * manager.pathMonitor().record(s);
 * }</pre>
 *
 * @param time when the measured interval ended; never {@code null}
 * @param peer the peer the path leads to, as the transport names it; never {@code null}
 * @param source what measured it; never {@code null}
 * @param goodputBitsPerSecond payload delivered over the interval, bits per second; {@code NaN} when unknown
 * @param rtt round-trip time, or {@code null} when unknown
 * @param lossRatio share of packets lost in [0, 1]; {@code NaN} when unknown
 * @param retransmissions segments retransmitted during the interval; {@code -1} when unknown
 */
public record PathSample(Instant time, String peer, Source source, double goodputBitsPerSecond, Duration rtt,
                         double lossRatio, long retransmissions) {
    /** Where a sample comes from. */
    public enum Source {
        /** Transport goodput per interval (passive). */
        TRANSPORT,
        /** TCP_INFO of the transport's sockets (passive). */
        TCP_INFO,
        /** Heartbeat round trips (passive). */
        HEARTBEAT,
        /** A bounded active probe. */
        PROBE,
        /** Replay of a recorded trace (offline evaluation). */
        REPLAY
    }

    /**
     * Requires the non-null fields; value checks happen in {@link PathMonitor#record(PathSample)}.
     *
     * @param time when the measured interval ended; never {@code null}
     * @param peer the peer the path leads to, as the transport names it; never {@code null}
     * @param source what measured it; never {@code null}
     * @param goodputBitsPerSecond payload delivered over the interval, bits per second; {@code NaN} when unknown
     * @param rtt round-trip time, or {@code null} when unknown
     * @param lossRatio share of packets lost in [0, 1]; {@code NaN} when unknown
     * @param retransmissions segments retransmitted during the interval; {@code -1} when unknown
     */
    public PathSample {
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(peer, "peer");
        Objects.requireNonNull(source, "source");
    }

    /**
     * The name under which the path to {@code remote} is recorded and forecast: {@code host:port} of the remote
     * address as given (no name lookup). The transport records its samples under it, and consumers of forecasts
     * (the codec's level controller) query with it.
     *
     * @param remote the remote address of a session; not {@code null}
     * @return {@code host:port}
     */
    public static String peerName(java.net.InetSocketAddress remote) {
        Objects.requireNonNull(remote, "remote");
        return remote.getHostString() + ":" + remote.getPort();
    }

    /**
     * A sample that carries goodput only (bits per second); RTT, loss and retransmissions unknown.
     *
     * @param peer the peer
     * @param time when it was measured
     * @param source what measured it
     * @param goodputBitsPerSecond the goodput
     * @return the sample
     */
    public static PathSample goodput(String peer, Instant time, Source source, double goodputBitsPerSecond) {
        return new PathSample(time, peer, source, goodputBitsPerSecond, null, Double.NaN, -1);
    }

    /** {@return whether goodput was measured} */
    public boolean hasGoodput() {
        return !Double.isNaN(goodputBitsPerSecond);
    }

    /** {@return whether the round-trip time was measured} */
    public boolean hasRtt() {
        return rtt != null;
    }

    /** {@return whether the loss ratio was measured} */
    public boolean hasLoss() {
        return !Double.isNaN(lossRatio);
    }

    /** {@return whether the retransmission count was measured} */
    public boolean hasRetransmissions() {
        return retransmissions != -1;
    }

    /**
     * Why this sample cannot be stored, or {@code null} when its values are valid: infinite or negative values, a
     * negative RTT, a loss ratio outside [0, 1], a retransmission count below -1, or no value at all.
     *
     * @return the reason, or null when the values are valid
     */
    public PathMonitor.Rejection invalidValues() {
        if (Double.isInfinite(goodputBitsPerSecond) || Double.isInfinite(lossRatio)) {
            return PathMonitor.Rejection.NOT_FINITE;
        }
        if (goodputBitsPerSecond < 0 || lossRatio < 0 || lossRatio > 1 || retransmissions < -1
                || (rtt != null && rtt.isNegative())) {
            return PathMonitor.Rejection.OUT_OF_RANGE;
        }
        if (!hasGoodput() && !hasRtt() && !hasLoss() && !hasRetransmissions()) {
            return PathMonitor.Rejection.NO_VALUE;
        }
        return null;
    }
}
