package io.dwcp.bench;

import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.config.PredictionKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code dwcp predict} on two short real traces checked in under src/test/resources/traces. */
class PredictCommandTest {
    static final Path TRACES = Path.of("src", "test", "resources", "traces");

    @Test
    void writesOneForecastPerScoredSecondInTheEvaluatorsFormat(@TempDir Path out) throws Exception {
        assertEquals(0, DwcpCli.run(new String[] {"predict", "--traces", TRACES.toString(), "--out", out.toString(), "--json"}));
        List<String> lines = Files.readAllLines(out.resolve("nyumets_bus62_2-head.csv"));
        assertEquals("t_seconds,mean_mbps,p10_mbps,p90_mbps", lines.get(0));
        // 150 s trace, horizon 30 s, warm-up 30 s: forecasts at t = 30 … 120.
        assertEquals(91, lines.size() - 1);
        int t = 30;
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",");
            assertEquals(4, f.length, line);
            assertEquals(t++, Integer.parseInt(f[0]));
            double mean = Double.parseDouble(f[1]);
            double p10 = Double.parseDouble(f[2]);
            double p90 = Double.parseDouble(f[3]);
            assertTrue(0 <= p10 && p10 <= mean && mean <= p90, line);
        }
        assertTrue(Files.exists(out.resolve("mahimahi_Verizon-LTE-short.down-head.csv")));
    }

    @Test
    void theLibrarysEwmaReplaysExactlyAsTheEvaluatorsBaseline() throws Exception {
        PredictCommand.Trace trace = PredictCommand.readTrace(TRACES.resolve("nyumets_bus62_2-head.tsv"));
        DwcpConfig config = DwcpConfig.builder().set(PredictionKeys.PREDICTOR, "ewma")
                .set(PredictionKeys.MIN_SAMPLES, 1).set(PredictionKeys.SAMPLE_INTERVAL, Duration.ofSeconds(1))
                .set("dwcp.transport.adjust-interval", "1s")
                .set(PredictionKeys.UPDATE_INTERVAL, Duration.ofSeconds(1)).build();
        double[][] replay = PredictCommand.replay(trace, config);
        double[] baseline = ForecastScore.pointForecasts(trace.mbps(), "ewma0.05");
        for (int i = 1; i <= trace.mbps().length; i++) {
            assertEquals(baseline[i], replay[0][i], 1e-9 * Math.max(1, baseline[i]), "t=" + i);
        }
    }

    @Test
    void predictionKeysSetAsSystemPropertiesApply(@TempDir Path out) throws Exception {
        String[] args = {"predict", "--traces", TRACES.toString(), "--out", out.toString(), "--predictor", "ridge",
            "--warmup", "0s"};
        assertEquals(0, DwcpCli.run(args));
        // By default a forecast is published from min-samples (10) samples on: the first row is t = 10.
        assertEquals("10", Files.readAllLines(out.resolve("nyumets_bus62_2-head.csv")).get(1).split(",")[0]);
        String key = PredictionKeys.MIN_SAMPLES.name();
        System.setProperty(key, "1");
        try {
            assertEquals(0, DwcpCli.run(args));
        } finally {
            System.clearProperty(key);
        }
        assertEquals("1", Files.readAllLines(out.resolve("nyumets_bus62_2-head.csv")).get(1).split(",")[0]);
    }

    @Test
    void aTraceOffTheOneSecondGridIsABadInputExit(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("bad.tsv"), "0\t1.0\n1\t2.0\n3\t1.0\n");
        assertEquals(2, DwcpCli.run(new String[] {"predict", "--traces", dir.toString(), "--out", dir.resolve("o").toString()}));
        Files.writeString(dir.resolve("bad.tsv"), "0\t1.0\n1\t-2.0\n");
        assertEquals(2, DwcpCli.run(new String[] {"predict", "--traces", dir.toString(), "--out", dir.resolve("o").toString()}));
    }
}
