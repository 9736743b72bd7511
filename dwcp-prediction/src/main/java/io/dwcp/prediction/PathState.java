package io.dwcp.prediction;

import io.dwcp.core.spi.ConditionForecast;
import io.dwcp.core.spi.Forecast;
import io.micrometer.core.instrument.Timer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.ToDoubleFunction;

/**
 * One path: its two forecasters under one lock, and the forecasts last published. With a history directory its
 * history file is confined to the background thread: the warm start reads there (live samples that arrive
 * meanwhile wait in {@link #pending}, then follow the recorded ones in order) and every line is written there.
 */
final class PathState {
    private static final Logger LOG = LoggerFactory.getLogger(PbaPredictor.class);
    /** Live samples kept while a warm start reads; past this the warm start is abandoned and they are fed. */
    private static final int MAX_PENDING = 64;
    final String peer;
    private final PathForecaster longForecaster;
    private final PathForecaster shortForecaster;
    private final ConditionForecaster rtt;
    private final ConditionForecaster loss;
    private Instant publishedAt;
    /**
     * Least time between two publications: the update interval less half a sample interval. The transport's
     * periods jitter by a millisecond or two, so with an update interval equal to the sample interval a sample
     * 0.999 s after the last publication would otherwise wait for the next one, and every other forecast would be
     * skipped (measured: forecasts published every 2 s with both intervals at 1 s).
     */
    private final Duration publishSpacing;
    /** Where blocking work goes; null without a history directory or the forecast log. */
    private final BackgroundWork io;
    /** Null without a history directory (or background work); used on the background thread only. */
    private final PathHistory history;
    private boolean warmed;
    /** A warm start is queued or reading: live samples wait in {@link #pending}. */
    private boolean warming;
    private final List<Live> pending = new ArrayList<>();
    private long longMatched;
    private long shortMatched;
    volatile Forecast longForecast;
    volatile Forecast shortForecast;
    volatile ConditionForecast rttForecast;
    volatile ConditionForecast lossForecast;

    private final PredictionSettings settings;
    private final LongAdder historyReplayed;
    private final LongAdder historyRejected;
    /** Null until the predictor's meters are registered. */
    private final Timer computeTime;

    /**
     * @param peer the path's peer name
     * @param settings the prediction settings
     * @param plugin the plug-in model factory, or null
     * @param io where blocking work goes, or null (no history directory and no forecast log)
     * @param historyDir the history directory, or null
     * @param historyReplayed counts recorded samples a warm start fed
     * @param historyRejected counts recorded lines a warm start skipped
     * @param computeTime times each publication, or null
     */
    PathState(String peer, PredictionSettings settings, ForecastModelFactory plugin, BackgroundWork io, Path historyDir,
              LongAdder historyReplayed, LongAdder historyRejected, Timer computeTime) {
        this.peer = peer;
        this.settings = settings;
        this.historyReplayed = historyReplayed;
        this.historyRejected = historyRejected;
        this.computeTime = computeTime;
        this.publishSpacing = settings.updateInterval().minus(settings.sampleInterval().dividedBy(2));
        this.longForecaster = new PathForecaster(settings, settings.samples(settings.horizon()),
                plugin == null ? null : plugin.create(settings.samples(settings.horizon())));
        this.shortForecaster = new PathForecaster(settings, settings.samples(settings.shortHorizon()),
                plugin == null ? null : plugin.create(settings.samples(settings.shortHorizon())));
        int window = Math.max(1, settings.samples(settings.horizon()));
        this.rtt = new ConditionForecaster(window);
        this.loss = new ConditionForecaster(window);
        this.io = io;
        this.history = historyDir == null || io == null ? null : new PathHistory(historyDir, peer,
                settings.historySamples() + settings.samples(settings.horizon()) + 1);
    }

    /**
     * Background thread: reads the path's recorded samples (from earlier processes) and feeds them to its
     * forecasters, oldest first, then the live samples that arrived meanwhile. Nothing is published from recorded
     * samples alone: the first live sample publishes, so a warm-started path's forecast carries its matched
     * history's confidence only once the path is measured again.
     */
    private void warmStart(Instant firstLive) {
        PathHistory.Read read = history.read(firstLive);
        synchronized (this) {
            if (!warming) {
                return; // abandoned: too many live samples came first
            }
            for (PathHistory.Recorded r : read.samples()) {
                longForecaster.update(r.goodput());
                shortForecaster.update(r.goodput());
                if (!Double.isNaN(r.rttSeconds())) {
                    rtt.update(r.rttSeconds());
                }
                if (!Double.isNaN(r.lossRatio())) {
                    loss.update(r.lossRatio());
                }
            }
            historyReplayed.add(read.samples().size());
            historyRejected.add(read.rejected());
            longMatched = longForecaster.matched();
            shortMatched = shortForecaster.matched();
            warming = false;
            feedPending();
        }
        if (!read.samples().isEmpty()) {
            LOG.info("prediction for {} warm-started from {} recorded sample(s) ({} line(s) skipped)", peer,
                    read.samples().size(), read.rejected());
        }
    }

    /** Feeds the samples held during the warm start. Caller holds this path's lock. */
    private void feedPending() {
        for (Live l : pending) {
            apply(l.time(), l.bitsPerSecond(), l.rttSeconds(), l.lossRatio());
        }
        pending.clear();
    }

