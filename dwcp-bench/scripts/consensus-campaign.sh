#!/usr/bin/env bash
# Linearizability campaign: `dwcp consensus-check` on seeds FROM .. FROM+COUNT-1, one seed per run, resumable.
#
#   dwcp-bench/scripts/consensus-campaign.sh --from 1 --count 100                 # 5 replicas, every fault
#   dwcp-bench/scripts/consensus-campaign.sh --from 1 --count 100 --until 03:10   # start no seed after 03:10 (UTC)
#   dwcp-bench/scripts/consensus-campaign.sh --summary                            # only summarise --out
#
# Each seed starts 5 replica JVMs (ConsensusNode) behind the fault-injecting proxy, runs 4 register clients and 3
# hand-over agents while the nemesis injects one each of kill (SIGKILL + restart from disk), pause (SIGSTOP/SIGCONT),
# partition, one-way cut and delay, then checks the history: linearizability, lost acknowledged writes, two owners of
# a VM in one epoch or at one instant. Seeds run one after another (six JVMs at a time), niced: a correctness check,
# not a timing.
#
# Resumable: a seed's verdict is kept as OUT/seed-S.json (the run's last JSON line) only once the run ended; seeds
# with a verdict are skipped, so re-running the same command (or a wider range) continues where it stopped. A seed
# whose run was interrupted has no verdict and runs again.
#
# Verdicts are told apart: a VIOLATION (not linearizable, a lost acknowledged write, two owners) fails the campaign;
# a HARNESS failure (a replica did not start, the group committed nothing within --start-timeout, the healed group
# answered no final read) checked nothing for that seed and is listed separately, with its replicas' logs kept under
# OUT/work/seed-S; a STALL (no recovery within 2 minutes after a fault healed) is liveness, reported, not a violation.
#
# The last line of output is one JSON object summarising every verdict in OUT (all ranges run into it so far).
# Exit status: 0 when no seed in OUT violated anything and none failed in the harness, 1 otherwise, 2 for bad options.
#
# Options: --from S (default 1), --count N (default 100), --out DIR (default /var/tmp/dwcp-results/consensus-campaign),
#          --jar PATH (default dwcp-bench/target/dwcp.jar; copied into OUT on the first run so that a rebuild does not
#          change a running campaign: delete OUT/dwcp.jar to take a new build), --until HH:MM (UTC; start no seed
#          after it), --summary (summarise OUT, run nothing), --retry-harness (run again the seeds whose verdict was a
#          harness failure), and after `--` extra consensus-check options (they override the defaults below).
set -euo pipefail

FROM=1; COUNT=100; OUT=/var/tmp/dwcp-results/consensus-campaign; JAR=""; UNTIL=""; SUMMARY=0; RETRY_HARNESS=0
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --from) FROM=$2; shift 2;;
    --count) COUNT=$2; shift 2;;
    --out) OUT=$2; shift 2;;
    --jar) JAR=$2; shift 2;;
    --until) UNTIL=$2; shift 2;;
    --summary) SUMMARY=1; shift;;
    --retry-harness) RETRY_HARNESS=1; shift;;
    --) shift; EXTRA=("$@"); break;;
    -h|--help) sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit 0;;
    *) echo "consensus-campaign: unknown argument '$1' (see --help)" >&2; exit 2;;
  esac
done
. "$(dirname "$0")/campaign-lib.sh"
campaign_init consensus-campaign
mkdir -p "$OUT/hist"

