#!/usr/bin/env python3
"""Draws one closed-loop run of bench-prediction.sh: the emulated link's rate, the goodput samples AMST gave the
predictor, the 30 s forecast with its P10-P90 band, and the stream count of both arms of the repetition.

    /usr/bin/python3 dwcp-bench/scripts/plot-prediction.py OUT [--link trace] [--rep 1] [--png FILE]

OUT is a bench-prediction.sh results directory. Inputs per arm: rates-LINK-REP-ARM.log (seconds since the link came
up, Mbit/s), linkup-LINK-REP-ARM.txt (epoch seconds of that t = 0), send-LINK-REP-ARM.err (the forecast DEBUG lines,
one per published forecast with its sample, the stream changes, and the HDE level changes within a round, drawn as
vertical lines). Times are seconds since the link came up.
The forecast made at t is of the mean over [t, t + 30 s); it is drawn at t, beside the link's own mean over the same
window (what a perfect forecast of capacity would show) and the goodput's (what the scored forecast aims at).
"""
import argparse
import datetime as dt
import re
import sys

FORECAST = re.compile(r"time=(\d+) sample=(\d+) known=(\w+) mean=(\d+) p10=(\d+) p90=(\d+)")
STREAMS = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d+) .*streams (\d+) -> (\d+)")
LEVELS = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d+) .*level of the running round for \S+: zstd:(-?\d+) -> zstd:(-?\d+)")


def rates(path):
    return [tuple(map(float, line.split())) for line in open(path) if line.strip()]


def link_mean(r, a, b):
    tot = 0.0
    for i, (t, m) in enumerate(r):
        t2 = r[i + 1][0] if i + 1 < len(r) else 1e12
        lo, hi = max(a, t), min(b, t2)
        if hi > lo:
            tot += m * (hi - lo)
    return tot / (b - a)


def changes(path, t0, pattern):
    """(seconds since t0, old, new) of every line of the sender's log matching pattern (a time, then old -> new)."""
    day = dt.datetime.fromtimestamp(t0, dt.timezone.utc).date()
    out = []
    for line in open(path):
        m = pattern.match(line)
        if m:
            h, mi, s, ms, old, new = m.groups()
            when = dt.datetime(day.year, day.month, day.day, int(h), int(mi), int(s), int(ms.ljust(6, "0")[:6]),
                               tzinfo=dt.timezone.utc).timestamp()
            out.append((when - t0, int(old), int(new)))
    return out


def streams(path, t0, initial):
    return [(0.0, initial)] + [(t, new) for t, _, new in changes(path, t0, STREAMS)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--link", default="trace")
    ap.add_argument("--rep", default="1")
    ap.add_argument("--horizon", type=float, default=30)
    ap.add_argument("--png")
    a = ap.parse_args()
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    base = f"{a.out}/%s-{a.link}-{a.rep}-%s"
    t0 = float(open(base % ("linkup", "on") + ".txt").read())
    r = rates(base % ("rates", "on") + ".log")
    fc = []
    for line in open(base % ("send", "on") + ".err"):
        m = FORECAST.search(line)
        if m:
            ms, sample, known, mean, p10, p90 = m.groups()
            fc.append((int(ms) / 1000 - t0, int(sample) / 1e6, known == "true", int(mean) / 1e6, int(p10) / 1e6,
                       int(p90) / 1e6))
    if not fc:
        sys.exit("no forecast lines in " + base % ("send", "on") + ".err (logger io.dwcp.prediction.forecasts at DEBUG)")
    end = fc[-1][0] + 5
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(11, 7), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    xs, ys = [], []
    for i, (t, m) in enumerate(r):
        if t > end:
            break
        t2 = min(r[i + 1][0] if i + 1 < len(r) else end, end)
        xs += [t, t2]
        ys += [m, m]
    ax.plot(xs, ys, color="0.6", lw=1, label="link rate (emulator)")
    ax.plot([f[0] for f in fc], [f[1] for f in fc], ".", ms=3, color="tab:blue", label="goodput sample (AMST, 1 s)")
    known = [f for f in fc if f[2]]
    kt = [f[0] for f in known]
    ax.fill_between(kt, [f[4] for f in known], [f[5] for f in known], color="tab:orange", alpha=0.25,
                    label="forecast P10-P90")
    ax.plot(kt, [f[3] for f in known], color="tab:orange", lw=1.5, label=f"forecast mean of next {a.horizon:.0f} s")
    ax.plot(kt, [link_mean(r, t, t + a.horizon) for t in kt], "--", color="0.3", lw=1,
            label=f"link mean over the same {a.horizon:.0f} s")
    for i, (t, old, new) in enumerate(changes(base % ("send", "on") + ".err", t0, LEVELS)):
        ax.axvline(t, color="tab:purple", ls=":", lw=1, label="HDE level changed within a round" if i == 0 else None)
        ax.annotate(f"zstd:{old}\u2192{new}", (t, ax.get_ylim()[1] * 0.97), fontsize=7, color="tab:purple",
                    rotation=90, va="top", ha="right")
    ax.set_ylabel("Mbit/s")
    ax.set_title(f"{a.out.rstrip('/').split('/')[-1]}: {a.link} link, repetition {a.rep}, prediction on")
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(alpha=0.3)
    for arm, colour in (("on", "tab:orange"), ("off", "tab:green")):
        try:
            t0a = float(open(base % ("linkup", arm) + ".txt").read())
            pts = streams(base % ("send", arm) + ".err", t0a, 8)
        except OSError:
            continue
        pts.append((end, pts[-1][1]))
        ax2.step([p[0] for p in pts], [p[1] for p in pts], where="post", color=colour, label=f"streams, prediction {arm}")
    ax2.set_yscale("log", base=2)
    ax2.set_ylabel("streams")
    ax2.set_xlabel("seconds since the link came up")
    ax2.legend(loc="upper left", fontsize=8)
    ax2.grid(alpha=0.3)
    fig.tight_layout()
    png = a.png or f"{a.out}/prediction-{a.link}-{a.rep}.png"
    fig.savefig(png, dpi=110)
    print(png)


if __name__ == "__main__":
    main()
