#!/usr/bin/env bash
# Fault campaign for the receiver's replicas: kills, races and a full disk, with a check after every run that the
# replica is exactly one version that was sent, or is marked inconsistent (DIR/.KEY.inconsistent) — never an unmarked
# mix, never a wrong replica after a round reported verified.
#
#   dwcp-bench/scripts/fault-campaign.sh                 # 200 runs over loopback, 64 MiB states
#   dwcp-bench/scripts/fault-campaign.sh --runs 20 --mib 16
#
# Options:
#   --runs N      number of runs (default 200)
#   --mib M       state size in MiB (default 64)
#   --jar PATH    dwcp.jar (default dwcp-bench/target/dwcp.jar, built if missing)
#   --work DIR    scratch directory (default a new one under /var/tmp)
#   --seed S      random seed of the schedule (default 1)
#   --in-place    the receiver writes key vm in place into one existing file (`dwcp receive --into vm=FILE`, as for
#                 a destination QEMU's RAM file) instead of a replica directory, with a seed image (`--seed-image`);
#                 senders pick --seed auto, always or never at random, so seeded rounds copy pages from the image into
#                 a file an earlier killed run may have left mixed; the image must never change
#   --start-timeout S  seconds a receiver may take to start listening (default 120: a JVM at nice 15 on a loaded
#                 machine took minutes); one that does not is killed and the run counts as failed
#
# Scenarios, chosen at random per run (the replica directory persists across runs, so later runs start from the
# replica earlier ones left, and deltas write it in place):
#   kill-receiver  a sender sends 3 versions; the receiver is killed -9 after a random delay (0-2.5 s)
#   kill-sender    the same, the sender is killed -9
#   race           two senders send different versions of the same key at once; one may be refused (KEY_BUSY)
#   clean          no fault: the replica must equal the last version, unmarked
#   disk-full      (once, as root, with --disk-full) the receiver writes into a tmpfs smaller than the state
# After each run a fresh receiver is started on the directory and stopped (so leftover staging files are cleaned and
# markers are read), then the check runs. With --in-place the file carries no marker (an in-place replica's mark lives
# in its receiver process), so the check is stronger: after each run a fresh receiver takes a clean send of a random
# version from a new sender, and the file must then equal that version exactly, whatever the run before left in it.
# The last line is "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.."

RUNS=200; MIB=64; JAR=dwcp-bench/target/dwcp.jar; WORK=""; SEED=1; DISK_FULL=0; START_TIMEOUT=120; IN_PLACE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2;;
    --mib) MIB=$2; shift 2;;
    --jar) JAR=$2; shift 2;;
    --work) WORK=$2; shift 2;;
    --seed) SEED=$2; shift 2;;
    --start-timeout) START_TIMEOUT=$2; shift 2;;
    --disk-full) DISK_FULL=1; shift;;
    --in-place) IN_PLACE=1; shift;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
[ -f "$JAR" ] || ./mvnw -B -q -pl dwcp-bench -am package -DskipTests
[ -n "$WORK" ] || WORK=$(mktemp -d /var/tmp/dwcp-faults.XXXXXX)
mkdir -p "$WORK"
OUT="$WORK/replicas"; mkdir -p "$OUT"
RANDOM=$SEED
JAVA="java -XX:TieredStopAtLevel=1 -Xshare:auto -jar $JAR"

# Versions v0..v4: a base of mixed content, each later one with 2 % of its pages edited in place.
python3 dwcp-bench/scripts/synth-versions.py "$WORK" "$MIB" 5 7
declare -A SUM
for v in 0 1 2 3 4; do SUM[$(sha256sum "$WORK/v$v.ram" | cut -c1-64)]=v$v; done

port() { echo $((20000 + RANDOM % 20000)); }
# In place: the file the receiver writes (it must exist with the state's size), other keys would go to $OUT/others.
TARGET="$OUT/vm.ram"; IMAGE="$WORK/image.ram"
if [ $IN_PLACE = 1 ]; then
  cp "$WORK/v0.ram" "$TARGET"; mkdir -p "$OUT/others"
  # The receiver's seed image (as a destination's copy of a guest's disk): v2 with 2 % of it changed; seeded rounds read
  # it, nothing may write it.
  python3 - "$WORK/v2.ram" "$IMAGE" <<'PY'
