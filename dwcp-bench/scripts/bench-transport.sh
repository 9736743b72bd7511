#!/usr/bin/env bash
# AMST beside iperf3 on the same emulated WAN link and on loopback.
#
#   dwcp-bench/scripts/bench-transport.sh            # REPS=5 BYTES=2g by default; needs root
#   REPS=3 BYTES=1g ADJUST=2s dwcp-bench/scripts/bench-transport.sh
#
# For each congestion control (CUBIC, BBR; set on both ends, restored at exit) it runs, REPS times each and
# interleaved: iperf3 -P 8 (20 s), AMST --streams auto in plaintext, and AMST --streams auto over TLS 1.3 with
# mutual authentication (certificates made here with openssl); under BBR also AMST with --rate-cap $RATE_CAP
# (default 200Mbit/s, 512 MiB) to check the cap. On loopback it runs iperf3 -P 8 and AMST
# --streams 8. It prints every raw value and a table of medians, and writes them to $OUT (a directory).
# Link: ../shared/wan/wan-up.sh 25 0.05 400 (50 ms RTT, 0.05 % loss, 400 Mbit/s); server side in netns dwcp-b at
# 198.18.0.2, client here at 198.18.0.1. Traffic goes only to 198.18.0.2 and 127.0.0.1. The link is torn down at exit.
set -euo pipefail

REPS=${REPS:-5}
BYTES=${BYTES:-2g}
ADJUST=${ADJUST:-2s}
IPERF_SECONDS=${IPERF_SECONDS:-20}
RATE_CAP=${RATE_CAP:-200Mbit/s}
LOOP_BYTES=${LOOP_BYTES:-32g}  # ~15 s on loopback, about as long as the iperf3 run: both pay start-up (AMST: JVM, JIT) over a similar time
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
wan=${WAN_DIR:-$(cd "$root/../shared/wan" 2>/dev/null && pwd || echo /work/shared/wan)}
jar="$root/dwcp-bench/target/dwcp.jar"
OUT=${OUT:-$(mktemp -d /tmp/bench-transport.XXXXXX)}
mkdir -p "$OUT"

[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces, sysctl)" >&2; exit 1; }
command -v iperf3 >/dev/null || { apt-get update -qq && apt-get install -y -qq iperf3 >/dev/null; }
command -v openssl >/dev/null || { apt-get update -qq && apt-get install -y -qq openssl >/dev/null; }
if [ ! -f "$jar" ]; then (cd "$root" && ./mvnw -B -q -pl dwcp-bench -am package -DskipTests); fi

# Only one emulated link can exist; do not tear down a link someone else is measuring on.
if ip netns list 2>/dev/null | grep -q '^dwcp-b' && [ "${FORCE:-0}" != 1 ]; then
  echo "the emulated link (netns dwcp-b) is already up: another benchmark may be using it; wait, or FORCE=1" >&2
  exit 3
fi
orig_cc=$(sysctl -n net.ipv4.tcp_congestion_control)
pids=()
cleanup() {
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  sysctl -qw net.ipv4.tcp_congestion_control="$orig_cc" || true
  "$wan/wan-down.sh" > "$OUT/wanem.log" 2>&1 || true
}
trap cleanup EXIT

# Certificates: a throw-away CA and one node certificate used by both ends (mutual TLS).
certs="$OUT/certs"; mkdir -p "$certs"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=dwcp-bench-ca" \
  -keyout "$certs/ca.key" -out "$certs/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=dwcp-bench-node" \
  -keyout "$certs/node.key.tmp" -out "$certs/node.csr" 2>/dev/null
openssl pkcs8 -topk8 -nocrypt -in "$certs/node.key.tmp" -out "$certs/node.key"
printf 'subjectAltName=IP:198.18.0.2,IP:198.18.0.1,IP:127.0.0.1\n' > "$certs/ext"
openssl x509 -req -in "$certs/node.csr" -CA "$certs/ca.pem" -CAkey "$certs/ca.key" -CAcreateserial -days 2 \
  -extfile "$certs/ext" -out "$certs/node.pem" 2>/dev/null
tls=(--cert "$certs/node.pem" --key-file "$certs/node.key" --ca "$certs/ca.pem")

wait_port() { # ns-prefix port
  for _ in $(seq 100); do $1 ss -ltn | grep -q ":$2 " && return 0; sleep 0.1; done; return 1
}

