package io.dwcp.core.placement;

import io.dwcp.core.spi.Forecast;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * The WAN link from one site to another, from which the placer derives the inter-site cost matrix when a model has no
 * explicit {@link SiteCosts}: round-trip time, bandwidth (the nominal figure, replaced by the bandwidth predictor's
 * forecast for {@code peer} when one is available) and price per GB.
 *
 * <p>Cost of one byte per second from site i to site j (see {@link #costs}):
 * <pre>
 *   cost(i, j) = (price(i, j) + P) ÷ (2 P) × (rtt(i, j) + R) ÷ (2 R) × B ÷ bandwidth(i, j)
 * </pre>
 * where P, R and B are the means of price, RTT and bandwidth over the links (a factor is 1 when its mean is 0). Each
 * factor is 1 for an average link; a link twice as expensive, twice as far or half as fast costs more, and a free or
 * near link still costs something, so cross-site traffic is never free.
 *
 * @param from the source site id
 * @param to the destination site id
 * @param rtt round-trip time, ≥ 0
 * @param bandwidthBitsPerSecond nominal bandwidth, bits per second, finite and &gt; 0
 * @param pricePerGb price of one GB (10^9 bytes) sent on the link, any currency, finite and ≥ 0
 * @param peer the bandwidth predictor's path name for this link (the peer its forecasts are keyed by), or empty for
 *     the nominal bandwidth only
 */
public record SiteLink(String from, String to, Duration rtt, double bandwidthBitsPerSecond, double pricePerGb,
                       String peer) {
    /**
     * Validates the link.
     *
     * @param from the source site id
     * @param to the destination site id
     * @param rtt round-trip time, ≥ 0
     * @param bandwidthBitsPerSecond nominal bandwidth, bits per second, finite and &gt; 0
     * @param pricePerGb price per GB sent, finite and ≥ 0
     * @param peer the predictor's path name for this link, or empty
     * @throws IllegalArgumentException naming the link for equal sites or a value out of range
     */
    public SiteLink {
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
        Objects.requireNonNull(rtt, "rtt");
        Objects.requireNonNull(peer, "peer");
        String name = "link " + from + " -> " + to;
        if (from.equals(to)) {
            throw new IllegalArgumentException(name + ": a link joins two different sites");
        }
        if (rtt.isNegative()) {
            throw new IllegalArgumentException(name + ": rtt must be >= 0, got " + rtt);
        }
        if (!(bandwidthBitsPerSecond > 0) || Double.isInfinite(bandwidthBitsPerSecond)) {
            throw new IllegalArgumentException(name + ": bandwidthBitsPerSecond must be finite and > 0, got "
                    + bandwidthBitsPerSecond);
        }
        if (!(pricePerGb >= 0) || Double.isInfinite(pricePerGb)) {
            throw new IllegalArgumentException(name + ": pricePerGb must be finite and >= 0, got " + pricePerGb);
        }
    }

    /**
     * The cost matrix over {@code sites} from {@code links}, with the bandwidth of each link taken from
     * {@code forecasts} when that returns a known forecast for the link's peer (its mean), else the nominal one.
     * A pair without a link of its own uses the link of the opposite direction.
     *
     * @param sites the site ids, in matrix order
     * @param links at least one link for every pair of distinct sites (either direction)
     * @param forecasts the forecast of a peer (for example {@code ForecastAdvisor::advice}); unknown forecasts are
     *     ignored
     * @return the matrix
     * @throws IllegalArgumentException naming the first pair without a link, or a link naming an unknown site
     */
    public static SiteCosts costs(List<String> sites, List<SiteLink> links, Function<String, Forecast> forecasts) {
        Map<String, SiteLink> byPair = new HashMap<>();
        for (SiteLink l : links) {
            if (!sites.contains(l.from()) || !sites.contains(l.to())) {
                throw new IllegalArgumentException("link " + l.from() + " -> " + l.to() + " names a site outside "
                        + sites);
            }
            byPair.put(l.from() + "\n" + l.to(), l);
        }
        int k = sites.size();
        double[][] price = new double[k][k];
        double[][] rtt = new double[k][k];
        double[][] bw = new double[k][k];
        double sumPrice = 0;
        double sumRtt = 0;
        double sumBw = 0;
        int pairs = 0;
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) {
                if (i == j) {
                    continue;
                }
                SiteLink l = byPair.get(sites.get(i) + "\n" + sites.get(j));
                if (l == null) {
                    l = byPair.get(sites.get(j) + "\n" + sites.get(i));
                }
                if (l == null) {
                    throw new IllegalArgumentException("no link between sites " + sites.get(i) + " and " + sites.get(j)
                            + ": give one for every pair of sites, or a cost matrix");
                }
                price[i][j] = l.pricePerGb();
                rtt[i][j] = l.rtt().toNanos() / 1e6;
                Forecast f = l.peer().isEmpty() ? null : forecasts.apply(l.peer());
                bw[i][j] = f != null && f.isKnown() && f.meanBitsPerSecond() > 0 ? f.meanBitsPerSecond()
                        : l.bandwidthBitsPerSecond();
                sumPrice += price[i][j];
                sumRtt += rtt[i][j];
                sumBw += bw[i][j];
                pairs++;
            }
        }
        double[][] cost = new double[k][k];
        if (pairs > 0) {
            double p = sumPrice / pairs;
            double r = sumRtt / pairs;
            double b = sumBw / pairs;
            for (int i = 0; i < k; i++) {
                for (int j = 0; j < k; j++) {
                    if (i != j) {
                        cost[i][j] = factor(price[i][j], p) * factor(rtt[i][j], r) * b / bw[i][j];
                    }
                }
            }
        }
        return SiteCosts.of(sites, cost);
    }

    /** (x + mean) ÷ (2 mean): 1 at the mean, ½ at 0; 1 when the mean is 0. */
    private static double factor(double x, double mean) {
        return mean == 0 ? 1 : (x + mean) / (2 * mean);
    }
}
