package io.dwcp.bench.jmh;

import io.dwcp.bench.ReplayClock;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.config.PredictionKeys;
import io.dwcp.core.config.TransportKeys;
import io.dwcp.core.path.PathMonitor;
import io.dwcp.core.path.PathSample;
import io.dwcp.core.spi.BandwidthPredictor;
import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.spi.Forecast;
import io.dwcp.prediction.PbaProvider;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Micro: the cost of one path sample (goodput, RTT, loss) through the bandwidth predictor — recorded in the path
 * monitor, both horizons' models updated and matched, the forecasts (goodput, RTT, loss) republished (update-interval = sample-interval = 1 s, the
 * worst case) — and one forecast query, for one path; beside the classic baseline's cost, one EWMA update.
 *
 * <p>Data: a real throughput trace on a 1-second grid ({@code trace}, default
 * {@code ../shared/data/traces/uniform/nyumets_7Train1.tsv}, 4,910 samples), replayed in a loop with time advancing
 * one second per sample. Run: {@code java -cp dwcp-bench/target/dwcp.jar org.openjdk.jmh.Main PbaSampleBenchmark
 * -prof gc}.
 */
@State(Scope.Thread)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class PbaSampleBenchmark extends MicroBenchmark {
    private static final Duration[] RTTS = {Duration.ofMillis(60), Duration.ofMillis(64), Duration.ofMillis(71),
        Duration.ofMillis(62)};
    private static final double[] LOSSES = {0, 0.001, 0.0004, 0.02};

    @Param({"../shared/data/traces/uniform/nyumets_7Train1.tsv"})
    public String trace;

    @Param({"auto"})
    public String predictor;

    private double[] bitsPerSecond;
    private int next;
    private Instant time;
    private final ReplayClock clock = new ReplayClock(Instant.EPOCH);
    private PathMonitor monitor;
    private BandwidthPredictor pba;
    private double ewma;
    private long operations;
    private long cpuAtStart;
    private long operationsAtStart;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        List<String> lines = Files.readAllLines(Path.of(trace));
        bitsPerSecond = new double[lines.size()];
        int n = 0;
        for (String line : lines) {
            String[] p = line.split("\t");
            if (p.length == 2) {
                bitsPerSecond[n++] = Double.parseDouble(p[1]) * 1e6;
            }
        }
        bitsPerSecond = java.util.Arrays.copyOf(bitsPerSecond, n);
        DwcpConfig config = DwcpConfig.builder().set(PredictionKeys.PREDICTOR, predictor)
                .set(PredictionKeys.SAMPLE_INTERVAL, Duration.ofSeconds(1))
                .set(PredictionKeys.UPDATE_INTERVAL, Duration.ofSeconds(1))
                .set(TransportKeys.ADJUST_INTERVAL, Duration.ofSeconds(1)).build();
        monitor = new PathMonitor(clock, 1, 1);
        ComponentContext context = ComponentContext.standalone(config, new SimpleMeterRegistry(), 1, clock);
        pba = new PbaProvider().create(context, monitor);
        pba.start();
        time = Instant.EPOCH;
        // Warm the path past its windows so the measured samples take the steady-state path.
        for (int i = 0; i < 2000; i++) {
            sampleAndForecast();
        }
    }

    /**
     * On a shared machine the wall time per operation measures the scheduler as much as the code, so every iteration
     * also prints the benchmark thread's own CPU time per operation ({@code cpu-ns/op}), which other processes do not
     * inflate.
     */
    @Setup(Level.Iteration)
    public void startCpuClock() {
        cpuAtStart = THREADS.getCurrentThreadCpuTime();
        operationsAtStart = operations;
    }

    /** Prints the benchmark thread's CPU time per operation of the iteration that just ended. */
    @TearDown(Level.Iteration)
    public void stopCpuClock() {
        long ops = operations - operationsAtStart;
        if (ops > 0 && cpuAtStart >= 0) {
            System.out.printf("cpu-ns/op %.1f%n", (THREADS.getCurrentThreadCpuTime() - cpuAtStart) / (double) ops);
        }
    }

    private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        pba.stop();
    }

    /** One sample recorded and one forecast queried. */
    @Benchmark
    public Forecast sampleAndForecast() {
        double v = bitsPerSecond[next];
        next = next + 1 == bitsPerSecond.length ? 0 : next + 1;
        operations++;
        time = time.plusSeconds(1);
        clock.set(time);
        // As AMST records a period: goodput with the RTT and the loss ratio from TCP_INFO (both forecast too).
        monitor.record(new PathSample(time, "peer", PathSample.Source.TRANSPORT, v, RTTS[(int) (operations & 3)],
                LOSSES[(int) (operations & 3)], -1));
        return pba.forecast("peer");
    }

    /** The classic baseline: one EWMA(0.1) update and its forecast. */
    @Benchmark
    public double ewmaBaseline() {
        double v = bitsPerSecond[next];
        next = next + 1 == bitsPerSecond.length ? 0 : next + 1;
        operations++;
        ewma = 0.1 * v + 0.9 * ewma;
        return ewma;
    }
}
