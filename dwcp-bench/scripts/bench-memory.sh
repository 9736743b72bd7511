#!/usr/bin/env bash
# Peak memory of a migration against state size: `dwcp receive` and `dwcp send` of three versions of a guest over
# loopback, default settings and default JVM sizing, per corpus directory.
#
#   dwcp-bench/scripts/bench-memory.sh [--reps N] CORPUS_DIR...
#     CORPUS_DIR  a directory with s0.ram s1.ram s30.ram (../shared/vmcorpus/make-corpus.sh), e.g. /var/tmp/vmcorpus/4g
#     --reps N    repetitions per directory (default 3), interleaved over the directories
#   env: JAR (default dwcp-bench/target/dwcp.jar); WORK (default /var/tmp) where the replica is written (state size of
#        free disk needed) and removed after each run.
#
# Per run it starts the receiver, waits for its port, sends s0 then s1 then s30 as rounds of one key, samples each
# process's RssAnon (heap, direct and native memory; not page cache) every 0.5 s, and checks with `cmp` that the
# replica equals s30. It prints one line per run and a table of medians (min-max) per state size, against the target
# 512 MiB + 10 % of the state. Memory only: times printed here are not benchmark figures.
set -euo pipefail

REPS=3
DIRS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) REPS=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) DIRS+=("$1"); shift ;;
  esac
done
[ ${#DIRS[@]} -gt 0 ] || { echo "usage: $0 [--reps N] CORPUS_DIR..." >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
JAR=${JAR:-$HERE/../target/dwcp.jar}
[ -f "$JAR" ] || { echo "missing $JAR: run ./mvnw -B -q -pl dwcp-bench -am package -DskipTests" >&2; exit 2; }
for d in "${DIRS[@]}"; do
  for s in s0 s1 s30; do [ -f "$d/$s.ram" ] || { echo "missing $d/$s.ram" >&2; exit 2; }; done
done
RUN=$(mktemp -d "${WORK:-/var/tmp}/dwcp-bench-memory.XXXXXX")
RPID=; SPID=
cleanup() { for p in $SPID $RPID; do kill "$p" 2>/dev/null || true; done; rm -rf "$RUN"; }
trap cleanup EXIT
RESULTS=$RUN/results.tsv
: > "$RESULTS"

peak() { awk '{print $2}' "$1" | sort -n | tail -1; }
sample() { while kill -0 "$1" 2>/dev/null; do grep RssAnon "/proc/$1/status" 2>/dev/null || true; sleep 0.5; done > "$2"; }

for rep in $(seq 1 "$REPS"); do
  for d in "${DIRS[@]}"; do
    size=$(stat -c %s "$d/s0.ram")
    port=$((20000 + RANDOM % 20000))
    rm -rf "$RUN/out"; mkdir -p "$RUN/out"
    java -jar "$JAR" receive --listen 127.0.0.1:$port --out "$RUN/out" --plaintext > "$RUN/recv.log" 2>&1 &
    RPID=$!
    for _ in $(seq 1 240); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.5; done
    sample $RPID "$RUN/recv.mem" &
    load=$(cut -d' ' -f1 /proc/loadavg)
    java -jar "$JAR" send --to 127.0.0.1:$port --key vm --plaintext "$d/s0.ram" "$d/s1.ram" "$d/s30.ram" \
      > "$RUN/send.log" 2>&1 &
    SPID=$!
    sample $SPID "$RUN/send.mem" &
    rc=0; wait $SPID || rc=$?
    SPID=
    kill $RPID 2>/dev/null || true; wait $RPID 2>/dev/null || true; RPID=
    wait
    exact=no
    [ $rc -eq 0 ] && cmp -s "$RUN/out/vm" "$d/s30.ram" && exact=yes
    s=$(peak "$RUN/send.mem"); r=$(peak "$RUN/recv.mem")
    printf '%s\trep %d\tload %s\tsend exit %d\tsender %d kB\treceiver %d kB\treplica exact %s\n' \
      "$d" "$rep" "$load" "$rc" "$s" "$r" "$exact"
    [ $rc -eq 0 ] && [ $exact = yes ] && printf '%s\t%s\t%s\n' "$size" "$s" "$r" >> "$RESULTS"
    [ $rc -eq 0 ] || tail -5 "$RUN/send.log" >&2
    rm -rf "$RUN/out"
  done
done

python3 - "$RESULTS" <<'PY'
import sys, statistics, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    size, s, r = map(int, line.split())
    rows[size].append((s * 1024, r * 1024))
print("| state | runs | sender peak, median (min-max) | receiver peak, median (min-max) | target (512 MiB + 10 %) |")
print("|---|---:|---:|---:|---:|")
gb = lambda b: f"{b / 1e9:.2f} GB"
for size in sorted(rows):
    v = rows[size]
    s = [a for a, _ in v]; r = [b for _, b in v]
    target = 512 * 2**20 + size // 10
    print(f"| {size / 2**30:g} GiB | {len(v)} | {gb(statistics.median(s))} ({gb(min(s))}-{gb(max(s))}) | "
          f"{gb(statistics.median(r))} ({gb(min(r))}-{gb(max(r))}) | {gb(target)} |")
PY
