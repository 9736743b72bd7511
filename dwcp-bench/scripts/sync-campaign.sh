#!/usr/bin/env bash
# Convergence campaign: `dwcp sync-bench --nodes 5` with partitions, kills and message faults on seeds FROM ..
# FROM+COUNT-1, one seed per run, resumable.
#
#   dwcp-bench/scripts/sync-campaign.sh --from 401 --count 50                  # 5 replicas, the default faults
#   dwcp-bench/scripts/sync-campaign.sh --from 401 --count 50 --until 05:25    # start no seed after 05:25 (UTC)
#   dwcp-bench/scripts/sync-campaign.sh --summary                              # only summarise --out
#   DWCP_TIMING=1 flock /tmp/dwcp-timing.lock dwcp-bench/scripts/sync-campaign.sh --from 401 --count 50
#                                                     # convergence times are timings: take the timing lock for them
#
# Each seed starts 5 replica JVMs (SyncNodeMain), every directed link behind a fault-injecting TCP proxy, and runs
# --rate operations per second for --duration over all nine CRDT types at random replicas, with the default faults:
# a partition cutting off the last replica (from 3/8 of the run to the heal, writes on both sides), kill -9 and
# restart of replica 0 with its data directory (1/4 of the run before the heal), proxy delays up to 5 ms, connection
# resets (1 %), lost (1 %), duplicated (5 %) and reordered (10 %) messages. Then the heal, the time until all five
# replicas hold identical canonical state, the divergent keys, every replica's value of every key against the model
# (each update's effect), and a read bounded by max-staleness (2 s) on every replica 2 x max-staleness after the heal.
# Seeds run one after another: six JVMs at a time. The target: convergence within 2 x max-staleness (4 s) after the
# heal, 0 divergent keys, 0 model violations (lost or extra updates).
#
# Resumable: a seed's result is kept as OUT/seed-S.json (the run's last JSON line) only once the run ended; seeds with
# a result are skipped, so re-running the same command (or a wider range) continues where it stopped.
#
# The last line of output is one JSON object summarising every seed in OUT. Exit status: 0 when every seed converged
# with 0 divergent keys and 0 model violations, 1 otherwise, 2 for bad options.
#
# Options: --from S (default 401), --count N (default 50), --out DIR (default /var/tmp/dwcp-results/sync-campaign),
#          --jar PATH (default dwcp-bench/target/dwcp.jar; copied into OUT on the first run so that a rebuild does not
#          change a running campaign: delete OUT/dwcp.jar to take a new build), --until HH:MM (UTC; start no seed
#          after it), --summary (summarise OUT, run nothing), and after `--` extra sync-bench options (they override
#          the defaults: --keys 4 --rate 40 --duration 4s --faults default).
set -euo pipefail

FROM=401; COUNT=50; OUT=/var/tmp/dwcp-results/sync-campaign; JAR=""; UNTIL=""; SUMMARY=0
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --from) FROM=$2; shift 2;;
    --count) COUNT=$2; shift 2;;
    --out) OUT=$2; shift 2;;
    --jar) JAR=$2; shift 2;;
    --until) UNTIL=$2; shift 2;;
    --summary) SUMMARY=1; shift;;
    --) shift; EXTRA=("$@"); break;;
    -h|--help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0;;
    *) echo "sync-campaign: unknown argument '$1' (see --help)" >&2; exit 2;;
  esac
done
. "$(dirname "$0")/campaign-lib.sh"
campaign_init sync-campaign

summary() {
  python3 - "$OUT" <<'PY'
import glob, json, math, os, re, statistics, sys
out = sys.argv[1]
rows = []
for f in glob.glob(out + "/seed-*.json"):
    s = int(re.search(r"seed-(\d+)\.json$", f).group(1))
    rows.append((s, json.load(open(f))))
rows.sort()
def ranges(xs):
    r = []
    for x in sorted(xs):
        if r and x == r[-1][1] + 1: r[-1][1] = x
        else: r.append([x, x])
    return ",".join(f"{a}" if a == b else f"{a}-{b}" for a, b in r) or "none"
conv = sorted(d["convergenceMillis"][0] for _, d in rows if d["convergenceMillis"])
unconverged = [s for s, d in rows if d["unconvergedRuns"]]
bad = [s for s, d in rows if d["divergentKeys"] or d["divergentReplicas"] or d["modelViolations"] or d["unconvergedRuns"]]
bound = 4000
over = [s for s, d in rows if d["convergenceMillis"] and d["convergenceMillis"][0] > bound]
n = len(conv)
def interval(xs):
    # distribution-free 95 % interval of the median: order statistics of the binomial(n, 1/2)
    n = len(xs)
    if n < 6: return None
    best = None
    for k in range(0, n // 2):
        cover = sum(math.comb(n, i) for i in range(k + 1, n - k)) / 2 ** n
        if cover >= 0.95: best = (xs[k], xs[n - 1 - k], cover)
    return best
iv = interval(conv)
med = statistics.median(conv) if conv else None
p95 = conv[min(n - 1, math.ceil(0.95 * n) - 1)] if conv else None
tot = lambda k: sum(d[k] for _, d in rows)
rev = open(out + "/revision").read().strip() if os.path.exists(out + "/revision") else "unknown"
print(f"campaign {out} (revision {rev}): {len(rows)} seeds ({ranges([s for s, _ in rows])}); ops {tot('ops')}; "
      f"divergent keys {tot('divergentKeys')}, model violations {tot('modelViolations')}, unconverged {len(unconverged)}, "
      f"staleness violations {tot('stalenessViolations')} (seeds {ranges([s for s, d in rows if d['stalenessViolations']])}); "
      f"convergence after the heal ms: median {med}, 95 % interval of the median {iv[:2] if iv else None}, p95 {p95}, "
      f"max {conv[-1] if conv else None}; above {bound} ms: {len(over)} ({ranges(over)})")
print(json.dumps({"seeds": len(rows), "seedRanges": ranges([s for s, _ in rows]), "ops": tot("ops"),
                  "divergentKeys": tot("divergentKeys"), "modelViolations": tot("modelViolations"),
                  "unconvergedSeeds": unconverged, "stalenessViolations": tot("stalenessViolations"),
                  "convergenceMillisMedian": med, "convergenceMillisInterval95": list(iv) if iv else None,
                  "convergenceMillisP95": p95, "convergenceMillisMax": conv[-1] if conv else None,
                  "seedsAboveBound": over, "boundMillis": bound, "revision": rev}))
sys.exit(0 if not bad else 1)
PY
}
if [ "$SUMMARY" = 1 ]; then summary; exit $?; fi

campaign_jar sync-campaign dwcp-sync dwcp-core dwcp-transport dwcp-bench

seed_command() {
  exec nice -n 15 java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -jar "$OUT/dwcp.jar" sync-bench --nodes 5 \
      --keys 4 --rate 40 --duration 4s --faults default --compare off "${EXTRA[@]}" --seed "$1" --seeds 1 \
      --out "$OUT/work/seed-$1" --json
}
seed_done() { [ "$2" = 0 ] && rm -rf "$OUT/work/seed-$1"; return 0; }   # keep the replicas' logs of a failing seed only
campaign_seeds
summary
