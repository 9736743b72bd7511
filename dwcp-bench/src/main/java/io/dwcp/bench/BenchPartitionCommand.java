package io.dwcp.bench;

import io.dwcp.partition.Graph;
import io.dwcp.partition.MetisGraphReader;
import io.dwcp.partition.MultilevelPartitioner;
import io.dwcp.partition.Partition;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code dwcp bench-partition --graphs DIR --out DIR [--ks 2,4,8,16,32,64] [--seeds 1,2,3,4,5] [--imbalance 0.03]
 * [--repeat 3] [--cycles N] [--threads N] [--gpmetis gpmetis]}: the partitioner against {@code gpmetis} on every {@code *.graph} of a
 * folder, in one JVM (no JVM start per run). For every graph, k and seed it partitions {@code --repeat} times (same
 * code as {@code dwcp partition}), writes the partition to {@code OUT/seedS/GRAPH.K.part}, then runs
 * {@code gpmetis -ufactor=… -seed=S} right after (paired), plus once per instance {@code gpmetis} with its default
 * seed. Appends one row per run to {@code OUT/raw.tsv} in the format {@code bench-partition.sh} summarises.
 */
final class BenchPartitionCommand implements DwcpCli.Command {
    private static final Pattern CUT = Pattern.compile("Edgecut:\\s*(\\d+)");
    private static final Pattern TIME = Pattern.compile("Partitioning:\\s*([0-9.]+)");

    @Override
    public String summary() {
        return "partitioner vs gpmetis on a folder of METIS graphs, in one JVM (raw TSV for bench-partition.sh)";
    }

