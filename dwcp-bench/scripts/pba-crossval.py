#!/usr/bin/env python3
"""Cross-validated accuracy of the bandwidth predictor's `auto` forecast, per trace family.

`auto` has one set of constants learned from data: the prior error of each member model (PathForecaster's
PRIOR_ERROR, 1 - the model's accuracy at the 30 s horizon averaged over the trace families). A figure over traces
that helped choose that prior is not a figure on unseen traces. This script re-learns the prior without the trace
(leave-one-trace-out) or without the whole family (leave-one-family-out) it then scores, and replays `auto`'s
combination with it, so that every figure is on a trace that chose nothing.

How: `dwcp predict` writes each member model's forecasts (one run per model, from the first sample on:
-Ddwcp.prediction.min-samples=1) and `auto`'s; this script re-computes `auto` from the members' forecasts exactly as
PathForecaster does (blend weights from the walk-forward errors and the prior, shrink, residual band with its
adaptive calibration), checks that with the library's own prior it reproduces `dwcp predict --predictor auto` (it
prints the largest relative difference), and then scores each fold. The baselines come from pba_eval.py (imported),
on the same points. Alternative combination rules can be scored the same way (--rules).

Usage:
  pba-crossval.py --jar dwcp-bench/target/dwcp.jar --traces ../shared/data/traces/uniform \\
      --eval ../shared/tools/pba_eval.py --work /tmp/pba-cv [--folds trace|family|none] [--rules auto,hedge,...]
"""
import argparse
import bisect
import importlib.util
import json
import math
import multiprocessing
import os
import subprocess
import sys

import numpy as np

H = 30
SINGLE = ["last", "ewma", "ewma-short", "harmonic-5", "harmonic", "holt", "ridge"]
MEMBERS = SINGLE + ["mean-90"]
K = len(MEMBERS)
# PathForecaster's constants (the reproduction check guards them).
PRIOR_ERROR = [0.381, 0.321, 0.339, 0.391, 0.446, 0.357, 0.322, 0.350]
TEMPERATURE = 0.03
SHRINK = 0.04
W = 300  # history window (5 min) / sample interval (1 s)
MIN_MATCHED = 10
WARM_RESIDUALS = 100
PRIOR_LOW, PRIOR_HIGH = math.exp(-0.3), math.exp(0.4)
CALIBRATION_RATE = 0.005
LEVEL_ALPHA = 0.02
BIN = 0.02
RMIN = -8 - BIN / 2
NBINS = int(round((16 + BIN) / BIN))
MEAN_SAMPLES = 90
TUNING = {"mahimahi_ATT-LTE-driving.down", "mahimahi_ATT-LTE-driving.up", "mahimahi_TMobile-LTE-short.down",
          "mahimahi_TMobile-UMTS-driving.down", "mahimahi_TMobile-UMTS-driving.up", "nyumets_7Train1",
          "nyumets_bus62"}
BASELINES = ["last", "ewma0.05", "ewma0.1", "ewma0.3", "hm5", "hm20", "mean30"]
# Delay-aware Hedge learning rate: sqrt(8 ln K / ((D + 1) T)) with delay D + 1 = H matches and memory T = W.
HEDGE_ETA = math.sqrt(8 * math.log(K) / (H * W))
# Exponentiated gradient on the output's APE (gradients bounded by 2): sqrt(2 ln K / ((D + 1) T)) / 2.
EG_ETA = math.sqrt(2 * math.log(K) / (H * W)) / 2


def run_predict(jar, traces, work, predictor):
    out = os.path.join(work, predictor)
    if os.path.isdir(out) and os.path.exists(os.path.join(out, ".done")):
        return out
    subprocess.run(["java", "-Ddwcp.prediction.min-samples=1", "-jar", jar, "predict", "--traces", traces,
                    "--out", out, "--predictor", predictor, "--warmup", "0s", "--horizon", "%ds" % H],
                   check=True, stdout=subprocess.DEVNULL)
    open(os.path.join(out, ".done"), "w").close()
    return out


