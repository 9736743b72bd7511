package io.dwcp.prediction;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.config.PredictionKeys;
import io.dwcp.core.path.PathMonitor;
import io.dwcp.core.path.PathSample;
import io.dwcp.core.spi.BandwidthPredictor;
import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.spi.ConditionForecast;
import io.dwcp.core.spi.Forecast;
import io.dwcp.core.Health;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.ToDoubleFunction;

/**
 * The PBA component: subscribes to the path monitor's accepted samples while running, keeps one
 * {@link PathForecaster} per path and horizon, and publishes each path's forecasts every {@code update-interval}.
 * Queries read the last published forecast: they never compute, block on a path, or throw.
 *
 * <p>Meters ({@code dwcp.pba.*}, registered at start, removed at stop): {@code samples{source}},
 * {@code samples.rejected{reason}} (the monitor's rejections, plus {@code path-limit}),
 * {@code forecast{peer,horizon,quantile}} (bits per second), {@code confidence{peer}},
 * {@code accuracy{peer,horizon}} (1 − WAPE of matched forecasts), {@code within.tolerance{peer}},
 * {@code p10.miss.ratio{peer}}, {@code predictor{peer,model}} (1 for the model behind the published forecast, 0 for
 * the others), {@code forecast.age} (seconds, oldest path), {@code compute.time} (per publication),
 * {@code plugin.failures}.
 *
 * <p>Thread-safe: one lock per path, held for one sample's update; forecasts are immutable and published through
 * a volatile field. The models run on the thread that records the sample (the transport's event loop; a few
 * microseconds, no I/O). Threads: one ({@link BackgroundWork}, {@code dwcp-pba-io}) only with a history directory or
 * the forecast log at DEBUG: it reads a path's history for its warm start, writes the history files and the forecast
 * log, so that nothing that can wait on a disk runs on the transport's thread.
 */
final class PbaPredictor implements BandwidthPredictor, PathMonitor.Listener {
    private static final Logger LOG = LoggerFactory.getLogger(PbaPredictor.class);
    /**
     * One DEBUG line per published long-horizon forecast ({@code forecast peer=… sample=… mean=… p10=… p90=…}, bit/s),
     * for plotting a run's forecasts beside its samples; off unless this logger is set to DEBUG.
     */
    static final Logger FORECAST_LOG = LoggerFactory.getLogger("io.dwcp.prediction.forecasts");
    /** Paths tracked at once; the path monitor bounds its peers the same way. */
    static final int MAX_PATHS = 1024;

    private final PredictionSettings settings;
    private final ComponentContext context;
    private final PathMonitor monitor;
    private final MeterRegistry registry;
    private final Clock clock;
    private final ForecastModelFactory plugin;
    private final Map<String, PathState> paths = new ConcurrentHashMap<>();
    private final List<Meter> meters = new ArrayList<>();
    private final Map<PathSample.Source, Counter> sampleCounters = new EnumMap<>(PathSample.Source.class);
    private final LongAdder pathLimitRejections = new LongAdder();
    /** {@code dwcp.prediction.history-dir}, or null: where paths' histories are written and warm starts read. */
    private final Path historyDir;
    private final LongAdder historyReplayed = new LongAdder();
    private final LongAdder historyRejected = new LongAdder();
    private volatile boolean running;
    private volatile Timer computeTime;
    /** File I/O and the forecast log, off the recording thread; null without a history directory or the log. */
    private volatile BackgroundWork background;

    PbaPredictor(ComponentContext context, PathMonitor monitor, ForecastModelFactory plugin) {
        this.context = context;
        this.settings = PredictionSettings.from(context.config());
        this.monitor = Objects.requireNonNull(monitor, "monitor");
        this.registry = context.meterRegistry();
        this.clock = context.clock();
        this.plugin = plugin;
        this.historyDir = context.config().get(PredictionKeys.HISTORY_DIR).map(Path::of).orElse(null);
    }

    @Override
    public String name() {
        return "prediction";
    }

