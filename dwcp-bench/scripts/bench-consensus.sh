#!/usr/bin/env bash
# Consensus commit latency on the emulated WAN, per layout, in one run:
#
#   dwcp-bench/scripts/bench-consensus.sh                 # WAN 25 ms one way (50 ms RTT), 0.05 % loss, 400 Mbit/s
#   dwcp-bench/scripts/bench-consensus.sh --reps 5 --ops 200
#
# Two sites: A = this host (198.18.0.1), B = network namespace dwcp-b (198.18.0.2), joined by the emulated link
# (../shared/wan). Replicas are ConsensusNode JVMs with the module's defaults (fsync on) except election.min = 1s
# (about 20 x the RTT, as the docs advise for a WAN group):
#   group a  3 voters at A          (the region of site A: LOCAL / REGIONAL)
#   group b  3 voters at B          (the region of site B)
#   group x  4 voters, 2 at A + 2 at B, leader moved to A   (one cross-site Raft group: every quorum crosses the WAN)
# Layouts measured (each a `dwcp consensus-latency` client JVM doing --ops sequential writes after 20 warm-up ones):
#   regional-a-from-A   group a, client at A
#   regional-b-from-B   group b, client at B
#   global-home-from-A  global key with home a (ordered by group a), client at A        (home-region ownership)
#   global-home-from-B  the same key written from B: forwarded to a's group over the WAN
#   cross-from-A        group x, client at A
#   cross-from-B        group x, client at B
# The layouts alternate within each repetition. Best quorum RTT per layout (the least any commit must wait): the
# client-to-leader RTT plus the leader-to-nearest-majority RTT, from ping on the two paths (loopback at A, the link;
# TCP connection set-ups to a replica where ping is not installed).
#
# The disk term: before and after the repetitions, 200 writes of 4 KiB into a preallocated file, each forced with
# fdatasync, in the replicas' data directory give the disk's sync latency (p50, p99), reported beside the bound (every fsync'ing commit waits for
# at least one).
# Options: --reps N (default 5), --ops N (default 200), --wan "D L R" (default "25 0.05 400"), --jar PATH,
#          --warmup N (unmeasured writes per client JVM first, default 20),
#          --fsync true|false (default true, the module's default; false only as a labelled diagnostic),
#          --out DIR (default /var/tmp/dwcp-results/consensus-DATE-REV),
#          --replica-jvm "OPTS" (JVM options of the ten replicas, default "-Xmx128m -XX:+UseSerialGC"),
#          --client-jvm "OPTS" (JVM options of each client, default "-Xmx256m"); e.g. "-XX:TieredStopAtLevel=1" for
#          both: the JIT's C1 tier only, which compiles far less on a small host (see docs/benchmarks-consensus.md).
# Holds flock /tmp/dwcp-wan.lock for its whole run, never tears down a link it did not make, and at exit stops its
# replicas and removes its link. Needs root, iproute2, Java 17, python3. Traffic: 198.18.0.1/198.18.0.2 only.
set -euo pipefail

REPS=5; OPS=200; WARMUP=20; WAN_ARGS="25 0.05 400"; JAR=""; OUT=""; FSYNC=true
REPLICA_JVM="-Xmx128m -XX:+UseSerialGC"; CLIENT_JVM="-Xmx256m"
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) REPS=$2; shift 2;;
    --ops) OPS=$2; shift 2;;
    --warmup) WARMUP=$2; shift 2;;
    --wan) WAN_ARGS=$2; shift 2;;
    --jar) JAR=$2; shift 2;;
    --out) OUT=$2; shift 2;;
    --fsync) FSYNC=$2; shift 2;;
    --replica-jvm) REPLICA_JVM=$2; shift 2;;
    --client-jvm) CLIENT_JVM=$2; shift 2;;
    -h|--help) sed -n '2,35p' "$0" | sed 's/^# \{0,1\}//'; exit 0;;
    *) echo "bench-consensus: unknown argument '$1'" >&2; exit 2;;
  esac
done
read -r WAN_DELAY WAN_LOSS WAN_RATE <<<"$WAN_ARGS"
here=$(cd "$(dirname "$0")" && pwd)
. "$here/wan-lock.sh"
bench_paths consensus "network namespace"
work=$(mktemp -d /var/tmp/dwcp-bench-consensus.XXXXXX)
[ -n "$JAR" ] || JAR="$root/dwcp-bench/target/dwcp.jar"
cp "$JAR" "$work/dwcp.jar"; jar="$work/dwcp.jar"
ns="ip netns exec dwcp-b"
A=198.18.0.1; B=198.18.0.2
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