def read_forecasts(path, t0, n, col=1):
    """Forecast made at index i (from x[:i]) -> value; NaN where absent. Length n + 1."""
    f = np.full(n + 1, np.nan)
    with open(path) as fh:
        next(fh)
        for line in fh:
            p = line.rstrip("\n").split(",")
            f[int(p[0]) - t0] = float(p[col])
    return f


def moving_mean(x, n):
    f = np.full(len(x) + 1, np.nan)
    c = np.concatenate([[0.0], np.cumsum(x)])
    for i in range(1, len(x) + 1):
        lo = max(0, i - n)
        f[i] = max(0.0, (c[i] - c[lo]) / (i - lo))
    return f


def bin_center(v):
    b = max(0, min(NBINS - 1, int(math.floor((v - RMIN) / BIN))))
    return RMIN + BIN * (b + 0.5)


def quantile_sorted(s, q):
    pos = q * (len(s) - 1)
    i = int(math.floor(pos))
    j = min(len(s) - 1, i + 1)
    return s[i] + (pos - i) * (s[j] - s[i])


def replay(x, members, rule, prior):
    """PathForecaster's auto (rule "auto") or an alternative blend rule, on member forecasts members[i] (made at i).

    Returns an (n + 1, 3) array: mean, low, high of the forecast made at i.
    """
    n = len(x)
    out = np.full((n + 1, 3), np.nan)
    prior = np.asarray(prior, dtype=float)
    window = []
    level = math.nan
    err_ring, err_sum = [], np.zeros(K)
    loss = np.zeros(K)  # discounted cumulative loss (hedge rules)
    grad = np.zeros(K)  # discounted cumulative gradient (eg)
    z_ring = []  # ln(actual / blend) of the last W matches (logmult)
    discount = 1 - 1.0 / W
    pending = {}
    res_ring, res_sorted = [], []
    low_level, high_level = 0.1, 0.9
    for u in range(1, n + 1):
        v = x[u - 1]
        window.append(v)
        if len(window) > H:
            window.pop(0)
        level = v if math.isnan(level) else LEVEL_ALPHA * v + (1 - LEVEL_ALPHA) * level
        if u > H:
            a = max(0.0, sum(window)) / H
            rec = pending.pop(u - H)
            fm = rec["m"]
            good = np.isfinite(fm) & (fm >= 0)
            if a > 0:
                e = np.where(good, np.minimum(1, np.abs(np.nan_to_num(fm) - a) / a), 1.0)
            else:
                e = np.where(good & (np.nan_to_num(fm) > 0), 1.0, np.where(good, 0.0, 1.0))
            err_ring.append(e)
            err_sum += e
            if len(err_ring) > W:
                err_sum -= err_ring.pop(0)
            loss = discount * loss + e
            if rule == "eg" and a > 0 and not math.isnan(rec["out"]) and rec["blend"] > 0:
                # gradient of the output's APE with respect to each member's weight, clipped to [-2, 2]
                c = rec["out"] / rec["blend"]
                grad = discount * grad + np.where(good, np.sign(rec["out"] - a) * np.minimum(2, c * np.nan_to_num(fm) / a), 0)
            if not math.isnan(rec["out"]) and rec["blend"] > 0 and a > 0:
                z_ring.append(math.log(a / rec["blend"]))
                if len(z_ring) > W:
                    z_ring.pop(0)
            if not math.isnan(rec["out"]):
                r = bin_center((a - rec["blend"]) / rec["lvl"] if rec["lvl"] > 0 else 0.0)
                res_ring.append(r)
                bisect.insort(res_sorted, r)
                if len(res_ring) > W:
                    del res_sorted[bisect.bisect_left(res_sorted, res_ring.pop(0))]
                low_level = min(0.995, max(0.005, low_level + CALIBRATION_RATE * (0.1 - (a < rec["lo"]))))
                high_level = min(0.995, max(0.005, high_level - CALIBRATION_RATE * (0.1 - (a > rec["hi"]))))
        cur = members[u]
        ok = np.isfinite(cur) & (cur >= 0)
        rec = {"m": cur, "blend": math.nan, "lvl": level, "out": math.nan, "lo": math.nan, "hi": math.nan}
        pending[u] = rec
        if not ok.any():
            continue
        if rule == "auto":
            me = (err_sum + W * prior) / (len(err_ring) + W)
            logw = -(me - me[ok].min()) / TEMPERATURE
        elif rule == "hedge":
            logw = -HEDGE_ETA * (loss + W * prior)
        elif rule == "hedge-flat":
            logw = -HEDGE_ETA * loss
        elif rule == "eg":
            logw = -(prior - prior.min()) / TEMPERATURE - EG_ETA * grad
        elif rule == "logmult":
            me = (err_sum + W * prior) / (len(err_ring) + W)
            logw = -(me - me[ok].min()) / TEMPERATURE
        else:
            raise ValueError(rule)
        logw = np.where(ok, logw, -np.inf)
        w = np.exp(logw - logw.max())
        blend = float(np.sum(w * np.where(ok, cur, 0)) / w.sum())
        rec["blend"] = blend
        nres = len(res_sorted)
        recent = sorted(window[-min(u, 30, H):])
        if nres >= MIN_MATCHED:
            lr = max(1, math.floor((nres + 1) * low_level))
            hr = min(nres, math.ceil((nres + 1) * high_level))
            lo = blend + level * res_sorted[int(lr) - 1]
            hi = blend + level * res_sorted[int(hr) - 1]
            if nres < WARM_RESIDUALS:
                lo = min(lo, quantile_sorted(recent, 0.1))
                hi = max(hi, quantile_sorted(recent, 0.9))
        else:
            lo, hi = quantile_sorted(recent, 0.1), quantile_sorted(recent, 0.9)
        output = blend
        if blend > 0 and rule == "logmult" and len(z_ring) >= WARM_RESIDUALS:
            # the APE-optimal multiple of the blend under the path's own recent ratios actual / blend:
            # argmin_c sum |c e^-z - 1|, the median of e^z weighted by e^-z
            z = np.sort(np.array(z_ring))
            cw = np.cumsum(np.exp(-z))
            output = blend * math.exp(z[np.searchsorted(cw, cw[-1] / 2)])
        elif blend > 0:
            output = blend * (1 - SHRINK * min(2, max(0, hi - lo) / blend))
        if nres < WARM_RESIDUALS and lo < hi:
            lo, hi = min(lo, blend * PRIOR_LOW), max(hi, blend * PRIOR_HIGH)
        rec["out"], rec["lo"], rec["hi"] = output, max(0, min(lo, output)), max(hi, output)
        out[u] = (rec["out"], rec["lo"], rec["hi"])
    return out