    @Override
    public synchronized void start() {
        if (running) {
            return;
        }
        if (!settings.enabled()) {
            LOG.info("bandwidth prediction disabled (dwcp.prediction.enabled = false): every forecast is unknown");
            return;
        }
        if (settings.predictor().equals("plugin") && plugin == null) {
            throw new DwcpException(ErrorCode.INVALID_CONFIG, "dwcp.prediction.predictor = plugin, but no "
                    + "io.dwcp.prediction.ForecastModelFactory is on the class path: register one in META-INF/services "
                    + "or set dwcp.prediction.predictor = auto");
        }
        Duration transportPeriod = context.config().get(io.dwcp.core.config.TransportKeys.ADJUST_INTERVAL);
        if (!transportPeriod.equals(settings.sampleInterval())) {
            LOG.warn("dwcp.prediction.sample-interval ({}) differs from dwcp.transport.adjust-interval ({}), the period "
                    + "of the transport's goodput samples: horizons are counted in samples, so transport-fed forecasts "
                    + "cover a different window than configured; set them equal", settings.sampleInterval(), transportPeriod);
        }
        if (historyDir != null) {
            try {
                Files.createDirectories(historyDir);
            } catch (IOException | RuntimeException e) {
                throw new DwcpException(ErrorCode.INVALID_CONFIG, "dwcp.prediction.history-dir = " + historyDir
                        + " cannot be used as a directory (" + e + "): name a writable directory, or none", e);
            }
        }
        if (historyDir != null || FORECAST_LOG.isDebugEnabled()) {
            background = new BackgroundWork("dwcp-pba-io", BackgroundWork.DEFAULT_CAPACITY);
        }
        registerMeters();
        paths.clear();
        monitor.addListener(this);
        running = true;
        LOG.info("bandwidth prediction running: predictor {}{}, horizons {} and {}", settings.predictor(),
                plugin != null && settings.predictor().equals("plugin") ? " (" + plugin.name() + ")" : "",
                settings.horizon(), settings.shortHorizon());
    }

    @Override
    public synchronized void stop() {
        running = false;
        monitor.removeListener(this);
        for (Meter m : meters) {
            registry.remove(m);
        }
        meters.clear();
        sampleCounters.clear();
        for (PathState ps : paths.values()) {
            ps.closeHistory();
        }
        paths.clear();
        BackgroundWork bg = background;
        background = null;
        if (bg != null) {
            bg.close(); // runs the queued writes and closes first
        }
    }

    /**
     * Waits until the background work queued so far (warm starts, history writes, forecast log lines) has run; at
     * once without a history directory. For tests and tools that read the history directory while this runs.
     *
     * @param timeout how long to wait at most
     * @return whether it all ran in time
     * @throws InterruptedException when interrupted while waiting
     */
    boolean awaitBackgroundWork(Duration timeout) throws InterruptedException {
        BackgroundWork bg = background;
        return bg == null || bg.awaitIdle(timeout);
    }

    /** {@return the background work while running, or null (none configured, or stopped)} */
    BackgroundWork backgroundWork() {
        return background;
    }

    @Override
    public Health health() {
        if (!settings.enabled()) {
            return Health.healthy("disabled: no forecasts");
        }
        if (!running) {
            return Health.unknown("not running");
        }
        long failures = 0;
        int known = 0;
        for (PathState ps : paths.values()) {
            failures += ps.pluginFailures();
            Forecast f = ps.longForecast;
            if (f != null && f.isKnown()) {
                known++;
            }
        }
        String detail = paths.size() + " path(s), " + known + " with a forecast";
        if (failures > 0 && settings.predictor().equals("plugin")) {
            return Health.degraded(detail + "; the plug-in failed " + failures + " time(s) and was bypassed");
        }
        return Health.healthy(detail);
    }

    @Override
    public void onSample(PathSample sample) {
        if (!running) {
            return;
        }
        if (!sample.hasGoodput()) {
            // An RTT or loss without goodput (a heartbeat) joins a path that goodput has made known; it makes none.
            PathState known = paths.get(sample.peer());
            if (known != null && (sample.hasRtt() || sample.hasLoss())) {
                known.conditions(sample.time(), rttSeconds(sample), sample.lossRatio());
            }
            return;
        }
        PathState ps = paths.get(sample.peer());
        if (ps == null) {
            if (paths.size() >= MAX_PATHS) {
                pathLimitRejections.increment();
                return;
            }
            PathState created = new PathState(sample.peer(), settings, plugin, background, historyDir, historyReplayed,
                    historyRejected, computeTime);
            ps = paths.putIfAbsent(sample.peer(), created);
            if (ps == null) {
                ps = created;
                registerPathMeters(created);
            }
        }
        Counter c = sampleCounters.get(sample.source());
        if (c != null) {
            c.increment();
        }
        ps.update(sample.time(), sample.goodputBitsPerSecond(), rttSeconds(sample), sample.lossRatio());
    }

    private static double rttSeconds(PathSample sample) {
        return sample.hasRtt() ? sample.rtt().toNanos() / 1e9 : Double.NaN;
    }

    @Override
    public ConditionForecast rttForecast(String peer) {
        PathState ps = running && peer != null ? paths.get(peer) : null;
        ConditionForecast f = ps == null ? null : ps.rttForecast;
        return f != null ? f : ConditionForecast.unknown(settings.horizon(), 0);
    }

