#!/usr/bin/env bash
# HDE against the zstd CLI on real guest-RAM snapshots, in one run.
#
#   dwcp-bench/scripts/bench-hde.sh [CORPUS_DIR] [PAIRS]
#     CORPUS_DIR  default /var/tmp/vmcorpus/1g (s0.ram s1.ram s5.ram s30.ram, see ../shared/vmcorpus/README.md)
#     PAIRS       default "s1 s5 s30" (deltas against s0); the full state is always s0
#   env: REPS (default 3) repetitions of every command, interleaved; LEVEL (default zstd:3) for HDE;
#        THREADS (default: cores) HDE worker threads; JAVA_OPTS; OUT (default /dev/shm) for temporary zstd outputs;
#        FULL_FAST (default "--level zstd:2 --batch-size 1MiB"; empty to skip) an extra HDE full-state row with those options;
#        SPLICE (default auto, the library's default) HDE's sub-page copies (dwcp.compression.splice: auto turns them
#        off below 4 codec threads, i.e. on a 2-core machine; the table header says which ran);
#        DELTA_TOOL (default auto) the delta baseline: patch-from (`zstd -3 --long=31 --patch-from=s0`), xdelta3
#        (`xdelta3 -9 -B 1073741824 -s s0`), or auto = patch-from up to 2 GiB states (zstd refuses larger
#        references) and xdelta3 above.
#
# Per pair it runs `dwcp encode --baseline s0 --target sN --json` (HDE: encodes, decodes with a second codec, verifies
# byte equality; encode and decode = medians of 3 in-process runs after 1 warm-up; before each decode the receiver
# drops its baseline and, for a delta, is seeded with s0's keyframe again, untimed; the first, cold encode and decode
# are shown too) and
# the DELTA_TOOL baseline plus its decode; for the full state `dwcp encode --target s0` against
# `zstd -3 -T0` and `zstd -3 -T2`. zstd times are wall clock of the whole command (files warm in the page cache);
# MB = 10^6 bytes of snapshot per second. It prints one table of medians over REPS and writes the raw values as JSON
# to $OUT/hde-bench-<time>.json. Snapshots are only read; nothing is written into the repository.
set -euo pipefail

DIR=${1:-/var/tmp/vmcorpus/1g}
PAIRS=${2:-"s1 s5 s30"}
REPS=${REPS:-3}
LEVEL=${LEVEL:-zstd:3}
SPLICE=${SPLICE:-auto}
DELTA_TOOL=${DELTA_TOOL:-auto}
FULL_FAST=${FULL_FAST-"--level zstd:2 --batch-size 1MiB"}
THREADS=${THREADS:-$(nproc)}
OUT=${OUT:-/dev/shm}
HERE=$(cd "$(dirname "$0")" && pwd)
JAR=${JAR:-$HERE/../target/dwcp.jar}
# AlwaysPreTouch: the heap is resident from the start, as a long-running sender's is. Without it a fresh JVM's first
# gigabytes of allocation also pay the kernel's zeroing of new pages, in every timed run of this short process
# (14 % of the s0->s30 encode's CPU in a profile); the cold columns show a first run either way.
JAVA_OPTS=${JAVA_OPTS:-"-Xms2g -Xmx4g -XX:+AlwaysPreTouch -XX:MaxDirectMemorySize=8g"}

[ -f "$JAR" ] || { echo "missing $JAR: run ./mvnw -B -q -pl dwcp-bench -am package -DskipTests" >&2; exit 2; }
for s in s0 $PAIRS; do [ -f "$DIR/$s.ram" ] || { echo "missing $DIR/$s.ram" >&2; exit 2; }; done
command -v zstd >/dev/null || { echo "zstd CLI not found" >&2; exit 2; }
if [ "$DELTA_TOOL" = auto ]; then
  if [ "$(stat -c %s "$DIR/s0.ram")" -le $((2 << 30)) ]; then DELTA_TOOL=patch-from; else DELTA_TOOL=xdelta3; fi
fi
case "$DELTA_TOOL" in
  patch-from) ;;
  xdelta3) command -v xdelta3 >/dev/null || { echo "xdelta3 not found (apt-get install -y xdelta3)" >&2; exit 2; } ;;
  *) echo "DELTA_TOOL must be auto, patch-from or xdelta3, not '$DELTA_TOOL'" >&2; exit 2 ;;
esac