class Data:
    def __init__(self, args):
        spec = importlib.util.spec_from_file_location("pba_eval", args.eval)
        self.ev = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(self.ev)
        self.fam = self.ev.load_families(os.path.join(args.traces, "families.txt"))
        dirs = {p: run_predict(args.jar, args.traces, args.work, p) for p in SINGLE + ["auto"]}
        self.names = sorted(f[:-4] for f in os.listdir(args.traces) if f.endswith(".tsv"))
        self.t = {}
        for name in self.names:
            t0, x = self.ev.load_trace(os.path.join(args.traces, name + ".tsv"))
            n = len(x)
            members = np.stack([read_forecasts(os.path.join(dirs[p], name + ".csv"), t0, n) for p in SINGLE]
                               + [moving_mean(x, MEAN_SAMPLES)], axis=1)
            actual = self.ev.window_means(x, H)
            idx = self.ev.eligible_indices(n, H, 30, actual)
            d = {"x": x, "members": members, "idx": idx, "actual": actual[idx],
                 "java_auto": read_forecasts(os.path.join(dirs["auto"], name + ".csv"), t0, n)}
            for b in BASELINES:
                d[b] = acc(self.ev.point_forecasts(x, b)[idx], d["actual"])
            d["member_acc"] = [acc(members[idx, m], d["actual"]) for m in range(K)]
            self.t[name] = d

    def prior(self, train):
        """1 - each member's accuracy pooled per family over the training traces, averaged over their families."""
        fams = sorted({self.fam[n] for n in train})
        return [1 - np.mean([np.concatenate([self.t[n]["member_acc"][m] for n in train if self.fam[n] == f]).mean()
                             for f in fams]) for m in range(K)]


