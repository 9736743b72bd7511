package io.dwcp.bench;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Walk-forward scoring of window-mean bandwidth forecasts on a 1-second trace, and the classic baseline predictors
 * computed the same way, with the definitions of {@code shared/tools/pba_eval.py} so the two agree: a forecast at
 * index i (made from samples before i) of the mean of samples i … i+H−1; scored where i ≥ warm-up, i + H ≤ n and the
 * actual mean is > 0.
 */
final class ForecastScore {
    static final List<String> BASELINES = List.of("last", "ewma0.05", "ewma0.1", "ewma0.3", "hm5", "hm20", "mean30");
    private static final int RESOLVED_WINDOW = 300;
    private static final int MIN_RESOLVED = 10;
    private static final int FALLBACK_WINDOW = 30;

    private ForecastScore() {
    }

    /** actual[i] = mean(x[i .. i+h−1]) for i + h ≤ n, NaN elsewhere; length n + 1. */
    static double[] windowMeans(double[] x, int h) {
        int n = x.length;
        double[] c = new double[n + 1];
        for (int i = 0; i < n; i++) {
            c[i + 1] = c[i] + x[i];
        }
        double[] a = new double[n + 1];
        Arrays.fill(a, Double.NaN);
        for (int i = 0; i + h <= n; i++) {
            a[i] = (c[i + h] - c[i]) / h;
        }
        return a;
    }

    /** A baseline's point forecasts, pred[i] from x[0 .. i−1]; NaN at 0; length n + 1. */
    static double[] pointForecasts(double[] x, String name) {
        int n = x.length;
        double[] p = new double[n + 1];
        p[0] = Double.NaN;
        if (name.equals("last")) {
            System.arraycopy(x, 0, p, 1, n);
        } else if (name.startsWith("ewma")) {
            double alpha = Double.parseDouble(name.substring(4));
            double e = x[0];
            p[1] = e;
            for (int i = 1; i < n; i++) {
                e = alpha * x[i] + (1 - alpha) * e;
                p[i + 1] = e;
            }
        } else if (name.startsWith("hm")) {
            int w = Integer.parseInt(name.substring(2));
            for (int i = 1; i <= n; i++) {
                double inv = 0;
                boolean zero = false;
                int lo = Math.max(0, i - w);
                for (int k = lo; k < i; k++) {
                    if (x[k] <= 0) {
                        zero = true;
                        break;
                    }
                    inv += 1 / x[k];
                }
                p[i] = zero ? 0 : (i - lo) / inv;
            }
        } else if (name.startsWith("mean")) {
            int w = Integer.parseInt(name.substring(4));
            double[] c = new double[n + 1];
            for (int i = 0; i < n; i++) {
                c[i + 1] = c[i] + x[i];
            }
            for (int i = 1; i <= n; i++) {
                int lo = Math.max(0, i - w);
                p[i] = (c[i] - c[lo]) / (i - lo);
            }
        } else {
            throw new IllegalArgumentException("unknown baseline " + name);
        }
        return p;
    }

    /** A baseline's forecasts with its P10/P90 (from its own resolved residuals): rows {pred, p10, p90}. */
    static double[][] baseline(double[] x, int h, String name) {
        int n = x.length;
        double[] pred = pointForecasts(x, name);
        double[] actual = windowMeans(x, h);
        double[] resid = new double[n + 1];
        for (int i = 0; i <= n; i++) {
            resid[i] = i >= 1 && !Double.isNaN(actual[i]) ? actual[i] - pred[i] : Double.NaN;
        }
        double[] p10 = new double[n + 1];
        double[] p90 = new double[n + 1];
        p10[0] = p90[0] = Double.NaN;
        double[] scratch = new double[Math.max(RESOLVED_WINDOW, FALLBACK_WINDOW)];
        for (int i = 1; i <= n; i++) {
            int e = i - h;
            int k = 0;
            if (e >= 1) {
                for (int j = Math.max(1, e - RESOLVED_WINDOW + 1); j <= e; j++) {
                    if (!Double.isNaN(resid[j])) {
                        scratch[k++] = resid[j];
                    }
                }
            }
            if (k >= MIN_RESOLVED) {
                Arrays.sort(scratch, 0, k);
                p10[i] = Math.max(0, pred[i] + quantile(scratch, k, 0.1));
                p90[i] = pred[i] + quantile(scratch, k, 0.9);
            } else {
                int lo = Math.max(0, i - FALLBACK_WINDOW);
                k = i - lo;
                System.arraycopy(x, lo, scratch, 0, k);
                Arrays.sort(scratch, 0, k);
                p10[i] = quantile(scratch, k, 0.1);
                p90[i] = quantile(scratch, k, 0.9);
            }
        }
        return new double[][] {pred, p10, p90};
    }

    /** numpy's default (linear) quantile of the first n sorted values. */
    static double quantile(double[] sorted, int n, double q) {
        double pos = q * (n - 1);
        int i = (int) Math.floor(pos);
        int j = Math.min(n - 1, i + 1);
        return sorted[i] + (pos - i) * (sorted[j] - sorted[i]);
    }

    /** Point metrics of one model over a set of points; merge per family. */
    static final class Accumulator {
        long n;
        double acc;
        double absErr;
        double actual;
        long within20;
        long covered;
        double width;

        void add(double pred, double p10, double p90, double a) {
            double err = Math.abs(pred - a);
            n++;
            acc += Math.max(0, 1 - err / a);
            absErr += err;
            actual += a;
            if (err <= 0.2 * a) {
                within20++;
            }
            if (p10 <= a && a <= p90) {
                covered++;
            }
            width += p90 - p10;
        }

        void merge(Accumulator o) {
            n += o.n;
            acc += o.acc;
            absErr += o.absErr;
            actual += o.actual;
            within20 += o.within20;
            covered += o.covered;
            width += o.width;
        }

        Map<String, Object> result() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("n", n);
            if (n > 0) {
                m.put("acc", acc / n);
                m.put("one_minus_wape", 1 - absErr / actual);
                m.put("within20", (double) within20 / n);
                m.put("coverage", (double) covered / n);
                m.put("interval_width", width / actual);
            }
            return m;
        }

        double accuracy() {
            return n == 0 ? Double.NaN : acc / n;
        }

        double oneMinusWape() {
            return n == 0 ? Double.NaN : 1 - absErr / actual;
        }
    }
}