WORK=$(mktemp -d "$OUT/hde-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
RAW="$WORK/raw.jsonl"
: > "$RAW"

now() { date +%s.%N; }
# timed NAME CMD...: runs CMD, appends {"name":…,"seconds":…} to $RAW
timed() {
  local name=$1; shift
  local t0 t1
  t0=$(now); "$@" >/dev/null 2>&1; t1=$(now)
  python3 -c 'import json,sys; print(json.dumps({"name":sys.argv[1],"seconds":float(sys.argv[3])-float(sys.argv[2])}))' "$name" "$t0" "$t1" >> "$RAW"
}
size() { stat -c %s "$1"; }
record() { python3 -c 'import json,sys; print(json.dumps({"name":sys.argv[1],"bytes":int(sys.argv[2])}))' "$1" "$2" >> "$RAW"; }
hde() {
  local name=$1; shift
  local line
  line=$(java $JAVA_OPTS -jar "$JAR" encode --level "$LEVEL" --splice "$SPLICE" --threads "$THREADS" "$@" --json 2>/dev/null | tail -1)
  python3 -c 'import json,sys; d=json.loads(sys.argv[2]); d["name"]=sys.argv[1]; print(json.dumps(d))' "$name" "$line" >> "$RAW"
}

for s in s0 $PAIRS; do cat "$DIR/$s.ram" > /dev/null; done
echo "# $(date -Is) host $(hostname) cores $(nproc) load $(cut -d' ' -f1-3 /proc/loadavg) zstd $(zstd --version | grep -o 'v[0-9.]*') java $(java -version 2>&1 | head -1 | cut -d'"' -f2) rev $(git -C "$HERE" rev-parse --short HEAD 2>/dev/null || echo '?')" >&2
for rep in $(seq 1 "$REPS"); do
  for s in $PAIRS; do
    echo "# rep $rep: s0 -> $s" >&2
    hde "hde:$s" --baseline "$DIR/s0.ram" --target "$DIR/$s.ram"
    if [ "$DELTA_TOOL" = patch-from ]; then
      timed "pf-enc:$s" zstd -q -f -3 --long=31 --patch-from="$DIR/s0.ram" "$DIR/$s.ram" -o "$WORK/p.zst"
      record "pf-size:$s" "$(size "$WORK/p.zst")"
      timed "pf-dec:$s" zstd -q -f -d --long=31 --patch-from="$DIR/s0.ram" "$WORK/p.zst" -o /dev/null
    else
      timed "pf-enc:$s" xdelta3 -e -f -9 -B 1073741824 -s "$DIR/s0.ram" "$DIR/$s.ram" "$WORK/p.vcdiff"
      record "pf-size:$s" "$(size "$WORK/p.vcdiff")"
      timed "pf-dec:$s" xdelta3 -d -f -B 1073741824 -s "$DIR/s0.ram" "$WORK/p.vcdiff" /dev/null
    fi
  done
  echo "# rep $rep: full s0" >&2
  hde "hde:full" --target "$DIR/s0.ram"
  [ -n "$FULL_FAST" ] && hde "hde:full-fast" --target "$DIR/s0.ram" $FULL_FAST
  timed "z3T0-enc" zstd -q -f -3 -T0 "$DIR/s0.ram" -o "$WORK/f.zst"
  record "z3-size" "$(size "$WORK/f.zst")"
  timed "z3-dec" zstd -q -f -d "$WORK/f.zst" -o /dev/null
  timed "z3T2-enc" zstd -q -f -3 -T2 "$DIR/s0.ram" -o "$WORK/f.zst"
done

STAMP=$(date +%Y%m%d-%H%M%S)
cp "$RAW" "$OUT/hde-bench-$STAMP.jsonl"
python3 - "$RAW" "$PAIRS" "$(stat -c %s "$DIR/s0.ram")" "$LEVEL, splice $SPLICE" "$DELTA_TOOL" <<'PY'
import json, statistics, sys
raw, pairs, n, level, tool = sys.argv[1], sys.argv[2].split(), int(sys.argv[3]), sys.argv[4], sys.argv[5]
tool = "zstd -3 --patch-from" if tool == "patch-from" else "xdelta3 -9 -B 1GiB"
rows = [json.loads(l) for l in open(raw)]
def vals(name, key):
    return [r[key] for r in rows if r["name"] == name and r.get(key) is not None]
def med(name, key):
    v = vals(name, key)
    return statistics.median(v) if v else float("nan")
def spread(name, key):
    v = vals(name, key)
    return "%.0f–%.0f" % (min(v), max(v)) if v else "-"
print()
print("HDE (%s) vs the zstd and xdelta3 CLIs, median of %d runs, MB/s = 10^6 snapshot bytes per second (min–max in brackets)" % (level, len(vals("hde:full", "ratio"))))
print("| pair | HDE ratio | baseline ratio | HDE enc MB/s | HDE 1st (cold) enc MB/s | baseline enc MB/s | enc speed-up | HDE dec MB/s | HDE 1st (cold) dec MB/s | baseline dec MB/s | verified |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
def cold(name, key="decodeFirstSeconds"):
    v = vals(name, key)
    return n / statistics.median(v) / 1e6 if v else float("nan")
for s in pairs:
    zr = n / med("pf-size:" + s, "bytes")
    ze = n / med("pf-enc:" + s, "seconds") / 1e6
    zd = n / med("pf-dec:" + s, "seconds") / 1e6
    he = med("hde:" + s, "encodeMBps")
    hd = med("hde:" + s, "decodeMBps")
    ok = all(vals("hde:" + s, "verified"))
    print("| s0→%s (delta; %s) | %.1f | %.1f | %.0f (%s) | %.0f | %.0f | %.1f× | %.0f (%s) | %.0f | %.0f | %s |" % (
        s, tool, med("hde:" + s, "ratio"), zr, he, spread("hde:" + s, "encodeMBps"), cold("hde:" + s, "encodeFirstSeconds"), ze,
        he / ze, hd, spread("hde:" + s, "decodeMBps"),
        cold("hde:" + s), zd, ok))
zr = n / med("z3-size", "bytes")
z0 = n / med("z3T0-enc", "seconds") / 1e6
z2 = n / med("z3T2-enc", "seconds") / 1e6
zd = n / med("z3-dec", "seconds") / 1e6
for name, label in (("hde:full", level + ", default batch"), ("hde:full-fast", "FULL_FAST options")):
    if not vals(name, "ratio"):
        continue
    he = med(name, "encodeMBps")
    hd = med(name, "decodeMBps")
    print("| s0 full, HDE %s (zstd -3 -T0; -T2 enc %.0f MB/s) | %.2f | %.2f | %.0f (%s) | %.0f | %.0f | %.2f× vs -T2 | %.0f (%s) | %.0f | %.0f | %s |" % (
        label, z2, med(name, "ratio"), zr, he, spread(name, "encodeMBps"), cold(name, "encodeFirstSeconds"), z0, he / z2, hd,
        spread(name, "decodeMBps"), cold(name), zd,
        all(vals(name, "verified"))))
PY
echo "raw values: $OUT/hde-bench-$STAMP.jsonl" >&2
