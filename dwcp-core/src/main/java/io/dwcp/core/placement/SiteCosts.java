package io.dwcp.core.placement;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Relative cost of one byte per second of traffic between two sites (for example RTT × price per GB ÷ forecast
 * bandwidth, computed by the caller). The diagonal is 0. Without a matrix every cross-site byte costs 1.
 *
 * <p>This is where forecasts enter: the caller folds whatever bandwidth forecast it has into the costs; the placement
 * SPI itself does not read a predictor. Immutable.
 */
public final class SiteCosts {
    private final List<String> sites;
    private final double[][] costs;

    private SiteCosts(List<String> sites, double[][] costs) {
        this.sites = sites;
        this.costs = costs;
    }

    /**
     * A cost matrix over {@code sites}, row = source site, column = destination site.
     *
     * @param sites the site ids, in matrix order
     * @param costs the matrix, {@code costs[i][j]} the cost from site i to site j; copied
     * @return the immutable matrix
     * @throws IllegalArgumentException when the matrix is not square of the sites' size, an entry is negative or
     *     NaN, or a diagonal entry is not 0
     */
    public static SiteCosts of(List<String> sites, double[][] costs) {
        List<String> s = List.copyOf(sites);
        Objects.requireNonNull(costs, "costs");
        if (costs.length != s.size()) {
            throw new IllegalArgumentException("cost matrix has " + costs.length + " rows for " + s.size() + " sites");
        }
        double[][] copy = new double[s.size()][];
        for (int i = 0; i < s.size(); i++) {
            if (costs[i].length != s.size()) {
                throw new IllegalArgumentException("cost matrix row " + s.get(i) + " has " + costs[i].length
                        + " entries for " + s.size() + " sites");
            }
            copy[i] = costs[i].clone();
            for (int j = 0; j < s.size(); j++) {
                double c = copy[i][j];
                if (!(c >= 0) || Double.isInfinite(c) || (i == j && c != 0)) {
                    throw new IllegalArgumentException("cost " + s.get(i) + " -> " + s.get(j) + " = " + c
                            + ": expected finite >= 0, and 0 on the diagonal");
                }
            }
        }
        return new SiteCosts(s, copy);
    }

    /**
     * The sites, in matrix order.
     *
     * @return the site ids
     */
    public List<String> sites() {
        return sites;
    }

    /**
     * The cost of one byte per second from {@code from} to {@code to}.
     *
     * @param from the source site id
     * @param to the destination site id
     * @return the matrix entry (0 when {@code from} equals {@code to})
     * @throws IllegalArgumentException when a site is not in the matrix
     */
    public double cost(String from, String to) {
        int i = sites.indexOf(from);
        int j = sites.indexOf(to);
        if (i < 0 || j < 0) {
            throw new IllegalArgumentException("unknown site in cost lookup: " + (i < 0 ? from : to));
        }
        return costs[i][j];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SiteCosts c && sites.equals(c.sites) && Arrays.deepEquals(costs, c.costs);
    }

    @Override
    public int hashCode() {
        return sites.hashCode() * 31 + Arrays.deepHashCode(costs);
    }
}
