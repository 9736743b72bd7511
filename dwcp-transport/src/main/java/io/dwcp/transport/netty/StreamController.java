package io.dwcp.transport.netty;

import io.dwcp.core.ErrorCode;
import io.dwcp.core.Tier;
import io.dwcp.core.spi.ConditionForecast;
import io.dwcp.core.spi.Forecast;
import io.dwcp.core.spi.ForecastAdvisor;
import io.dwcp.transport.control.ChunkSizer;
import io.dwcp.transport.control.ForecastPacer;
import io.dwcp.transport.control.StreamCountController;
import io.dwcp.transport.wire.FrameHeader;
import io.dwcp.transport.wire.Frames;
import io.netty.channel.epoll.EpollTcpInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;

/**
 * How one session uses its path: the tier and the initial stream count, chunk size and send window from the
 * handshake RTT, then, every {@code dwcp.transport.adjust-interval}, the measured goodput, a new chunk size, a sample
 * for the path monitor and, at the client, the stream count {@link StreamCountController} chooses (streams above it
 * are retired with a GOAWAY and closed once drained; missing ones are opened), and the forecast-advised pace of the
 * session's outbound data ({@link ForecastPacer}: only with forecasts as advice; the session's token bucket then runs
 * at the lower of that pace and the configured rate cap).
 *
 * <p>Threading: {@link #configureForRtt} runs once, before the session's timers start; {@link #tick} on the session
 * loop only. Fields marked {@code @GuardedBy("loop")} are used there only; the volatile ones are written there (or by
 * configureForRtt before the timers) and read by other threads (producers read the chunk size, the transport's meters
 * the rest).
 */
final class StreamController {
    private static final Logger LOG = LoggerFactory.getLogger(StreamController.class);

    private final AmstSession session;
    private final AmstTransport transport;
    private final Settings settings;
    private final ChunkSizer chunkSizer;

    private volatile Tier tier = Tier.WAN;
    private volatile int chunkBytes;
    private volatile int targetStreams;
    private volatile int maxStreams;
    private volatile double goodputBitsPerSecond;
    /** The forecast-advised pace of outbound data, bytes/s; 0 for none. Written on the loop, read by rateCap(). */
    private volatile long forecastPaceBytesPerSecond;
    @GuardedBy("loop")
    private final ForecastPacer pacer;
    @GuardedBy("loop")
    private long lastTickAcked;
    /** Created by configureForRtt() before the timers start; then used by tick(). */
    @GuardedBy("loop")
    private StreamCountController controller;
    @GuardedBy("loop")
    private long lastTickBytes;
    @GuardedBy("loop")
    private long lastTickNanos;
    @GuardedBy("loop")
    private boolean busyAtLastTick;
    @GuardedBy("loop")
    private boolean firstTick = true;
    /** The short-horizon forecast made at the last tick for the interval now running; NaN without advice. */
    @GuardedBy("loop")
    private double expectedGoodput = Double.NaN;

    StreamController(AmstSession session, AmstTransport transport, Settings settings) {
        this.session = session;
        this.transport = transport;
        this.settings = settings;
        this.chunkSizer = new ChunkSizer(settings.minChunkBytes, settings.maxChunkBytes);
        this.pacer = new ForecastPacer(settings.minGain);
        this.chunkBytes = settings.chunkBytes(Tier.WAN);
        this.maxStreams = settings.maxStreams(Tier.WAN);
        this.targetStreams = settings.initialStreams(Tier.WAN);
    }

    Tier tier() {
        return tier;
    }

    int chunkBytes() {
        return chunkBytes;
    }

    int targetStreams() {
        return targetStreams;
    }

    double goodputBitsPerSecond() {
        return goodputBitsPerSecond;
    }

    /** The forecast-advised pace of the session's outbound data in bytes/s, 0 when none. */
    long forecastPaceBytesPerSecond() {
        return forecastPaceBytesPerSecond;
    }

    /**
     * The rate the session's token bucket runs at: the lower of the configured cap and the forecast-advised pace (0 =
     * unlimited for either).
     */
    long effectivePaceBytesPerSecond() {
        return lowerRate(transport.rateCapBytesPerSecond(), forecastPaceBytesPerSecond);
    }

    /** Sets the session's token bucket to {@link #effectivePaceBytesPerSecond()}. Any thread (the bucket locks). */
    void applyPace() {
        session.pacer.rateBytesPerSecond(effectivePaceBytesPerSecond());
    }

    /** The lower of two rates where 0 means unlimited. */
    static long lowerRate(long a, long b) {
        return a == 0 ? b : b == 0 ? a : Math.min(a, b);
    }

