# --- dwcp guest self-check (inserted by guest-image.sh) ---
# 8 MiB of random data plus a sample of the files copied into tmpfs (guest RAM), about 16 MiB in all: their MD5s are
# taken once, then verified again and again. Kept small: a check must finish in seconds on a TCG guest.
dd if=/dev/urandom of=/tmp/check.bin bs=1M count=8 2>/dev/null
(cd /tmp/data && find . -type f -size -257k | sort | awk 'NR % 40 == 1' | head -n 64 > /tmp/check.lst
 echo ../check.bin >> /tmp/check.lst; xargs md5sum < /tmp/check.lst > /tmp/check.md5) 2>/dev/null
say "CHECK-READY files=$(wc -l < /tmp/check.md5)"
(n=0; while :; do
   n=$((n+1)); say "CHECK $n START"
   if (cd /tmp/data && md5sum -c -s /tmp/check.md5) 2>/dev/null; then say "CHECK $n OK"; else say "CHECK $n FAIL"; fi
   sleep 2
 done) &
# --- end of the self-check ---
