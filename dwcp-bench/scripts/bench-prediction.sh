#!/usr/bin/env bash
# Closed-loop benchmark of bandwidth prediction: `dwcp send` migrates successive real guest-RAM snapshots over an
# emulated link whose rate follows a throughput trace, and over a constant-rate link of the trace's mean rate, with
# prediction on (`dwcp.prediction.enabled=true`, the default) and off, alternating per repetition (paired: the two
# runs of a repetition are adjacent, and which goes first alternates). Reports each run's wall time and the on ÷ off
# ratio per repetition, with its median and 95 % interval, per link.
#
#   dwcp-bench/scripts/bench-prediction.sh                        # 5 reps, nyumets_7Train2 x4, 30 ms one way
#   dwcp-bench/scripts/bench-prediction.sh --links trace --reps 3 # only the trace-driven link
#
# Options:
#   --reps N            repetitions per link (default 5); each is one run with prediction on and one with it off
#   --trace FILE        throughput trace, `t_seconds<TAB>mbps` (default ../shared/data/traces/uniform/nyumets_7Train2.tsv)
#   --scale X           WAN_TRACE_SCALE: the trace's rates are multiplied by X (default 4)
#   --delay MS          one-way delay of both links (default 30: a 60 ms RTT, the WAN tier)
#   --constant MBIT     rate of the constant link (default: the trace's mean over its first --window seconds × scale)
#   --window S          seconds of the trace a run is expected to use, for the constant link's rate (default 120)
#   --links LIST        comma list of trace,constant (default both)
#   --corpus DIR        snapshot directory (default /var/tmp/vmcorpus/1g)
#   --files "A B .."    snapshot names in DIR, in round order (default "s0.ram s1.ram s5.ram s30.ram")
#   --dwcp-jvm "..."    JVM options of both dwcp processes (default "-XX:TieredStopAtLevel=1", as bench-migration.sh)
#   --props "..."       -D options given to the sender in BOTH arms (e.g. a shorter sample interval; label the result)
#   --on-props "..."    -D options given to the sender only with prediction on
#   --history           the "on" senders share a prediction history directory (OUT/pba-history,
#                       -Ddwcp.prediction.history-dir): each starts from the paths' samples of the earlier "on" runs
#   --warmup N          N unmeasured "on" runs over the link before the repetitions (default 0), so that with
#                       --history every measured "on" run has a history
#   --jar PATH          dwcp.jar (default dwcp-bench/target/dwcp.jar; copied per run)
#   --out DIR           results directory (default /var/tmp/dwcp-results/prediction-DATE-REV)
#
# The host namespace's TCP counters (segments sent and retransmitted, timeouts) before and after each send are in
# OUT/tcp-*.before|after (other processes of this namespace count too); the emulator's queue drops per run are in
# OUT/wan-down.log, in run order.
# The scheduling class of the WAN emulator is recorded in each run (OUT/wanem-sched-*.txt: `chrt -p` of every
# wanem process, taken 5 s into the transfer); a timing figure needs SCHED_OTHER there.
# Each run brings its own link up (`wan-up.sh`, the user-space emulator for both links: the constant link is a trace
# with one rate) and down again, so every run sees the trace from its start: the two arms of a repetition meet the
# same rate trajectory. WAN_TRACE_LOG records each run's rate changes (ground truth, OUT/rates-*.log). The sender's
# per-round lines (time, streams, bytes) are in OUT/send-*.out; with prediction on, OUT/send-*.err has one line per
# published forecast (logger io.dwcp.prediction.forecasts at DEBUG) and each stream change with the advice it had;
# plot-prediction.py OUT draws a run's link rate, forecast band and goodput from them.
#
# The WAN is serialised with flock /tmp/dwcp-wan.lock for the whole run; a link this script did not make is waited
# for (polling every 30 s) and never torn down. Needs root, iproute2, gcc (for the emulator), python3, Java 17.
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; }

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
wan=${WAN_DIR:-$(cd "$root/../shared/wan" 2>/dev/null && pwd || echo /work/shared/wan)}
traces=$(cd "$root/../shared/data/traces/uniform" 2>/dev/null && pwd || echo /work/shared/data/traces/uniform)

