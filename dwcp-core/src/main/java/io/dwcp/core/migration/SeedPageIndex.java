package io.dwcp.core.migration;

import java.io.IOException;
import java.util.Arrays;

/**
 * The receiver's index of a seed's pages by the first 8 bytes of their page hash, for BLOCKS requests of version 5
 * on: a would-be literal page whose content the seed holds at another index (a page that moved, from anywhere in the
 * state) is answered with that index, and the sender copies it instead of sending it. Built from a description's
 * sidecar once per description version ({@link FileReplicas#pageIndex}); 12 bytes per slot, 2 slots per page at most
 * (about 24 bytes a page: 24 MiB for 4 GiB of 4 KiB pages). Immutable once built; thread-safe.
 */
final class SeedPageIndex {
    /** The description it indexes: valid while the seed is that version. */
    final SeedDescription.Stamp stamp;
    final byte[] version;
    private final long[] keys;
    /** Page + 1 per slot; 0: empty. */
    private final int[] pages;
    private final int mask;

    private SeedPageIndex(SeedDescription.Stamp stamp, byte[] version, long[] keys, int[] pages) {
        this.stamp = stamp;
        this.version = version;
        this.keys = keys;
        this.pages = pages;
        this.mask = keys.length - 1;
    }

    /** Indexes every page of {@code d} (the first page of each distinct hash). */
    static SeedPageIndex of(SeedDescription d) throws IOException {
        long[] all = d.allPageHashes();
        int n = all.length / 2;
        int slots = Integer.highestOneBit(Math.max(2, 2 * n - 1)) << 1;
        long[] keys = new long[slots];
        int[] pages = new int[slots];
        int m = slots - 1;
        for (int p = 0; p < n; p++) {
            long h = all[2 * p];
            for (int s = spread(h) & m; ; s = (s + 1) & m) {
                if (pages[s] == 0) {
                    keys[s] = h;
                    pages[s] = p + 1;
                    break;
                }
                if (keys[s] == h) {
                    break;
                }
            }
        }
        return new SeedPageIndex(d.stamp, d.version.clone(), keys, pages);
    }

    /** {@return whether it indexes the description {@code d}} (the same file version and seed version) */
    boolean indexes(SeedDescription d) {
        return stamp.equals(d.stamp) && Arrays.equals(version, d.version);
    }

    /** {@return a page whose hash starts with {@code hash8}, or -1} */
    int get(long hash8) {
        for (int s = spread(hash8) & mask; pages[s] != 0; s = (s + 1) & mask) {
            if (keys[s] == hash8) {
                return pages[s] - 1;
            }
        }
        return -1;
    }

    private static int spread(long h) {
        long z = h * 0x9E3779B97F4A7C15L;
        return (int) (z ^ (z >>> 32));
    }
}
