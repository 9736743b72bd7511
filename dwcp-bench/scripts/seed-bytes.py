#!/usr/bin/env python3
"""Where a seeded round's bytes go, offline: compares two versions of a state page by page, as a replica-seeded round
plans them (same page kept, zero page, copy of a kept page, literal), and estimates the literal pages' cost whole and
as changed eighths (a PATCH when at most 6 of 8 differ), compressed with DEFLATE (level 1, as sent; 6 and 9), with zstd
(the zstd CLI, levels 1 and 3, if installed), and the block-hash exchange the eighths cost (8 bytes per block + 4 per
page). Copies are found with a 128-bit sum hash here, SHA-256 in the protocol (same result barring collisions).

    python3 dwcp-bench/scripts/seed-bytes.py OLD.ram NEW.ram      # e.g. the tuning pair s0.ram s5.ram

Needs numpy; reads both files into memory (2x the state size)."""
import shutil, subprocess, sys, zlib
import numpy as np

P, BATCH = 4096, 4096  # page size; pages per DEFLATE stream (a seeded round's batch holds up to 16 MiB of pages)


def row_hashes(rows):
    x = rows.astype(np.uint64)
    w = np.arange(1, x.shape[1] + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    return list(zip((x * w).sum(axis=1).tolist(), (x * (w ^ np.uint64(0xBF58476D1CE4E5B9))).sum(axis=1).tolist()))


def deflate(parts, level):
    total = 0
    for s in range(0, len(parts), BATCH):
        c = zlib.compressobj(level, zlib.DEFLATED, -15)
        total += len(c.compress(b"".join(parts[s:s + BATCH]))) + len(c.flush())
    return total


def zstd(parts, level):
    if not shutil.which("zstd"):
        return None
    data = b"".join(parts)
    return len(subprocess.run(["zstd", "-q", f"-{level}", "-c"], input=data, capture_output=True, check=True).stdout)


def main(old_path, new_path):
    a = np.fromfile(old_path, dtype=np.uint8).reshape(-1, P)
    b = np.fromfile(new_path, dtype=np.uint8).reshape(-1, P)
    n = a.shape[0]
    av, bv = a.view(np.uint64).reshape(n, -1), b.view(np.uint64).reshape(n, -1)
    differ = np.any(av != bv, axis=1)
    idx = np.nonzero(differ)[0]
    zero = ~np.any(bv[idx] != 0, axis=1)
    kept = set(row_hashes(av[np.nonzero(~differ)[0]]))
    nonzero = idx[~zero]
    copies = {int(i) for i, h in zip(nonzero, row_hashes(bv[nonzero])) if h in kept}
    literal = [int(i) for i in nonzero if int(i) not in copies]
    whole, eighths, patched = [], [], 0
    for i in literal:
        old, new = a[i].reshape(8, 512), b[i].reshape(8, 512)
        m = np.any(old != new, axis=1)
        whole.append(b[i].tobytes())
        if m.sum() <= 6:
            patched += 1
            eighths.append(b"\0" + b"".join(new[k].tobytes() for k in range(8) if m[k]))
        else:
            eighths.append(b[i].tobytes())
    chunks = len(np.unique(idx // 64))
    print(f"pages {n}, differing {len(idx)} in {chunks} chunks (page-hash exchange {chunks * 64 * 16} B)")
    print(f"zero {int(zero.sum())}, copies {len(copies)}, literal {len(literal)} of which {patched} patchable")
    print(f"block-hash exchange {len(literal) * (64 + 4)} B")
    for name, parts in (("whole pages", whole), ("with eighths", eighths)):
        sizes = [f"deflate-{lv} {deflate(parts, lv)}" for lv in (1, 6, 9)]
        sizes += [f"zstd-{lv} {zstd(parts, lv)}" for lv in (1, 3)]
        print(f"{name}: raw {sum(map(len, parts))}, " + ", ".join(sizes))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
