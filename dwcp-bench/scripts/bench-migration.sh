#!/usr/bin/env bash
# End-to-end migration benchmark: migrate successive real guest-RAM
# snapshots over the emulated WAN with `dwcp send`, and in the same run the baselines an operator would script,
# round by round: one raw TCP stream (socat), and `zstd -3 -T2 FILE | one TCP stream` with `zstd -d` at the far end.
#
#   dwcp-bench/scripts/bench-migration.sh                       # WAN 25 ms one way, 0.05 % loss, 400 Mbit/s; 3 reps
#   dwcp-bench/scripts/bench-migration.sh --reps 1 --no-wan     # loopback (not a WAN result)
#
# Options:
#   --reps N            repetitions (default 3): dwcp and zstd alternate, then the raw TCP ones (see the loop)
#   --no-wan            loopback 127.0.0.1, no link, no namespace (a smoke test, never a WAN figure)
#   --wan "D L R"       wan-up.sh arguments: one-way delay ms, loss %, rate Mbit/s (default "25 0.05 400")
#   --corpus DIR        snapshot directory (default /var/tmp/vmcorpus/1g)
#   --files "A B .."    snapshot names in DIR, in round order (default "s0.ram s1.ram s5.ram s30.ram")
#   --methods LIST      comma list of dwcp,raw,zstd (default all three)
#   --streams S         dwcp --streams (default auto)
#   --dwcp-args "..."   extra arguments for `dwcp send` (e.g. "--level zstd:1")
#   --dwcp-jvm "..."    JVM options of both dwcp processes (default "-XX:TieredStopAtLevel=1": a CLI run is seconds
#                       long, and C2 compiling it cost 5-8 s of CPU on the 2 cores the codecs and the emulated link
#                       share; "" for the JVM's default JIT)
#   --jar PATH          dwcp.jar (default dwcp-bench/target/dwcp.jar, built if missing; copied per run)
#   --out DIR           results directory (default /var/tmp/dwcp-results/migration-DATE-REV)
#   --sample-ms MS      link counter sampling interval for the chart (default 200)
#
# What is measured (all of it lands in OUT/results.json, OUT/raw.tsv and the Markdown table on stdout):
#   wall      seconds from starting the sender until the receiver has the round (baselines: until the receiving
#             pipeline has exited, i.e. the file is written and, for zstd, decompressed; dwcp: `send`'s per-round
#             `seconds` and its `wallSeconds`, and the send process's wall time including JVM start-up).
#   link B    bytes the sending side put on the link: tx_bytes of the host end of the link (dwcp-a; `lo` with
#             --no-wan, which then counts both directions): IP packets with TCP/IP headers and retransmissions.
#   tool B    payload bytes per the tool: dwcp `wireBytes`; raw = file size; zstd = compressed stream size (dd count
#             on the receiver).
#   CPU s     user+system CPU seconds of every process of the method at both ends (bash `times` of reaped children).
#   ideal     dwcp tool bytes ÷ link rate (and dwcp link bytes ÷ link rate).
#   CI        mean ± 95 % confidence half-width (Student t) of each method's total wall, and of dwcp ÷ pipeline paired
#             by repetition; use --reps 5 or more for intervals worth quoting.
# Every received file is compared with its source (cmp) off the clock; dwcp's receiver verifies every round itself.
# Before each method's run the snapshots are read once (cat > /dev/null), so every method reads them from the page cache,
# and `sync` writes back what the previous method wrote, so no method pays for another's writeback.
# Plaintext for all three methods (no TLS anywhere), so they are comparable.
#
# The WAN session is serialised with flock /tmp/dwcp-wan.lock; if a link exists that this script did not make
# (another benchmark), it waits, polling every 30 s, and never tears it down. At exit it stops its own processes
# and removes the link it made. Needs root, iproute2, socat, zstd, python3, Java 17. Traffic goes only to
# 198.18.0.2 / 198.18.0.1 (the emulated link) or 127.0.0.1.
set -euo pipefail

usage() { sed -n '2,44p' "$0" | sed 's/^# \{0,1\}//'; }

