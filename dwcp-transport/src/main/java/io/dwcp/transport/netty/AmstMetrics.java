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
 * The {@code dwcp.amst.*} meters of , registered once at start and removed at stop. Gauges read live state of
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
    final Counter transfersSucceeded;
    final Counter transfersFailed;
    final Counter transfersCancelled;
    final Timer transferDuration;

    AmstMetrics(MeterRegistry registry, AmstTransport t, String congestionAlgorithm) {
        this.registry = registry;
        gauge("dwcp.amst.sessions", t, x -> x.sessionCount(), null, null, "sessions");
        gauge("dwcp.amst.streams", t, x -> x.streamCount(false), "kind", "active", "streams");
        gauge("dwcp.amst.streams", t, x -> x.streamCount(true), "kind", "target", "streams");
        bytesSentPayload = counter("dwcp.amst.bytes.sent", "kind", "payload");
        bytesSentWire = counter("dwcp.amst.bytes.sent", "kind", "wire");
        bytesReceived = counter("dwcp.amst.bytes.received", null, null);
        gauge("dwcp.amst.goodput", t, AmstTransport::goodputBitsPerSecond, null, null, "bits/s");
        gauge("dwcp.amst.rtt", t, x -> x.rttSeconds(true), "kind", "min", "seconds");
        gauge("dwcp.amst.rtt", t, x -> x.rttSeconds(false), "kind", "smoothed", "seconds");
        gauge("dwcp.amst.chunk.size", t, AmstTransport::chunkSizeBytes, null, null, "bytes");
        chunksResent = counter("dwcp.amst.chunks.resent", null, null);
        reconnects = counter("dwcp.amst.reconnects", null, null);
        streamFailures = counter("dwcp.amst.stream.failures", null, null);
        crcErrors = counter("dwcp.amst.crc.errors", null, null);
        gauge("dwcp.amst.unacked.bytes", t, AmstTransport::unackedBytes, null, null, "bytes");
        gauge("dwcp.amst.reorder.bytes", t, AmstTransport::reorderBytes, null, null, "bytes");
        gauge("dwcp.amst.pacing.rate", t, AmstTransport::pacingRateBitsPerSecond, null, null, "bits/s");
        // Large data buffers (BufferRecycler): memory held for reuse, and how often a buffer was reused.
        gauge("dwcp.amst.buffers.idle", t, AmstTransport::idleBufferBytes, null, null, "bytes");
        meters.add(FunctionCounter.builder("dwcp.amst.buffers", t, x -> x.dataBuffers(false)).tag("kind", "allocated")
                .baseUnit("buffers").register(registry));
        meters.add(FunctionCounter.builder("dwcp.amst.buffers", t, x -> x.dataBuffers(true)).tag("kind", "reused")
                .baseUnit("buffers").register(registry));
        transfersSucceeded = counter("dwcp.amst.transfers", "outcome", "success");
        transfersFailed = counter("dwcp.amst.transfers", "outcome", "failure");
        transfersCancelled = counter("dwcp.amst.transfers", "outcome", "cancelled");
        transferDuration = Timer.builder("dwcp.amst.transfer.duration").register(registry);
        meters.add(transferDuration);
        if (t.runtime().epoll) {
            meters.add(FunctionCounter.builder("dwcp.amst.tcp.retransmits", t, AmstTransport::tcpRetransmits)
                    .baseUnit("segments").register(registry));
            // Per-stream kernel state, aggregated over the data streams (TCP_INFO): mean smoothed RTT, total cwnd.
            gauge("dwcp.amst.tcp.rtt", t, AmstTransport::tcpRttSeconds, null, null, "seconds");
            gauge("dwcp.amst.tcp.cwnd", t, AmstTransport::tcpCwndSegments, null, null, "segments");
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
}
