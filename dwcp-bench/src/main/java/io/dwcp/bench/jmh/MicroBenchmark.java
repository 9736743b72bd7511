package io.dwcp.bench.jmh;

import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Defaults of the micro-benchmarks in this package: 2 forks, 5 warm-up and 5 measured iterations of 2 s,
 * a fixed 3 GiB heap and 4 GiB of direct memory (HDE keeps baselines off-heap), Netty leak detection off. JSON
 * output is chosen on the command line ({@code -rf json -rff FILE}).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 2, jvmArgsAppend = {"-Xms3g", "-Xmx3g", "-XX:MaxDirectMemorySize=4g", "-Dio.netty.leakDetection.level=disabled"})
public abstract class MicroBenchmark {
}