cmdline="$0 $*"
REPS=3; NO_WAN=0; WAN_ARGS="25 0.05 400"; CORPUS=/var/tmp/vmcorpus/1g; FILES="s0.ram s1.ram s5.ram s30.ram"
METHODS="dwcp,raw,zstd"; STREAMS=auto; DWCP_ARGS=""; DWCP_JVM="-XX:TieredStopAtLevel=1"; JAR=""; OUT=""; SAMPLE_MS=200
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) REPS=$2; shift 2;;
    --no-wan) NO_WAN=1; shift;;
    --wan) WAN_ARGS=$2; shift 2;;
    --corpus) CORPUS=$2; shift 2;;
    --files) FILES=$2; shift 2;;
    --methods) METHODS=$2; shift 2;;
    --streams) STREAMS=$2; shift 2;;
    --dwcp-args) DWCP_ARGS=$2; shift 2;;
    --dwcp-jvm) DWCP_JVM=$2; shift 2;;
    --jar) JAR=$2; shift 2;;
    --out) OUT=$2; shift 2;;
    --sample-ms) SAMPLE_MS=$2; shift 2;;
    -h|--help) usage; exit 0;;
    *) echo "bench-migration: unknown argument '$1'" >&2; usage >&2; exit 2;;
  esac
done
[[ "$REPS" =~ ^[1-9][0-9]*$ ]] || { echo "--reps must be a positive integer" >&2; exit 2; }
[[ "$SAMPLE_MS" =~ ^[1-9][0-9]*$ ]] || { echo "--sample-ms must be a positive integer" >&2; exit 2; }
read -r WAN_DELAY WAN_LOSS WAN_RATE <<<"$WAN_ARGS"
[ -n "${WAN_RATE:-}" ] || { echo "--wan needs 'DELAY_MS LOSS_PCT RATE_MBIT'" >&2; exit 2; }

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
wan=${WAN_DIR:-$(cd "$root/../shared/wan" 2>/dev/null && pwd || echo /work/shared/wan)}
[ "$(id -u)" = 0 ] || { echo "bench-migration: needs root (network namespace, link counters)" >&2; exit 1; }

need=()
command -v socat >/dev/null || need+=(socat)
command -v zstd >/dev/null || need+=(zstd)
command -v python3 >/dev/null || need+=(python3)
command -v flock >/dev/null || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null; fi

paths=()
for f in $FILES; do
  [ -f "$CORPUS/$f" ] || { echo "bench-migration: $CORPUS/$f missing (make it with ../shared/vmcorpus/make-corpus.sh)" >&2; exit 1; }
  paths+=("$CORPUS/$f")
done

rev=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null)" ]; then rev="$rev-dirty"; fi
stamp=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${OUT:-/var/tmp/dwcp-results/migration-$stamp-$rev}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
work=$(mktemp -d /var/tmp/dwcp-bench-migration.XXXXXX)   # received files (GiBs) and the jar copy; removed at exit

if [ -z "$JAR" ]; then
  JAR="$root/dwcp-bench/target/dwcp.jar"
  [ -f "$JAR" ] || (cd "$root" && ./mvnw -B -q -pl dwcp-bench -am package -DskipTests)
fi
cp "$JAR" "$work/dwcp.jar"     # a private copy: a rebuild of target/ during the run cannot break the JVMs
jar="$work/dwcp.jar"
# The programs' own files, read into the page cache before every method like the snapshots (see the loop below): the
# JDK's lib directory and the jar for dwcp, the zstd and socat binaries and their libraries for the pipelines.
java_home=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
program_files=("$jar")
while IFS= read -r -d '' f; do program_files+=("$f"); done < <(find "$java_home/lib" -type f -print0)
for b in zstd socat; do
  program_files+=("$(readlink -f "$(command -v "$b")")")
  while read -r lib; do [ -f "$lib" ] && program_files+=("$lib"); done < <(ldd "$(command -v "$b")" | awk '/=> \//{print $3}')
done

if [ "$NO_WAN" = 1 ]; then
  ns=""; rx_host=127.0.0.1; dev=lo; rate_mbit=0
else
  ns="ip netns exec dwcp-b"; rx_host=198.18.0.2; dev=dwcp-a; rate_mbit=$WAN_RATE
fi
port_dwcp=7600; port_tcp=7601

