#!/usr/bin/env bash
# Memory of ONE long-lived `dwcp receive` over many sessions (loopback): does it grow with the number of sessions?
#
#   dwcp-bench/scripts/receiver-memory.sh [--cycles N] [--corpus DIR] [--port P] [--idle S] [--out DIR] [-- RECEIVER_JVM_OPTIONS...]
#     --cycles N   cycles of four sessions (default 6: 24 sessions), as bench-warm.sh runs them: cont
#                  (`send --seed never s0 s30`), same (`send --seed auto s30`), restore (`send --seed always s0`),
#                  warm (`send --seed auto s30`)
#     --corpus DIR snapshot directory with s0.ram and s30.ram (default /var/tmp/vmcorpus/1g)
#     --port P     receiver port on 127.0.0.1 (default 7711)
#     --idle S     after each session, wait S seconds and record the receiver's RssAnon then too (default 0: not
#                  recorded): what an idle receiver holds between migrations
#     --out DIR    results (default /var/tmp/dwcp-results/receiver-memory-DATE)
#     after --      JVM options of the receiver (e.g. -Xmx320m -XX:MaxDirectMemorySize=512m)
#   env: JAR (default dwcp-bench/target/dwcp.jar); RXENV (environment of the receiver, e.g. MALLOC_ARENA_MAX=2);
#        NICE (a prefix of every java command, e.g. "nice -n 19 ionice -c3"); WORK (default /var/tmp) for the replica.
#
# The receiver runs with native memory tracking (-XX:NativeMemoryTracking=summary). After each session OUT/mem.tsv
# gets: the receiver's RssAnon now and its peak during the session (sampled every 0.2 s), and the committed MiB of the
# tracked categories: Java heap, Other (direct buffers: the JVM's and Netty's), Internal, Thread, GC, the tracked total
# and all tracked malloc. OUT/nmt-N.txt keeps each whole summary (the Other line's "peak" is the largest outstanding
# direct memory so far); OUT/nmt-diff.txt the change from the first session's start to the end. Replicas are not
# compared here (bench-warm.sh does that); memory only, times are not benchmark figures.
set -euo pipefail

CYC=6; C=/var/tmp/vmcorpus/1g; PORT=7711; OUT=""; IDLE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --cycles) CYC=$2; shift 2;;
    --corpus) C=$2; shift 2;;
    --port) PORT=$2; shift 2;;
    --idle) IDLE=$2; shift 2;;
    --out) OUT=$2; shift 2;;
    --) shift; break;;
    -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0;;
    *) echo "receiver-memory: unknown argument '$1'" >&2; exit 2;;
  esac
done
JVM=("$@")
[[ "$CYC" =~ ^[1-9][0-9]*$ ]] || { echo "--cycles must be a positive integer" >&2; exit 2; }
[[ "$IDLE" =~ ^[0-9]+$ ]] || { echo "--idle must be a whole number of seconds" >&2; exit 2; }
for s in s0 s30; do [ -f "$C/$s.ram" ] || { echo "missing $C/$s.ram" >&2; exit 2; }; done
HERE=$(cd "$(dirname "$0")" && pwd)
JAR=${JAR:-$HERE/../target/dwcp.jar}
[ -f "$JAR" ] || { echo "missing $JAR: run ./mvnw -B -q -pl dwcp-bench -am package -DskipTests" >&2; exit 2; }
OUT=${OUT:-/var/tmp/dwcp-results/receiver-memory-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
W=$(mktemp -d "${WORK:-/var/tmp}/dwcp-receiver-memory.XXXXXX")
R=""; S=""
cleanup() { for p in $S $R; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
# shellcheck disable=SC2086
env ${RXENV:-} ${NICE:-} java -XX:NativeMemoryTracking=summary "${JVM[@]}" -jar "$JAR" receive --plaintext \
  --listen "127.0.0.1:$PORT" --out "$W/rx" --json > "$OUT/rx.jsonl" 2> "$OUT/rx.err" &
R=$!
for _ in $(seq 120); do grep -q listening "$OUT/rx.err" && break; sleep 0.5; done
grep -q listening "$OUT/rx.err" || { echo "receiver did not start" >&2; cat "$OUT/rx.err" >&2; exit 1; }
{ echo "jar: $JAR"; echo "receiver JVM: ${JVM[*]:-}"; echo "env: ${RXENV:-}"; uptime; } > "$OUT/env.txt"

rss() { awk '/^RssAnon/ {print $2}' "/proc/$R/status"; }
n=0
nmt() {
  jcmd "$R" VM.native_memory summary > "$OUT/nmt-$n.txt" 2>&1
  python3 - "$OUT/nmt-$n.txt" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
def c(name):
    m = re.search(r'-\s+' + re.escape(name) + r' \(reserved=\d+KB, committed=(\d+)KB', t)
    return int(m.group(1)) // 1024 if m else -1
tot = re.search(r'Total: reserved=\d+KB, committed=(\d+)KB', t)
mal = re.search(r'malloc: (\d+)KB', t)
print("\t".join(str(x) for x in [c("Java Heap"), c("Other"), c("Internal"), c("Thread"), c("GC"),
                                  int(tot.group(1)) // 1024 if tot else -1, int(mal.group(1)) // 1024 if mal else -1]))
PY
}
send() {
  local case=$1 mode=$2; shift 2
  local f=() x pk=0 v
  for x in "$@"; do f+=("$C/$x"); done
  n=$((n + 1))
  # shellcheck disable=SC2086
  ${NICE:-} java -jar "$JAR" send --plaintext --to "127.0.0.1:$PORT" --key vm --seed "$mode" --json "${f[@]}" \
    > /dev/null 2>> "$OUT/send.err" &
  S=$!
  while kill -0 "$S" 2>/dev/null; do v=$(rss); [ -n "$v" ] && [ "$v" -gt "$pk" ] && pk=$v; sleep 0.2; done
  wait "$S" || { echo "session $n ($case) failed: see $OUT/send.err" >&2; exit 1; }
  S=""
  local now m idle=-
  now=$(( $(rss) / 1024 ))
  m=$(nmt)
  if [ "$IDLE" -gt 0 ]; then sleep "$IDLE"; idle=$(( $(rss) / 1024 )); fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$case" "$now" $((pk / 1024)) "$m" "$idle" >> "$OUT/mem.tsv"
}
printf 'n\tcase\trssAnonNowMiB\trssAnonPeakMiB\theapCommitted\tother\tinternal\tthread\tgc\ttotalCommitted\tnmtMalloc\trssAnonIdleMiB\n' \
  > "$OUT/mem.tsv"
printf '0\tstart\t%s\t-\t%s\t-\n' $(( $(rss) / 1024 )) "$(nmt)" >> "$OUT/mem.tsv"
jcmd "$R" VM.native_memory baseline > /dev/null
for _ in $(seq "$CYC"); do
  send cont never s0.ram s30.ram
  send same auto s30.ram
  send restore always s0.ram
  send warm auto s30.ram
done
jcmd "$R" VM.native_memory summary.diff > "$OUT/nmt-diff.txt" 2>&1
jcmd "$R" GC.heap_info > "$OUT/heap.txt" 2>&1
grep -c 'LEAK:' "$OUT/rx.err" > "$OUT/leaks.txt" || true
cat "$OUT/mem.tsv"
