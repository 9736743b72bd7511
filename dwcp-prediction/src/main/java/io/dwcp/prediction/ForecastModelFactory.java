package io.dwcp.prediction;

/**
 * Plug-in point for other forecasting models (e.g. an exported neural network): registered in
 * {@code META-INF/services/io.dwcp.prediction.ForecastModelFactory} and used when
 * {@code dwcp.prediction.predictor = plugin} (the highest {@link #priority()} wins). The built-in predictors stay
 * beside it: a plug-in that fails is bypassed for their blend.
 *
 * <pre>{@code
 * public final class MyFactory implements ForecastModelFactory {
 *     public String name() { return "my-model"; }
 *     public ForecastModel create(int horizonSamples) { return new MyModel(horizonSamples); }
 * }
 * }</pre>
 */
public interface ForecastModelFactory {
    /** {@return the name shown in forecasts and meters} */
    String name();

    /** {@return the priority: higher wins when several factories are on the class path} */
    default int priority() {
        return 0;
    }

    /**
     * A fresh model for one path.
     *
     * @param horizonSamples the forecast window in samples, ≥ 1
     * @return the model
     */
    ForecastModel create(int horizonSamples);
}
