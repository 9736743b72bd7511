#!/usr/bin/env bash
# Live migration of a running QEMU guest over the emulated WAN: DWCP (`dwcp qemu-migrate`: RAM by pre-copy rounds,
# device state by QEMU with x-ignore-shared) against QEMU's own modes in the same run: plain precopy, XBZRLE,
# multifd 8 channels, multifd 8 + zstd.
#
#   dwcp-bench/scripts/bench-qemu.sh                     # WAN 25 ms one way, 0.05 % loss, 400 Mbit/s; 5 reps
#   dwcp-bench/scripts/bench-qemu.sh --reps 1 --no-wan   # loopback smoke test (never a WAN figure)
#
# Options:
#   --reps N        repetitions (default 5); the method order rotates each repetition
#   --first-rep K   number the repetitions K.. (default 1; the rotation follows the number): a long benchmark in parts,
#                   each holding the link for at most ~20 minutes; qemu/summarize.py OUT1 OUT2 ... joins them
#   --methods LIST  comma list of dwcp,plain,xbzrle,multifd8,multifd8-zstd (default all)
#   --mem SIZE      guest RAM (default 1G; 4G works but boots and moves 4x as much)
#   --warmup S      seconds of workload after the guest's first self-check, before migrating (default 30)
#   --converge S    a QEMU mode not completed after S s gets downtime-limit 60 s so it completes (default 120)
#   --wan "D L R"   wan-up.sh arguments (default "25 0.05 400")
#   --no-wan        loopback
#   --boot          boot every source guest (minutes each on TCG) instead of resuming it from a saved guest (below)
#   --jar PATH      dwcp.jar (default dwcp-bench/target/dwcp.jar; build it with ./mvnw -pl dwcp-bench -am package -DskipTests)
#   --out DIR       results (default /var/tmp/dwcp-results/qemu-DATE-REV)
#
# Every run starts a FRESH guest (1 vCPU, TCG: no KVM here; a new QEMU process) and a destination QEMU inside the far
# namespace. By default the source guest is resumed from a saved guest (/var/tmp/dwcp-qemu/snap-MEM, made once before
# the link is taken: booted from the vmcorpus build cache with guest-image.sh's self-check, its workload run for 30 s
# after its first self-check, then saved with `qemuvm.py snapshot`), so every run starts from the same memory in
# seconds; --boot boots each one instead (../shared/vmcorpus/make-corpus.sh builds the cache).
# Measured per run (OUT/results.jsonl, the Markdown table on stdout, OUT/timeline-METHOD-rN.csv and a PNG per method):
#   total     dwcp: `qemu-migrate` from its start to the destination running (totalSeconds); QEMU: query-migrate
#             total-time (the migrate command to completion)
#   downtime  dwcp: QMP stop on the source to the destination's `cont` returning; QEMU: query-migrate downtime
#   link B    bytes on the link in both directions (tx+rx of dwcp-a; lo with --no-wan), headers and resends included
#   check     the destination's self-check (MD5s of data the guest holds in RAM) started after the migration passed
#   exact     dwcp only: the replica compared byte for byte with the paused source RAM (before the destination runs;
#             not counted in the downtime)
# The WAN is serialised with flock /tmp/dwcp-wan.lock; a link this script did not make is waited for, never torn down.
# Guests and receivers are killed at exit (trap). Needs root, QEMU (installed if missing), python3, Java 17.
set -euo pipefail
cmdline="$0 $*"
usage() { sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; }
REPS=5; METHODS=dwcp,plain,xbzrle,multifd8,multifd8-zstd; MEM=1G; WARMUP=30; CONVERGE=120; WAN_ARGS="25 0.05 400"
NO_WAN=0; JAR=""; OUT=""; BOOT=0; FIRST_REP=1
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) REPS=$2; shift 2;; --first-rep) FIRST_REP=$2; shift 2;; --methods) METHODS=$2; shift 2;; --mem) MEM=$2; shift 2;;
    --warmup) WARMUP=$2; shift 2;; --converge) CONVERGE=$2; shift 2;; --wan) WAN_ARGS=$2; shift 2;;
    --no-wan) NO_WAN=1; shift;; --boot) BOOT=1; shift;; --jar) JAR=$2; shift 2;; --out) OUT=$2; shift 2;;
    -h|--help) usage; exit 0;; *) echo "bench-qemu: unknown option $1" >&2; usage >&2; exit 2;;
  esac