    @Override
    public ConditionForecast lossForecast(String peer) {
        PathState ps = running && peer != null ? paths.get(peer) : null;
        ConditionForecast f = ps == null ? null : ps.lossForecast;
        return f != null ? f : ConditionForecast.unknown(settings.horizon(), 0);
    }

    @Override
    public Forecast forecast(String peer) {
        return query(peer, true);
    }

    @Override
    public Forecast shortForecast(String peer) {
        return query(peer, false);
    }

    @Override
    public Forecast advice(String peer) {
        Forecast f = forecast(peer);
        return f.isKnown() && f.confidence() >= settings.minConfidence() ? f : Forecast.unknown(settings.horizon(), f.samples());
    }

    private Forecast query(String peer, boolean longHorizon) {
        Duration horizon = longHorizon ? settings.horizon() : settings.shortHorizon();
        PathState ps = running && peer != null ? paths.get(peer) : null;
        if (ps == null) {
            return Forecast.unknown(horizon, 0);
        }
        Forecast f = longHorizon ? ps.longForecast : ps.shortForecast;
        if (f == null || !f.isKnown()) {
            return f != null ? f : Forecast.unknown(horizon, 0);
        }
        // Confidence decays to 0 as the newest sample ages towards the horizon.
        double ageSeconds = Math.max(0, Duration.between(f.madeAt(), clock.instant()).toNanos() / 1e9);
        double decay = Math.max(0, 1 - ageSeconds / (horizon.toNanos() / 1e9));
        if (decay >= 1) {
            return f;
        }
        return new Forecast(true, f.meanBitsPerSecond(), f.p10BitsPerSecond(), f.p90BitsPerSecond(),
                f.confidence() * decay, f.samples(), horizon, f.madeAt(), f.predictor());
    }

    @Override
    public Duration horizon() {
        return settings.horizon();
    }

    @Override
    public boolean enabled() {
        return settings.enabled();
    }

