package io.dwcp.prediction;

import io.dwcp.core.path.PathMonitor;
import io.dwcp.core.spi.BandwidthPredictor;
import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.spi.PredictorProvider;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;

/**
 * The PBA bandwidth predictor's provider, registered in {@code META-INF/services/io.dwcp.core.spi.PredictorProvider}:
 * with {@code io.dwcp:dwcp-prediction} on the class path, {@code DwcpManager} creates it and starts it after the
 * transport and the codec.
 *
 * <pre>{@code
 * try (DwcpManager dwcp = DwcpManager.builder().config(config).build()) {   // finds PbaProvider
 *     dwcp.start();
 *     Forecast f = dwcp.predictor().orElseThrow().forecast(peer);
 * }
 * }</pre>
 */
public final class PbaProvider implements PredictorProvider {
    /** Used by {@link ServiceLoader}. */
    public PbaProvider() {
    }

    @Override
    public String name() {
        return "pba";
    }

    @Override
    public BandwidthPredictor create(ComponentContext context, PathMonitor monitor) {
        return new PbaPredictor(context, monitor, plugin(Thread.currentThread().getContextClassLoader()));
    }

    /** The highest-priority {@link ForecastModelFactory} on the class path, or {@code null}. */
    static ForecastModelFactory plugin(ClassLoader loader) {
        List<ForecastModelFactory> found = new ArrayList<>();
        for (ForecastModelFactory f : ServiceLoader.load(ForecastModelFactory.class,
                loader != null ? loader : PbaProvider.class.getClassLoader())) {
            found.add(f);
        }
        return found.stream().max(Comparator.comparingInt(ForecastModelFactory::priority)).orElse(null);
    }
}