receiver=""; made_link=0; sampler=""; anon_sampler=""
cleanup() {
  local rc=$?
  [ -n "$sampler" ] && kill "$sampler" 2>/dev/null || true
  [ -n "$receiver" ] && kill "$receiver" 2>/dev/null || true
  wait 2>/dev/null || true
  if [ "$made_link" = 1 ]; then "$wan/wan-down.sh" > "$OUT/wan-down.log" 2>&1 || true; fi
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

. "$(dirname "$0")/wan-lock.sh"

if [ "$NO_WAN" = 0 ]; then
  wan_lock
  made_link=1
  "$wan/wan-up.sh" "$WAN_DELAY" "$WAN_LOSS" "$WAN_RATE" | tee "$OUT/wan-up.log" >&2
fi

# ---- environment ----
cc_here=$(sysctl -n net.ipv4.tcp_congestion_control)
cc_far=$($ns sysctl -n net.ipv4.tcp_congestion_control)
python3 - "$OUT/env.json" <<PY
import json, os, subprocess, sys
def sh(c):
    try: return subprocess.run(c, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception as e: return str(e)
env = {
  "command": """$cmdline""", "gitRevision": "$rev", "date": "$stamp",
  "kernel": sh("uname -r"), "cores": os.cpu_count(), "cpu": sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"),
  "memory": sh("grep MemTotal /proc/meminfo"), "jdk": sh("java -version 2>&1 | head -1"),
  "zstd": sh("zstd --version"), "socat": sh("socat -V | grep 'socat version'"),
  "congestionControl": {"sender": "$cc_here", "receiver": "$cc_far"},
  "tcp_rmem": sh("sysctl -n net.ipv4.tcp_rmem"), "tcp_wmem": sh("sysctl -n net.ipv4.tcp_wmem"),
  "rmem_max": sh("sysctl -n net.core.rmem_max"), "wmem_max": sh("sysctl -n net.core.wmem_max"),
  "link": None if $NO_WAN else {"oneWayDelayMs": float("$WAN_DELAY"), "lossPct": float("$WAN_LOSS"), "rateMbit": float("$WAN_RATE"),
                                 "emulator": sh("head -1 '$OUT/wan-up.log'")},
  "interface": "$dev", "files": "$FILES".split(), "corpus": "$CORPUS", "reps": $REPS, "methods": "$METHODS",
  "dwcp": {"streams": "$STREAMS", "extraArgs": "$DWCP_ARGS", "jvmOptions": "$DWCP_JVM", "tls": False, "jar": "$JAR",
           "jarSha256": sh("sha256sum '$jar' | cut -c1-64"), "jarModified": sh("date -u -r '$JAR' +%FT%TZ")},
  "baselines": {"raw": "socat -u OPEN:FILE TCP:HOST:PORT  |  socat -u TCP-LISTEN:PORT STDOUT > FILE",
                "zstd": "zstd -3 -T2 -q -c FILE | socat -u STDIN TCP:HOST:PORT  |  socat -u TCP-LISTEN:PORT STDOUT | dd bs=1M | zstd -d -q -c > FILE"},
}
json.dump(env, open(sys.argv[1], "w"), indent=2)
PY
linkdesc="loopback"; [ -n "$ns" ] && linkdesc="WAN $WAN_ARGS"
log "results in $OUT (rev $rev, cc $cc_here/$cc_far, $(nproc) cores, link: $linkdesc)"

# Warm the page cache so the first method does not pay for disk reads the others do not.
cat "${paths[@]}" > /dev/null

txfile=/sys/class/net/$dev/statistics/tx_bytes
now() { echo "${EPOCHREALTIME/,/.}"; }
calc() { awk "BEGIN { printf \"%.3f\", $1 }"; }   # calc EXPR: arithmetic on floats
# CPU seconds (user+sys) of every child this shell has reaped: `times` must run in this shell, not in $(...).
cpu_mark() { times > "$work/times.txt"; }
# Whole-machine CPU seconds and the link emulator's own, to tell how much CPU went to processes
# that are neither this benchmark's nor wanem's (other work on the machine skews every figure of a 2-core box).
hz=$(getconf CLK_TCK)
# user+nice+system+irq+softirq: per-process times include network softirq work done in a process's context, so
# leaving irq/softirq out made "other" negative on the WAN; it stays an estimate (a few % of the window).
sys_cpu() { awk -v hz="$hz" '/^cpu /{ printf "%.3f", ($2 + $3 + $4 + $7 + $8) / hz }' /proc/stat; }
wanem_pid=""; [ -f /run/dwcp-wan/wanem.pid ] && [ -n "$ns" ] && wanem_pid=$(cat /run/dwcp-wan/wanem.pid)
wanem_cpu() {
  if [ -n "$wanem_pid" ] && [ -r "/proc/$wanem_pid/stat" ]; then
    awk -v hz="$hz" '{ sub(/^.*\) /, ""); printf "%.3f", ($12 + $13) / hz }' "/proc/$wanem_pid/stat"
  else echo 0; fi
}
mark_other() { s0=$(sys_cpu); w0=$(wanem_cpu); tw0=$(now); }
read_other() { # ours_cpu_seconds -> sets wanem_s other_s
  local s1 w1; s1=$(sys_cpu); w1=$(wanem_cpu)
  wanem_s=$(calc "$w1-$w0"); other_s=$(calc "($s1-$s0)-($w1-$w0)-($1)"); window_s=$(calc "$(now)-$tw0")
}
cpu_read() { tail -1 "$work/times.txt" | awk '{ t = 0; for (i = 1; i <= NF; i++) { split($i, a, "m"); sub("s", "", a[2]); t += a[1] * 60 + a[2] } printf "%.3f", t }'; }
start_sampler() { # csv
  local csv=$1 period
  period=$(calc "$SAMPLE_MS/1000")
  ( echo "epoch,tx_bytes"; while :; do echo "$(now),$(<"$txfile")"; sleep "$period"; done ) > "$csv" &
  sampler=$!
}
stop_sampler() { kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true; sampler=""; }
wait_port() { # port
  for _ in $(seq 200); do $ns ss -ltnH "sport = :$1" 2>/dev/null | grep -q . && return 0; sleep 0.05; done
  echo "bench-migration: nothing listens on port $1" >&2; return 1
}

raw="$OUT/raw.tsv"
printf 'rep\tmethod\tround\tfile\twall_s\ttool_bytes\tlink_bytes\tinput_bytes\tcpu_s\twanem_cpu_s\tother_cpu_s\tcpu_window_s\tnote\n' > "$raw"

# Peak anonymous memory (RssAnon: heap, direct and native memory, not page cache) of the dwcp sender and receiver,
# sampled every 100 ms into FILE as "senderKiB receiverKiB" while the receiver runs.
start_anon_sampler() { # file sender-pattern receiver-pid
  local file=$1 pattern=$2 rpid=$3
  ( ms=0; mr=0
    while kill -0 "$rpid" 2>/dev/null; do
      for p in $(pgrep -f "$pattern"); do
        a=$(awk '/^RssAnon/{print $2}' "/proc/$p/status" 2>/dev/null); [ -n "$a" ] && [ "$a" -gt "$ms" ] && ms=$a
      done
      a=$(awk '/^RssAnon/{print $2}' "/proc/$rpid/status" 2>/dev/null); [ -n "$a" ] && [ "$a" -gt "$mr" ] && mr=$a
      echo "$ms $mr" > "$file"; sleep 0.1
    done ) &
  anon_sampler=$!
}

run_dwcp() { # rep
  local rep=$1 key="mig-r$1" rxdir="$work/rx-dwcp" c0 c1 t0 t1 x0 x1 json
  rm -rf "$rxdir"; mkdir -p "$rxdir"
  cpu_mark; c0=$(cpu_read); mark_other
  $ns java $DWCP_JVM -jar "$jar" receive --listen "$rx_host:$port_dwcp" --out "$rxdir" --plaintext --json \
      > "$OUT/dwcp-receive-$rep.jsonl" 2> "$OUT/dwcp-receive-$rep.err" &
  receiver=$!
  wait_port "$port_dwcp"
  start_sampler "$OUT/samples-dwcp-$rep.csv"
  start_anon_sampler "$work/anon-$rep" "dwcp.jar send --to $rx_host:$port_dwcp" "$receiver"
  t0=$(now); x0=$(<"$txfile")
  # Each stdout line is stamped on arrival with the time and the link counter: per-round link bytes.
  set +e
  # shellcheck disable=SC2086
  java $DWCP_JVM -jar "$jar" send --to "$rx_host:$port_dwcp" --key "$key" --plaintext --json --streams "$STREAMS" $DWCP_ARGS "${paths[@]}" \
      2> "$OUT/dwcp-send-$rep.err" |
    while IFS= read -r line; do printf '%s\t%s\t%s\n' "$(now)" "$(<"$txfile")" "$line"; done > "$OUT/dwcp-send-$rep.stamped"
  local st=${PIPESTATUS[0]}
  set -e
  t1=$(now); x1=$(<"$txfile")
  stop_sampler
  local rcpu="?"   # the receiver JVM's own CPU seconds (ip netns exec execs it: same pid)
  [ -r "/proc/$receiver/stat" ] && rcpu=$(awk -v hz="$hz" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$receiver/stat")
  kill "$receiver" 2>/dev/null || true; wait "$receiver" 2>/dev/null || true; receiver=""
  wait "$anon_sampler" 2>/dev/null || true
  local anon; anon=$(cat "$work/anon-$rep" 2>/dev/null || echo "0 0")
  log "dwcp rep $rep: peak anonymous memory sender $(( ${anon% *} / 1024 )) MiB, receiver $(( ${anon#* } / 1024 )) MiB"
  cpu_mark; c1=$(cpu_read); read_other "$c1-$c0"
  if [ "$st" != 0 ]; then
    log "dwcp send FAILED (exit $st) in rep $rep; stderr tail:"; tail -5 "$OUT/dwcp-send-$rep.err" >&2
    printf '%s\tdwcp\ttotal\t-\t%s\t-\t%s\t-\t%s\t%s\t%s\t%s\tFAILED exit %s\n' "$rep" "$(calc "$t1-$t0")" "$((x1-x0))" \
      "$(calc "$c1-$c0")" "$wanem_s" "$other_s" "$window_s" "$st" >> "$raw"
    return 0
  fi
  # Verify the final replica against the last snapshot ourselves too (the receiver verifies every round).
  local vf="ok"; cmp -s "$rxdir/$key" "${paths[-1]}" || vf="MISMATCH"
  python3 - "$OUT/dwcp-send-$rep.stamped" "$rep" "$t0" "$t1" "$x0" "$x1" "$c0" "$c1" "$vf" "$wanem_s" "$other_s" "$rcpu" "$window_s" "$anon" >> "$raw" <<'PY'
import json, sys
stamped, rep, t0, t1, x0, x1, c0, c1, vf, wanem_s, other_s, rcpu, window_s, anon = sys.argv[1:]
anon_s, anon_r = (int(v) for v in anon.split())
t0, t1, x0, x1, c0, c1 = float(t0), float(t1), int(x0), int(x1), float(c0), float(c1)
lines = [l.rstrip("\n").split("\t", 2) for l in open(stamped) if l.strip()]
js = json.loads(lines[-1][2])
round_lines = [(float(t), int(x)) for t, x, text in lines if text.startswith("round ")]
prev = x0
for i, r in enumerate(js["rounds"]):
    link = round_lines[i][1] - prev if i < len(round_lines) else ""
    if i < len(round_lines): prev = round_lines[i][1]
    note = ("full" if r["keyframe"] else "delta") + (" fallback" if r.get("fallback") else "") + f" streams={r['streams']}"
    print(f"{rep}\tdwcp\t{i}\t{r['file'].split('/')[-1]}\t{r['seconds']:.3f}\t{r['wireBytes']}\t{link}\t{r['inputBytes']}\t\t\t\t\t{note}")
print(f"{rep}\tdwcp\ttotal\t-\t{t1-t0:.3f}\t{js['wireBytes']}\t{x1-x0}\t{js['inputBytes']}\t{c1-c0:.2f}\t{wanem_s}\t{other_s}\t{window_s}\t"
      f"wallSeconds={js['wallSeconds']:.3f} (process wall incl. JVM start {t1-t0:.3f}); final replica cmp {vf}; receiver JVM CPU {rcpu} s; "
      f"peak anon MiB sender {anon_s // 1024} receiver {anon_r // 1024}")
PY
}

run_pipe() { # rep method(raw|zstd)
  local rep=$1 m=$2 i=0 f c0 c1 t0 t1 x0 x1 tsum=0 xsum=0 csum=0 bsum=0 isum=0 wsum=0 osum=0 winsum=0 out="$work/rx-$2.bin" note
  start_sampler "$OUT/samples-$m-$rep.csv"
  local tm0; tm0=$(now); local xm0; xm0=$(<"$txfile")
  for f in "${paths[@]}"; do
    rm -f "$out" "$work/dd.err"
    cpu_mark; c0=$(cpu_read); mark_other
    if [ "$m" = raw ]; then
      $ns sh -c "exec socat -u TCP-LISTEN:$port_tcp,bind=$rx_host,reuseaddr STDOUT > '$out'" 2> "$work/rx.err" &
    else
      $ns sh -c "socat -u TCP-LISTEN:$port_tcp,bind=$rx_host,reuseaddr STDOUT | dd bs=1M 2> '$work/dd.err' | zstd -d -q -c > '$out'" 2> "$work/rx.err" &
    fi
    receiver=$!
    wait_port "$port_tcp"
    t0=$(now); x0=$(<"$txfile")
    if [ "$m" = raw ]; then
      socat -u "OPEN:$f,rdonly" "TCP:$rx_host:$port_tcp"
    else
      zstd -3 -T2 -q -c "$f" | socat -u STDIN "TCP:$rx_host:$port_tcp"
    fi
    local rst=0; wait "$receiver" || rst=$?
    receiver=""
    t1=$(now); x1=$(<"$txfile")
    cpu_mark; c1=$(cpu_read); read_other "$c1-$c0"
    [ "$rst" = 0 ] || { log "$m receiver exited $rst in rep $rep round $i:"; cat "$work/rx.err" >&2; }
    local size; size=$(stat -c %s "$f")
    local tool=$size
    [ "$m" = zstd ] && tool=$(grep -o '^[0-9]* bytes' "$work/dd.err" | cut -d' ' -f1)
    note="cmp ok"; cmp -s "$out" "$f" || note="cmp MISMATCH"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$m" "$i" "$(basename "$f")" \
      "$(calc "$t1-$t0")" "$tool" "$((x1-x0))" "$size" "$(calc "$c1-$c0")" "$wanem_s" "$other_s" "$window_s" "$note" >> "$raw"
    tsum=$(calc "$tsum+$t1-$t0"); xsum=$((xsum+x1-x0)); bsum=$((bsum+tool)); isum=$((isum+size))
    csum=$(calc "$csum+$c1-$c0"); wsum=$(calc "$wsum+$wanem_s"); osum=$(calc "$osum+$other_s"); winsum=$(calc "$winsum+$window_s")
    i=$((i+1))
  done
  local tm1; tm1=$(now)
  stop_sampler
  printf '%s\t%s\ttotal\t-\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$m" "$(calc "$tsum")" "$bsum" "$xsum" "$isum" \
    "$(calc "$csum")" "$wsum" "$osum" "$winsum" "sum of rounds; whole method incl. receiver start-ups $(calc "$tm1-$tm0") s" >> "$raw"
}

IFS=, read -r -a methods <<<"$METHODS"
# dwcp and the zstd pipeline alternate, repetition by repetition (their paired ratio is a target); the raw TCP
# repetitions run after them all. On this VM the method run right after a 136 s raw transfer is slowed: dwcp's
# receiver needed 9.1 s of CPU instead of 4.0 s in the repetition after one (run at rev 0faa2c6, interleaved),
# although the snapshots and the programs were in the page cache. Raw TCP itself is only context, so it goes last.
schedule=()
for last in 0 1; do
  for rep in $(seq "$REPS"); do
    for m in "${methods[@]}"; do
      is_raw=0
      if [ "$m" = raw ]; then is_raw=1; fi
      if [ "$is_raw" = "$last" ]; then schedule+=("$rep:$m"); fi
    done
  done
done
for entry in "${schedule[@]}"; do
    rep=${entry%%:*}; m=${entry#*:}
    log "rep $rep/$REPS: $m"
    # Every method starts with the snapshots and the programs in the page cache: hosts that page out cold memory
    # (DAMON reclaim on this VM: file pages not touched for 60 s) would otherwise make whichever method runs first
    # read its files from disk, and one that follows a 136 s raw TCP run load its programs from disk.
    # And with no dirty pages of the previous method's GiBs still being written back under it.
    cat "${paths[@]}" "${program_files[@]}" > /dev/null
    sync
    case "$m" in
      dwcp) run_dwcp "$rep";;
      raw|zstd) run_pipe "$rep" "$m";;
      *) echo "bench-migration: unknown method '$m'" >&2; exit 2;;
    esac
    tail -1 "$raw" | cut -f2,5,6,7,9- | sed 's/^/    /' >&2
done

if [ "$made_link" = 1 ]; then "$wan/wan-down.sh" > "$OUT/wan-down.log" 2>&1 || true; made_link=0; fi

# ---- goodput-over-time CSVs (first repetition of each method; 1 s means of the samples) and the chart ----
python3 - "$OUT" "$REPS" "${methods[@]}" <<'PY'
import csv, sys, os
out, reps, methods = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
methods = sorted(methods, key=lambda m: m == "dwcp")   # dwcp last: drawn on top
names = {"dwcp": "dwcp send", "raw": "raw TCP (socat)", "zstd": "zstd -3 -T2 | TCP"}
for m in methods:
    for rep in range(1, reps + 1):
        src = os.path.join(out, f"samples-{m}-{rep}.csv")
        if not os.path.exists(src):
            continue
        rows = [(float(r["epoch"]), int(r["tx_bytes"])) for r in csv.DictReader(open(src)) if r["tx_bytes"]]
        with open(os.path.join(out, f"goodput-{m}-{rep}.csv"), "w") as f:
            f.write(f"seconds,{names.get(m, m)}\n")
            start = rows[0]
            f.write(f"0.000,0.00\n")
            for t, b in rows[1:]:
                if t - start[0] >= 0.95:   # close a window of about 1 s
                    f.write(f"{t - rows[0][0]:.3f},{(b - start[1]) * 8 / (t - start[0]) / 1e6:.2f}\n")
                    start = (t, b)
PY
csvs=(); for m in raw zstd dwcp; do [[ ",$METHODS," == *",$m,"* ]] || continue; [ -f "$OUT/goodput-$m-1.csv" ] && csvs+=("$OUT/goodput-$m-1.csv"); done
hline=(); [ "$rate_mbit" != 0 ] && hline=(--hline "$rate_mbit:link rate $rate_mbit Mbit/s")
chartlink="loopback"; [ -n "$ns" ] && chartlink="WAN ${WAN_DELAY} ms one way, ${WAN_LOSS} % loss, ${WAN_RATE} Mbit/s"
title="${FILES// /, } — $chartlink — rep 1, rev $rev"
if [ ${#csvs[@]} -gt 0 ]; then
  java -jar "$jar" chart --csv "${csvs[@]}" "${hline[@]}" --out "$OUT/goodput.png" --title "$title" \
    --x-label "seconds since the method started" --y-label "Mbit/s on the link ($dev tx, 1 s means)" >&2 || true
fi

# ---- summary: results.json and the Markdown table ----
python3 - "$OUT" "$rate_mbit" <<'PY'
import csv, json, statistics, sys, os
out, rate = sys.argv[1], float(sys.argv[2])
env = json.load(open(os.path.join(out, "env.json")))
rows = list(csv.DictReader(open(os.path.join(out, "raw.tsv")), delimiter="\t"))
def num(v):
    try: return float(v)
    except (TypeError, ValueError): return None
by = {}
for r in rows:
    by.setdefault((r["method"], r["round"]), []).append(r)
methods = [m for m in ("dwcp", "raw", "zstd") if any(k[0] == m for k in by)]
rounds = sorted({k[1] for k in by if k[1] != "total"}, key=int)
label = {"dwcp": "dwcp send", "raw": "raw TCP", "zstd": "zstd -3 -T2 \\| TCP"}
summary = {}
for key, rs in by.items():
    ok = [r for r in rs if "FAILED" not in r["note"]]
    def med(col):
        v = [num(r[col]) for r in ok if num(r[col]) is not None]
        return (statistics.median(v), v) if v else (None, [])
    summary["%s/%s" % key] = {c: {"median": med(c)[0], "values": med(c)[1]} for c in ("wall_s", "tool_bytes", "link_bytes", "input_bytes", "cpu_s", "wanem_cpu_s", "other_cpu_s", "cpu_window_s")}
    summary["%s/%s" % key]["failed"] = len(rs) - len(ok)
    summary["%s/%s" % key]["notes"] = [r["note"] for r in rs]
def g(m, rnd, col):
    s = summary.get(f"{m}/{rnd}")
    return s[col]["median"] if s else None
def fmt_s(v): return "—" if v is None else f"{v:.2f}"
def fmt_b(v): return "—" if v is None else f"{v/1e6:,.1f}"
def vals(m, rnd, col):
    s = summary.get(f"{m}/{rnd}")
    return "" if not s or len(s[col]["values"]) < 2 else " (" + ", ".join(f"{x:.1f}" for x in s[col]["values"]) + ")"
ratios = {}
dw, zw, rw = g("dwcp", "total", "wall_s"), g("zstd", "total", "wall_s"), g("raw", "total", "wall_s")
dtool, dlink = g("dwcp", "total", "tool_bytes"), g("dwcp", "total", "link_bytes")
if rate > 0 and dw:
    ideal_tool = dtool * 8 / (rate * 1e6); ideal_link = dlink * 8 / (rate * 1e6)
    ratios.update(idealSecondsToolBytes=ideal_tool, idealSecondsLinkBytes=ideal_link,
                  dwcpWallOverIdealTool=dw / ideal_tool, dwcpWallOverIdealLink=dw / ideal_link)
if dw and zw: ratios["dwcpWallOverZstdWall"] = dw / zw
if dw and rw: ratios["dwcpWallOverRawWall"] = dw / rw
# 95 % confidence intervals (Student t over the repetitions): totals per method, and dwcp ÷ pipeline paired by rep
# (the methods of one rep run back to back, so the pair shares the machine's state).
T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145]
def ci(v):
    if len(v) < 2: return None
    m = statistics.mean(v); t = T975[len(v) - 2] if len(v) - 2 < len(T975) else 1.96
    return {"n": len(v), "mean": m, "halfWidth": t * statistics.stdev(v) / len(v) ** 0.5}
intervals = {m: ci(summary[f"{m}/total"]["wall_s"]["values"]) for m in methods if f"{m}/total" in summary}
def per_rep(m):
    return {r["rep"]: num(r["wall_s"]) for r in rows if r["method"] == m and r["round"] == "total" and "FAILED" not in r["note"]}
pd, pz = per_rep("dwcp"), per_rep("zstd")
paired = [pd[k] / pz[k] for k in sorted(pd, key=int) if k in pz and pz[k]]
if paired:
    ratios["dwcpOverZstdPerRep"] = paired
    ratios["dwcpOverZstdCI95"] = ci(paired)
ratios["wallCI95"] = intervals
json.dump({"env": env, "rows": rows, "summary": summary, "ratios": ratios, "linkRateMbit": rate},
          open(os.path.join(out, "results.json"), "w"), indent=2)

reps = env["reps"]
print(f"\n### Migration benchmark — {env['date']}, rev {env['gitRevision']}, kernel {env['kernel']}, {env['cores']} cores, "
      f"cc {env['congestionControl']['sender']}/{env['congestionControl']['receiver']}")
link = env["link"]
print(("Link: " + (f"{link['emulator']}; " if link else "loopback (NOT a WAN figure); ")) +
      f"files {' '.join(env['files'])} from {env['corpus']}; plaintext; medians of {reps} rep(s) (all values in brackets).")
print(f"Command: `{env['command'].strip()}`\n")
print("Wall s = time until the receiver has the round; tool MB = payload per the tool (dwcp wireBytes / file size / "
      "zstd stream); link MB = tx bytes on the sender's link interface (IP incl. headers and retransmits; dwcp per "
      "round = counter between its per-round report lines). MB = 10^6 bytes.\n")
print("| round | file | " + " | ".join(f"{label[m]} wall s | {label[m]} tool MB | {label[m]} link MB" for m in methods) + " |")
print("|---|---|" + "---:|---:|---:|" * len(methods))
for rnd in rounds + ["total"]:
    f = next((r["file"] for r in rows if r["round"] == rnd), "-")
    cells = []
    for m in methods:
        cells += [fmt_s(g(m, rnd, "wall_s")) + vals(m, rnd, "wall_s"), fmt_b(g(m, rnd, "tool_bytes")), fmt_b(g(m, rnd, "link_bytes"))]
    print(f"| {rnd} | {f} | " + " | ".join(cells) + " |")
print()
for m in methods:
    cpu = g(m, "total", "cpu_s"); wcpu = g(m, "total", "wanem_cpu_s"); ocpu = g(m, "total", "other_cpu_s"); win = g(m, "total", "cpu_window_s"); inp = g(m, "total", "input_bytes"); w = g(m, "total", "wall_s")
    fails = summary.get(f"{m}/total", {}).get("failed", 0)
    rate_eff = f"{inp * 8 / w / 1e6:,.0f} Mbit/s of state" if inp and w else "—"
    print(f"- {label[m].replace(chr(92), '')}: total wall {fmt_s(w)} s, {rate_eff}, CPU {fmt_s(cpu)} s both ends, "
          f"wanem {fmt_s(wcpu)} s, other processes on the machine {fmt_s(ocpu)} s"
          + (f", **{fails} failed rep(s)**" if fails else ""))
    if ocpu is not None and win and ocpu > 0.1 * win:
        print(f"  - **warning**: other processes used {ocpu:.1f} CPU s during {label[m].replace(chr(92), '')} "
              f"({ocpu / win:.2f} cores on average over its {win:.1f} s): its figures are skewed by other work on the machine")
if "dwcpWallOverIdealTool" in ratios:
    print(f"- ideal (dwcp wire bytes ÷ {rate:g} Mbit/s): {ratios['idealSecondsToolBytes']:.2f} s from tool bytes, "
          f"{ratios['idealSecondsLinkBytes']:.2f} s from link bytes; dwcp wall ÷ ideal = {ratios['dwcpWallOverIdealTool']:.2f} "
          f"(tool) / {ratios['dwcpWallOverIdealLink']:.2f} (link)   [target ≤ 1.5]")
if "dwcpWallOverZstdWall" in ratios:
    print(f"- dwcp wall ÷ zstd-pipeline wall = {ratios['dwcpWallOverZstdWall']:.3f}   [target ≤ 0.333]")
if "dwcpWallOverRawWall" in ratios:
    print(f"- dwcp wall ÷ raw-TCP wall = {ratios['dwcpWallOverRawWall']:.3f}")
cis = [f"{label[m].replace(chr(92), '')} {c['mean']:.2f} ± {c['halfWidth']:.2f} s" for m, c in intervals.items() if c]
if cis:
    print(f"- total wall, mean ± 95 % CI over {reps} reps: " + "; ".join(cis))
if ratios.get("dwcpOverZstdCI95"):
    c = ratios["dwcpOverZstdCI95"]
    print(f"- dwcp ÷ pipeline per rep (paired): " + ", ".join(f"{x:.3f}" for x in ratios["dwcpOverZstdPerRep"])
          + f"; mean {c['mean']:.3f} ± {c['halfWidth']:.3f} (95 % CI)")
if os.path.exists(os.path.join(out, "goodput.png")):
    print(f"- chart: {os.path.join(out, 'goodput.png')}")
print(f"- raw values: {os.path.join(out, 'raw.tsv')}; everything: {os.path.join(out, 'results.json')}")
PY