    private void registerMeters() {
        for (PathSample.Source s : PathSample.Source.values()) {
            Counter c = Counter.builder("dwcp.pba.samples").tag("source", s.name().toLowerCase(java.util.Locale.ROOT))
                    .description("Goodput samples fed to the predictor").register(registry);
            meters.add(c);
            sampleCounters.put(s, c);
        }
        for (PathMonitor.Rejection r : PathMonitor.Rejection.values()) {
            meters.add(FunctionCounter.builder("dwcp.pba.samples.rejected", monitor, m -> m.rejected(r))
                    .tag("reason", r.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'))
                    .description("Samples rejected and not stored").register(registry));
        }
        meters.add(FunctionCounter.builder("dwcp.pba.samples.rejected", pathLimitRejections, LongAdder::sum)
                .tag("reason", "path-limit").description("Samples rejected and not stored").register(registry));
        if (historyDir != null) {
            meters.add(FunctionCounter.builder("dwcp.pba.history.samples", historyReplayed, LongAdder::sum)
                    .tag("outcome", "replayed").description("Recorded samples a warm start fed to a path's forecasters")
                    .register(registry));
            meters.add(FunctionCounter.builder("dwcp.pba.history.samples", historyRejected, LongAdder::sum)
                    .tag("outcome", "rejected").description("Recorded lines a warm start skipped as invalid")
                    .register(registry));
        }
        BackgroundWork bg = background;
        if (bg != null) {
            meters.add(FunctionCounter.builder("dwcp.pba.background.dropped", bg, BackgroundWork::dropped)
                    .description("History lines, warm starts and forecast log lines dropped because the background "
                            + "queue was full").register(registry));
        }
        meters.add(Gauge.builder("dwcp.pba.forecast.age", this, PbaPredictor::oldestForecastAgeSeconds)
                .baseUnit("seconds").description("Age of the oldest path's published forecast").register(registry));
        meters.add(FunctionCounter.builder("dwcp.pba.plugin.failures", this, PbaPredictor::pluginFailures)
                .description("Plug-in calls that threw or returned an unusable value (bypassed)").register(registry));
        computeTime = Timer.builder("dwcp.pba.compute.time").description("Time to publish one path's forecasts")
                .register(registry);
        meters.add(computeTime);
    }

    private void registerPathMeters(PathState ps) {
        synchronized (this) {
            if (!running) {
                return;
            }
            String peer = ps.peer;
            String h = horizonTag(settings.horizon());
            String sh = horizonTag(settings.shortHorizon());
            gauge("dwcp.pba.forecast", ps, s -> rate(s.longForecast, 0), "peer", peer, "horizon", h, "quantile", "mean");
            gauge("dwcp.pba.forecast", ps, s -> rate(s.longForecast, 1), "peer", peer, "horizon", h, "quantile", "p10");
            gauge("dwcp.pba.forecast", ps, s -> rate(s.longForecast, 2), "peer", peer, "horizon", h, "quantile", "p90");
            boolean twoHorizons = !sh.equals(h);
            if (twoHorizons) {
                gauge("dwcp.pba.forecast", ps, s -> rate(s.shortForecast, 0), "peer", peer, "horizon", sh, "quantile", "mean");
                gauge("dwcp.pba.forecast", ps, s -> rate(s.shortForecast, 1), "peer", peer, "horizon", sh, "quantile", "p10");
                gauge("dwcp.pba.forecast", ps, s -> rate(s.shortForecast, 2), "peer", peer, "horizon", sh, "quantile", "p90");
            }
            gauge("dwcp.pba.rtt.forecast", ps, s -> condition(s.rttForecast, 0), "peer", peer, "quantile", "mean");
            gauge("dwcp.pba.rtt.forecast", ps, s -> condition(s.rttForecast, 1), "peer", peer, "quantile", "p10");
            gauge("dwcp.pba.rtt.forecast", ps, s -> condition(s.rttForecast, 2), "peer", peer, "quantile", "p90");
            gauge("dwcp.pba.loss.forecast", ps, s -> condition(s.lossForecast, 0), "peer", peer, "quantile", "mean");
            gauge("dwcp.pba.loss.forecast", ps, s -> condition(s.lossForecast, 1), "peer", peer, "quantile", "p10");
            gauge("dwcp.pba.loss.forecast", ps, s -> condition(s.lossForecast, 2), "peer", peer, "quantile", "p90");
            gauge("dwcp.pba.confidence", ps, s -> forecast(s.peer).confidence(), "peer", peer);
            gauge("dwcp.pba.within.tolerance", ps, s -> s.read(true, PathForecaster::confidence), "peer", peer);
            gauge("dwcp.pba.accuracy", ps, s -> s.read(true, PathForecaster::accuracy), "peer", peer, "horizon", h);
            if (twoHorizons) {
                gauge("dwcp.pba.accuracy", ps, s -> s.read(false, PathForecaster::accuracy), "peer", peer, "horizon", sh);
            }
            gauge("dwcp.pba.p10.miss.ratio", ps, s -> s.read(true, PathForecaster::lowMissRatio), "peer", peer);
            // Info meter: one gauge per model a path can use (a bounded tag), 1 for the model behind the long-horizon
            // forecast now published (auto's dominant model, or the single one), 0 for the others.
            for (String model : PathForecaster.NAMES) {
                gauge("dwcp.pba.predictor", ps, s -> usesModel(s.longForecast, model), "peer", peer, "model", model);
            }
            if (plugin != null) {
                gauge("dwcp.pba.predictor", ps, s -> usesModel(s.longForecast, "plugin"), "peer", peer, "model", "plugin");
            }
        }
    }

    /** 1 when {@code f} was made by {@code model} (alone or as auto's dominant model), else 0. */
    private static double usesModel(Forecast f, String model) {
        if (f == null || !f.isKnown()) {
            return 0;
        }
        String p = f.predictor();
        return p.equals(model) || (p.startsWith("auto/") && p.regionMatches(5, model, 0, model.length())
                && p.length() == 5 + model.length()) ? 1 : 0;
    }

    private void gauge(String name, PathState ps, ToDoubleFunction<PathState> f, String... tags) {
        meters.add(Gauge.builder(name, ps, f).tags(tags).register(registry));
    }

    private static String horizonTag(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }

    private static double rate(Forecast f, int which) {
        if (f == null || !f.isKnown()) {
            return Double.NaN;
        }
        return which == 0 ? f.meanBitsPerSecond() : which == 1 ? f.p10BitsPerSecond() : f.p90BitsPerSecond();
    }

    private static double condition(ConditionForecast f, int which) {
        if (f == null || !f.isKnown()) {
            return Double.NaN;
        }
        return which == 0 ? f.mean() : which == 1 ? f.p10() : f.p90();
    }

    private double oldestForecastAgeSeconds() {
        Instant now = clock.instant();
        double oldest = 0;
        for (PathState ps : paths.values()) {
            Forecast f = ps.longForecast;
            if (f != null && f.madeAt() != null) {
                oldest = Math.max(oldest, Duration.between(f.madeAt(), now).toNanos() / 1e9);
            }
        }
        return oldest;
    }

    private double pluginFailures() {
        double sum = 0;
        for (PathState ps : paths.values()) {
            sum += ps.pluginFailures();
        }
        return sum;
    }
}