def acc(pred, actual):
    return np.maximum(0, 1 - np.abs(pred - actual) / actual)


DATA = None


def score_one(job):
    name, rule, train = job
    d = DATA.t[name]
    prior = PRIOR_ERROR if train is None else DATA.prior(train)
    r = replay(d["x"], d["members"], rule, prior)
    i, a = d["idx"], d["actual"]
    return name, acc(r[i, 0], a), ((r[i, 1] <= a) & (a <= r[i, 2])).astype(float), r[:, 0]


def family_table(per, names, fam):
    rows = []
    for f in sorted({fam[n] for n in names}):
        ns = [n for n in names if fam[n] == f]
        row = {"family": f, "points": int(sum(len(per[n][0]) for n in ns)),
               "acc": float(np.concatenate([per[n][0] for n in ns]).mean()),
               "coverage": float(np.concatenate([per[n][1] for n in ns]).mean())}
        for b in BASELINES:
            row[b] = float(np.concatenate([DATA.t[n][b] for n in ns]).mean())
        best = max(BASELINES, key=lambda b: row[b])
        row["best"] = best
        row["minus_best"] = row["acc"] - row[best]
        rows.append(row)
    return rows


def print_table(title, rows):
    print("\n" + title)
    print("| family (points) | auto | " + " | ".join(BASELINES) + " | auto − best baseline | P10–P90 cov. |")
    print("|---|" + "---|" * (len(BASELINES) + 3))
    for r in rows:
        cells = ["**%.4f**" % r[b] if b == r["best"] else "%.4f" % r[b] for b in BASELINES]
        print("| %s (%d) | %.4f | %s | %+.4f (vs %s) | %.3f |" % (r["family"], r["points"], r["acc"], " | ".join(cells),
                                                            r["minus_best"], r["best"], r["coverage"]))


def main():
    global DATA
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jar", required=True)
    ap.add_argument("--traces", required=True)
    ap.add_argument("--eval", required=True, help="path of pba_eval.py")
    ap.add_argument("--work", required=True, help="folder for the member forecasts (reused when present)")
    ap.add_argument("--folds", default="trace,family", help="comma list of trace, family, none")
    ap.add_argument("--rules", default="auto",
                    help="comma list of auto (the library's), hedge, hedge-flat, eg, logmult (see replay())")
    ap.add_argument("--ages", action="store_true", help="also print accuracy by path age (leave-one-trace-out auto)")
    ap.add_argument("--json-out")
    args = ap.parse_args()
    DATA = Data(args)
    names, fam = DATA.names, DATA.fam
    report = {"horizon": H, "hedge_eta": HEDGE_ETA, "eg_eta": EG_ETA}
    auto_per = {}
    with multiprocessing.Pool(min(2, os.cpu_count() or 1)) as pool:
        # Reproduction: the library's prior, rule auto, against `dwcp predict --predictor auto`.
        worst = 0.0
        for name, _, _, mean in pool.map(score_one, [(n, "auto", None) for n in names]):
            d = DATA.t[name]
            j = d["java_auto"]
            i = np.arange(10, len(j))
            i = i[np.isfinite(j[i])]
            worst = max(worst, float(np.max(np.abs(mean[i] - j[i]) / np.maximum(j[i], 1e-9))))
        print("reproduction of dwcp predict --predictor auto (library prior): largest relative difference %.2e" % worst)
        report["reproduction_max_rel_diff"] = worst
        for rule in args.rules.split(","):
            for folds in args.folds.split(","):
                if folds == "trace":
                    jobs = [(n, rule, [t for t in names if t != n]) for n in names]
                elif folds == "family":
                    jobs = [(n, rule, [t for t in names if fam[t] != fam[n]]) for n in names]
                else:
                    jobs = [(n, rule, None) for n in names]
                per = {n: (a, c) for n, a, c, _ in pool.map(score_one, jobs)}
                if rule == "auto":
                    auto_per[folds] = per
                elif folds in auto_per:
                    compare(rule, folds, per, auto_per[folds], report)
                label = {"trace": "leave-one-trace-out prior", "family": "leave-one-family-out prior",
                         "none": "the library's prior (fitted on the tuning subset)"}[folds]
                rows = family_table(per, names, fam)
                held = family_table(per, [n for n in names if n not in TUNING], fam)
                print_table("rule %s, %s, all %d traces" % (rule, label, len(names)), rows)
                print_table("rule %s, %s, the 13 held-out traces only" % (rule, label), held)
                report["%s/%s" % (rule, folds)] = {"all": rows, "held_out": held}
                if args.ages and rule == "auto" and folds == "trace":
                    print_ages(per)
    if args.json_out:
        with open(args.json_out, "w") as fh:
            json.dump(report, fh, indent=1)