pids=(); made_link=0
cleanup() {
  local rc=$?
  exec 8>&- 2>/dev/null || true          # replicas stop when their standard input ends
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "$made_link" = 1 ]; then "$wan/wan-down.sh" > "$OUT/wan-down.log" 2>&1 || true; fi
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wan_lock
made_link=1
"$wan/wan-up.sh" "$WAN_DELAY" "$WAN_LOSS" "$WAN_RATE" | tee "$OUT/wan-up.log" >&2
uptime > "$OUT/uptime-before.txt"
echo "replica JVM: $REPLICA_JVM; client JVM: $CLIENT_JVM" > "$OUT/jvm.txt"

# Replicas read a FIFO this script holds open (fd 8): they stop cleanly when it closes.
mkfifo "$work/stdin"; exec 8<>"$work/stdin"
peers_a="a1@$A:7611,a2@$A:7612,a3@$A:7613"
peers_b="b1@$B:7621,b2@$B:7622,b3@$B:7623"
peers_x="x1@$A:7631,x2@$A:7632,x3@$B:7633,x4@$B:7634"
replica() {   # replica SIDE GROUP ID PEERS
  local side=$1 group=$2 id=$3 peers=$4 pre=""
  [ "$side" = B ] && pre="$ns"
  # shellcheck disable=SC2086  # options are words
  $pre java $REPLICA_JVM -cp "$jar" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
      -Ddwcp.node-id="$id" -Ddwcp.consensus.group="$group" -Ddwcp.consensus.peers="$peers" \
      -Ddwcp.consensus.storage-dir="$work/data/$id" -Ddwcp.consensus.election.min=1s \
      -Ddwcp.consensus.fsync="$FSYNC" io.dwcp.consensus.ConsensusNode < "$work/stdin" > "$OUT/$id.out" 2> "$OUT/$id.log" 8>&- 9>&- &
  pids+=($!)
}
for i in 1 2 3; do replica A a a$i "$peers_a"; replica B b b$i "$peers_b"; done
replica A x x1 "$peers_x"; replica A x x2 "$peers_x"; replica B x x3 "$peers_x"; replica B x x4 "$peers_x"
for id in a1 a2 a3 b1 b2 b3 x1 x2 x3 x4; do
  for _ in $(seq 600); do grep -q READY "$OUT/$id.out" 2>/dev/null && break; sleep 0.2; done
  grep -q READY "$OUT/$id.out" || { log "replica $id did not start; see $OUT/$id.log"; exit 1; }
done
log "10 replicas ready"

mkdir -p "$work/data"
disk_sync() {   # disk_sync FILE: p50 and p99 of 200 fdatasync'ed 4 KiB writes in the replicas' data directory, ms
  python3 - "$work/data/sync-probe" <<'PY' >> "$1"
import os, sys, time, json
# Like Ratis' log segments, the file is preallocated first, so each sync carries data, not a new file size.
f = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o600)
os.write(f, bytes(200 * 4096)); os.fsync(f)
buf, xs = os.urandom(4096), []
for i in range(200):
    t = time.perf_counter(); os.pwrite(f, buf, i * 4096); os.fdatasync(f); xs.append((time.perf_counter() - t) * 1000)
