package io.dwcp.transport.netty;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;

/**
 * The {@code dwcp.amst.*} meters of an {@link AmstTransport}, registered once at start and removed at stop. Gauges read live state of
 * the transport (held strongly). Counters are incremented on hot paths; nothing here allocates per chunk.
 * Thread-safe.
 */
final class AmstMetrics {
    private final MeterRegistry registry;
    private final List<Meter> meters = new ArrayList<>();
    private final ConcurrentHashMap<String, Counter> handshakeRejects = new ConcurrentHashMap<>();

    final Counter bytesSentPayload;
    final Counter bytesSentWire;
    final Counter bytesReceived;
    final Counter chunksResent;
    final Counter reconnects;
    final Counter streamFailures;
    final Counter crcErrors;
    /** Controller periods that started a forecast-advised pace. */
    final Counter pacingAdvised;
    final Counter transfersSucceeded;
    final Counter transfersFailed;
    final Counter transfersCancelled;
    final Timer transferDuration;

    AmstMetrics(MeterRegistry registry, AmstTransport t, String congestionAlgorithm) {
        this.registry = registry;
        gauge("dwcp.amst.sessions", t, AmstMetrics::sessionCount, null, null, "sessions");
        gauge("dwcp.amst.streams", t, x -> streamCount(x, false), "kind", "active", "streams");
        gauge("dwcp.amst.streams", t, x -> streamCount(x, true), "kind", "target", "streams");
        bytesSentPayload = counter("dwcp.amst.bytes.sent", "kind", "payload");
        bytesSentWire = counter("dwcp.amst.bytes.sent", "kind", "wire");
        bytesReceived = counter("dwcp.amst.bytes.received", null, null);
        gauge("dwcp.amst.goodput", t, AmstMetrics::goodputBitsPerSecond, null, null, "bits/s");
        gauge("dwcp.amst.rtt", t, x -> rttSeconds(x, true), "kind", "min", "seconds");
        gauge("dwcp.amst.rtt", t, x -> rttSeconds(x, false), "kind", "smoothed", "seconds");
        gauge("dwcp.amst.chunk.size", t, AmstMetrics::chunkSizeBytes, null, null, "bytes");
        chunksResent = counter("dwcp.amst.chunks.resent", null, null);
        reconnects = counter("dwcp.amst.reconnects", null, null);
        streamFailures = counter("dwcp.amst.stream.failures", null, null);
        crcErrors = counter("dwcp.amst.crc.errors", null, null);
        gauge("dwcp.amst.unacked.bytes", t, AmstMetrics::unackedBytes, null, null, "bytes");
        gauge("dwcp.amst.reorder.bytes", t, AmstMetrics::reorderBytes, null, null, "bytes");
        // Receive windows promised to peers (max-buffered): what the reorder buffers may grow to.
        gauge("dwcp.amst.receive.windows", t, x -> x.receiveBudget() == null ? 0 : x.receiveBudget().reservedBytes(null),
                null, null, "bytes");
        gauge("dwcp.amst.pacing.rate", t, AmstMetrics::pacingRateBitsPerSecond, null, null, "bits/s");
        // Forecast-advised pacing (sum over sessions, 0 when none paces): see ForecastPacer.
        gauge("dwcp.amst.pacing.forecast", t, AmstMetrics::forecastPaceBitsPerSecond, null, null, "bits/s");
        pacingAdvised = counter("dwcp.amst.pacing.advised", null, null);
        // Large data buffers (BufferRecycler): memory held for reuse, and how often a buffer was reused.
        gauge("dwcp.amst.buffers.idle", t, AmstMetrics::idleBufferBytes, null, null, "bytes");
        meters.add(FunctionCounter.builder("dwcp.amst.buffers", t, x -> dataBuffers(x, false)).tag("kind", "allocated")
                .baseUnit("buffers").register(registry));
        meters.add(FunctionCounter.builder("dwcp.amst.buffers", t, x -> dataBuffers(x, true)).tag("kind", "reused")
                .baseUnit("buffers").register(registry));
        transfersSucceeded = counter("dwcp.amst.transfers", "outcome", "success");
        transfersFailed = counter("dwcp.amst.transfers", "outcome", "failure");
        transfersCancelled = counter("dwcp.amst.transfers", "outcome", "cancelled");
        transferDuration = Timer.builder("dwcp.amst.transfer.duration").register(registry);
        meters.add(transferDuration);
        if (t.runtime().epoll) {
            meters.add(FunctionCounter.builder("dwcp.amst.tcp.retransmits", t, AmstMetrics::tcpRetransmits)
                    .baseUnit("segments").register(registry));
            // Per-stream kernel state, aggregated over the data streams (TCP_INFO): mean smoothed RTT, total cwnd.
            gauge("dwcp.amst.tcp.rtt", t, AmstMetrics::tcpRttSeconds, null, null, "seconds");
            gauge("dwcp.amst.tcp.cwnd", t, AmstMetrics::tcpCwndSegments, null, null, "segments");
        }
        meters.add(Gauge.builder("dwcp.amst.congestion.algorithm", () -> 1).tag("algorithm", congestionAlgorithm)
                .description("the host's TCP congestion control").register(registry));
    }