def compare(rule, folds, per, base, report):
    """Rule minus auto per family (pooled points), with a 95 % bootstrap interval over the family's traces."""
    rng = np.random.default_rng(1)
    print("\nrule %s minus rule auto, same folds (%s), per family: difference [95 %% bootstrap interval over traces]"
          % (rule, folds))
    out = {}
    for f in sorted(set(DATA.fam[n] for n in DATA.names)):
        ns = [n for n in DATA.names if DATA.fam[n] == f]
        sums = np.array([per[n][0].sum() - base[n][0].sum() for n in ns])
        cnt = np.array([len(per[n][0]) for n in ns])
        d = sums.sum() / cnt.sum()
        boot = []
        for _ in range(2000):
            k = rng.integers(0, len(ns), len(ns))
            boot.append(sums[k].sum() / cnt[k].sum())
        lo, hi = np.percentile(boot, [2.5, 97.5])
        wins = int(sum(1 for s in sums if s > 0))
        print("  %-13s %+.4f [%+.4f, %+.4f], better on %d of %d traces" % (f, d, lo, hi, wins, len(ns)))
        out[f] = {"diff": d, "low": lo, "high": hi, "better_traces": wins, "traces": len(ns)}
    report["%s-minus-auto/%s" % (rule, folds)] = out


def print_ages(per):
    edges = [30, 60, 90, 120, 200, 300, 600, 10 ** 9]
    print("\naccuracy by path age (s) at the forecast, leave-one-trace-out auto against each member and the best "
          "baseline of the bucket")
    for f in sorted(set(DATA.fam[n] for n in DATA.names)):
        ns = [n for n in DATA.names if DATA.fam[n] == f]
        for lo, hi in zip(edges, edges[1:]):
            sel = {n: (DATA.t[n]["idx"] >= lo) & (DATA.t[n]["idx"] < hi) for n in ns}
            pts = sum(int(s.sum()) for s in sel.values())
            if pts == 0:
                continue
            a = np.concatenate([per[n][0][sel[n]] for n in ns]).mean()
            mem = {MEMBERS[m]: np.concatenate([DATA.t[n]["member_acc"][m][sel[n]] for n in ns]).mean() for m in range(K)}
            bas = {b: np.concatenate([DATA.t[n][b][sel[n]] for n in ns]).mean() for b in BASELINES}
            bb = max(bas, key=bas.get)
            bm = max(mem, key=mem.get)
            print("%-13s %4d-%-5s %5d points: auto %.3f, best baseline %s %.3f, best member %s %.3f (%+.3f)"
                  % (f, lo, "" if hi == 10 ** 9 else hi, pts, a, bb, bas[bb], bm, mem[bm], a - bas[bb]))


if __name__ == "__main__":
    main()
