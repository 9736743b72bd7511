/**
 * PBA, the bandwidth predictor: per path, forecasts of the mean goodput over the next horizon with calibrated P10/P90
 * from the path's own recent errors. Public API: {@link io.dwcp.prediction.ForecastModel} and
 * {@link io.dwcp.prediction.ForecastModelFactory}, the plug-in interface for other models, and
 * {@link io.dwcp.prediction.PbaProvider}, found by {@code DwcpManager} through
 * {@link io.dwcp.core.spi.PredictorProvider}. Everything else is internal.
 */
package io.dwcp.prediction;