    void handshakeReject(String reason) {
        handshakeRejects.computeIfAbsent(reason, r -> {
            Counter c = Counter.builder("dwcp.amst.handshake.rejects").tag("reason", r).register(registry);
            synchronized (meters) {
                meters.add(c);
            }
            return c;
        }).increment();
    }

    void remove() {
        synchronized (meters) {
            for (Meter m : meters) {
                registry.remove(m);
            }
            meters.clear();
        }
    }

    private Counter counter(String name, String tagKey, String tagValue) {
        Counter.Builder b = Counter.builder(name).baseUnit(name.contains("bytes") ? "bytes" : null);
        if (tagKey != null) {
            b.tag(tagKey, tagValue);
        }
        Counter c = b.register(registry);
        meters.add(c);
        return c;
    }

    private void gauge(String name, AmstTransport t, ToDoubleFunction<AmstTransport> f, String tagKey, String tagValue,
                       String unit) {
        Gauge.Builder<AmstTransport> b = Gauge.builder(name, t, f).baseUnit(unit);
        if (tagKey != null) {
            b.tag(tagKey, tagValue);
        }
        meters.add(b.register(registry));
    }

    // ------------------------------------------------------------------ gauges over the live sessions

    private static double sessionCount(AmstTransport t) {
        return t.sessions().size();
    }

    private static double streamCount(AmstTransport t, boolean target) {
        double n = 0;
        for (AmstSession s : t.sessions()) {
            n += target ? s.targetStreams() : s.activeStreams();
        }
        return n;
    }

    private static double goodputBitsPerSecond(AmstTransport t) {
        double g = 0;
        for (AmstSession s : t.sessions()) {
            g += s.controller.goodputBitsPerSecond();
        }
        return g;
    }

    private static double rttSeconds(AmstTransport t, boolean min) {
        double best = Double.NaN;
        for (AmstSession s : t.sessions()) {
            long v = min ? s.control.minRttNanos() : s.control.srttNanos();
            if (v > 0 && v != Long.MAX_VALUE) {
                best = Double.isNaN(best) ? v / 1e9 : Math.min(best, v / 1e9);
            }
        }
        return best;
    }

    private static double chunkSizeBytes(AmstTransport t) {
        double max = 0;
        for (AmstSession s : t.sessions()) {
            max = Math.max(max, s.chunkBytes());
        }
        return max;
    }

    private static double unackedBytes(AmstTransport t) {
        double n = 0;
        for (AmstSession s : t.sessions()) {
            n += s.unackedBytes();
        }
        return n;
    }

    private static double reorderBytes(AmstTransport t) {
        double n = 0;
        for (AmstSession s : t.sessions()) {
            n += s.reorderBytes();
        }
        return n;
    }

    /** Bytes of released data buffers kept for reuse ({@link BufferRecycler}); 0 before start. */
    private static double idleBufferBytes(AmstTransport t) {
        BufferRecycler r = t.recycler();
        return r == null ? 0 : r.idleBytes();
    }

    /** Data buffers allocated fresh ({@code reused} false) or handed out again ({@code reused} true). */
    private static double dataBuffers(AmstTransport t, boolean reused) {
        BufferRecycler r = t.recycler();
        return r == null ? 0 : r.counts()[reused ? 1 : 0];
    }

    private static double pacingRateBitsPerSecond(AmstTransport t) {
        return t.rateCapBytesPerSecond() * 8.0;
    }

    private static double forecastPaceBitsPerSecond(AmstTransport t) {
        double sum = 0;
        for (AmstSession s : t.sessions()) {
            sum += s.controller.forecastPaceBytesPerSecond() * 8.0;
        }
        return sum;
    }

    private static double tcpRttSeconds(AmstTransport t) {
        double sum = 0;
        int n = 0;
        for (AmstSession s : t.sessions()) {
            long r = s.controller.tcpSmoothedRttNanos();
            if (r > 0) {
                sum += r / 1e9;
                n++;
            }
        }
        return n == 0 ? Double.NaN : sum / n;
    }

    private static double tcpCwndSegments(AmstTransport t) {
        double n = 0;
        for (AmstSession s : t.sessions()) {
            n += s.controller.tcpCwndSegments();
        }
        return n;
    }

    private static double tcpRetransmits(AmstTransport t) {
        double n = 0;
        for (AmstSession s : t.sessions()) {
            n += s.controller.tcpRetransmits();
        }
        return n;
    }
}
