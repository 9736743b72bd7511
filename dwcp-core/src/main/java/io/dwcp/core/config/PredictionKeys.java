package io.dwcp.core.config;

import java.time.Duration;
import java.util.List;

/** Keys of the bandwidth predictor, PBA. */
public final class PredictionKeys {
    private PredictionKeys() {
    }

    /**
     * Most samples a horizon or the history window may span ({@code duration ÷ sample-interval}): bounds a path's
     * memory (about 1 MiB per path at the limit; a few KiB with the defaults).
     */
    public static final int MAX_WINDOW_SAMPLES = 3600;

    /** Names accepted by {@link #PREDICTOR}. */
    public static final List<String> PREDICTORS = List.of("auto", "last", "ewma", "ewma-short", "harmonic", "harmonic-5",
            "holt", "ridge", "plugin");

    /**
     * Key {@code dwcp.prediction.enabled}: Off = no forecasts (every query answers unknown), so consumers act on
     * measurement alone; for comparisons.
     */
    public static final ConfigKey<Boolean> ENABLED = ConfigKey.builder("dwcp.prediction.enabled", ValueType.BOOLEAN)
            .defaultValue(true).description("Off = no forecasts (every query answers unknown), so consumers act on "
                    + "measurement alone; for comparisons.").build();

    /** Key {@code dwcp.prediction.horizon}: Window whose mean goodput a forecast predicts. */
    public static final ConfigKey<Duration> HORIZON = Ranges.durations(
            ConfigKey.builder("dwcp.prediction.horizon", ValueType.DURATION).defaultValue(Duration.ofSeconds(30)), "5s", "1h")
            .description("Window whose mean goodput a forecast predicts.").build();

    /** Key {@code dwcp.prediction.short-horizon}: Window of the short forecast; ≤ horizon. */
    public static final ConfigKey<Duration> SHORT_HORIZON = Ranges.durations(
            ConfigKey.builder("dwcp.prediction.short-horizon", ValueType.DURATION).defaultValue(Duration.ofSeconds(5)), "1s", "1h")
            .description("Window of the short forecast; ≤ horizon.").build();

    /**
     * Key {@code dwcp.prediction.update-interval}: A path's published forecast is recomputed on the first sample at
     * least this long after the previous one; ≤ horizon.
     */
    public static final ConfigKey<Duration> UPDATE_INTERVAL = Ranges.durations(
            ConfigKey.builder("dwcp.prediction.update-interval", ValueType.DURATION).defaultValue(Duration.ofSeconds(5)), "1s", "1h")
            .description("A path's published forecast is recomputed on the first sample at least this long after the "
                    + "previous one; ≤ horizon.").build();

    /**
     * Key {@code dwcp.prediction.sample-interval}: Interval of the goodput samples: the transport records one per busy
     * dwcp.transport.adjust-interval (5s), so keep the two equal; horizons are counted in samples of this length; ≤
     * short-horizon.
     */
    public static final ConfigKey<Duration> SAMPLE_INTERVAL = Ranges.durations(
            ConfigKey.builder("dwcp.prediction.sample-interval", ValueType.DURATION).defaultValue(Duration.ofSeconds(5)), "100ms", "1m")
            .description("Interval of the goodput samples: the transport records one per busy dwcp.transport.adjust-interval "
                    + "(5s), so keep the two equal; horizons are counted in samples of this length; ≤ short-horizon.").build();

    /**
     * Key {@code dwcp.prediction.history-window}: How far back a path's matched forecasts count for its P10/P90, its
     * bias correction and the choice among predictors; ≥ horizon.
     */
    public static final ConfigKey<Duration> HISTORY_WINDOW = Ranges.durations(
            ConfigKey.builder("dwcp.prediction.history-window", ValueType.DURATION).defaultValue(Duration.ofMinutes(5)), "5s", "24h")
            .description("How far back a path's matched forecasts count for its P10/P90, its bias correction and the "
                    + "choice among predictors; ≥ horizon.").build();