done
HERE=$(cd "$(dirname "$0")" && pwd); ROOT=$(cd "$HERE/../.." && pwd)
wan=$(cd "$ROOT/../shared/wan" 2>/dev/null && pwd || echo /work/shared/wan)
command -v qemu-system-x86_64 >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-system-x86 >/dev/null; }
JAR=${JAR:-$ROOT/dwcp-bench/target/dwcp.jar}
[ -f "$JAR" ] || { echo "bench-qemu: $JAR missing: ./mvnw -pl dwcp-bench -am package -DskipTests" >&2; exit 2; }
rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
OUT=${OUT:-/var/tmp/dwcp-results/qemu-$(date +%Y%m%d-%H%M%S)-$rev}
mkdir -p "$OUT"; cp "$JAR" "$OUT/dwcp.jar"; JAR=$OUT/dwcp.jar
CPIO=$("$HERE/qemu/guest-image.sh")
log() { echo "[bench-qemu $(date +%T)] $*" >&2; }
SNAPSHOT=""
if [ "$BOOT" = 0 ]; then
  SNAPSHOT=/var/tmp/dwcp-qemu/snap-$MEM
  if [ ! -f "$SNAPSHOT/device.state" ] || [ "$SNAPSHOT/device.state" -ot "$CPIO" ]; then
    log "saving a booted, warmed-up $MEM guest in $SNAPSHOT (once; minutes on TCG)"
    "$HERE/qemu/qemuvm.py" snapshot --dir /var/tmp/dwcp-qemu/snapvm --tag "snap$MEM" --mem "$MEM" --out "$SNAPSHOT" \
        --warmup 30 --timeout 1800 >&2
  fi
fi
made_link=0; py=""
cleanup() {
  # the driver stops its own guests and receivers (finally blocks) when interrupted
  if [ -n "$py" ] && kill -0 "$py" 2>/dev/null; then kill -TERM "$py" 2>/dev/null || true; wait "$py" 2>/dev/null || true; fi
  if [ "$made_link" = 1 ]; then "$wan/wan-down.sh" > "$OUT/wan-down.log" 2>&1 || true; fi
}
trap cleanup EXIT INT TERM
if [ "$NO_WAN" = 1 ]; then
  export NS="" FAR=127.0.0.1 DEV=lo
else
  . "$HERE/wan-lock.sh"
  wan_lock
  # shellcheck disable=SC2086
  "$wan/wan-up.sh" $WAN_ARGS | tee "$OUT/wan-up.log" >&2
  made_link=1
  export NS=dwcp-b FAR=198.18.0.2 DEV=dwcp-a
fi
export OUT JAR MEM WARMUP CONVERGE_S=$CONVERGE SNAPSHOT
echo "$cmdline  rev=$rev  wan=$([ "$NO_WAN" = 1 ] && echo loopback || echo "$WAN_ARGS")  source=${SNAPSHOT:-booted}" > "$OUT/cmdline"
log "results in $OUT"
uptime > "$OUT/uptime-before"
python3 "$HERE/qemu/bench_qemu.py" "$METHODS" "$REPS" "$FIRST_REP" &
py=$!; wait "$py"; py=""
python3 "$HERE/qemu/summarize.py" "$OUT"
for m in ${METHODS//,/ }; do
  csvs=("$OUT"/timeline-"$m"-r*.csv)
  [ -f "${csvs[0]}" ] || continue
  java -jar "$JAR" chart --csv "${csvs[@]}" --out "$OUT/timeline-$m.png" --title "$m: link Mbit/s over time ($([ "$NO_WAN" = 1 ] && echo loopback || echo "WAN $WAN_ARGS"))" \
      --x-label seconds --y-label "Mbit/s" >/dev/null 2>&1 || log "chart for $m failed"
done
uptime > "$OUT/uptime-after"
log "done: $OUT"