import sys, random
b = bytearray(open(sys.argv[1], 'rb').read()); r = random.Random(11)
for _ in range(len(b) // 4096 // 50):
    p = r.randrange(len(b) // 4096) * 4096; b[p:p + 4096] = r.randbytes(4096)
open(sys.argv[2], 'wb').write(b)
PY
  IMAGE_SUM=$(sha256sum "$IMAGE" | cut -c1-64)
fi
seed_opt() { [ $IN_PLACE = 1 ] || return 0; case $((RANDOM % 3)) in 0) echo "--seed auto";; 1) echo "--seed always";; *) echo "--seed never";; esac; }
start_receiver() { # $1 dir, $2 port, $3 log; sets RPID and P (the port it got: another random one if taken)
  local port=$2
  for _try in 1 2 3 4 5; do
    if [ $IN_PLACE = 1 ]; then
      $JAVA receive --listen 127.0.0.1:$port --out "$1/others" --into "vm=$TARGET" --seed-image "vm=$IMAGE" \
        --plaintext > "$3" 2>&1 &
    else
      $JAVA receive --listen 127.0.0.1:$port --out "$1" --plaintext > "$3" 2>&1 &
    fi
    RPID=$!
    for _ in $(seq $((START_TIMEOUT * 10))); do
      grep -q "listening on" "$3" 2>/dev/null && { P=$port; return 0; }
      kill -0 $RPID 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 $RPID 2>/dev/null; then kill -9 $RPID 2>/dev/null; wait $RPID 2>/dev/null; return 1; fi
    grep -q "Address already in use" "$3" 2>/dev/null || return 1
    port=$(port)
  done
  return 1
}
versions() { local a=$((RANDOM % 5)) b=$((RANDOM % 5)) c=$((RANDOM % 5)); echo "$WORK/v$a.ram $WORK/v$b.ram $WORK/v$c.ram"; }

# check DIR LOG EXPECT: the replica is one version (or absent) or marked; EXPECT (a version name) must match exactly.
check() {
  local dir=$1 log=$2 expect=${3:-}
  local marked=0; [ -f "$dir/.vm.inconsistent" ] && marked=1
  local what="absent"
  if [ -f "$dir/vm" ]; then
    local s; s=$(sha256sum "$dir/vm" | cut -c1-64); what=${SUM[$s]:-MIX}
  fi
  if ls "$dir"/.*.staging >/dev/null 2>&1; then echo "staging file left after restart"; return 1; fi
  if [ "$what" = MIX ] && [ $marked = 0 ]; then echo "replica is no sent version and is not marked"; return 1; fi
  if [ -n "$expect" ] && { [ "$what" != "$expect" ] || [ $marked = 1 ]; }; then
    echo "expected $expect unmarked, found $what (marked=$marked)"; return 1
  fi
  # The last round the receiver reported verified must be what the file holds, unless a later round started.
  echo "ok: $what marked=$marked"
}

