package io.dwcp.sync;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.DoubleSupplier;

/**
 * The sync component's counters and their meters, {@code dwcp.ass.*}. Counters are plain atomics
 * incremented on the data path; the meters read them (function counters and gauges over live state), are registered
 * at start and removed at stop. Thread-safe; register/unregister/addPeer/removePeer are called under the component's
 * lifecycle lock.
 */
final class SyncMetrics {
    final AtomicLong deltaMessagesSent = new AtomicLong();
    final AtomicLong deltaBytesSent = new AtomicLong();
    /** Gossip messages handed to the transport, delivered or not (for tests). */
    final AtomicLong deltaSendsStarted = new AtomicLong();
    /** Rumour rounds run (timer ticks that reached the round, also in full-state mode); for harnesses, no meter. */
    final AtomicLong rumourRounds = new AtomicLong();
    /** Gossip messages whose transfer failed (their deltas are queued again for that peer). */
    final AtomicLong deltaSendsFailed = new AtomicLong();
    /** Pushes forwarded at once to a peer the push missed (one per forward message). */
    final AtomicLong pushForwards = new AtomicLong();
    final AtomicLong deltasReceived = new AtomicLong();
    final AtomicLong aeBytesSent = new AtomicLong();
    final AtomicLong roundsOk = new AtomicLong();
    final AtomicLong roundsFailed = new AtomicLong();
    final AtomicLong keysExchanged = new AtomicLong();
    final AtomicLong duplicates = new AtomicLong();
    final AtomicLong gossipReceived = new AtomicLong();
    final AtomicLong ttlExpired = new AtomicLong();
    final AtomicLong skewAlarms = new AtomicLong();
    final AtomicLong stalenessViolations = new AtomicLong();
    final Map<Messenger.Reject, AtomicLong> rejected = new EnumMap<>(Messenger.Reject.class);
    /** Update → held by every live member, {@code dwcp.ass.convergence.lag}. */
    final ConvergenceLag convergenceLag = new ConvergenceLag(10_000, System::nanoTime);

    private final List<Meter> meters = new ArrayList<>();
    private final Map<InetSocketAddress, Meter> peerGauges = new HashMap<>();
    private MeterRegistry registry;

    SyncMetrics() {
        for (Messenger.Reject r : Messenger.Reject.values()) {
            rejected.put(r, new AtomicLong());
        }
    }

    long rejectedTotal() {
        return rejected.values().stream().mapToLong(AtomicLong::get).sum();
    }

    SyncStats snapshot(long bytesSent, long bytesReceived) {
        return new SyncStats(deltaMessagesSent.get(), deltaBytesSent.get(), aeBytesSent.get(), bytesSent, bytesReceived,
                roundsOk.get(), roundsFailed.get(), keysExchanged.get(), rejectedTotal(), duplicates.get(), skewAlarms.get());
    }

    /** Registers the meters; {@code maxStalenessSeconds} is read at each scrape. */
    void register(MeterRegistry r, ReplicatedStore s, DoubleSupplier maxStalenessSeconds) {
        this.registry = r;
        meters.add(Gauge.builder("dwcp.ass.keys", s, ReplicatedStore::entryCount).description("Keys held, removed ones included").register(r));
        meters.add(Gauge.builder("dwcp.ass.state.bytes", s, ReplicatedStore::stateBytes).baseUnit("bytes")
                .description("Encoded size of every entry held").register(r));
        meters.add(Gauge.builder("dwcp.ass.tombstones", s, ReplicatedStore::tombstoneCount).description("Removed keys still held").register(r));
        meters.add(Gauge.builder("dwcp.ass.causal.buffer", s, ReplicatedStore::bufferedDeltas).description("Deltas waiting for predecessors").register(r));
        meters.add(counter(r, "dwcp.ass.deltas", "direction", "sent", deltaMessagesSent));
        meters.add(counter(r, "dwcp.ass.deltas", "direction", "received", deltasReceived));
        meters.add(counter(r, "dwcp.ass.gossip", "outcome", "received", gossipReceived));
        meters.add(counter(r, "dwcp.ass.gossip", "outcome", "duplicate", duplicates));
        meters.add(counter(r, "dwcp.ass.gossip", "outcome", "ttl-expired", ttlExpired));
        meters.add(counter(r, "dwcp.ass.gossip", "outcome", "send-failed", deltaSendsFailed));
        meters.add(counter(r, "dwcp.ass.gossip", "outcome", "forwarded", pushForwards));
        meters.add(counter(r, "dwcp.ass.anti.entropy.rounds", "outcome", "ok", roundsOk));
        meters.add(counter(r, "dwcp.ass.anti.entropy.rounds", "outcome", "failed", roundsFailed));
        meters.add(counter(r, "dwcp.ass.keys.exchanged", null, null, keysExchanged));
        meters.add(counter(r, "dwcp.ass.staleness.violations", null, null, stalenessViolations));
        meters.add(counter(r, "dwcp.ass.clock.skew.alarms", null, null, skewAlarms));
        for (Map.Entry<Messenger.Reject, AtomicLong> e : rejected.entrySet()) {
            meters.add(counter(r, "dwcp.ass.rejected", "reason", e.getKey().name().toLowerCase(Locale.ROOT).replace('_', '-'), e.getValue()));
        }
        meters.add(convergenceLag.register(r));
        meters.add(FunctionCounter.builder("dwcp.ass.tombstones.collected", s, ReplicatedStore::collectedCount)
                .description("Removed keys whose value was dropped once their removal was causally stable").register(r));
        meters.add(Gauge.builder("dwcp.ass.staleness.max", maxStalenessSeconds, DoubleSupplier::getAsDouble).baseUnit("seconds")
                .description("Longest time since the last successful exchange with any peer").register(r));
    }

    /** Adds the staleness gauge of one configured peer (tags are bounded by the configured peers). */
    void addPeer(InetSocketAddress a, DoubleSupplier stalenessSeconds) {
        if (registry == null) {
            return;
        }
        String peer = (a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString()) + ":" + a.getPort();
        peerGauges.computeIfAbsent(a, k -> Gauge.builder("dwcp.ass.staleness", stalenessSeconds, DoubleSupplier::getAsDouble)
                .tag("peer", peer).baseUnit("seconds")
                .description("Time since the last successful anti-entropy round with this peer").register(registry));
    }

    void removePeer(InetSocketAddress a) {
        Meter m = peerGauges.remove(a);
        if (m != null && registry != null) {
            registry.remove(m);
        }
    }

    /** Removes every meter. Idempotent. */
    void unregister() {
        if (registry == null) {
            return;
        }
        convergenceLag.unregister();
        for (Meter m : meters) {
            registry.remove(m);
        }
        for (Meter m : peerGauges.values()) {
            registry.remove(m);
        }
        meters.clear();
        peerGauges.clear();
        registry = null;
    }

    private static Meter counter(MeterRegistry r, String name, String tag, String value, AtomicLong source) {
        FunctionCounter.Builder<AtomicLong> b = FunctionCounter.builder(name, source, AtomicLong::get);
        if (tag != null) {
            b.tag(tag, value);
        }
        return b.register(r);
    }
}