os.close(f); os.unlink(sys.argv[1]); xs.sort()
print(json.dumps({"p50Ms": xs[99], "p99Ms": xs[197]}))
PY
}
: > "$OUT/disk-sync.jsonl"; disk_sync "$OUT/disk-sync.jsonl"
log "disk sync (4 KiB fdatasync): $(tail -1 "$OUT/disk-sync.jsonl")"
# ping when installed; otherwise the median of 20 TCP connection set-ups (a SYN answered by SYN-ACK: one round trip)
# to a replica port on that path (A's a1, B's b1), in ms.
rtt() {
  if command -v ping > /dev/null; then ping -c 20 -i 0.2 -q "$1" | awk -F/ '/rtt|round-trip/ { print $5 }'; return; fi
  python3 - "$1" "$2" <<'PY'
import socket, statistics, sys, time
xs = []
for _ in range(20):
    s = socket.socket(); t = time.perf_counter(); s.connect((sys.argv[1], int(sys.argv[2]))); xs.append((time.perf_counter() - t) * 1000); s.close(); time.sleep(0.2)
print("%.3f" % statistics.median(xs))
PY
}
rtt_local=$(rtt $A 7611); rtt_wan=$(rtt $B 7621)
log "ping RTT: loopback at A $rtt_local ms, WAN A-B $rtt_wan ms"
regions="a=$peers_a;b=$peers_b"
client() {   # client SIDE NAME ARGS...
  local side=$1 name=$2; shift 2; local pre=""
  [ "$side" = B ] && pre="$ns"
  # shellcheck disable=SC2086
  $pre java $CLIENT_JVM -jar "$jar" consensus-latency --node-id "lat-$name" --ops "$OPS" --warmup "$WARMUP" --json "$@" \
      2>> "$OUT/clients.log" 8>&- 9>&- | tail -1
}
# Leader of the cross-site group to A once (the Raft leader is where a real deployment would put it for A's clients).
client A cross-setup --regions "x=$peers_x" --target region:x --leader x1 --ops 1 > /dev/null
: > "$OUT/raw.jsonl"
for rep in $(seq "$REPS"); do
  for layout in regional-a-from-A regional-b-from-B global-home-from-A global-home-from-B cross-from-A cross-from-B; do
    case $layout in
      regional-a-from-A)  line=$(client A "$layout-$rep" --regions "$regions" --target region:a) ;;
      regional-b-from-B)  line=$(client B "$layout-$rep" --regions "$regions" --target region:b) ;;
      global-home-from-A) line=$(client A "$layout-$rep" --regions "$regions" --target global:plan --home a) ;;
      global-home-from-B) line=$(client B "$layout-$rep" --regions "$regions" --target global:plan --home a) ;;
      cross-from-A)       line=$(client A "$layout-$rep" --regions "x=$peers_x" --target region:x) ;;
      cross-from-B)       line=$(client B "$layout-$rep" --regions "x=$peers_x" --target region:x) ;;
    esac
    echo "{\"layout\":\"$layout\",\"rep\":$rep,\"result\":$line}" >> "$OUT/raw.jsonl"
    log "rep $rep $layout: $(echo "$line" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("p50 %.2f p99 %.2f ms leader %s" % (d["p50Ms"], d["p99Ms"], d["leader"]))')"
  done
done
disk_sync "$OUT/disk-sync.jsonl"
log "disk sync (4 KiB fdatasync): $(tail -1 "$OUT/disk-sync.jsonl")"
uptime > "$OUT/uptime-after.txt"

python3 - "$OUT" "$rtt_local" "$rtt_wan" "$FSYNC" <<'PY' | tee "$OUT/table.md"
import json, sys, statistics
out, lo, wan = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
# least RTT any commit must wait: client->leader + leader->nearest majority
bound = {"regional-a-from-A": lo + lo, "regional-b-from-B": lo + lo, "global-home-from-A": lo + lo,
         "global-home-from-B": wan + lo, "cross-from-A": lo + wan, "cross-from-B": wan + wan}
syncs = [json.loads(l) for l in open(out + "/disk-sync.jsonl") if l.strip()]
sync50 = statistics.median(x["p50Ms"] for x in syncs)
rows = {}
for l in open(out + "/raw.jsonl"):
    d = json.loads(l); rows.setdefault(d["layout"], []).append(d["result"])
def pct(xs, q):
    xs = sorted(xs); import math; return xs[max(0, min(len(xs) - 1, math.ceil(q * len(xs)) - 1))]
print(f"disk sync p50 {sync50:.2f} ms (median of {len(syncs)} probes of 200 fdatasyncs)\n")
print("| layout | best quorum RTT ms | p50 ms (pooled) | p99 ms (pooled) | p50 per rep, median [min, max] | p50 / RTT | p99 / RTT | within 1.2x | p50 / (RTT + sync) | p99 / (RTT + sync) |")
print("|---|---|---|---|---|---|---|---|---|---|")
summary = {}
for k in bound:
    rs = rows.get(k, [])
    if not rs: continue
    s = [x for r in rs for x in r["samplesMs"]]
    p50, p99 = pct(s, .5), pct(s, .99)
    reps = [r["p50Ms"] for r in rs]
    b = bound[k]
    ok = p50 <= 1.2 * b and p99 <= 1.2 * b
    bd = b + sync50
    summary[k] = {"boundMs": b, "boundWithSyncMs": bd, "p50Ms": p50, "p99Ms": p99, "repP50": reps, "samples": len(s), "within": ok}
    print(f"| {k} | {b:.2f} | {p50:.2f} | {p99:.2f} | {statistics.median(reps):.2f} [{min(reps):.2f}, {max(reps):.2f}] | {p50/b:.2f} | {p99/b:.2f} | {'yes' if ok else 'no'} | {p50/bd:.2f} | {p99/bd:.2f} |")
json.dump({"diskSyncP50Ms": sync50, "fsync": sys.argv[4], "layouts": summary}, open(out + "/summary.json", "w"), indent=1)
PY
log "results in $OUT"
