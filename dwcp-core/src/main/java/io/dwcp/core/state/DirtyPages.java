package io.dwcp.core.state;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * A sparse set of page indices per region: which pages changed since the last round. Backed by bitmap blocks
 * of 65,536 pages allocated on first use, so a few dirty pages in a multi-GiB region cost a few KiB.
 *
 * <p>Not thread-safe: one writer (the dirty-page tracker), then hand it to the codec.
 */
public final class DirtyPages {
    private static final int BLOCK_SHIFT = 16;
    private static final int BLOCK_PAGES = 1 << BLOCK_SHIFT;
    private static final int WORDS_PER_BLOCK = BLOCK_PAGES / 64;

    private final Map<Integer, long[][]> regions = new HashMap<>();
    private long count;

    /**
     * Marks page {@code page} of region {@code region} dirty.
     *
     * @param region the region's index in the state
     * @param page the page's index in the region
     */
    public void add(int region, long page) {
        if (region < 0 || page < 0) {
            throw new IllegalArgumentException("region and page must be >= 0, got " + region + " and " + page);
        }
        long[][] blocks = regions.get(region);
        int b = blockIndex(page);
        if (blocks == null || b >= blocks.length) {
            blocks = blocks == null ? new long[b + 1][] : Arrays.copyOf(blocks, Math.max(b + 1, blocks.length * 2));
            regions.put(region, blocks);
        }
        if (blocks[b] == null) {
            blocks[b] = new long[WORDS_PER_BLOCK];
        }
        int bit = (int) (page & (BLOCK_PAGES - 1));
        long mask = 1L << (bit & 63);
        long word = blocks[b][bit >>> 6];
        if ((word & mask) == 0) {
            blocks[b][bit >>> 6] = word | mask;
            count++;
        }
    }

    /**
     * Marks pages {@code [fromPage, toPage)} of a region dirty.
     *
     * @param region the region's index in the state
     * @param fromPage the first page
     * @param toPage the page after the last
     */
    public void addRange(int region, long fromPage, long toPage) {
        for (long p = fromPage; p < toPage; p++) {
            add(region, p);
        }
    }

    /**
     * Whether a page is marked dirty.
     *
     * @param region the region's index in the state
     * @param page the page's index in the region
     * @return whether it is dirty
     */
    public boolean contains(int region, long page) {
        long[][] blocks = regions.get(region);
        int b = blockIndex(page);
        if (page < 0 || blocks == null || b >= blocks.length || blocks[b] == null) {
            return false;
        }
        int bit = (int) (page & (BLOCK_PAGES - 1));
        return (blocks[b][bit >>> 6] & (1L << (bit & 63))) != 0;
    }

    /**
     * The first dirty page of {@code region} at or after {@code fromPage}, or -1.
     *
     * @param region the region's index in the state
     * @param fromPage where to start looking
     * @return the page, or -1
     */
    public long next(int region, long fromPage) {
        long[][] blocks = regions.get(region);
        if (blocks == null || fromPage < 0) {
            return -1;
        }
        for (int b = blockIndex(fromPage); b < blocks.length; b++) {
            long[] words = blocks[b];
            if (words == null) {
                continue;
            }
            long blockStart = (long) b << BLOCK_SHIFT;
            int startBit = b == blockIndex(fromPage) ? (int) (fromPage - blockStart) : 0;
            for (int w = startBit >>> 6; w < WORDS_PER_BLOCK; w++) {
                long word = words[w];
                if (w == startBit >>> 6) {
                    word &= -1L << (startBit & 63);
                }
                if (word != 0) {
                    return blockStart + ((long) w << 6) + Long.numberOfTrailingZeros(word);
                }
            }
        }
        return -1;
    }

    /** {@return total dirty pages over all regions} */
    public long count() {
        return count;
    }

    /**
     * Dirty pages of one region.
     *
     * @param region the region's index in the state
     * @return the number of dirty pages
     */
    public long count(int region) {
        long[][] blocks = regions.get(region);
        long n = 0;
        if (blocks != null) {
            for (long[] words : blocks) {
                if (words != null) {
                    for (long w : words) {
                        n += Long.bitCount(w);
                    }
                }
            }
        }
        return n;
    }

    /** @return whether no page is dirty */
    public boolean isEmpty() {
        return count == 0;
    }

    private static int blockIndex(long page) {
        long b = page >>> BLOCK_SHIFT;
        if (b > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("page index " + page + " is too large");
        }
        return (int) b;
    }

    @Override
    public String toString() {
        return "DirtyPages{regions=" + regions.size() + ", pages=" + count + "}";
    }
}
