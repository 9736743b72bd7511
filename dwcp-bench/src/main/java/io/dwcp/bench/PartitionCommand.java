package io.dwcp.bench;

import io.dwcp.partition.Graph;
import io.dwcp.partition.MetisGraphReader;
import io.dwcp.partition.MultilevelPartitioner;
import io.dwcp.partition.Partition;

import java.io.BufferedWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * {@code dwcp partition --graph FILE.graph --k K [--imbalance 0.03] [--seed S] [--cycles N] [--repeat R] --out FILE.part
 * [--json]}: reads a METIS-format graph, partitions it into K blocks with the same multilevel partitioner the placer
 * uses, and writes one block id per line, as {@code gpmetis} does. Prints the cut, the imbalance (max block weight ÷
 * ⌈total ÷ K⌉ − 1) and the time; with {@code --json} the last stdout line is one JSON object with {@code cut},
 * {@code imbalance}, {@code seconds} (partitioning only, median of {@code --repeat} runs in this JVM),
 * {@code firstSeconds} (the first, cold run), {@code cpuSeconds} and {@code firstCpuSeconds} (the same as CPU time of
 * the partitioning thread, comparable with the CPU time {@code gpmetis} reports as "Partitioning") and
 * {@code readSeconds}.
 */
final class PartitionCommand implements DwcpCli.Command {
    @Override
    public String summary() {
        return "partition a METIS graph into k blocks (multilevel k-way), write a gpmetis-style partition file";
    }

    @Override
    public int run(String[] args) throws Exception {
        CliArgs a = new CliArgs(args, Set.of("graph", "k", "imbalance", "seed", "cycles", "threads", "repeat", "out"), Set.of("json", "help"));
        if (a.flag("help")) {
            System.err.println("usage: dwcp partition --graph FILE.graph --k K [--imbalance 0.03] [--seed 1] [--cycles 5]"
                    + " [--threads 0] [--repeat 1] --out FILE.part [--json]");
            return 0;
        }
        Path graphFile = Path.of(a.require("graph"));
        Path out = Path.of(a.require("out"));
        int k = parseInt(a.require("k"), "k");
        MultilevelPartitioner.Options defaults = MultilevelPartitioner.Options.of(Math.max(1, k));
        MultilevelPartitioner.Options options = new MultilevelPartitioner.Options(k,
                parseDouble(a.get("imbalance", "0.03"), "imbalance"),
                Long.parseLong(a.get("seed", "1")), defaults.refinementPasses(), defaults.initialTrials(),
                parseInt(a.get("cycles", String.valueOf(defaults.cycles())), "cycles"),
                parseInt(a.get("threads", "0"), "threads"));
        int repeat = parseInt(a.get("repeat", "1"), "repeat");
        if (repeat < 1) {
            throw new CliArgs.UsageException("--repeat " + repeat + ": expected >= 1");
        }
        long t0 = System.nanoTime();
        Graph g = MetisGraphReader.read(graphFile);
        double readSeconds = (System.nanoTime() - t0) / 1e9;
        double[] seconds = new double[repeat];
        double[] cpuSeconds = new double[repeat];
        // Process CPU time: the partitioning threads plus the JIT compiler and GC.
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        boolean cpuTime = os.getProcessCpuTime() >= 0;
        Partition p = null;
        for (int i = 0; i < repeat; i++) {
            long c = cpuTime ? os.getProcessCpuTime() : 0;
            long s = System.nanoTime();
            p = MultilevelPartitioner.partition(g, options);
            seconds[i] = (System.nanoTime() - s) / 1e9;
            cpuSeconds[i] = cpuTime ? (os.getProcessCpuTime() - c) / 1e9 : Double.NaN;
        }
        double first = seconds[0];
        double firstCpu = cpuSeconds[0];
        Arrays.sort(seconds);
        Arrays.sort(cpuSeconds);
        double median = seconds[repeat / 2];
        double medianCpu = cpuSeconds[repeat / 2];
        try (BufferedWriter w = Files.newBufferedWriter(out, StandardCharsets.US_ASCII)) {
            for (int v = 0; v < g.vertexCount(); v++) {
                w.write(Integer.toString(p.block(v)));
                w.write('\n');
            }
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("graph", graphFile.getFileName().toString());
        result.put("n", g.vertexCount());
        result.put("m", g.edgeCount());
        result.put("k", k);
        result.put("seed", options.seed());
        result.put("cycles", options.cycles());
        result.put("threads", options.threads());
        result.put("cut", p.cut());
        result.put("imbalance", p.imbalance());
        result.put("seconds", median);
        result.put("firstSeconds", first);
        result.put("cpuSeconds", medianCpu);
        result.put("firstCpuSeconds", firstCpu);
        result.put("readSeconds", readSeconds);
        if (a.flag("json")) {
            System.out.println(Json.write(result));
        } else {
            System.out.printf("%s k=%d: cut %d, imbalance %.4f, %.3f s (first %.3f s), read %.3f s -> %s%n",
                    graphFile.getFileName(), k, p.cut(), p.imbalance(), median, first, readSeconds, out);
        }
        return 0;
    }

    private static int parseInt(String s, String name) {
        try {
            return Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            throw new CliArgs.UsageException("--" + name + " " + s + ": expected an integer");
        }
    }

    private static double parseDouble(String s, String name) {
        try {
            return Double.parseDouble(s.trim());
        } catch (NumberFormatException e) {
            throw new CliArgs.UsageException("--" + name + " " + s + ": expected a number");
        }
    }
}
