#!/usr/bin/env bash
# Warm-start benchmark: migrations to a receiver that already holds a version of the state, from NEW sender
# processes that hold no baseline (replica-seeded rounds), beside a continuous session's delta of the same change.
#
#   dwcp-bench/scripts/bench-warm.sh                       # emulated WAN 25 ms one way, 0.05 % loss, 400 Mbit/s; 5 reps
#   dwcp-bench/scripts/bench-warm.sh --no-wan              # loopback 127.0.0.1 (not a WAN result)
#
# Options:
#   --reps N         repetitions (default 5)
#   --no-wan         loopback, no link, no namespace
#   --wan "D L R"    wan-up.sh arguments (default "25 0.05 400")
#   --corpus DIR     snapshot directory (default /var/tmp/vmcorpus/1g)
#   --base F         the version the receiver holds (default s0.ram)
#   --new F          the version a new sender sends (default s30.ram)
#   --seed MODE      dwcp send --seed for the warm cases: auto (default) or always
#   --dwcp-jvm "..." JVM options of the dwcp processes (default "": the default JIT; C1-only JVMs hash SHA-256 without
#                    the CPU's SHA instructions, about 15x slower)
#   --out DIR        results directory (default /var/tmp/dwcp-results/warm-DATE)
#
# Each repetition, with one receiver process running throughout (`dwcp receive`, replicas in a scratch directory):
#   cont   `dwcp send --seed never BASE NEW`: one session, round 0 full, round 1 the codec delta BASE -> NEW; its
#          round 1 is the reference of `warm`
#   same   a new `dwcp send --seed MODE NEW` while the receiver holds NEW: the same state again. The replica was
#          just written by cont's delta round; the receiver describes it in the background after that round (reads
#          and hashes the whole replica), and the seed exchange waits for that if it is still running (builds before
#          the background description: the receiver describes it cold, first)
#   (a seeded `send BASE` puts BASE back, and leaves its description cached; not measured)
#   warm   a new `dwcp send --seed MODE NEW` while the receiver holds BASE (description cached)
# Figures per case: tool bytes (the round report's wireBytes: the round transfer's wire bytes plus the seed exchange's
# payload bytes), the seed exchange's bytes, the round's seconds (from the start of the round to the receiver's verified
# commit: hashing, description exchange, transfer, verification and write) and the send process's wall seconds
# (JVM start included). Every replica is compared with its source (cmp) off the clock. OUT/memory.tsv: the peak RssAnon
# (KiB, sampled every 0.2 s) of each sender process and of the receiver while that sender ran.
# Output: OUT/raw.tsv, OUT/results.json and a Markdown table on stdout (median, and mean +- 95 % CI half-width).
set -euo pipefail

usage() { sed -n '2,33p' "$0" | sed 's/^# \{0,1\}//'; }
cmdline="$0 $*"
REPS=5; NO_WAN=0; WAN_ARGS="25 0.05 400"; CORPUS=/var/tmp/vmcorpus/1g; BASE=s0.ram; NEW=s30.ram; SEED=auto
DWCP_JVM=""; OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) REPS=$2; shift 2;;
    --no-wan) NO_WAN=1; shift;;
    --wan) WAN_ARGS=$2; shift 2;;
    --corpus) CORPUS=$2; shift 2;;
    --base) BASE=$2; shift 2;;
    --new) NEW=$2; shift 2;;
    --seed) SEED=$2; shift 2;;
    --dwcp-jvm) DWCP_JVM=$2; shift 2;;
    --out) OUT=$2; shift 2;;
    -h|--help) usage; exit 0;;
    *) echo "bench-warm: unknown argument '$1'" >&2; usage >&2; exit 2;;
  esac