cmdline="$0 $*"
REPS=5; TRACE="$traces/nyumets_7Train2.tsv"; SCALE=4; DELAY=30; CONSTANT=""; WINDOW=120; LINKS="trace,constant"
CORPUS=/var/tmp/vmcorpus/1g; FILES="s0.ram s1.ram s5.ram s30.ram"; DWCP_JVM="-XX:TieredStopAtLevel=1"; PROPS=""
JAR=""; OUT=""; ON_PROPS=""; HISTORY=0; WARMUP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) REPS=$2; shift 2;;
    --trace) TRACE=$2; shift 2;;
    --scale) SCALE=$2; shift 2;;
    --delay) DELAY=$2; shift 2;;
    --constant) CONSTANT=$2; shift 2;;
    --window) WINDOW=$2; shift 2;;
    --links) LINKS=$2; shift 2;;
    --corpus) CORPUS=$2; shift 2;;
    --files) FILES=$2; shift 2;;
    --dwcp-jvm) DWCP_JVM=$2; shift 2;;
    --props) PROPS=$2; shift 2;;
    --on-props) ON_PROPS=$2; shift 2;;
    --history) HISTORY=1; shift;;
    --warmup) WARMUP=$2; shift 2;;
    --jar) JAR=$2; shift 2;;
    --out) OUT=$2; shift 2;;
    -h|--help) usage; exit 0;;
    *) echo "bench-prediction: unknown argument '$1'" >&2; usage >&2; exit 2;;
  esac
done
[[ "$REPS" =~ ^[1-9][0-9]*$ ]] || { echo "--reps must be a positive integer" >&2; exit 2; }
[[ "$WARMUP" =~ ^[0-9]+$ ]] || { echo "--warmup must be a whole number" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench-prediction: needs root (network namespace)" >&2; exit 1; }
[ -f "$TRACE" ] || { echo "bench-prediction: no trace $TRACE" >&2; exit 1; }
paths=()
for f in $FILES; do
  [ -f "$CORPUS/$f" ] || { echo "bench-prediction: $CORPUS/$f missing (../shared/vmcorpus/make-corpus.sh)" >&2; exit 1; }
  paths+=("$CORPUS/$f")
done
if [ -z "$CONSTANT" ]; then
  CONSTANT=$(awk -v w="$WINDOW" -v s="$SCALE" 'NR <= w { t += $2; n++ } END { printf "%.1f", t / n * s }' "$TRACE")
fi

rev=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null)" ]; then rev="$rev-dirty"; fi
stamp=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${OUT:-/var/tmp/dwcp-results/prediction-$stamp-$rev}
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
if [ "$HISTORY" = 1 ]; then
  mkdir -p "$OUT/pba-history"; ON_PROPS="$ON_PROPS -Ddwcp.prediction.history-dir=$OUT/pba-history"
fi
work=$(mktemp -d /var/tmp/dwcp-bench-prediction.XXXXXX)
[ -n "$JAR" ] || JAR="$root/dwcp-bench/target/dwcp.jar"
[ -f "$JAR" ] || { echo "bench-prediction: no $JAR (./mvnw -B -q -pl dwcp-bench -am package -DskipTests)" >&2; exit 1; }
cp "$JAR" "$work/dwcp.jar"; jar="$work/dwcp.jar"
printf '0\t%s\n86400\t%s\n' "$CONSTANT" "$CONSTANT" > "$work/constant.tsv"

rx_host=198.18.0.2; port=7610; ns="ip netns exec dwcp-b"
receiver=""; link_up=0
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
down() { if [ "$link_up" = 1 ]; then "$wan/wan-down.sh" >> "$OUT/wan-down.log" 2>&1 || true; link_up=0; fi; }
cleanup() {
  local rc=$?
  [ -n "$receiver" ] && kill "$receiver" 2>/dev/null || true
  wait 2>/dev/null || true
  down
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
. "$(dirname "$0")/wan-lock.sh"
now() { echo "${EPOCHREALTIME/,/.}"; }
# TCP counters of this host's network namespace (the sender's side): segments sent and retransmitted, timeouts.
tcpstat() {
  awk '$1 == "Tcp:" || $1 == "TcpExt:" { if (!($1 in h)) { h[$1] = $0; next } n = split(h[$1], k); split($0, v)
       for (i = 2; i <= n; i++) print k[i], v[i] }' /proc/net/snmp /proc/net/netstat \
    | grep -E '^(OutSegs|RetransSegs|TCPTimeouts|TCPLossProbes|TCPSackRecovery|TCPLostRetransmit) '
}