    /** Tier, streams, chunk size, window and socket settings from the handshake RTT. Before the timers start. */
    void configureForRtt(long peerWindowBytes) {
        tier = settings.tierFor(session.control.minRttNanos());
        maxStreams = settings.maxStreams(tier);
        targetStreams = settings.initialStreams(tier);
        chunkBytes = settings.chunkBytes(tier);
        controller = new StreamCountController(Math.min(settings.minStreams, targetStreams), targetStreams, maxStreams,
                settings.minGain, transport.lossBasedCongestionControl());
        session.queue.window(settings.sendWindowBytes(bdpBytes()), peerWindowBytes);
    }

    /** Bandwidth-delay product from the best rate known: the cap, else measured goodput, else the tier's typical. */
    long bdpBytes() {
        long rate = transport.rateCapBytesPerSecond();
        if (rate == 0) {
            rate = (long) Math.max(goodputBitsPerSecond / 8, tierTypicalBytesPerSecond());
        }
        long minRtt = session.control.minRttNanos();
        long rtt = minRtt == Long.MAX_VALUE ? 1_000_000 : minRtt;
        return (long) (rate * (rtt / 1e9));
    }

    private long tierTypicalBytesPerSecond() {
        switch (tier) {
            case LOCAL: return 10_000_000_000L / 8;
            case REGIONAL: return 1_000_000_000L / 8;
            default: return 1_000_000_000L / 8;
        }
    }

    /** The timers start: the first period is measured from now. Session loop. */
    void started() {
        lastTickNanos = System.nanoTime();
    }

    /** Controller period: goodput, stream count, chunk size, retiring streams. Session loop. */
    void tick() {
        long now = System.nanoTime();
        long acked = session.payloadAcked.get();
        long bytes = acked + session.payloadDelivered.get();
        double seconds = (now - lastTickNanos) / 1e9;
        boolean busy = session.hasTransfers();
        double goodput = seconds > 0 ? (bytes - lastTickBytes) * 8 / seconds : 0;
        double outboundGoodput = seconds > 0 ? (acked - lastTickAcked) * 8 / seconds : 0;
        lastTickAcked = acked;
        // A sample counts when transfers were active over the whole period (or since the session started).
        boolean wasBusy = (busyAtLastTick || firstTick) && busy && bytes > lastTickBytes;
        firstTick = false;
        busyAtLastTick = busy;
        lastTickBytes = bytes;
        lastTickNanos = now;
        if (wasBusy) {
            goodputBitsPerSecond = goodput;
        }
        long minRtt = session.control.minRttNanos();
        long srtt = session.control.srttNanos();
        long smoothed = tcpSmoothedRttNanos();
        ForecastAdvisor advisor = transport.advisor();
        InetSocketAddress remote = session.remoteAddress();
        String peer = remote != null && advisor.active() ? AmstTransport.peerName(remote) : null;
        Forecast next = peer == null ? null : advisor.shortAdvice(peer);
        Forecast horizon = peer == null ? null : advisor.advice(peer);
        // The pace follows the short horizon's advice, else the long one's (a window mean the streams can hold to:
        // on a path whose rate moves every second the short forecast is rarely confident enough to be advice).
        pace(outboundGoodput, wasBusy && !session.outbound.isEmpty(), minRtt, smoothed > 0 ? smoothed : srtt,
                !settings.forecastPacing ? null : next != null && next.isKnown() ? next : horizon);
        int streams = Math.max(1, session.activeStreams());
        long rtt = srtt > 0 ? srtt : minRtt;
        long perStreamBdp = wasBusy && rtt != Long.MAX_VALUE ? (long) (goodput / 8 * (rtt / 1e9) / streams) : 0;
        // Chunks follow the configured cap only: a forecast pace comes and goes within seconds and needs no ±5 %.
        chunkBytes = chunkSizer.next(chunkBytes, perStreamBdp, transport.rateCapBytesPerSecond());
        double loss = TcpInfoSampler.lossRate(session.snapshotStreams());
        if (wasBusy) {
            // What this period measured goes to the path monitor (tier, predictor); an idle period records nothing.
            transport.recordPathSample(session.remoteAddress(), goodput, rtt, loss);
        }
        if (session.role == AmstSession.Role.CLIENT && controller != null
                && session.state() == SessionLifecycle.State.OPEN) {
            // A capped session is limited by its own pacer: more streams cannot help (no growth on such samples). A
            // forecast pace is the controller of the aggregate while it lasts (its probe steps find the path's room), so
            // no growth step is taken under it either: a step during a probe is judged against a rate the pace set.
            long cap = transport.rateCapBytesPerSecond();
            boolean capped = forecastPaceBytesPerSecond > 0 || cap > 0 && goodput >= 0.9 * cap * 8;
            // Forecasts are advice (none without a predictor, or with dwcp.prediction.enabled = false): the interval
            // just measured is judged against what was forecast for it, and a foreseen drop holds growth.
            double expected = expectedGoodput;
            double foreseenHigh = Double.NaN;
            double foreseenLoss = Double.NaN;
            long foreseenRtt = 0;
            expectedGoodput = Double.NaN;
            if (peer != null) {
                expectedGoodput = next != null && next.isKnown() ? next.meanBitsPerSecond() : Double.NaN;
                foreseenHigh = horizon.isKnown() ? horizon.p90BitsPerSecond() : Double.NaN;
                // The path's RTT and loss over the horizon (recent measured values), for the Mathis floor.
                ConditionForecast lossAhead = advisor.lossAdvice(peer);
                foreseenLoss = lossAhead.isKnown() ? lossAhead.mean() : Double.NaN;
                ConditionForecast rttAhead = advisor.rttAdvice(peer);
                foreseenRtt = rttAhead.isKnown() ? (long) (rttAhead.mean() * 1e9) : 0;
            }
            int target = controller.update(goodput, minRtt, smoothed > 0 ? smoothed : srtt, loss, wasBusy && !capped,
                    expected, foreseenHigh, foreseenLoss, foreseenRtt);
            if (target != targetStreams) {
                LOG.info("session {}: streams {} -> {} (goodput {} Mbit/s, rtt {} µs, loss {}, forecast {})",
                        session.idHex, targetStreams, target, Math.round(goodput / 1e6), rtt / 1000,
                        Double.isNaN(loss) ? "n/a" : String.format("%.5f", loss),
                        Double.isNaN(expected) && Double.isNaN(foreseenHigh) ? "none"
                                : String.format("expected %.0f Mbit/s, P90 %.0f Mbit/s", expected / 1e6, foreseenHigh / 1e6));
            }
            applyTarget(target);
        }
        session.outbound.noteStreams(streams);
        closeDrainedRetiring();
    }