done
[[ "$REPS" =~ ^[1-9][0-9]*$ ]] || { echo "--reps must be a positive integer" >&2; exit 2; }
case "$SEED" in auto|always) ;; *) echo "--seed takes auto or always" >&2; exit 2;; esac
read -r WAN_DELAY WAN_LOSS WAN_RATE <<<"$WAN_ARGS"
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
wan=${WAN_DIR:-$(cd "$root/../shared/wan" 2>/dev/null && pwd || echo /work/shared/wan)}
OUT=${OUT:-/var/tmp/dwcp-results/warm-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
work=$(mktemp -d /var/tmp/dwcp-bench-warm.XXXXXX)
JAR="${DWCP_JAR:-$root/dwcp-bench/target/dwcp.jar}"   # DWCP_JAR=F to measure another build
[ -f "$JAR" ] || (cd "$root" && ./mvnw -B -q -pl dwcp-bench -am package -DskipTests)
cp "$JAR" "$work/dwcp.jar"
jar="$work/dwcp.jar"
if [ "$NO_WAN" = 1 ]; then ns=""; host=127.0.0.1; else ns="ip netns exec dwcp-b"; host=198.18.0.2; fi
port=${WARM_PORT:-7650}   # WARM_PORT=N to use another port
receiver=""; made_link=0
cleanup() {
  local rc=$?
  [ -n "$receiver" ] && kill "$receiver" 2>/dev/null || true
  wait 2>/dev/null || true
  if [ "$made_link" = 1 ]; then "$wan/wan-down.sh" > "$OUT/wan-down.log" 2>&1 || true; fi
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
. "$(dirname "$0")/wan-lock.sh"
if [ "$NO_WAN" = 0 ]; then
  wan_lock
  made_link=1
  "$wan/wan-up.sh" "$WAN_DELAY" "$WAN_LOSS" "$WAN_RATE" | tee "$OUT/wan-up.log" >&2
fi
{ echo "cmdline: $cmdline"; echo "rev: $(cd "$root" && git rev-parse --short HEAD)"; uptime; nproc; java -version 2>&1 | head -1
  echo "link: $([ "$NO_WAN" = 1 ] && echo loopback || echo "wan $WAN_ARGS")"; } > "$OUT/env.txt"
# The user-space link emulator inherits this script's scheduling class when it starts: an emulator in SCHED_IDLE
# (started from a process in the idle class) carries a fraction of the link's rate, and every WAN time is then wrong.
if [ "$NO_WAN" = 0 ] && emu=$(pgrep -x wanem); then
  pol=$(chrt -p "$emu" 2>/dev/null | head -1 || true)
  echo "emulator: $pol" >> "$OUT/env.txt"
  case "$pol" in *SCHED_IDLE*) log "WARNING: the link emulator runs in SCHED_IDLE: the link will not carry its rate and the times are not valid (start the benchmark from a process at SCHED_OTHER)";; esac
fi

# shellcheck disable=SC2086
$ns java $DWCP_JVM -jar "$jar" receive --plaintext --listen "$host:$port" --out "$work/rx" --json > "$OUT/receiver.jsonl" 2> "$OUT/receiver.err" &
receiver=$!
# The receiver's java process (under `ip netns exec` it is a child of the started process).
receiver_java=$receiver
for _ in $(seq 1 20); do
  c=$(pgrep -P "$receiver" java || true); [ -n "$c" ] && { receiver_java=$c; break; }
  [ "$NO_WAN" = 1 ] && break; sleep 0.1
done
printf 'rep\tcase\tsenderPeakRssAnonKiB\treceiverPeakRssAnonKiB\n' > "$OUT/memory.tsv"
for _ in $(seq 1 120); do grep -q listening "$OUT/receiver.err" 2>/dev/null && break; sleep 0.5; done
grep -q listening "$OUT/receiver.err" || { log "receiver did not start"; cat "$OUT/receiver.err" >&2; exit 1; }

printf 'rep\tcase\tround\tmode\twireBytes\tseedBytes\tseconds\tprocessSeconds\n' > "$OUT/raw.tsv"
# send CASE SEEDMODE FILES...: one new sender process; records every round (unless CASE is "-")
send() {
  local case=$1 mode=$2; shift 2
  local files=()
  for f in "$@"; do files+=("$CORPUS/$f"); done
  local t0 t1
  t0=$(date +%s.%N)
  # shellcheck disable=SC2086
  java $DWCP_JVM -jar "$jar" send --plaintext --to "$host:$port" --key vm --seed "$mode" --json "${files[@]}" \
    > "$work/send.out" 2> "$work/send.err" &
  local spid=$! speak=0 rpeak=0 v
  # Peak RssAnon (heap, direct and native memory; not page cache) of this sender and of the receiver meanwhile,
  # sampled every 0.2 s.
  while kill -0 "$spid" 2>/dev/null; do
    v=$(awk '/^RssAnon/ {print $2}' "/proc/$spid/status" 2>/dev/null || true); [ -n "$v" ] && [ "$v" -gt "$speak" ] && speak=$v
    v=$(awk '/^RssAnon/ {print $2}' "/proc/$receiver_java/status" 2>/dev/null || true); [ -n "$v" ] && [ "$v" -gt "$rpeak" ] && rpeak=$v
    sleep 0.2
  done
  wait "$spid" || { log "send failed"; cat "$work/send.err" >&2; exit 1; }
  t1=$(date +%s.%N)
  printf '%s\t%s\t%s\t%s\n' "$rep" "$case" "$speak" "$rpeak" >> "$OUT/memory.tsv"
  tail -1 "$work/send.out" > "$work/send.json"
  cp "$work/send.err" "$OUT/send-$rep-${case/-/restore}.err"   # phase logs, with --dwcp-jvm -Dorg.slf4j.simpleLogger.defaultLogLevel=info
  cmp "$work/rx/vm" "$CORPUS/${*: -1}" || { log "replica differs from ${*: -1}"; exit 1; }
  [ "$case" = - ] && return 0
  python3 - "$work/send.json" "$rep" "$case" "$t0" "$t1" >> "$OUT/raw.tsv" <<'PY'
import json, sys
j = json.load(open(sys.argv[1])); rep, case, t0, t1 = sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
for r in j["rounds"]:
    print("\t".join(map(str, [rep, case, r["round"], r["mode"], r["wireBytes"], r["seedBytes"], round(r["seconds"], 3), round(t1 - t0, 3)])))
PY
}

for rep in $(seq 1 "$REPS"); do
  log "rep $rep/$REPS: cont ($BASE then $NEW in one session)"
  send cont never "$BASE" "$NEW"
  log "rep $rep/$REPS: same ($NEW again from a new sender)"
  send same "$SEED" "$NEW"
  send - always "$BASE"
  log "rep $rep/$REPS: warm ($NEW from a new sender, receiver holds $BASE)"
  send warm "$SEED" "$NEW"
done

python3 - "$OUT" "$CORPUS/$BASE" <<'PY' | tee "$OUT/table.md"
import csv, json, os, statistics as st, sys
out, base = sys.argv[1], sys.argv[2]
size = os.path.getsize(base)
rows = list(csv.DictReader(open(os.path.join(out, "raw.tsv")), delimiter="\t"))
T = {2: 12.706, 3: 4.303, 4: 3.182, 5: 2.776, 6: 2.571, 7: 2.447, 8: 2.365, 9: 2.306, 10: 2.262}
def stats(xs):
    xs = [float(x) for x in xs]
    if not xs: return None
    m = st.mean(xs); h = T.get(len(xs), 1.96) * st.stdev(xs) / len(xs) ** 0.5 if len(xs) > 1 else float("nan")
    return {"n": len(xs), "median": st.median(xs), "mean": m, "ci95": h, "min": min(xs), "max": max(xs)}
def pick(case, rnd):
    return [r for r in rows if r["case"] == case and r["round"] == str(rnd)]
cases = {"same (new sender, same state, after a delta round)": pick("same", 0), "warm (new sender, new version)": pick("warm", 0),
         "cont round 1 (continuous session delta)": pick("cont", 1), "cont round 0 (full)": pick("cont", 0)}
res = {"stateBytes": size, "cases": {}}
print("| case | mode(s) | wire bytes median | % of state | seed exchange B | round s median (mean ± 95 % CI) | process s median |")
print("|---|---|---:|---:|---:|---:|---:|")
for name, rs in cases.items():
    if not rs: continue
    w = stats(r["wireBytes"] for r in rs); s = stats(r["seconds"] for r in rs); p = stats(r["processSeconds"] for r in rs)
    sb = stats(r["seedBytes"] for r in rs); modes = ",".join(sorted({r["mode"] for r in rs}))
    res["cases"][name] = {"modes": modes, "wireBytes": w, "seconds": s, "processSeconds": p, "seedBytes": sb}
    print(f"| {name} | {modes} | {w['median']:,.0f} | {100 * w['median'] / size:.3f} | {sb['median']:,.0f} | "
          f"{s['median']:.2f} ({s['mean']:.2f} ± {s['ci95']:.2f}) | {p['median']:.2f} |")
warm, cont = pick("warm", 0), pick("cont", 1)
if warm and cont:
    by = {r["rep"]: r for r in cont}
    wr = [float(r["wireBytes"]) / float(by[r["rep"]]["wireBytes"]) for r in warm if r["rep"] in by]
    tr = [float(r["seconds"]) / float(by[r["rep"]]["seconds"]) for r in warm if r["rep"] in by]
    res["warmOverCont"] = {"wire": stats(wr), "seconds": stats(tr)}
    print(f"\nwarm ÷ cont, paired by repetition: wire bytes {st.median(wr):.3f} (mean {st.mean(wr):.3f} ± {stats(wr)['ci95']:.3f}),"
          f" round seconds {st.median(tr):.2f} (mean {st.mean(tr):.2f} ± {stats(tr)['ci95']:.2f})")
mem_path = os.path.join(out, "memory.tsv")
if os.path.exists(mem_path):
    mem = list(csv.DictReader(open(mem_path), delimiter="\t"))
    target = 512 + 0.10 * size / 2**20
    print(f"\npeak RssAnon, MiB (target 512 MiB + 10 % of the state = {target:,.0f} MiB):")
    res["memoryMiB"] = {}
    for case in ("cont", "same", "warm"):
        ms = [r for r in mem if r["case"] == case]
        if not ms: continue
        snd = [int(r["senderPeakRssAnonKiB"]) / 1024 for r in ms]; rcv = [int(r["receiverPeakRssAnonKiB"]) / 1024 for r in ms]
        res["memoryMiB"][case] = {"sender": stats(snd), "receiver": stats(rcv)}
        print(f"  {case}: sender median {st.median(snd):,.0f} (max {max(snd):,.0f}), receiver median {st.median(rcv):,.0f} (max {max(rcv):,.0f})")
json.dump(res, open(os.path.join(out, "results.json"), "w"), indent=1)
PY
log "results in $OUT"