wan_lock

cat "${paths[@]}" > /dev/null   # page cache: no run pays for disk reads the others do not
uptime > "$OUT/uptime-before.txt"
python3 - "$OUT/env.json" <<PY
import json, os, subprocess, sys
sh = lambda c: subprocess.run(c, shell=True, capture_output=True, text=True).stdout.strip()
json.dump({"command": """$cmdline""", "gitRevision": "$rev", "date": "$stamp", "kernel": sh("uname -r"),
           "cores": os.cpu_count(), "cpu": sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"),
           "jdk": sh("java -version 2>&1 | head -1"), "congestionControl": sh("sysctl -n net.ipv4.tcp_congestion_control"),
           "trace": "$TRACE", "scale": "$SCALE", "oneWayDelayMs": "$DELAY", "constantMbit": "$CONSTANT",
           "files": "$FILES".split(), "corpus": "$CORPUS", "reps": $REPS, "jvm": "$DWCP_JVM", "props": "$PROPS", "onProps": "$ON_PROPS", "warmup": $WARMUP,
           "jarSha256": sh("sha256sum '$jar' | cut -c1-64"), "uptimeBefore": sh("uptime")}, open(sys.argv[1], "w"), indent=2)
PY

raw="$OUT/raw.tsv"
printf 'link\trep\tprediction\twall_s\tsend_wall_s\twire_bytes\tround_s\tstreams\tcmp\n' > "$raw"

run_one() { # link rep on|off
  local link=$1 rep=$2 arm=$3 key="p-$1-$2-$3" rxdir="$work/rx" trace="$TRACE" scale="$SCALE" t0 t1 st
  [ "$link" = constant ] && { trace="$work/constant.tsv"; scale=1; }
  rm -rf "$rxdir"; mkdir -p "$rxdir"
  now > "$OUT/linkup-$link-$rep-$arm.txt"   # epoch of the rate log's t = 0 (for plot-prediction.py)
  WAN_TRACE="$trace" WAN_TRACE_SCALE="$scale" WAN_TRACE_LOG="$OUT/rates-$link-$rep-$arm.log" \
    "$wan/wan-up.sh" "$DELAY" 0 0 >> "$OUT/wan-up.log" 2>&1
  link_up=1
  # shellcheck disable=SC2086
  $ns java $DWCP_JVM -jar "$jar" receive --listen "$rx_host:$port" --out "$rxdir" --plaintext --json \
      > "$OUT/receive-$link-$rep-$arm.jsonl" 2> "$OUT/receive-$link-$rep-$arm.err" &
  receiver=$!
  for _ in $(seq 400); do $ns ss -ltnH "sport = :$port" 2>/dev/null | grep -q . && break; sleep 0.05; done
  tcpstat > "$OUT/tcp-$link-$rep-$arm.before"
  t0=$(now)
  set +e
  # shellcheck disable=SC2086
  ( sleep 5; for p in $(pgrep wanem); do chrt -p "$p"; done ) > "$OUT/wanem-sched-$link-$rep-$arm.txt" 2>&1 &
  local sched=$!
  local armprops=""; [ "$arm" = on ] && armprops=$ON_PROPS
  java $DWCP_JVM $PROPS $armprops -Ddwcp.prediction.enabled=$([ "$arm" = on ] && echo true || echo false) \
      -Dorg.slf4j.simpleLogger.defaultLogLevel=info -Dorg.slf4j.simpleLogger.log.io.dwcp.prediction.forecasts=debug \
      -Dorg.slf4j.simpleLogger.showDateTime=true -Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS -jar "$jar" send --to "$rx_host:$port" --key "$key" --plaintext \
      --json "${paths[@]}" > "$OUT/send-$link-$rep-$arm.out" 2> "$OUT/send-$link-$rep-$arm.err"
  st=$?
  set -e
  wait "$sched" 2>/dev/null || true
  t1=$(now)
  tcpstat > "$OUT/tcp-$link-$rep-$arm.after"
  kill "$receiver" 2>/dev/null || true; wait "$receiver" 2>/dev/null || true; receiver=""
  down
  local vf=ok; [ "$st" = 0 ] || vf="FAILED-exit-$st"
  [ "$st" = 0 ] && { cmp -s "$rxdir/$key" "${paths[-1]}" || vf=MISMATCH; }
  python3 - "$OUT/send-$link-$rep-$arm.out" "$link" "$rep" "$arm" "$t0" "$t1" "$vf" >> "$raw" <<'PY'
import json, sys
out, link, rep, arm, t0, t1, vf = sys.argv[1:]
lines = [l for l in open(out) if l.strip()]
try:
    js = json.loads(lines[-1])
    send, wire = f"{js['wallSeconds']:.3f}", js["wireBytes"]
    levels = ",".join(f"{r['seconds']:.1f}" for r in js["rounds"])
    streams = ",".join(str(r.get("streams", "?")) for r in js["rounds"])
except Exception:
    send, wire, levels, streams = "-", "-", "-", "-"
print(f"{link}\t{rep}\t{arm}\t{float(t1) - float(t0):.3f}\t{send}\t{wire}\t{levels}\t{streams}\t{vf}")
PY
  log "$link rep $rep prediction $arm: $(tail -1 "$raw" | cut -f4-)"
}

