package io.dwcp.compression;

import io.dwcp.core.Tier;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;

import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.ToDoubleFunction;

/**
 * Meters of HDE. Hot paths only add to {@link LongAdder}s, which exist for the
 * codec's whole life; {@link #register} binds function meters and gauges to them on start and {@link #remove} takes
 * them off the registry on stop. Thread-safe.
 *
 * <p>Not registered: {@code dwcp.hde.dictionary{hits|misses}} and {@code dwcp.hde.dictionary.trainings}, because
 * this version trains no dictionaries (a baseline-page delta is worth more for pages).
 */
final class HdeMetrics {
    static final String[] KEYFRAME_REASONS = {"first", "interval", "chain", "age", "ratio", "miss"};

    final LongAdder bytesIn = new LongAdder();
    final LongAdder bytesOut = new LongAdder();
    final LongAdder[] pages = adders(PageClass.values().length);
    final LongAdder[] keyframes = adders(KEYFRAME_REASONS.length);
    final LongAdder deltaChangedPages = new LongAdder();
    final LongAdder deltaHits = new LongAdder();
    final LongAdder evictions = new LongAdder();
    final LongAdder misses = new LongAdder();
    final LongAdder encodeRounds = new LongAdder();
    final LongAdder encodeCpuNanos = new LongAdder();
    final LongAdder decodeRounds = new LongAdder();
    final LongAdder decodeCpuNanos = new LongAdder();
    final LongAdder levelChanges = new LongAdder();
    final LongAdder incompressible = new LongAdder();
    final LongAdder checksumFailures = new LongAdder();
    final AtomicIntegerArray levelByTier = new AtomicIntegerArray(Tier.values().length);

    private final Clock clock;
    private final ArrayDeque<long[]> window = new ArrayDeque<>();
    private final List<Meter> meters = new ArrayList<>();

    HdeMetrics(Clock clock) {
        this.clock = clock;
    }

    private static LongAdder[] adders(int n) {
        LongAdder[] a = new LongAdder[n];
        for (int i = 0; i < n; i++) {
            a[i] = new LongAdder();
        }
        return a;
    }

    /** Records one encoded round for the bytes counters and the 60-second ratio. */
    void encoded(long inputBytes, long outputBytes) {
        bytesIn.add(inputBytes);
        bytesOut.add(outputBytes);
        synchronized (window) {
            window.addLast(new long[] {clock.millis(), inputBytes, outputBytes});
            prune(clock.millis());
        }
    }

    private void prune(long now) {
        while (!window.isEmpty() && window.peekFirst()[0] < now - 60_000) {
            window.removeFirst();
        }
    }

    /** Input ÷ output bytes of the rounds encoded in the last 60 s (by the injected clock); NaN when none. */
    double recentRatio() {
        synchronized (window) {
            prune(clock.millis());
            long in = 0;
            long out = 0;
            for (long[] e : window) {
                in += e[1];
                out += e[2];
            }
            return out == 0 ? Double.NaN : (double) in / out;
        }
    }

    double deltaHitRatio() {
        long changed = deltaChangedPages.sum();
        return changed == 0 ? Double.NaN : (double) deltaHits.sum() / changed;
    }

    void register(MeterRegistry registry, BaselineStore baselines) {
        remove(registry);
        counter(registry, "dwcp.hde.bytes", "direction", "in", bytesIn, "bytes", "State bytes into the encoder");
        counter(registry, "dwcp.hde.bytes", "direction", "out", bytesOut, "bytes", "Frame bytes out of the encoder");
        meters.add(Gauge.builder("dwcp.hde.ratio", this, HdeMetrics::recentRatio)
                .description("Input ÷ encoded bytes over the last 60 s").register(registry));
        for (PageClass c : PageClass.values()) {
            counter(registry, "dwcp.hde.pages", "class", c.word, pages[c.ordinal()], null, "Pages per class");
        }
        meters.add(Gauge.builder("dwcp.hde.delta.hit.ratio", this, HdeMetrics::deltaHitRatio)
                .description("Changed pages of delta rounds coded against the baseline or a duplicate (moved, xor, duplicate) ÷ all changed pages")
                .register(registry));
        for (int i = 0; i < KEYFRAME_REASONS.length; i++) {
            counter(registry, "dwcp.hde.keyframes", "reason", KEYFRAME_REASONS[i], keyframes[i], null, "Keyframes by reason");
        }
        meters.add(Gauge.builder("dwcp.hde.baselines", baselines, s -> s.count()).description("Baselines held").register(registry));
        meters.add(Gauge.builder("dwcp.hde.baseline.bytes", baselines, (ToDoubleFunction<BaselineStore>) s -> s.bytes())
                .baseUnit("bytes").description("Memory of baselines held or reserved (views of snapshots: none)").register(registry));
        counter(registry, "dwcp.hde.baseline.evictions", null, null, evictions, null, "Baselines evicted by the memory cap");
        counter(registry, "dwcp.hde.baseline.misses", null, null, misses, null, "Lookups of a missing, aged or different baseline");
        timer(registry, "encode", encodeRounds, encodeCpuNanos);
        timer(registry, "decode", decodeRounds, decodeCpuNanos);
        for (Tier t : Tier.values()) {
            meters.add(Gauge.builder("dwcp.hde.level", levelByTier, a -> a.get(t.ordinal())).tag("tier", t.word())
                    .description("zstd level last used on the tier (0 = stored)").register(registry));
        }
        counter(registry, "dwcp.hde.level.changes", null, null, levelChanges, null, "Level changes by the adaptive controller");
        counter(registry, "dwcp.hde.incompressible", null, null, incompressible, null, "Batches stored raw because they did not compress");
        counter(registry, "dwcp.hde.checksum.failures", null, null, checksumFailures, null, "Frames or states whose CRC32C or digest differed");
    }

    private void counter(MeterRegistry r, String name, String tagKey, String tagValue, LongAdder a, String unit, String description) {
        FunctionCounter.Builder<LongAdder> b = FunctionCounter.builder(name, a, LongAdder::sum).description(description);
        if (tagKey != null) {
            b.tag(tagKey, tagValue);
        }
        if (unit != null) {
            b.baseUnit(unit);
        }
        meters.add(b.register(r));
    }

    private void timer(MeterRegistry r, String op, LongAdder count, LongAdder nanos) {
        meters.add(FunctionTimer.builder("dwcp.hde.cpu", this, m -> count.sum(), m -> nanos.sum(), TimeUnit.NANOSECONDS)
                .tag("op", op).description("CPU time of encode and decode rounds, all threads").register(r));
    }

    void remove(MeterRegistry registry) {
        for (Meter m : meters) {
            registry.remove(m);
        }
        meters.clear();
    }
}
