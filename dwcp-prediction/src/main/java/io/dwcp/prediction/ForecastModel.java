package io.dwcp.prediction;

/**
 * One forecasting model of one path and one horizon (a plug-in's unit, and the form of every built-in predictor). The
 * engine calls it on the path's thread, one sample at a time in time order, so an implementation needs no locking.
 *
 * <p>Contract: {@link #update(double)} gets every accepted goodput sample (finite, ≥ 0, in the caller's unit, e.g.
 * bits per second); {@link #forecast()} then returns the predicted mean of the next {@code horizonSamples} samples,
 * or {@code NaN} when the model cannot tell yet. {@link #windowClosed(double)} reports the realised mean of the window
 * that started {@code horizonSamples} updates earlier, for models that learn from their errors.
 *
 * <p>Pitfalls: a plug-in that throws, or returns NaN, an infinite or a negative value after the engine's warm-up, is
 * bypassed for that forecast (the built-in blend is used) and counted in {@code dwcp.pba.plugin.failures}. The
 * per-sample methods run on the data path: they should not allocate, log or block.
 */
public interface ForecastModel {
    /**
     * Consumes one sample.
     *
     * @param value the sample, finite and ≥ 0
     */
    void update(double value);

    /** {@return the predicted mean of the next horizon's samples, ≥ 0; {@code NaN} when the model cannot forecast yet} */
    double forecast();

    /**
     * The realised mean of the window that began {@code horizonSamples} updates ago (the target of the forecast made
     * then). Called after the {@link #update(double)} that completed the window and before the next forecast.
     *
     * @param actualMean the realised mean of that window
     */
    default void windowClosed(double actualMean) {
    }
}
