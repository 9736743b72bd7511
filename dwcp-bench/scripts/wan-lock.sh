# Sourced by the WAN benchmark scripts (not run on its own): the emulated WAN of ../shared/wan is one link per
# machine, so a benchmark holds flock /tmp/dwcp-wan.lock on file descriptor 9 from wan_lock until it exits, and never
# brings up, or tears down, a link while one made by another run exists. The caller defines log MESSAGE.

# Whether an emulated link exists (the user-space emulator, the far namespace or the near device).
wan_link_exists() {
  pgrep -f '/wanem ' >/dev/null 2>&1 || ip netns list 2>/dev/null | grep -qw dwcp-b || ip link show dwcp-a >/dev/null 2>&1
}

# Takes the lock (waiting for another WAN session), then waits until no other run's link is left.
wan_lock() {
  exec 9>/tmp/dwcp-wan.lock
  if ! flock -n 9; then log "waiting for /tmp/dwcp-wan.lock (another WAN session)"; flock 9; fi
  while wan_link_exists; do log "a WAN link exists that this run did not make; waiting 30 s"; sleep 30; done
}

# The paths a WAN benchmark shares, for a script in this directory that set `here` (its directory) and sourced this
# file: root (the checkout), wan (the emulator's scripts, $WAN_DIR or ../shared/wan beside the checkout) and OUT (the
# caller's --out, else /var/tmp/dwcp-results/NAME-STAMP-REV; created, made absolute). Exits unless run as root, naming
# NAME and WHY (what needs root).
bench_paths() {
  local name=$1 why=$2 rev stamp
  root=$(cd "$here/../.." && pwd)
  wan=${WAN_DIR:-$(cd "$root/../shared/wan" 2>/dev/null && pwd || echo /work/shared/wan)}
  [ "$(id -u)" = 0 ] || { echo "bench-$name: needs root ($why)" >&2; exit 1; }
  rev=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
  OUT=${OUT:-/var/tmp/dwcp-results/$name-$stamp-$rev}
  mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
}