IFS=, read -r -a links <<<"$LINKS"
for link in "${links[@]}"; do
  for w in $(seq "$WARMUP"); do run_one "$link" "warmup$w" on; done
  for rep in $(seq "$REPS"); do
    if [ $((rep % 2)) = 1 ]; then run_one "$link" "$rep" on; run_one "$link" "$rep" off
    else run_one "$link" "$rep" off; run_one "$link" "$rep" on; fi
  done
done
uptime > "$OUT/uptime-after.txt"

python3 - "$raw" "$OUT/results.json" "$CONSTANT" <<'PY'
import json, statistics, sys
raw, out, constant = sys.argv[1:]
rows = [l.rstrip("\n").split("\t") for l in open(raw)][1:]
T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228}
res = {}
from math import comb
def median_interval(xs):
    """Distribution-free interval of the median from order statistics, and its coverage (binomial, p = 1/2)."""
    n, xs = len(xs), sorted(xs)
    best = (1, 1 - 2 * sum(comb(n, i) for i in range(1)) / 2 ** n)
    for k in range(1, n // 2 + 1):
        cov = 1 - 2 * sum(comb(n, i) for i in range(k)) / 2 ** n
        if cov >= 0.95:
            best = (k, cov)
    k, cov = best
    return xs[k - 1], xs[n - k], cov
print("| link | reps | on: median wall s | off: median wall s | on ÷ off per rep | median ratio [interval, coverage] | mean ratio ± 95 % | all replicas |")
print("|---|---|---|---|---|---|---|---|")
for link in dict.fromkeys(r[0] for r in rows):
    by = {}
    for r in rows:
        if r[0] == link:
            by.setdefault(r[1], {})[r[2]] = r
    pairs = [(float(v["on"][3]), float(v["off"][3])) for k, v in by.items() if "on" in v and "off" in v
             and not k.startswith("warmup")
             and v["on"][8] == "ok" and v["off"][8] == "ok"]
    ratios = [a / b for a, b in pairs]
    ok = all(r[8] == "ok" for r in rows if r[0] == link)
    if not ratios:
        print(f"| {link} | 0 | - | - | - | - | - | {ok} |"); continue
    m = statistics.mean(ratios)
    hw = T95.get(len(ratios) - 1, 1.96) * statistics.stdev(ratios) / len(ratios) ** 0.5 if len(ratios) > 1 else float("nan")
    lo, hi, cov = median_interval(ratios)
    res[link] = {"medianInterval": [lo, hi], "medianIntervalCoverage": cov, "pairs": pairs, "ratios": ratios, "medianRatio": statistics.median(ratios), "meanRatio": m,
                 "ci95HalfWidth": hw, "medianOn": statistics.median(a for a, _ in pairs),
                 "medianOff": statistics.median(b for _, b in pairs), "allReplicasExact": ok}
    print(f"| {link} | {len(ratios)} | {res[link]['medianOn']:.2f} | {res[link]['medianOff']:.2f} | "
          f"{' '.join(f'{x:.3f}' for x in ratios)} | {res[link]['medianRatio']:.3f} [{lo:.3f}, {hi:.3f}, {cov:.3f}] | {m:.3f} ± {hw:.3f} | {ok} |")
res["constantMbit"] = float(constant)
json.dump(res, open(out, "w"), indent=2)
PY
log "results in $OUT"
