#!/bin/bash
# Builds the guest image for the QEMU live-migration tests and benchmark (idempotent):
#   $IMAGE_DIR/initramfs-check.cpio = the vmcorpus initramfs + a guest /init that also runs a self-check.
# The self-check: right after the load phase the guest records the MD5 of every file it copied into tmpfs (guest RAM),
# then, every few seconds, verifies them all again and prints "CORPUS: CHECK n START" / "CORPUS: CHECK n OK|FAIL" on
# the serial console. A check that starts on the destination after a migration and ends OK proves that those pages
# (about a quarter of guest RAM), the check list itself and the shell running it came through intact.
# Needs the vmcorpus build cache (kernel, initramfs, content disk): ../shared/vmcorpus/make-corpus.sh makes it.
#   CORPUS=/var/tmp/vmcorpus IMAGE_DIR=/var/tmp/dwcp-qemu guest-image.sh   -> prints the cpio path
set -euo pipefail
CORPUS=${CORPUS:-/var/tmp/vmcorpus}
IMAGE_DIR=${IMAGE_DIR:-/var/tmp/dwcp-qemu}
B=$CORPUS/build
HERE=$(cd "$(dirname "$0")" && pwd)
for f in "$B/initramfs.cpio" "$B/content.ext4" "$B/initramfs/init"; do
  [ -e "$f" ] || { echo "guest-image: $f missing; build the guest with ../shared/vmcorpus/make-corpus.sh" >&2; exit 3; }
done
command -v cpio >/dev/null || { echo "guest-image: cpio missing (apt-get install -y cpio)" >&2; exit 3; }
mkdir -p "$IMAGE_DIR"
CPIO=$IMAGE_DIR/initramfs-check.cpio
INIT=$IMAGE_DIR/initramfs-check.init   # a copy of the /init inside $CPIO
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
# The check loop goes in right before the workload reports that it started.
awk -v check="$HERE/check.sh" '/^say "WORKLOAD-STARTED/ { while ((getline l < check) > 0) print l } { print }' \
    "$B/initramfs/init" > "$T/init"
grep -q 'CHECK-READY' "$T/init" || { echo "guest-image: could not insert the check into the guest init" >&2; exit 1; }
# Rebuilt only when the guest's /init changes (or the vmcorpus initramfs is newer), never for a script's file time: a
# fresh checkout dates every script now, and a rebuilt image makes bench-qemu.sh remake its saved guests (minutes).
if [ ! -f "$CPIO" ] || [ "$B/initramfs.cpio" -nt "$CPIO" ] || ! cmp -s "$T/init" "$INIT"; then
  chmod 755 "$T/init"
  # A second cpio archive after the first: the kernel unpacks both, the later /init wins.
  (cd "$T" && echo init | cpio -o -H newc --quiet) > "$T/extra.cpio"
  cat "$B/initramfs.cpio" "$T/extra.cpio" > "$CPIO.tmp" && mv "$CPIO.tmp" "$CPIO"
  cp "$T/init" "$INIT.tmp" && mv "$INIT.tmp" "$INIT"
fi
echo "$CPIO"
