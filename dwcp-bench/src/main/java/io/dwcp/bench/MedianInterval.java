package io.dwcp.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A distribution-free confidence interval for a median: the order statistics x(k) and x(n+1-k) with the largest k
 * whose two-sided binomial(n, 1/2) coverage is still at least 95 %. With five values no such k exists, and the interval
 * is the range (coverage 1 − 2 / 2^5 = 93.75 %); the coverage is always reported with it.
 *
 * @param low lower end
 * @param high upper end
 * @param coverage the interval's coverage probability (0–1)
 */
record MedianInterval(double low, double high, double coverage) {
    /**
     * The interval for {@code values}.
     *
     * @param values at least two values
     * @return the interval and its coverage
     * @throws IllegalArgumentException with fewer than two values
     */
    static MedianInterval of(List<? extends Number> values) {
        int n = values.size();
        if (n < 2) {
            throw new IllegalArgumentException("a median interval needs at least 2 values, got " + n);
        }
        List<Double> s = new ArrayList<>();
        values.forEach(v -> s.add(v.doubleValue()));
        Collections.sort(s);
        // coverage of [x(k), x(n+1-k)] is 1 - 2 P(B < k) for B ~ binomial(n, 1/2)
        int best = 1;
        double bestCoverage = coverage(n, 1);
        for (int k = 2; k <= n / 2; k++) {
            double c = coverage(n, k);
            if (c < 0.95) {
                break;
            }
            best = k;
            bestCoverage = c;
        }
        return new MedianInterval(s.get(best - 1), s.get(n - best), bestCoverage);
    }

    private static double coverage(int n, int k) {
        double tail = 0;
        double p = Math.pow(0.5, n); // P(B = 0)
        for (int i = 0; i < k; i++) {
            tail += p;
            p = p * (n - i) / (i + 1);
        }
        return 1 - 2 * tail;
    }

    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT, "%.4g-%.4g (%.1f %%)", low, high, 100 * coverage);
    }
}
