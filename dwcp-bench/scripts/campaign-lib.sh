# What the seed campaigns (consensus-campaign.sh, sync-campaign.sh) share; sourced, not run.
#
#   campaign_init NAME MODULE...   checks FROM, COUNT and UNTIL; makes OUT (and OUT/work) absolute; sets `root`
#   campaign_jar NAME MODULE...    copies JAR (default: this checkout's dwcp.jar) into OUT once, with the revision it
#                                  was built from (marked +uncommitted when MODULE... had local changes), so a rebuild
#                                  does not change a running campaign; delete OUT/dwcp.jar to take a new build
#   campaign_seeds                 runs the seeds FROM .. FROM+COUNT-1 that have no result yet, one at a time
#
# The caller defines:
#   seed_command S   execs the run of seed S (it is started in the background with its output in OUT/seed-S.out and
#                    OUT/seed-S.err, so it must `exec` the process that a stop signal should reach)
#   seed_skip S      (optional) succeeds when seed S needs no run; default: its result OUT/seed-S.json exists
#   seed_done S RC   (optional) called after a seed's result was kept, with the run's exit status
# A seed's result is the run's last output line that is a JSON object with a "seeds" field, kept as OUT/seed-S.json only once
# the run ended with status 0 or 1; a seed without one runs again next time. A stop signal ends the running seed.

log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

campaign_init() {
  local name=$1
  case "$FROM$COUNT" in *[!0-9]*) echo "$name: --from and --count must be whole numbers" >&2; exit 2;; esac
  if [ -n "$UNTIL" ] && ! date -u -d "$UNTIL" +%s > /dev/null 2>&1; then
    echo "$name: --until '$UNTIL' is not a time (HH:MM, UTC)" >&2; exit 2
  fi
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  mkdir -p "$OUT/work"; OUT=$(cd "$OUT" && pwd)
}

campaign_jar() {
  local name=$1; shift
  if [ ! -f "$OUT/dwcp.jar" ]; then
    [ -n "$JAR" ] || JAR="$root/dwcp-bench/target/dwcp.jar"
    [ -f "$JAR" ] || { echo "$name: no jar at $JAR (build dwcp-bench first)" >&2; exit 2; }
    cp "$JAR" "$OUT/dwcp.jar.tmp" && mv "$OUT/dwcp.jar.tmp" "$OUT/dwcp.jar"
    git -C "$root" rev-parse --short HEAD > "$OUT/revision" 2>/dev/null || echo unknown > "$OUT/revision"
    [ -z "$(git -C "$root" status --porcelain -- "$@" 2>/dev/null)" ] || sed -i 's/$/+uncommitted/' "$OUT/revision"
  elif [ -n "$JAR" ]; then
    log "keeping $OUT/dwcp.jar (revision $(cat "$OUT/revision")); delete it to take $JAR"
  fi
}

campaign_seeds() {
  local s result rc last child=""
  trap '[ -n "$child" ] && kill -TERM "$child" 2>/dev/null; wait 2>/dev/null; exit 130' INT TERM
  for s in $(seq "$FROM" $((FROM + COUNT - 1))); do
    result="$OUT/seed-$s.json"
    if declare -F seed_skip > /dev/null; then seed_skip "$s" && continue; else [ -f "$result" ] && continue; fi
    if [ -n "$UNTIL" ] && [ "$(date -u +%s)" -ge "$(date -u -d "$UNTIL" +%s)" ]; then
      log "it is past $UNTIL: not starting seed $s"; break
    fi
    rm -rf "$OUT/work/seed-$s"
    log "seed $s: start (load $(cut -d' ' -f1 /proc/loadavg))"
    set +e
    seed_command "$s" > "$OUT/seed-$s.out" 2> "$OUT/seed-$s.err" &
    child=$!; wait "$child"; rc=$?; child=""
    set -e
    last=$(grep '^{' "$OUT/seed-$s.out" | tail -1)   # a JVM's class-data messages may follow the JSON line
    if [ "$rc" -le 1 ] && echo "$last" | python3 -c 'import json,sys; json.load(sys.stdin)["seeds"]' 2>/dev/null; then
      echo "$last" > "$result.tmp" && mv "$result.tmp" "$result"
      log "seed $s: $(grep -m1 "^seed $s:" "$OUT/seed-$s.out" | cut -c1-300)"
      if declare -F seed_done > /dev/null; then seed_done "$s" "$rc"; fi
    else
      log "seed $s: no result (exit $rc); see $OUT/seed-$s.err"
      [ "$rc" -ge 128 ] && exit "$rc"
    fi
  done
  trap - INT TERM
}
