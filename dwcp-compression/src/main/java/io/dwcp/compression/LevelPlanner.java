package io.dwcp.compression;

import io.dwcp.core.Tier;
import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.spi.EncodeOptions;
import io.dwcp.core.spi.Forecast;
import io.dwcp.core.spi.ForecastAdvisor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * The zstd level of a round and of each of its batches: the level controller's choice for the tier, its ceiling and
 * the link rate, planned from the path's bandwidth forecast while the predictor's forecast is advice.
 *
 * Threading: thread-safe; it holds no state of its own (a round's batch-level supplier keeps its last level in an
 * atomic, and the level controller guards its own).
 */
final class LevelPlanner {
    private static final Logger LOG = LoggerFactory.getLogger(LevelPlanner.class);

    private final ComponentContext context;
    private final HdeSettings settings;
    private final LevelController levels;
    /** Reads the path's bandwidth forecast (advice) when a predictor runs beside the codec. */
    private final ForecastAdvisor advisor;

    LevelPlanner(ComponentContext context, HdeSettings settings, LevelController levels, ForecastAdvisor advisor) {
        this.context = context;
        this.settings = settings;
        this.levels = levels;
        this.advisor = advisor;
    }

    /** Level the next round on {@code tier} uses with {@code options}: planned from the forecast when there is advice. */
    int levelFor(Tier tier, EncodeOptions options) {
        // The path's forecast, when a predictor runs and is confident enough; else unknown and the rate alone plans.
        Forecast advice = advisor.advice(options.peer().orElse(null));
        return levels.choose(tier, settings.ceiling(tier), options.linkRate(), context.workerThreads(),
                settings.adaptiveEnabled, advice);
    }

    /**
     * Level of each batch of a round that started at {@code roundLevel}: while the path's bandwidth forecast is advice,
     * re-planned from it (by the level controller, so at most once per adjust-interval unless the forecast moved), so
     * that a forecast that becomes advice while a long round runs acts within that round; until then, and without a
     * predictor, the round's level. Null (the round's level throughout) when the level is fixed or no peer is named.
     */
    java.util.function.IntSupplier batchLevels(EncodeOptions options, int roundLevel) {
        String peer = options.peer().orElse(null);
        if (roundLevel == 0 || !settings.adaptiveEnabled || peer == null) {
            return null;
        }
        java.util.concurrent.atomic.AtomicInteger last = new java.util.concurrent.atomic.AtomicInteger(roundLevel);
        return () -> {
            Forecast advice = advisor.advice(peer);
            if (advice.isKnown()) {
                int level = levels.choose(options.tier(), settings.ceiling(options.tier()), options.linkRate(),
                        context.workerThreads(), true, advice);
                int before = last.getAndSet(level);
                if (before != level) {
                    LOG.info("level of the running round for {}: zstd:{} -> zstd:{} on the path's forecast ({} Mbit/s, "
                            + "P10 {}, P90 {}, confidence {})", peer, before, level,
                            Math.round(advice.meanBitsPerSecond() / 1e6), Math.round(advice.p10BitsPerSecond() / 1e6),
                            Math.round(advice.p90BitsPerSecond() / 1e6), String.format(java.util.Locale.ROOT, "%.2f",
                                    advice.confidence()));
                }
            }
            return last.get();
        };
    }
}
