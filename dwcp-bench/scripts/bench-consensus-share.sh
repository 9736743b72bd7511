#!/usr/bin/env bash
# Consensus bytes as a share of a migration: `dwcp send --hand-over site-a:site-b` migrates the rounds FILE... and then
# commits the VM's hand-over through a 3-replica consensus group; every byte on the wire is counted.
#
#   dwcp-bench/scripts/bench-consensus-share.sh                                  # 1 GiB corpus, rounds s0 s1
#   dwcp-bench/scripts/bench-consensus-share.sh --files "/tmp/a.ram /tmp/b.ram"
#
# Everything runs in a private network namespace (acp-share-PID) with only its loopback, so its counters see nothing
# but this run: the receiver, the sender and three ConsensusNode replicas (127.0.0.1:7640-7642, module defaults,
# fsync on). An iptables rule on that loopback counts the IP bytes (headers included) of every packet from or to a
# replica port: client <-> replica and replica <-> replica traffic (heartbeats, replication) — the consensus bytes.
# All bytes = the loopback's tx_bytes over the same window (migration + consensus). The window opens when the replicas
# have elected a leader and closes when `dwcp send` (rounds, verification, hand-over) has exited.
# Needs root, iproute2, iptables, Java 17, python3. Removes its namespace and stops its processes at exit.
set -euo pipefail
FILES="/var/tmp/vmcorpus/1g/s0.ram /var/tmp/vmcorpus/1g/s1.ram"; JAR=""; OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --files) FILES=$2; shift 2;;
    --jar) JAR=$2; shift 2;;
    --out) OUT=$2; shift 2;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0;;
    *) echo "bench-consensus-share: unknown argument '$1'" >&2; exit 2;;
  esac
done
here=$(cd "$(dirname "$0")" && pwd); root=$(cd "$here/../.." && pwd)
[ "$(id -u)" = 0 ] || { echo "bench-consensus-share: needs root (network namespace, tc)" >&2; exit 1; }
stamp=$(date -u +%Y%m%dT%H%M%SZ); rev=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
OUT=${OUT:-/var/tmp/dwcp-results/consensus-share-$stamp-$rev}; mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
work=$(mktemp -d /var/tmp/dwcp-bench-share.XXXXXX)
[ -n "$JAR" ] || JAR="$root/dwcp-bench/target/dwcp.jar"
cp "$JAR" "$work/dwcp.jar"; jar="$work/dwcp.jar"
nsname="acp-share-$$"; ns="ip netns exec $nsname"
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
pids=()
cleanup() {
  local rc=$?
  exec 8>&- 2>/dev/null || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ip netns del "$nsname" 2>/dev/null || true
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$nsname"
$ns ip link set lo up
# One counting rule: a packet whose source or destination port is a replica port (counted once, even between replicas).
$ns iptables -A OUTPUT -o lo -p tcp -m multiport --ports 7640:7642 -j ACCEPT
consensus_bytes() { $ns iptables -L OUTPUT -v -n -x | awk '/multiport ports 7640:7642/ { print $2 }'; }
all_bytes() { $ns cat /sys/class/net/lo/statistics/tx_bytes; }

mkfifo "$work/stdin"; exec 8<>"$work/stdin"
peers="n1@127.0.0.1:7640,n2@127.0.0.1:7641,n3@127.0.0.1:7642"
for i in 1 2 3; do
  $ns java -Xmx128m -XX:+UseSerialGC -cp "$jar" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -Ddwcp.node-id=n$i \
      -Ddwcp.consensus.peers="$peers" -Ddwcp.consensus.group=g -Ddwcp.consensus.storage-dir="$work/data/n$i" \
      io.dwcp.consensus.ConsensusNode < "$work/stdin" > "$OUT/n$i.out" 2> "$OUT/n$i.log" 8>&- &
  pids+=($!)
done
$ns java -jar "$jar" receive --listen 127.0.0.1:7600 --out "$work/recv" --plaintext > "$OUT/receiver.out" 2> "$OUT/receiver.log" 8>&- &
pids+=($!)
for i in 1 2 3; do
  for _ in $(seq 900); do grep -q READY "$OUT/n$i.out" 2>/dev/null && break; sleep 0.2; done
  grep -q READY "$OUT/n$i.out" || { log "replica n$i did not start"; exit 1; }
done
# A first commit (the election) before the window opens: a client-only consensus-latency run of one write.
$ns java -jar "$jar" consensus-latency --regions "g=$peers" --target region:g --ops 1 --warmup 0 --node-id warm \
    > /dev/null 2>> "$OUT/warm.log" 8>&- || true
c0=$(consensus_bytes); a0=$(all_bytes); t0=$(date +%s.%N)
# shellcheck disable=SC2086
$ns java -Ddwcp.consensus.peers="$peers" -Ddwcp.consensus.group=g -jar "$jar" send --to 127.0.0.1:7600 --key vm-1 \
    --hand-over site-a:site-b --plaintext --json $FILES > "$OUT/send.out" 2> "$OUT/send.log" 8>&-
c1=$(consensus_bytes); a1=$(all_bytes); t1=$(date +%s.%N)
tail -1 "$OUT/send.out" > "$OUT/send.json"
python3 - "$OUT" "$c0" "$c1" "$a0" "$a1" "$t0" "$t1" <<'PY' | tee "$OUT/result.md"
import json, sys
out, c0, c1, a0, a1, t0, t1 = sys.argv[1], *map(float, sys.argv[2:])
s = json.load(open(out + "/send.json"))
c, a = c1 - c0, a1 - a0
r = {"consensusBytes": int(c), "allBytes": int(a), "share": c / a, "windowSeconds": t1 - t0,
     "sendWireBytes": s["wireBytes"], "inputBytes": s["inputBytes"], "handOver": s.get("handOver")}
json.dump(r, open(out + "/result.json", "w"), indent=1)
print(f"| {s['inputBytes']:,} B state, {len(s['rounds'])} rounds | {int(a):,} | {int(c):,} | {100 * c / a:.4f} % | "
      f"{t1 - t0:.1f} s | {s.get('handOver')} |")
PY