# check_in_place EXIT EXPECT LOG: the clean send after the run succeeded, the file is exactly EXPECT, the seed image is
# unchanged, and nothing but the directory's lock and the image's cached description is in the directory of other keys.
check_in_place() {
  [ "$1" = 0 ] || { echo "the clean send after the run failed (exit $1): $(tail -1 "$3")"; return 1; }
  local s; s=$(sha256sum "$TARGET" | cut -c1-64)
  [ "${SUM[$s]:-MIX}" = "$2" ] || { echo "expected $2 in place, found ${SUM[$s]:-MIX}"; return 1; }
  [ "$(sha256sum "$IMAGE" | cut -c1-64)" = "$IMAGE_SUM" ] || { echo "the seed image was changed"; return 1; }
  local left; left=$(ls -A "$OUT/others" | grep -v '^\.dwcp-replicas\.lock$\|^\.vm\.image\.desc$')
  if [ -n "$left" ]; then echo "files left in the directory of other keys: $left"; return 1; fi
  echo "ok: $2 in place (round 0: $(grep -o "round 0 ([a-z]*" "$3" | head -1 | cut -d"(" -f2))"
}

pass=0; fail=0; declare -A BY MODES
for run in $(seq 1 "$RUNS"); do
  r=$((RANDOM % 10))
  if [ $r -lt 4 ]; then sc=kill-receiver; elif [ $r -lt 7 ]; then sc=kill-sender; elif [ $r -lt 9 ]; then sc=race; else sc=clean; fi
  P=$(port); L="$WORK/run$run"; mkdir -p "$L"
  start_receiver "$OUT" $P "$L/recv.log" || { echo "run $run: receiver did not start"; fail=$((fail+1)); continue; }
  expect=""
  case $sc in
    kill-receiver|kill-sender)
      files=$(versions)
      $JAVA send --to 127.0.0.1:$P --key vm --plaintext $(seed_opt) $files > "$L/send.log" 2>&1 &
      SPID=$!
      sleep "0.$((RANDOM % 10))$((RANDOM % 10))"; sleep $((RANDOM % 3))
      if [ $sc = kill-receiver ]; then kill -9 $RPID 2>/dev/null; wait $SPID; else kill -9 $SPID 2>/dev/null; wait $SPID; fi
      ;;
    race)
      $JAVA send --to 127.0.0.1:$P --key vm --plaintext $(seed_opt) $(versions) > "$L/send1.log" 2>&1 &
      S1=$!
      $JAVA send --to 127.0.0.1:$P --key vm --plaintext $(seed_opt) $(versions) > "$L/send2.log" 2>&1 &
      S2=$!
      wait $S1; e1=$?; wait $S2; e2=$?
      if [ $e1 != 0 ] && [ $e2 != 0 ] && ! grep -q KEY_BUSY "$L"/send*.log; then
        echo "run $run race: both senders failed, not by KEY_BUSY"; fi
      ;;
    clean)
      files=$(versions)
      $JAVA send --to 127.0.0.1:$P --key vm --plaintext $(seed_opt) $files > "$L/send.log" 2>&1
      [ $? = 0 ] && expect=$(basename "${files##* }" .ram)
      ;;
  esac
  kill -9 $RPID 2>/dev/null; wait $RPID 2>/dev/null
  if [ $IN_PLACE = 1 ]; then
    # Whatever the run left in the file, a fresh receiver and a new sender must make it exactly one version again.
    v=$((RANDOM % 5)); P=$(port)
    if start_receiver "$OUT" $P "$L/restart.log"; then
      $JAVA send --to 127.0.0.1:$P --key vm --plaintext $(seed_opt) "$WORK/v$v.ram" > "$L/after.log" 2>&1; e=$?
      kill $RPID 2>/dev/null; wait $RPID 2>/dev/null
      res=$(check_in_place "$e" "v$v" "$L/after.log"); rc=$?
    else
      res="receiver did not restart"; rc=1
    fi
  else
    # A restart cleans staging files and reads the markers.
    P=$(port); start_receiver "$OUT" $P "$L/restart.log"; kill $RPID 2>/dev/null; wait $RPID 2>/dev/null
    res=$(check "$OUT" "$L/recv.log" "$expect"); rc=$?
  fi
  if [ $rc = 0 ]; then
    pass=$((pass+1)); BY[$sc]=$(( ${BY[$sc]:-0} + 1 )); rm -rf "$L"
    if [ $IN_PLACE = 1 ]; then m=${res##*round 0: }; m=${m%)}; MODES[${m:-?}]=$(( ${MODES[${m:-?}]:-0} + 1 )); fi
  else fail=$((fail+1)); echo "run $run ($sc): FAIL: $res (logs in $L)"; fi
  [ $((run % 20)) = 0 ] && echo "after $run runs: $pass passed, $fail failed ($(for k in "${!BY[@]}"; do printf '%s=%s ' $k ${BY[$k]}; done))" >&2
done

if [ $DISK_FULL = 1 ] && [ $IN_PLACE = 0 ] && [ "$(id -u)" = 0 ]; then
  T="$WORK/tiny"; mkdir -p "$T"; mount -t tmpfs -o size=$((MIB / 2))m tmpfs "$T"
  P=$(port); start_receiver "$T" $P "$WORK/disk.log"
  $JAVA send --to 127.0.0.1:$P --key vm --plaintext "$WORK/v0.ram" > "$WORK/disk-send.log" 2>&1; e=$?
  kill $RPID 2>/dev/null; wait $RPID 2>/dev/null
  if [ $e != 0 ] && grep -q RESOURCE_EXHAUSTED "$WORK/disk-send.log" && [ ! -f "$T/vm" ]; then
    pass=$((pass+1)); echo "disk-full: refused with RESOURCE_EXHAUSTED, nothing left behind"
  else
    fail=$((fail+1)); echo "disk-full: FAIL (exit $e): $(tail -1 "$WORK/disk-send.log")"
  fi
  umount "$T"
fi
echo "scenarios passed: $(for k in "${!BY[@]}"; do printf '%s=%s ' $k ${BY[$k]}; done)"
[ $IN_PLACE = 1 ] && echo "round 0 of the clean sends after each run: $(for k in "${!MODES[@]}"; do printf '%s=%s ' $k ${MODES[$k]}; done)"
echo "$pass passed, $fail failed"
[ $fail = 0 ]
