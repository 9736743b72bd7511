#!/usr/bin/env python3
"""Writes versions v0..v(N-1) of a synthetic VM state into WORK: a base of mixed content (a quarter zero pages, 15 %
random pages, the rest text), each later version with 2 % of its pages edited in place (64 random bytes each).

    synth-versions.py WORK MIB VERSIONS SEED

Used by fault-campaign.sh and bench-hostile.sh. The random pages come from os.urandom: versions differ between
calls; their layout (which pages are zero, random or text, which are edited) follows SEED.
"""
import os
import random
import sys

work, mib, versions, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
size = mib << 20
rnd = random.Random(seed)
words = b"the of and to kernel page cache memory java heap object thread lock buffer socket file".split()
base = bytearray(size)
for off in range(0, size, 4096):
    r = rnd.random()
    if r < 0.25:
        continue
    if r < 0.4:
        base[off:off + 4096] = os.urandom(4096)
    else:
        t = b" ".join(rnd.choice(words) for _ in range(800))[:4096]
        base[off:off + len(t)] = t
cur = base
for v in range(versions):
    if v > 0:
        cur = bytearray(cur)
        for _ in range(size // 4096 // 50):
            p = rnd.randrange(size // 4096) * 4096
            i = p + rnd.randrange(4096 - 64)
            cur[i:i + 64] = os.urandom(64)
    with open(f"{work}/v{v}.ram", "wb") as f:
        f.write(cur)