    /**
     * Key {@code dwcp.prediction.predictor}: auto = per path, a blend of the other built-in predictors weighted by
     * their recent walk-forward error; plugin = the ForecastModelFactory found by ServiceLoader.
     */
    public static final ConfigKey<String> PREDICTOR = ConfigKey.builder("dwcp.prediction.predictor", ValueType.STRING)
            .defaultValue("auto")
            .rule(String.join(", ", PREDICTORS), PREDICTORS::contains)
            .description("auto = per path, a blend of the other built-in predictors weighted by their recent "
                    + "walk-forward error; plugin = the ForecastModelFactory found by ServiceLoader.").build();

    /** Key {@code dwcp.prediction.ewma.alpha-long}: Smoothing of the slow EWMA (predictor ewma). */
    public static final ConfigKey<Double> EWMA_ALPHA_LONG = Ranges.doubles(
            ConfigKey.builder("dwcp.prediction.ewma.alpha-long", ValueType.DOUBLE).defaultValue(0.05), 0.001, 1)
            .description("Smoothing of the slow EWMA (predictor ewma).").build();

    /** Key {@code dwcp.prediction.ewma.alpha-short}: Smoothing of the fast EWMA (predictor ewma-short). */
    public static final ConfigKey<Double> EWMA_ALPHA_SHORT = Ranges.doubles(
            ConfigKey.builder("dwcp.prediction.ewma.alpha-short", ValueType.DOUBLE).defaultValue(0.3), 0.001, 1)
            .description("Smoothing of the fast EWMA (predictor ewma-short).").build();

    /** Key {@code dwcp.prediction.min-samples}: Samples a path needs before its forecast is known. */
    public static final ConfigKey<Integer> MIN_SAMPLES = Ranges.ints(
            ConfigKey.builder("dwcp.prediction.min-samples", ValueType.INT).defaultValue(10), 1, 100_000)
            .description("Samples a path needs before its forecast is known.").build();

    /**
     * Key {@code dwcp.prediction.min-matched}: Matched forecasts a path needs before its confidence and its own P10/P90
     * are used.
     */
    public static final ConfigKey<Integer> MIN_MATCHED = Ranges.ints(
            ConfigKey.builder("dwcp.prediction.min-matched", ValueType.INT).defaultValue(10), 1, 100_000)
            .description("Matched forecasts a path needs before its confidence and its own P10/P90 are used.").build();

    /**
     * Key {@code dwcp.prediction.tolerance}: A matched forecast within this share of the realised mean is a hit
     * (confidence).
     */
    public static final ConfigKey<Double> TOLERANCE = Ranges.doubles(
            ConfigKey.builder("dwcp.prediction.tolerance", ValueType.DOUBLE).defaultValue(0.2), 0.01, 1)
            .description("A matched forecast within this share of the realised mean is a hit (confidence).").build();

    /** Key {@code dwcp.prediction.min-confidence}: Below this confidence BandwidthPredictor.advice answers unknown. */
    public static final ConfigKey<Double> MIN_CONFIDENCE = Ranges.doubles(
            ConfigKey.builder("dwcp.prediction.min-confidence", ValueType.DOUBLE).defaultValue(0.6), 0, 1)
            .description("Below this confidence BandwidthPredictor.advice answers unknown.").build();

    /** Key {@code dwcp.prediction.quantiles}: Quantiles reported as a forecast's P10 and P90. */
    public static final ConfigKey<String> QUANTILES = ConfigKey.builder("dwcp.prediction.quantiles", ValueType.STRING)
            .defaultValue("0.1, 0.9")
            .rule("two numbers low, high with 0 < low < 0.5 < high < 1", v -> quantiles(v) != null)
            .description("Quantiles reported as a forecast's P10 and P90.").build();