summary() {
  python3 - "$OUT" <<'PY'
import glob, json, os, re, statistics, sys
out = sys.argv[1]
seeds, harness, violating, secs = [], [], [], []
tot = {k: 0 for k in ("ops", "ok", "fail", "info", "lostWrites", "epochConflicts", "ownerOverlaps", "stalls")}
faults = {}
for f in sorted(glob.glob(out + "/seed-*.json"), key=lambda p: int(re.search(r"seed-(\d+)\.json$", p).group(1))):
    s = int(re.search(r"seed-(\d+)\.json$", f).group(1))
    d = json.load(open(f))
    if d.get("harnessFailures"):
        harness.append(s); continue
    seeds.append(s); secs.append(d["seconds"])
    for k in tot: tot[k] += d[k]
    for k, v in d["faults"].items(): faults[k] = faults.get(k, 0) + v
    if d["violations"] or d["failingSeeds"] or d["lostWrites"] or d["epochConflicts"] or d["ownerOverlaps"]:
        violating.append(s)
def ranges(xs):
    r, xs = [], sorted(xs)
    for x in xs:
        if r and x == r[-1][1] + 1: r[-1][1] = x
        else: r.append([x, x])
    return ",".join(f"{a}" if a == b else f"{a}-{b}" for a, b in r) or "none"
rev = open(out + "/revision").read().strip() if os.path.exists(out + "/revision") else "unknown"
med = statistics.median(secs) if secs else 0
print(f"campaign {out} (revision {rev}): {len(seeds)} seeds checked ({ranges(seeds)}), "
      f"{len(violating)} with a violation ({ranges(violating)}), {len(harness)} harness failures ({ranges(harness)}); "
      f"operations {tot['ops']} (ok {tot['ok']}, fail {tot['fail']}, info {tot['info']}); "
      f"lost acknowledged writes {tot['lostWrites']}, two owners in one epoch {tot['epochConflicts']}, "
      f"two owners at once {tot['ownerOverlaps']}, stalls {tot['stalls']}; faults {faults}; "
      f"seconds per seed median {med:.0f} [{min(secs, default=0):.0f}, {max(secs, default=0):.0f}]")
print(json.dumps({"seedsChecked": len(seeds), "seeds": ranges(seeds), "violatingSeeds": violating,
                  "harnessFailures": harness, **tot, "faults": faults, "revision": rev,
                  "secondsPerSeedMedian": med}))
sys.exit(0 if not violating and not harness else 1)
PY
}
if [ "$SUMMARY" = 1 ]; then summary; exit $?; fi

campaign_jar consensus-campaign dwcp-consensus dwcp-core dwcp-bench

# Class-data archives (AppCDS) of OUT/dwcp.jar, made once per OUT: the replicas' classes (from a one-replica group
# that starts, elects itself and stops) and the harness' (dumped when the first seed's harness exits). A replica JVM
# then starts, and restarts after a kill, in about a third of the time; what a seed checks is unchanged. An archive
# that does not match the jar is ignored by the JVM (a warning, no failure).
REPLICA_JSA="$OUT/replica.jsa"; HARNESS_JSA="$OUT/harness.jsa"
if [ ! -f "$REPLICA_JSA" ]; then
  cds_dir=$(mktemp -d "$OUT/work/cds.XXXXXX")
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  log "making the replicas' class-data archive $REPLICA_JSA"
  # Standard input open for 5 s (the replica stops when it closes): long enough to elect itself and commit.
  (sleep 5) | nice -n 15 java -XX:ArchiveClassesAtExit="$REPLICA_JSA.tmp" -Xmx96m -XX:+UseSerialGC \
      -XX:TieredStopAtLevel=1 -cp "$OUT/dwcp.jar" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -Ddwcp.node-id=n1 \
      -Ddwcp.consensus.peers="n1@127.0.0.1:$port" -Ddwcp.consensus.storage-dir="$cds_dir/n1" \
      -Ddwcp.consensus.election.min=1s io.dwcp.consensus.ConsensusNode > "$cds_dir/out" 2>&1 \
    && [ -s "$REPLICA_JSA.tmp" ] && mv "$REPLICA_JSA.tmp" "$REPLICA_JSA" \
    || log "no class-data archive (see $cds_dir/out); replicas start without it"
  [ -f "$REPLICA_JSA" ] && rm -rf "$cds_dir"
fi
REPLICA_OPTS=()
[ -f "$REPLICA_JSA" ] && REPLICA_OPTS=(-Ddwcp.acp.replica.jvm-options=-XX:SharedArchiveFile="$REPLICA_JSA")

# a harness failure checked nothing: with --retry-harness its seed runs again
seed_skip() {
  local verdict="$OUT/seed-$1.json"
  [ -f "$verdict" ] || return 1
  if [ "$RETRY_HARNESS" = 1 ] && grep -q '"harnessFailures":\[[0-9]' "$verdict"; then
    log "seed $1: harness failure before; running it again"; rm -f "$verdict"; return 1
  fi
}
seed_command() {
  local cds
  if [ -f "$HARNESS_JSA" ]; then cds=(-XX:SharedArchiveFile="$HARNESS_JSA"); else cds=(-XX:ArchiveClassesAtExit="$HARNESS_JSA"); fi
  exec nice -n 15 java "${cds[@]}" "${REPLICA_OPTS[@]}" -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -jar "$OUT/dwcp.jar" consensus-check \
      --nodes 5 --clients 4 --duration 0s --fault-hold 700ms --election-min 1s --faults all --start-timeout 10m \
      "${EXTRA[@]}" --seed "$1" --seeds 1 --history "$OUT/hist/seed-$1.jsonl" --work-dir "$OUT/work" --json
}
campaign_seeds
summary