    /**
     * The forecast-advised pace for the next period (see {@link ForecastPacer}); without advice ({@code next} null or
     * unknown) there is none, and the bucket runs at the configured cap alone, as without a predictor.
     */
    @GuardedBy("loop")
    private void pace(double outboundGoodput, boolean sending, long minRtt, long smoothedRtt, Forecast next) {
        boolean advice = next != null && next.isKnown();
        double before = pacer.paceBitsPerSecond();
        double after = pacer.update(outboundGoodput, sending, minRtt, smoothedRtt,
                advice ? next.meanBitsPerSecond() : Double.NaN, advice ? next.p90BitsPerSecond() : Double.NaN);
        if (after == before) {
            return;
        }
        forecastPaceBytesPerSecond = (long) (after / 8);
        applyPace();
        if (before == 0) {
            transport.metrics().pacingAdvised.increment();
        }
        if (before != 0 && after != 0 && Math.abs(after - before) < 0.02 * before) {
            // A pace that follows the forecast moves a little every period: only starts, ends and steps are logged.
            return;
        }
        LOG.info("session {}: forecast pace {} -> {} Mbit/s (goodput {} Mbit/s, rtt {} µs / min {} µs, forecast {})",
                session.idHex, String.format("%.1f", before / 1e6), String.format("%.1f", after / 1e6),
                Math.round(outboundGoodput / 1e6), smoothedRtt / 1000, minRtt == Long.MAX_VALUE ? -1 : minRtt / 1000,
                advice ? String.format("%.1f Mbit/s, P90 %.1f Mbit/s", next.meanBitsPerSecond() / 1e6,
                        next.p90BitsPerSecond() / 1e6) : "none");
    }

    private void applyTarget(int target) {
        targetStreams = target;
        for (DataStream s : session.queue.retireAbove(target)) {
            // Tell the peer first, so it stops sending on the stream and does not count its close as a failure.
            s.channel.writeAndFlush(Frames.error(s.channel.alloc(), FrameHeader.TYPE_GOAWAY, 0, ErrorCode.UNKNOWN,
                    "stream retired"), s.channel.voidPromise());
        }
        for (int i = 1; i <= target; i++) {
            session.resumption.openStream(i);
        }
    }

    private void closeDrainedRetiring() {
        if (session.role != AmstSession.Role.CLIENT) {
            return;
        }
        for (DataStream s : session.queue.drainedRetiring(session.outbound.values())) {
            s.channel.close();
        }
    }

    /** Mean kernel smoothed RTT over the data streams (TCP_INFO), 0 when unknown. */
    long tcpSmoothedRttNanos() {
        return TcpInfoSampler.smoothedRttNanos(session.snapshotStreams());
    }

    long tcpCwndSegments() {
        return TcpInfoSampler.sum(session.snapshotStreams(), EpollTcpInfo::sndCwnd);
    }

    long tcpRetransmits() {
        return TcpInfoSampler.sum(session.snapshotStreams(), EpollTcpInfo::totalRetrans);
    }
}