    /**
     * Key {@code dwcp.prediction.history-dir}: Directory where each path's goodput samples and matched forecasts are
     * appended as CSV (for offline evaluation), and from which a path's recorded samples warm-start its forecasts
     * when it is next seen (for example by the next migration's sender); none = nothing written or read.
     */
    public static final ConfigKey<java.util.Optional<String>> HISTORY_DIR = ConfigKey.builder("dwcp.prediction.history-dir",
                    ValueType.optional(ValueType.STRING, "none"))
            .defaultValue(java.util.Optional.empty())
            .description("Directory where each path's goodput samples and matched forecasts are appended as CSV (for "
                    + "offline evaluation), and from which a path's recorded samples warm-start its forecasts when it is "
                    + "next seen (e.g. by the next migration's sender); none = nothing written or read.").build();

    /**
     * Parses {@code "low, high"}; {@code null} when malformed or out of range.
     *
     * @param text the text
     * @return {@code {low, high}}, or {@code null}
     */
    public static double[] quantiles(String text) {
        String[] parts = text.split(",");
        if (parts.length != 2) {
            return null;
        }
        try {
            double lo = Double.parseDouble(parts[0].trim());
            double hi = Double.parseDouble(parts[1].trim());
            return lo > 0 && lo < 0.5 && hi > 0.5 && hi < 1 ? new double[] {lo, hi} : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    static final List<ConfigKey<?>> KEYS = List.of(ENABLED, HORIZON, SHORT_HORIZON, UPDATE_INTERVAL, SAMPLE_INTERVAL,
            HISTORY_WINDOW, PREDICTOR, EWMA_ALPHA_LONG, EWMA_ALPHA_SHORT, MIN_SAMPLES, MIN_MATCHED, TOLERANCE,
            MIN_CONFIDENCE, QUANTILES, HISTORY_DIR);

    /** Violations of the rules between prediction keys. */
    static List<String> crossKeyViolations(java.util.function.Function<ConfigKey<?>, Object> value) {
        List<String> out = new java.util.ArrayList<>();
        Duration horizon = (Duration) value.apply(HORIZON);
        Duration shortHorizon = (Duration) value.apply(SHORT_HORIZON);
        Duration update = (Duration) value.apply(UPDATE_INTERVAL);
        Duration sample = (Duration) value.apply(SAMPLE_INTERVAL);
        Duration history = (Duration) value.apply(HISTORY_WINDOW);
        String h = ValueType.formatDuration(horizon);
        if (shortHorizon.compareTo(horizon) > 0) {
            out.add("dwcp.prediction.short-horizon (" + ValueType.formatDuration(shortHorizon) + ") must be ≤ horizon (" + h + ")");
        }
        if (update.compareTo(horizon) > 0) {
            out.add("dwcp.prediction.update-interval (" + ValueType.formatDuration(update) + ") must be ≤ horizon (" + h
                    + "): lower update-interval or raise horizon");
        }
        if (sample.compareTo(shortHorizon) > 0) {
            out.add("dwcp.prediction.sample-interval (" + ValueType.formatDuration(sample) + ") must be ≤ short-horizon ("
                    + ValueType.formatDuration(shortHorizon) + ")");
        }
        for (Object[] d : new Object[][] {{"horizon", horizon}, {"history-window", history}}) {
            long samples = ((Duration) d[1]).toNanos() / Math.max(1, sample.toNanos());
            if (samples > MAX_WINDOW_SAMPLES) {
                out.add("dwcp.prediction." + d[0] + " (" + ValueType.formatDuration((Duration) d[1]) + ") spans " + samples
                        + " samples of sample-interval (" + ValueType.formatDuration(sample) + "); at most "
                        + MAX_WINDOW_SAMPLES + ": shorten it or raise sample-interval");
            }
        }
        if (history.compareTo(horizon) < 0) {
            out.add("dwcp.prediction.history-window (" + ValueType.formatDuration(history) + ") must be ≥ horizon (" + h + ")");
        }
        return out;
    }
}
