#!/usr/bin/env bash
# Update-to-all-replicas lag of dwcp-sync on the emulated WAN:
#
#   DWCP_TIMING=1 flock /tmp/dwcp-timing.lock dwcp-bench/scripts/bench-sync-wan.sh --reps 5
#   dwcp-bench/scripts/bench-sync-wan.sh --lag-args dwcp.sync.gossip.fanout=4      # a labelled, non-default setting
#
# Two sites joined by the emulated link (../shared/wan, default 25 ms one way = 50 ms RTT, 0.05 % loss, 400 Mbit/s):
# A = this host (198.18.0.1) with 3 replicas, B = network namespace dwcp-b (198.18.0.2) with 2. Five replica JVMs,
# no proxies; replication with the WAN tier's defaults (fanout 3, gossip every 5 s, anti-entropy every 30 s) plus
# --lag-args. Per repetition `dwcp sync-bench --lag-updates` makes 20 warm-up updates and then --updates measured
# ones, one every --interval-ms, each a fresh key at a random replica; lag = from just before the update on its writer
# to the moment the last other replica's state changed for it (one machine-wide monotonic clock). The path RTT is
# measured with ping across the link; the figure is p99 lag / RTT (target <= 3).
#
# Options: --reps N (default 5), --updates N (default 200), --interval-ms N (default 100), --wan "D L R",
#          --lag-args key=value,..., --jar PATH, --out DIR (default /var/tmp/dwcp-results/sync-wan-DATE-REV).
# Holds flock /tmp/dwcp-wan.lock for its whole run, never tears down a link it did not make, removes its link at exit.
# Needs root, iproute2, Java 17, python3. Traffic: 198.18.0.1/198.18.0.2 only.
set -euo pipefail

REPS=5; UPDATES=200; INTERVAL=100; WAN_ARGS="25 0.05 400"; LAG_ARGS=""; JAR=""; OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) REPS=$2; shift 2;;
    --updates) UPDATES=$2; shift 2;;
    --interval-ms) INTERVAL=$2; shift 2;;
    --wan) WAN_ARGS=$2; shift 2;;
    --lag-args) LAG_ARGS=$2; shift 2;;
    --jar) JAR=$2; shift 2;;
    --out) OUT=$2; shift 2;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0;;
    *) echo "bench-sync-wan: unknown argument '$1'" >&2; exit 2;;
  esac
done
read -r WAN_DELAY WAN_LOSS WAN_RATE <<<"$WAN_ARGS"
here=$(cd "$(dirname "$0")" && pwd)
. "$here/wan-lock.sh"
bench_paths sync-wan "network namespace"
work=$(mktemp -d /var/tmp/dwcp-bench-sync-wan.XXXXXX)
[ -n "$JAR" ] || JAR="$root/dwcp-bench/target/dwcp.jar"
cp "$JAR" "$work/dwcp.jar"
A=198.18.0.1; B=198.18.0.2
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

made_link=0
cleanup() {
  local rc=$?
  if [ "$made_link" = 1 ]; then "$wan/wan-down.sh" > "$OUT/wan-down.log" 2>&1 || true; fi
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wan_lock
made_link=1
"$wan/wan-up.sh" "$WAN_DELAY" "$WAN_LOSS" "$WAN_RATE" | tee "$OUT/wan-up.log" >&2
uptime | tee "$OUT/uptime-before.txt" >&2
rtt=$(ping -c 20 -i 0.2 -q "$B" | awk -F/ '/rtt|round-trip/ { print $5 }')
log "ping RTT A-B: $rtt ms"
# the harness JVM itself stays out of the replicas' way (the sync-bench process only paces and collects)
java -Xmx256m -jar "$work/dwcp.jar" sync-bench --nodes 5 --seeds 0 --ae-keys 0 --seed 1 \
    --lag-updates "$UPDATES" --lag-reps "$REPS" --lag-interval-ms "$INTERVAL" --lag-args "$LAG_ARGS" \
    --wan-a "$A" --wan-b "$B" --wan-b-nodes 2 --wan-b-prefix "ip netns exec dwcp-b" --out "$OUT/logs" --json \
    2> "$OUT/bench.log" | tee "$OUT/bench.out" >&2
uptime | tee "$OUT/uptime-after.txt" >&2
tail -1 "$OUT/bench.out" > "$OUT/result.json"
python3 - "$OUT" "$rtt" <<'PY' | tee "$OUT/table.md"
import json, sys
out, rtt = sys.argv[1], float(sys.argv[2])
d = json.load(open(out + "/result.json"))
p99 = d["lagMillisP99"]
print("| updates | missing | RTT ms (ping) | p50 ms | p99 ms | max ms | p99 / RTT | within 3x |")
print("|---|---|---|---|---|---|---|---|")
print(f"| {d['lagUpdates']} | {d['lagMissing']} | {rtt:.1f} | {d['lagMillisP50']:.1f} | {p99:.1f} | {d['lagMillisMax']:.1f} | {p99/rtt:.2f} | {'yes' if p99 <= 3 * rtt else 'no'} |")
PY
log "results in $OUT"