amst() { # label client-args...
  local label=$1; shift
  local line
  line=$(java -jar "$jar" bench-transport --bytes "$BYTES" --adjust-interval "$ADJUST" --json "$@" 2>>"$OUT/client.log" | tail -1)
  echo "$label $line" >> "$OUT/raw.txt"
  echo "$line" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["goodputMbps"], d["streams"], d["resentFrames"])'
}

iperf() { # label ns-prefix host port
  local label=$1 ns=$2 host=$3 port=$4
  $ns iperf3 -s -1 -B "$host" -p "$port" >/dev/null 2>&1 &
  local sp=$!
  wait_port "$ns" "$port"
  local v
  v=$(iperf3 -c "$host" -p "$port" -P 8 -t "$IPERF_SECONDS" -J | python3 -c 'import json,sys; d=json.load(sys.stdin); print(round(d["end"]["sum_received"]["bits_per_second"]/1e6,2))')
  wait "$sp" 2>/dev/null || true
  echo "$label {\"goodputMbps\":$v}" >> "$OUT/raw.txt"
  echo "$v"
}

: > "$OUT/raw.txt"
"$wan/wan-up.sh" 25 0.05 400
ns="ip netns exec dwcp-b"
for cc in cubic bbr; do
  sysctl -qw net.ipv4.tcp_congestion_control=$cc
  $ns sysctl -qw net.ipv4.tcp_congestion_control=$cc
  $ns java -jar "$jar" bench-transport --listen 198.18.0.2:7400 --plaintext >>"$OUT/server.log" 2>&1 & pids+=($!)
  $ns java -jar "$jar" bench-transport --listen 198.18.0.2:7401 "${tls[@]}" >>"$OUT/server.log" 2>&1 & pids+=($!)
  wait_port "$ns" 7400; wait_port "$ns" 7401
  for r in $(seq "$REPS"); do
    echo "[$cc $r/$REPS] iperf3 -P 8: $(iperf "wan-$cc-iperf3-P8" "$ns" 198.18.0.2 5201) Mbit/s"
    echo "[$cc $r/$REPS] AMST auto plaintext (goodput streams resent): $(amst "wan-$cc-amst-auto" --to 198.18.0.2:7400 --streams auto --plaintext)"
    echo "[$cc $r/$REPS] AMST auto TLS (goodput streams resent): $(amst "wan-$cc-amst-auto-tls" --to 198.18.0.2:7401 --streams auto "${tls[@]}")"
    if [ "$cc" = bbr ]; then
      echo "[$cc $r/$REPS] AMST auto, --rate-cap $RATE_CAP, 512 MiB (goodput streams resent): $(BYTES=512m amst "wan-$cc-amst-cap-${RATE_CAP%%/*}" --to 198.18.0.2:7400 --streams auto --plaintext --rate-cap "$RATE_CAP")"
    fi
  done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; pids=()
done
"$wan/wan-down.sh" > "$OUT/wanem.log" 2>&1 || true

sysctl -qw net.ipv4.tcp_congestion_control="$orig_cc"
java -jar "$jar" bench-transport --listen 127.0.0.1:7400 --plaintext >>"$OUT/server.log" 2>&1 & pids+=($!)
wait_port "" 7400
for r in $(seq "$REPS"); do
  echo "[loopback $r/$REPS] iperf3 -P 8: $(iperf "loopback-$orig_cc-iperf3-P8" "" 127.0.0.1 5201) Mbit/s"
  echo "[loopback $r/$REPS] AMST 8 streams (goodput streams resent): $(BYTES=$LOOP_BYTES amst "loopback-$orig_cc-amst-8" --to 127.0.0.1:7400 --streams 8 --plaintext)"
done

python3 - "$OUT/raw.txt" <<'PY' | tee "$OUT/table.txt"
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    label, js = line.split(" ", 1)
    rows.setdefault(label, []).append(json.loads(js))
print()
print(f"{'case':34} {'n':>2} {'median Mbit/s':>14} {'min':>8} {'max':>8} {'streams':>8} {'resent':>7}")
for label, vals in rows.items():
    g = [v["goodputMbps"] for v in vals]
    s = statistics.median([v.get("streams", 8) for v in vals])
    rs = statistics.median([v.get("resentFrames", 0) for v in vals])
    print(f"{label:34} {len(g):>2} {statistics.median(g):>14.1f} {min(g):>8.1f} {max(g):>8.1f} {s:>8} {rs:>7}")
PY
echo "raw results, logs and certificates: $OUT"
