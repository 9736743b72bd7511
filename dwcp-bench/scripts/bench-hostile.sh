#!/usr/bin/env bash
# A legitimate migration while a hostile peer holds its maximum of sessions and transfers and floods connections:
# wall time of `dwcp send` with the hostile peer running ÷ without it, paired by repetition.
#
#   dwcp-bench/scripts/bench-hostile.sh                  # 5 reps, 128 MiB state in 2 versions (full round, delta)
#   dwcp-bench/scripts/bench-hostile.sh --reps 7 --mib 256
#
# Options:
#   --reps N      repetitions (default 5); each runs both conditions, in alternating order
#   --mib M       state size in MiB (default 128)
#   --jar PATH    dwcp.jar (default dwcp-bench/target/dwcp.jar, built if missing)
#   --work DIR    scratch directory (default a new one under /var/tmp)
#
# Per condition and rep: a fresh `dwcp receive` on 127.0.0.1 with default settings (plaintext), then, for the hostile
# condition, `dwcp hostile-peer` from 127.0.0.2 (another peer identity): 8 sessions that answer PINGs, 64 transfers
# announced and never fed, 256 TCP connections that never say HELLO, re-made when dropped. Once it prints that it
# holds them, `dwcp send` migrates v0 then v1 (a full round, then a delta) from 127.0.0.1 and is timed. The replica is
# compared byte for byte with v1 after every send. Results: $WORK/results.csv and a summary on stdout (median of the
# per-rep ratios, and a Student-t 95 % interval of their mean).
set -uo pipefail
cd "$(dirname "$0")/../.."

REPS=5; MIB=128; JAR=dwcp-bench/target/dwcp.jar; WORK=""
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) REPS=$2; shift 2;;
    --mib) MIB=$2; shift 2;;
    --jar) JAR=$2; shift 2;;
    --work) WORK=$2; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
[ -f "$JAR" ] || ./mvnw -B -q -pl dwcp-bench -am package -DskipTests
[ -n "$WORK" ] || WORK=$(mktemp -d /var/tmp/dwcp-hostile.XXXXXX)
mkdir -p "$WORK"
JAVA="java -jar $JAR"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; PIDS=(); }
trap cleanup EXIT

# Two versions: mixed content (zero, text, random pages), then 2 % of the pages edited.
python3 dwcp-bench/scripts/synth-versions.py "$WORK" "$MIB" 2 11

wait_for() { # $1 file, $2 text, $3 pid: waits up to 60 s
  for _ in $(seq 600); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

echo "rep,condition,wall_s,ok" > "$WORK/results.csv"
one() { # $1 rep, $2 condition (normal|hostile)
  local rep=$1 cond=$2 d="$WORK/r$1-$2" port=$((21000 + RANDOM % 20000))
  mkdir -p "$d/out"
  $JAVA receive --listen 127.0.0.1:$port --out "$d/out" --plaintext > "$d/recv.log" 2>&1 &
  local rpid=$!; PIDS+=($rpid)
  wait_for "$d/recv.log" "listening on" $rpid || { echo "rep $rep $cond: receiver did not start" >&2; cleanup; return 1; }
  if [ "$cond" = hostile ]; then
    $JAVA hostile-peer --to 127.0.0.1:$port --bind 127.0.0.2 > "$d/hostile.log" 2>&1 &
    local hpid=$!; PIDS+=($hpid)
    wait_for "$d/hostile.log" "hostile peer holding" $hpid || { echo "rep $rep: hostile peer did not start" >&2; cat "$d/hostile.log" >&2; cleanup; return 1; }
  fi
  local t0 t1 ok=1
  t0=$(date +%s.%N)
  $JAVA send --to 127.0.0.1:$port --key vm --plaintext "$WORK/v0.ram" "$WORK/v1.ram" > "$d/send.log" 2>&1 || ok=0
  t1=$(date +%s.%N)
  cmp -s "$d/out/vm" "$WORK/v1.ram" || ok=0
  [ "$cond" = hostile ] && cp "$d/hostile.log" "$d/hostile-at-end.log"
  cleanup
  echo "$rep,$cond,$(awk "BEGIN{printf \"%.3f\", $t1 - $t0}"),$ok" >> "$WORK/results.csv"
  echo "rep $rep $cond: $(awk "BEGIN{printf \"%.3f\", $t1 - $t0}") s, replica ok=$ok"
}

for rep in $(seq 1 "$REPS"); do
  if [ $((rep % 2)) -eq 1 ]; then one $rep normal; one $rep hostile; else one $rep hostile; one $rep normal; fi
done

python3 - "$WORK/results.csv" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
by = {}
for r in rows:
    by.setdefault(r["rep"], {})[r["condition"]] = (float(r["wall_s"]), r["ok"] == "1")
ratios, normal, hostile, bad = [], [], [], 0
for rep, c in sorted(by.items(), key=lambda kv: int(kv[0])):
    if "normal" in c and "hostile" in c:
        bad += (not c["normal"][1]) + (not c["hostile"][1])
        normal.append(c["normal"][0]); hostile.append(c["hostile"][0])
        ratios.append(c["hostile"][0] / c["normal"][0])
T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228]
n = len(ratios)
if n == 0:
    print("no complete repetition"); sys.exit(1)
mean = statistics.mean(ratios)
half = T975[n - 2] * statistics.stdev(ratios) / n ** 0.5 if 2 <= n <= 11 else float("nan")
print(f"reps {n}; sends with a wrong replica or a failure: {bad}")
print(f"normal wall s: median {statistics.median(normal):.2f} {['%.2f' % x for x in normal]}")
print(f"hostile wall s: median {statistics.median(hostile):.2f} {['%.2f' % x for x in hostile]}")
print(f"hostile / normal per rep: {['%.3f' % x for x in ratios]}")
print(f"median ratio {statistics.median(ratios):.3f}; mean {mean:.3f} ± {half:.3f} (95 % CI, Student t)")
print("target <= 1.2: " + ("met" if statistics.median(ratios) <= 1.2 else "MISSED"))
EOF
