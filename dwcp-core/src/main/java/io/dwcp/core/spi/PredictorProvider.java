package io.dwcp.core.spi;

import io.dwcp.core.path.PathMonitor;

/**
 * Service-provider interface of a bandwidth predictor (PBA in {@code dwcp-prediction}). Registered in
 * {@code META-INF/services/io.dwcp.core.spi.PredictorProvider}; {@code DwcpManager} starts it after the transport
 * and the codec.
 */
public interface PredictorProvider {
    /**
     * Provider name, e.g. {@code pba}.
     *
     * @return the name
     */
    String name();

    /** {@return the priority: higher wins when several providers are on the class path} */
    default int priority() {
        return 0;
    }

    /**
     * Creates a predictor that reads {@code monitor}'s samples once started; it must not start threads or subscribe
     * before {@link Component#start()}.
     *
     * @param context what the manager gives the component
     * @param monitor the path monitor the predictor reads
     * @return the component, not started
     */
    BandwidthPredictor create(ComponentContext context, PathMonitor monitor);
}