    @Override
    public int run(String[] args) throws Exception {
        CliArgs a = new CliArgs(args, Set.of("graphs", "out", "ks", "seeds", "imbalance", "repeat", "cycles", "threads", "gpmetis"),
                Set.of("help"));
        if (a.flag("help")) {
            System.err.println("usage: dwcp bench-partition --graphs DIR --out DIR [--ks 2,4,8,16,32,64] [--seeds 1,2,3,4,5]"
                    + " [--imbalance 0.03] [--repeat 3] [--cycles N] [--threads N] [--gpmetis gpmetis]");
            return 0;
        }
        Path dir = Path.of(a.require("graphs"));
        Path out = Path.of(a.require("out"));
        int[] ks = Arrays.stream(a.get("ks", "2,4,8,16,32,64").split(",")).mapToInt(s -> Integer.parseInt(s.trim())).toArray();
        long[] seeds = Arrays.stream(a.get("seeds", "1,2,3,4,5").split(",")).mapToLong(s -> Long.parseLong(s.trim())).toArray();
        double imbalance = Double.parseDouble(a.get("imbalance", "0.03"));
        int repeat = Integer.parseInt(a.get("repeat", "3"));
        if (repeat < 1) {
            throw new CliArgs.UsageException("--repeat " + repeat + ": expected >= 1");
        }
        String gpmetis = a.get("gpmetis", "gpmetis");
        int ufactor = (int) Math.round(imbalance * 1000);
        List<Path> graphs;
        try (Stream<Path> s = Files.list(dir)) {
            graphs = s.filter(p -> p.getFileName().toString().endsWith(".graph")).sorted().toList();
        }
        Path metisDir = out.resolve("metis");
        Files.createDirectories(metisDir);
        // Process CPU time: the partitioning threads plus the JIT compiler and GC (small once warm).
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        // The calling thread's CPU time: all of the work with --threads 1 (JIT and GC excluded).
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        try (PrintWriter raw = new PrintWriter(Files.newBufferedWriter(out.resolve("raw.tsv"), StandardCharsets.UTF_8))) {
            raw.println("graph\tk\tseed\tcut\timbalance\tseconds\tfirst_seconds\tcpu_seconds\tfirst_cpu_seconds\twall_s"
                    + "\tmetis_default_cut\tmetis_cut\tmetis_seconds\tmetis_wall_s\tthread_cpu_seconds");
            for (Path file : graphs) {
                String name = file.getFileName().toString().replaceFirst("\\.graph$", "");
                Path link = metisDir.resolve(name + ".graph"); // gpmetis writes GRAPH.part.K beside its input
                Files.deleteIfExists(link);
                Files.createSymbolicLink(link, file.toAbsolutePath());
                Graph g = MetisGraphReader.read(file);
                for (int k : ks) {
                    double[] def = gpmetis(gpmetis, ufactor, link, k, -1);
                    for (long seed : seeds) {
                        MultilevelPartitioner.Options d = MultilevelPartitioner.Options.of(k);
                        MultilevelPartitioner.Options o = new MultilevelPartitioner.Options(k, imbalance, seed,
                                d.refinementPasses(), d.initialTrials(),
                                a.get("cycles") == null ? d.cycles() : Integer.parseInt(a.get("cycles")),
                                Integer.parseInt(a.get("threads", "0")));
                        double[] wall = new double[repeat];
                        double[] cpu = new double[repeat];
                        double[] threadCpu = new double[repeat];
                        Partition p = null;
                        long t0 = System.nanoTime();
                        for (int i = 0; i < repeat; i++) {
                            long c = os.getProcessCpuTime();
                            long tc = threads.getCurrentThreadCpuTime();
                            long s = System.nanoTime();
                            p = MultilevelPartitioner.partition(g, o);
                            wall[i] = (System.nanoTime() - s) / 1e9;
                            cpu[i] = (os.getProcessCpuTime() - c) / 1e9;
                            threadCpu[i] = (threads.getCurrentThreadCpuTime() - tc) / 1e9;
                        }
                        double total = (System.nanoTime() - t0) / 1e9;
                        write(out.resolve("seed" + seed).resolve(name + "." + k + ".part"), p, g.vertexCount());
                        double[] m = gpmetis(gpmetis, ufactor, link, k, seed);
                        raw.println(String.join("\t", name, String.valueOf(k), String.valueOf(seed),
                                String.valueOf(p.cut()), fmt(p.imbalance()), fmt(median(wall)), fmt(wall[0]),
                                fmt(median(cpu)), fmt(cpu[0]), fmt(total), String.valueOf((long) def[0]),
                                String.valueOf((long) m[0]), fmt(m[1]), fmt(m[2]), fmt(median(threadCpu))));
                        raw.flush();
                    }
                    System.err.println(name + " k=" + k + " done");
                }
            }
        }
        return 0;
    }

    /** Runs gpmetis ({@code seed} < 0: its default seed) and returns cut, its "Partitioning" seconds, wall seconds. */
    private static double[] gpmetis(String exe, int ufactor, Path graph, int k, long seed) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(exe, "-ufactor=" + ufactor));
        if (seed >= 0) {
            cmd.add("-seed=" + seed);
        }
        cmd.add(graph.toString());
        cmd.add(String.valueOf(k));
        long t0 = System.nanoTime();
        Process pr = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String log = new String(pr.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int rc = pr.waitFor();
        double wall = (System.nanoTime() - t0) / 1e9;
        Matcher cut = CUT.matcher(log);
        Matcher time = TIME.matcher(log);
        if (rc != 0 || !cut.find() || !time.find()) {
            throw new IOException(String.join(" ", cmd) + " failed (exit " + rc + "): " + log);
        }
        return new double[] {Long.parseLong(cut.group(1)), Double.parseDouble(time.group(1)), wall};
    }

    private static void write(Path file, Partition p, int n) throws IOException {
        Files.createDirectories(file.getParent());
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.US_ASCII)) {
            for (int v = 0; v < n; v++) {
                w.write(Integer.toString(p.block(v)));
                w.write('\n');
            }
        }
    }

    private static double median(double[] xs) {
        double[] c = xs.clone();
        Arrays.sort(c);
        return c[c.length / 2];
    }

    private static String fmt(double x) {
        return String.format(Locale.ROOT, "%.6f", x);
    }
}
