package io.dwcp.bench;

import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.config.PredictionKeys;
import io.dwcp.core.config.TransportKeys;
import io.dwcp.core.config.ValueType;
import io.dwcp.core.path.PathMonitor;
import io.dwcp.core.path.PathSample;
import io.dwcp.core.spi.BandwidthPredictor;
import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.spi.Forecast;
import io.dwcp.prediction.PbaProvider;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * {@code dwcp predict --traces DIR --out DIR [--predictor auto] [--horizon 30s] [--warmup 30s] [--history 5m]
 * [--families FILE] [--json]}: replays throughput traces through the bandwidth predictor, sample by sample in time
 * order, as the transport feeds it (the same path monitor and predictor component the library runs), and writes one
 * {@code NAME.csv} per {@code NAME.tsv} with lines {@code t_seconds,mean_mbps,p10_mbps,p90_mbps}: the forecast made
 * at t from the samples before t of the mean throughput over [t, t + horizon).
 *
 * <p>Input: lines {@code t_seconds<TAB>mbps} on a 1-second grid (the value at t is the mean over [t, t+1)); the sample
 * for [t, t+1) is recorded at time t+1. {@code families.txt} beside the traces ({@code NAME<TAB>family}) groups them.
 *
 * <p>Then it scores the forecasts and the classic baselines on the same points, per family, with the definitions of
 * {@code pba_eval.py} (acc = mean of max(0, 1 − |pred − actual| ÷ actual), 1 − WAPE, share within ±20 %, P10/P90
 * coverage and width). With {@code --json} the last stdout line is that summary.
 *
 * <p>Other prediction keys can be set as {@code -Ddwcp.prediction.*} system properties (for example
 * {@code -Ddwcp.prediction.min-samples=1}, so that a single model's forecasts are written from the first sample on);
 * the options above and the 1-second sample and update intervals take precedence.
 */
final class PredictCommand implements DwcpCli.Command {
    @Override
    public String summary() {
        return "replay throughput traces through the bandwidth predictor; write forecasts and score them against baselines";
    }

    @Override
    public int run(String[] args) throws Exception {
        CliArgs a = new CliArgs(args, Set.of("traces", "out", "predictor", "horizon", "warmup", "history", "families"),
                Set.of("json", "help"));
        if (a.flag("help") || !a.positional().isEmpty()) {
            System.err.println("usage: dwcp predict --traces DIR --out DIR [--predictor auto|last|ewma|ewma-short|"
                    + "harmonic|harmonic-5|holt|ridge] [--horizon 30s] [--warmup 30s] [--history 5m] [--families FILE] [--json]");
            return a.flag("help") ? 0 : 2;
        }
        Path traces = Path.of(a.require("traces"));
        Path out = Path.of(a.require("out"));
        String predictor = a.get("predictor", "auto");
        Duration horizon = ValueType.DURATION.parse(a.get("horizon", "30s"));
        Duration warmup = ValueType.DURATION.parse(a.get("warmup", "30s"));
        if (horizon.toMillis() % 1000 != 0 || warmup.toMillis() % 1000 != 0) {
            throw new IllegalArgumentException("--horizon and --warmup must be whole seconds (the traces are on a 1 s grid)");
        }
        DwcpConfig.Builder cb = DwcpConfig.builder()
                .systemProperties()
                .set(PredictionKeys.PREDICTOR, predictor)
                .set(PredictionKeys.HORIZON, horizon)
                .set(PredictionKeys.SHORT_HORIZON, horizon.compareTo(Duration.ofSeconds(5)) < 0 ? horizon : Duration.ofSeconds(5))
                // The traces are on a 1 s grid: one sample per second, as a transport ticking every second records.
                .set(PredictionKeys.SAMPLE_INTERVAL, Duration.ofSeconds(1))
                .set(TransportKeys.ADJUST_INTERVAL, Duration.ofSeconds(1))
                .set(PredictionKeys.UPDATE_INTERVAL, Duration.ofSeconds(1));
        if (a.get("history") != null) {
            cb.set(PredictionKeys.HISTORY_WINDOW, ValueType.DURATION.parse(a.get("history")));
        }
        DwcpConfig config = cb.build();
        int h = (int) horizon.toSeconds();
        int w = (int) warmup.toSeconds();

        List<Path> files;
        try (Stream<Path> s = Files.list(traces)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".tsv")).sorted().toList();
        }
        if (files.isEmpty()) {
            throw new IllegalArgumentException(traces + ": no NAME.tsv traces");
        }
        Path famFile = a.get("families") != null ? Path.of(a.get("families")) : traces.resolve("families.txt");
        Map<String, String> families = readFamilies(famFile);
        Files.createDirectories(out);

        List<String> models = new ArrayList<>();
        models.add("predictor");
        models.addAll(ForecastScore.BASELINES);
        Map<String, Map<String, ForecastScore.Accumulator>> byFamily = new TreeMap<>();
        long points = 0;
        for (Path f : files) {
            String file = f.getFileName().toString();
            String name = file.substring(0, file.length() - 4);
            Trace trace = readTrace(f);
            double[][] forecasts = replay(trace, config);
            writeCsv(out.resolve(name + ".csv"), trace, forecasts, w, h);
            double[] actual = ForecastScore.windowMeans(trace.mbps, h);
            Map<String, ForecastScore.Accumulator> fam = byFamily.computeIfAbsent(families.getOrDefault(name, "all"), k -> {
                Map<String, ForecastScore.Accumulator> m = new LinkedHashMap<>();
                models.forEach(mn -> m.put(mn, new ForecastScore.Accumulator()));
                return m;
            });
            Map<String, double[][]> baselines = new HashMap<>();
            for (String b : ForecastScore.BASELINES) {
                baselines.put(b, ForecastScore.baseline(trace.mbps, h, b));
            }
            int n = trace.mbps.length;
            for (int i = w; i + h <= n; i++) {
                if (!(actual[i] > 0) || Double.isNaN(forecasts[0][i])) {
                    continue;
                }
                points++;
                fam.get("predictor").add(forecasts[0][i], forecasts[1][i], forecasts[2][i], actual[i]);
                for (String b : ForecastScore.BASELINES) {
                    double[][] s = baselines.get(b);
                    fam.get(b).add(s[0][i], s[1][i], s[2][i], actual[i]);
                }
            }
        }
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("command", "predict");
        summary.put("predictor", predictor);
        summary.put("horizon_seconds", h);
        summary.put("warmup_seconds", w);
        summary.put("traces", files.size());
        summary.put("points", points);
        Map<String, Object> famOut = new LinkedHashMap<>();
        System.out.printf("%-16s %-10s %7s  %6s  %6s  %6s  %6s  %6s%n", "family", "model", "points", "acc", "1-WAPE", "w20", "cov", "iw");
        for (Map.Entry<String, Map<String, ForecastScore.Accumulator>> e : byFamily.entrySet()) {
            Map<String, Object> ms = new LinkedHashMap<>();
            String best = null;
            for (String m : models) {
                ForecastScore.Accumulator acc = e.getValue().get(m);
                ms.put(m, acc.result());
                if (!m.equals("predictor") && acc.n > 0 && (best == null || acc.accuracy() > e.getValue().get(best).accuracy())) {
                    best = m;
                }
                printRow(e.getKey(), m, acc);
            }
            ForecastScore.Accumulator p = e.getValue().get("predictor");
            Map<String, Object> fo = new LinkedHashMap<>();
            fo.put("models", ms);
            fo.put("best_baseline_acc", best);
            if (best != null && p.n > 0) {
                fo.put("predictor_minus_best_acc", p.accuracy() - e.getValue().get(best).accuracy());
                System.out.printf("%-16s predictor - best baseline (%s): acc %+.4f%n%n", "", best,
                        p.accuracy() - e.getValue().get(best).accuracy());
            }
            famOut.put(e.getKey(), fo);
        }
        summary.put("families", famOut);
        if (a.flag("json")) {
            System.out.println(Json.write(summary));
        }
        return 0;
    }

    private static void printRow(String family, String model, ForecastScore.Accumulator a) {
        if (a.n == 0) {
            System.out.printf("%-16s %-10s %7d   (no points)%n", family, model, 0);
            return;
        }
        Map<String, Object> r = a.result();
        System.out.printf("%-16s %-10s %7d  %6.4f  %6.4f  %6.4f  %6.4f  %6.3f%n", family, model, a.n, r.get("acc"),
                r.get("one_minus_wape"), r.get("within20"), r.get("coverage"), r.get("interval_width"));
    }

    /**
     * Feeds the trace to a fresh predictor; rows {mean, p10, p90} in Mbit/s indexed by i (the forecast made at
     * t0 + i), NaN where it is unknown.
     */
    static double[][] replay(Trace trace, DwcpConfig config) {
        int n = trace.mbps.length;
        double[][] out = new double[3][n + 1];
        for (double[] row : out) {
            java.util.Arrays.fill(row, Double.NaN);
        }
        ReplayClock clock = new ReplayClock(Instant.EPOCH.plusSeconds(trace.t0));
        PathMonitor monitor = new PathMonitor(clock, 1, 1);
        ComponentContext context = ComponentContext.standalone(config, new SimpleMeterRegistry(), 1, clock);
        BandwidthPredictor predictor = new PbaProvider().create(context, monitor);
        try {
            predictor.start();
            for (int i = 0; i <= n; i++) {
                Forecast f = predictor.forecast("trace");
                if (f.isKnown()) {
                    out[0][i] = f.meanBitsPerSecond() / 1e6;
                    out[1][i] = f.p10BitsPerSecond() / 1e6;
                    out[2][i] = f.p90BitsPerSecond() / 1e6;
                }
                if (i < n) {
                    Instant end = Instant.EPOCH.plusSeconds(trace.t0 + i + 1);
                    clock.set(end);
                    PathMonitor.Rejection r = monitor.record(
                            PathSample.goodput("trace", end, PathSample.Source.REPLAY, trace.mbps[i] * 1e6));
                    if (r != null) {
                        throw new IllegalStateException("sample at t=" + (trace.t0 + i) + " rejected: " + r);
                    }
                }
            }
        } catch (Exception e) {
            throw e instanceof RuntimeException re ? re : new IllegalStateException(e);
        } finally {
            try {
                predictor.stop();
            } catch (Exception e) {
                // stop() of PBA throws nothing checked; keep the replay's own failure if any.
                throw new IllegalStateException("stopping the predictor failed", e);
            }
        }
        return out;
    }

    private static void writeCsv(Path file, Trace trace, double[][] f, int warmup, int h) throws IOException {
        try (BufferedWriter wr = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            wr.write("t_seconds,mean_mbps,p10_mbps,p90_mbps\n");
            int n = trace.mbps.length;
            for (int i = warmup; i + h <= n; i++) {
                if (!Double.isNaN(f[0][i])) {
                    wr.write((trace.t0 + i) + "," + f[0][i] + "," + f[1][i] + "," + f[2][i] + "\n");
                }
            }
        }
    }

    /** One uniform trace: first time and the per-second throughput, Mbit/s. */
    record Trace(long t0, double[] mbps) {
    }

    static Trace readTrace(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        double[] v = new double[lines.size()];
        long t0 = 0;
        int n = 0;
        for (int ln = 0; ln < lines.size(); ln++) {
            String line = lines.get(ln).trim();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] p = line.split("[\t, ]+");
            double t;
            double x;
            try {
                t = Double.parseDouble(p[0]);
                x = Double.parseDouble(p[1]);
            } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
                if (n == 0) {
                    continue; // header line
                }
                throw new IllegalArgumentException(file + ":" + (ln + 1) + ": expected 't<TAB>mbps', got '" + line + "'");
            }
            if (!Double.isFinite(x) || x < 0) {
                throw new IllegalArgumentException(file + ":" + (ln + 1) + ": throughput must be finite and >= 0, got " + p[1]);
            }
            if (n == 0) {
                if (t != Math.rint(t)) {
                    throw new IllegalArgumentException(file + ":" + (ln + 1) + ": times must be whole seconds, got " + p[0]);
                }
                t0 = (long) t;
            } else if (t != t0 + n) {
                throw new IllegalArgumentException(file + ":" + (ln + 1) + ": times must be consecutive seconds; expected "
                        + (t0 + n) + ", got " + p[0]);
            }
            v[n++] = x;
        }
        if (n == 0) {
            throw new IllegalArgumentException(file + ": empty trace");
        }
        return new Trace(t0, java.util.Arrays.copyOf(v, n));
    }

    private static Map<String, String> readFamilies(Path file) throws IOException {
        Map<String, String> m = new HashMap<>();
        if (Files.exists(file)) {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] p = line.split("\t");
                if (p.length >= 2) {
                    m.put(p[0], p[1]);
                }
            }
        }
        return m;
    }
}