    /** Queues the sample just used, and the forecasts it matched, for the path's history. Caller holds the lock. */
    private void record(Instant time, double bitsPerSecond, double rttSeconds, double lossRatio) {
        io.submit(() -> history.appendSample(time, bitsPerSecond, rttSeconds, lossRatio));
        if (longForecaster.matched() != longMatched) {
            longMatched = longForecaster.matched();
            recordMatch(time, settings.horizon(), longForecaster);
        }
        if (shortForecaster.matched() != shortMatched) {
            shortMatched = shortForecaster.matched();
            recordMatch(time, settings.shortHorizon(), shortForecaster);
        }
    }

    private void recordMatch(Instant time, Duration horizon, PathForecaster f) {
        double mean = f.lastMatch(0);
        double low = f.lastMatch(1);
        double high = f.lastMatch(2);
        double actual = f.lastMatch(3);
        io.submit(() -> history.appendMatch(time, horizon, mean, low, high, actual));
    }

    synchronized void closeHistory() {
        if (history != null) {
            io.submit(history::close);
        }
    }

    /** RTT (seconds) and loss of a sample without goodput; NaN when not measured. */
    synchronized void conditions(Instant time, double rttSeconds, double lossRatio) {
        if (!Double.isNaN(rttSeconds)) {
            rtt.update(rttSeconds);
            rttForecast = publishCondition(rtt, time);
        }
        if (!Double.isNaN(lossRatio)) {
            loss.update(lossRatio);
            lossForecast = publishCondition(loss, time);
        }
    }

    private ConditionForecast publishCondition(ConditionForecaster c, Instant time) {
        c.compute();
        return c.samples() < settings.minSamples() ? ConditionForecast.unknown(settings.horizon(), c.samples())
                : new ConditionForecast(true, c.mean(), c.low(), c.high(), c.samples(), settings.horizon(), time);
    }

    synchronized void update(Instant time, double bitsPerSecond, double rttSeconds, double lossRatio) {
        if (!warmed) {
            warmed = true;
            // The first live sample starts the warm start on the background thread; it and the samples that come
            // before the read is done are fed after the recorded ones.
            warming = history != null && io.submit(() -> warmStart(time));
        }
        if (warming) {
            pending.add(new Live(time, bitsPerSecond, rttSeconds, lossRatio));
            if (pending.size() >= MAX_PENDING) {
                LOG.warn("prediction for {}: the warm start did not read its history within {} samples; "
                        + "going on without it", peer, MAX_PENDING);
                warming = false;
                feedPending();
            }
            return;
        }
        apply(time, bitsPerSecond, rttSeconds, lossRatio);
    }

    /** One sample through the models, and a publication when one is due. Caller holds this path's lock. */
    private void apply(Instant time, double bitsPerSecond, double rttSeconds, double lossRatio) {
        longForecaster.update(bitsPerSecond);
        shortForecaster.update(bitsPerSecond);
        if (!Double.isNaN(rttSeconds)) {
            rtt.update(rttSeconds);
        }
        if (!Double.isNaN(lossRatio)) {
            loss.update(lossRatio);
        }
        if (history != null) {
            record(time, bitsPerSecond, rttSeconds, lossRatio);
        }
        if (publishedAt == null || !time.isBefore(publishedAt.plus(publishSpacing))) {
            long t0 = System.nanoTime();
            longForecast = publish(longForecaster, settings.horizon(), time);
            shortForecast = publish(shortForecaster, settings.shortHorizon(), time);
            if (rtt.samples() > 0) {
                rttForecast = publishCondition(rtt, time);
            }
            if (loss.samples() > 0) {
                lossForecast = publishCondition(loss, time);
            }
            publishedAt = time;
            if (history != null) {
                io.submit(history::flush);
            }
            if (io != null && PbaPredictor.FORECAST_LOG.isDebugEnabled()) {
                Forecast f = longForecast;
                io.submit(() -> PbaPredictor.FORECAST_LOG.debug("forecast peer={} time={} sample={} known={} mean={} p10={} "
                        + "p90={} confidence={} model={}", peer, time.toEpochMilli(), Math.round(bitsPerSecond),
                        f.isKnown(), Math.round(f.meanBitsPerSecond()), Math.round(f.p10BitsPerSecond()),
                        Math.round(f.p90BitsPerSecond()), f.confidence(), f.predictor()));
            }
            Timer t = computeTime;
            if (t != null) {
                t.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
            }
        }
    }

    private Forecast publish(PathForecaster f, Duration horizon, Instant time) {
        if (!f.known()) {
            return Forecast.unknown(horizon, f.samples());
        }
        return new Forecast(true, f.mean(), f.low(), f.high(), f.confidence(), f.samples(), horizon, time,
                f.predictorName());
    }

    synchronized double read(boolean longHorizon, ToDoubleFunction<PathForecaster> f) {
        return f.applyAsDouble(longHorizon ? longForecaster : shortForecaster);
    }

    synchronized long pluginFailures() {
        return longForecaster.pluginFailures() + shortForecaster.pluginFailures();
    }

    /** A live sample held while the path's warm start reads. */
    private record Live(Instant time, double bitsPerSecond, double rttSeconds, double lossRatio) {
    }
}
