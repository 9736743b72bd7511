package io.dwcp.core.migration;

import java.nio.ByteBuffer;
import java.util.function.IntBinaryOperator;

/**
 * Level 3 of a seeded round's description, on the sender: whether to ask for the block hashes of a group of
 * would-be literal pages, and what their replies make of those pages (a page of which at most {@value
 * #MAX_PATCH_BLOCKS} of its 8 blocks differ becomes a PATCH carrying just those blocks).
 *
 * <p>Block hashes are asked for the first {@value #BLOCK_PROBE_PAGES} would-be literal pages in any case; after that
 * only while the blocks the answers found unchanged, counted uncompressed, outweigh what the block hashes cost (else
 * for one group in {@value #PROBE_EVERY}, so the estimate follows the state). Uncompressed, because what those blocks
 * would have cost compressed is never measured, and the share measured on the pages that were sent under-priced them
 * by a factor of four to five on guest RAM; the rule stops asking where block hashes find next to nothing (wholly
 * rewritten pages), and its worst case is the block hashes of pages whose found blocks would have compressed to
 * nothing. Owned by the planner's thread; not thread-safe.
 */
final class SeedBlockLevel {
    /** A page with more differing blocks than this goes whole. */
    private static final int MAX_PATCH_BLOCKS = 6;
    /** With sub-block hashes (version 5 on): a page with this many differing blocks may still be a fine patch. */
    private static final int MAX_FINE_PATCH_BLOCKS = 7;
    static final int BLOCK_PROBE_PAGES = 1024;
    /**
     * Would-be literal pages that go whole at the start of a round over a path with round trips worth saving (the first
     * two batches: {@link SeedOps#FIRST_BATCH_LITERALS} and twice as many).
     */
    static final int LEAD_WHOLE_PAGES = 3 * SeedOps.FIRST_BATCH_LITERALS;
    private static final int PROBE_EVERY = 8;

    private final int pageSize;
    /** Would-be literal pages whose block hashes came back, the bytes of unchanged blocks they found, groups seen. */
    private long pagesAnswered;
    /** Would-be literal pages whose block hashes were asked. */
    private long pagesAsked;
    private long bytesSaved;
    private long groups;
    private long pagesSkipped;

    SeedBlockLevel(int pageSize) {
        this.pageSize = pageSize;
    }

    /** {@return would-be literal pages sent whole without asking their block hashes} */
    long pagesSkipped() {
        return pagesSkipped;
    }

    /**
     * {@return whether the probe's pages were all asked but not all answered}: the planner then takes the answers of
     * the groups in flight before it decides on the next group, so that decisions do not depend on reply timing.
     */
    boolean awaitingProbe() {
        return pagesAsked >= BLOCK_PROBE_PAGES && pagesAnswered < BLOCK_PROBE_PAGES;
    }

    /**
     * {@return whether the next group of {@code literals} would-be literal pages goes whole without asking its block
     * hashes}: while fewer than {@code leadPages} would-be literal pages were planned (the round's first batches), so
     * that they need not wait for the BLOCKS and SUBBLOCKS round trips. Counted as skipped.
     */
    boolean leadWhole(int literals, int leadPages) {
        if (pagesAsked + pagesSkipped >= leadPages) {
            return false;
        }
        pagesSkipped += literals;
        return true;
    }

    /**
     * {@return whether to ask for the block hashes of the next group of {@code literals} would-be literal pages}: always
     * for the first {@value #BLOCK_PROBE_PAGES} pages asked; then while the unchanged blocks found so far, uncompressed,
     * saved at least as many bytes per page asked as a page's block hashes and index cost; else for one group in
     * {@value #PROBE_EVERY}. A group not asked counts as skipped.
     */
    boolean ask(int literals, int version) {
        long group = groups++;
        boolean ask;
        if (pagesAsked < BLOCK_PROBE_PAGES || pagesAnswered == 0) {
            ask = true;
        } else {
            double savedPerPage = (double) bytesSaved / pagesAnswered;
            double costPerPage = SeedWire.BLOCKS_PER_PAGE * SeedWire.blockHashBytes(version) + 4;
            ask = savedPerPage >= costPerPage || group % PROBE_EVERY == 0;
        }
        if (ask) {
            pagesAsked += literals;
        } else {
            pagesSkipped += literals;
        }
        return ask;
    }

    /**
     * Takes the block hashes of {@code count} would-be literals of {@code g}, from its {@code k}-th on, from a
     * BLOCK_HASHES reply (at its hashes, the count checked) against this side's ({@code mine}, 8 per page): pages with
     * few differing blocks become patches. With {@code copies} (version 5 on) each page's entry is u8 1 and the
     * receiver's page that holds its content, or u8 0 and its block hashes: {@code copies} maps (page, that page) to the copy's source, or to
     * {@link SeedWire#SOURCE_LITERAL} when it cannot be one.
     */
    void apply(SeedBlocksGroup g, long[] mine, ByteBuffer answer, int k, int count, int hashBytes, IntBinaryOperator copies) {
        // A call per page: the JIT compiles the page's small method once, not this loop on the stack and then again.
        for (int end = k + count; k < end; k++) {
            applyPage(g, mine, answer, k, end, hashBytes, copies);
        }
        pagesAnswered += count;
    }

    /** Takes the entry of would-be literal {@code k} (of those before {@code end}) of a BLOCK_HASHES reply ({@link #apply}). */
    private void applyPage(SeedBlocksGroup g, long[] mine, ByteBuffer answer, int k, int end, int hashBytes,
                           IntBinaryOperator copies) {
        if (copies != null) {
            // Version 5 on: u8 1 and the receiver's page holding this content, or u8 0 and the block hashes.
            if (answer.remaining() < 1) {
                throw SeedWire.malformed("BLOCK_HASHES reply ends at page " + k + " of " + end);
            }
            int kind = answer.get();
            if (kind != 0 && (kind != 1 || answer.remaining() < 4)) {
                throw SeedWire.malformed("BLOCK_HASHES reply with entry kind " + kind + " for page " + k);
            }
            if (kind == 1) {
                int held = answer.getInt();
                int source = copies.applyAsInt(g.literalPages[k], held);
                if (source != SeedWire.SOURCE_LITERAL) {
                    g.sources[g.literalOps[k]] = source;
                    bytesSaved += pageSize;
                }
                return;
            }
            if (answer.remaining() < (long) hashBytes * SeedWire.BLOCKS_PER_PAGE) {
                throw SeedWire.malformed("BLOCK_HASHES reply ends in the block hashes of page " + k + " of " + end);
            }
        }
        int mask = 0;
        for (int b = 0; b < SeedWire.BLOCKS_PER_PAGE; b++) {
            long h = mine[k * SeedWire.BLOCKS_PER_PAGE + b];
            if (hashBytes == 8 ? answer.getLong() != h : answer.getInt() != (int) (h >>> 32)) {
                mask |= 1 << b;
            }
        }
        if (Integer.bitCount(mask) <= (copies != null ? MAX_FINE_PATCH_BLOCKS : MAX_PATCH_BLOCKS)) {
            g.sources[g.literalOps[k]] = SeedWire.SOURCE_PATCH;
            g.masks[g.literalOps[k]] = mask;
            bytesSaved += (long) (SeedWire.BLOCKS_PER_PAGE - Integer.bitCount(mask)) * (pageSize / SeedWire.BLOCKS_PER_PAGE) - 1;
        }
    }
}
