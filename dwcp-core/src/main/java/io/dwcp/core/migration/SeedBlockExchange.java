package io.dwcp.core.migration;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * The BLOCKS and SUBBLOCKS levels of a seeded round's description: for each group of pages the PAGES level decided,
 * asks the block hashes of the pages that would go literal (unless {@link SeedBlockLevel} judges they do not pay, or
 * they lead the round), takes the replies in order and turns pages into patches ({@link SeedBlockLevel#apply}); from
 * seed messages version 5 on asks the sub-block hashes of the blocks each patch would carry and makes the patches that
 * pay FINE_PATCH ops. Then hands each group's ops, in page order, to the round's {@link SeedOps}.
 *
 * <p>One per {@link SeedPlanner}, which calls it from its pipeline: {@link #start} once hashing begins, {@link
 * #described} once the DESCRIBE is answered, {@link #ask} for each decided group, then the {@code take…} methods.
 * Not thread-safe: every field is confined to the planner's thread (this side's block hashes are computed on the
 * hasher's pool and handed over through their futures in each group).
 */
final class SeedBlockExchange {
    /** The planner: sends this level's requests and checks the replies' headers (and counts their bytes). */
    private final SeedPlanner planner;
    /** The PAGES level: the sources of copies that BLOCK_HASHES lookups name. */
    private final SeedPageLevel pageLevel;
    /** The round's ops, where each group's ops go. */
    private final SeedOps ops;
    private final int pageSize;
    private final long stateBytes;
    /** Would-be literal pages that go whole at the start of the round (see {@link SeedPlanner}'s constructor). */
    private final int leadWholePages;
    /** Whether to ask block hashes, and the patches their replies make. */
    private final SeedBlockLevel blockLevel;
    private final ArrayDeque<SeedBlocksGroup> blocksInFlight = new ArrayDeque<>();
    /**
     * Groups whose patches wait for sub-block hashes (version 5 on), and the groups after them, in page order: ops go
     * to the writer in page order.
     */
    private final ArrayDeque<SeedBlocksGroup> subBlocksInFlight = new ArrayDeque<>();

    /** Hashes this side's block and sub-block hashes (set by {@link #start}). */
    private SeedStateHasher hasher;
    private long[] pageHashes;
    /** The exchange's version, the seed's version, whether it is a content seed (set by {@link #described}). */
    private int version;
    private byte[] seedVersion;
    private boolean contentSeed;
    /** Patches that became fine patches (of sub-blocks). */
    private long finePatches;
    /** When the first BLOCK_HASHES reply was taken and the first ops handed on ({@link System#nanoTime}, 0: not yet). */
    private long firstBlockHashesAt;
    private long firstOpsAt;

    SeedBlockExchange(SeedPlanner planner, SeedPageLevel pageLevel, SeedOps ops, int pageSize, long stateBytes,
                      int leadWholePages) {
        this.planner = planner;
        this.pageLevel = pageLevel;
        this.ops = ops;
        this.pageSize = pageSize;
        this.stateBytes = stateBytes;
        this.leadWholePages = leadWholePages;
        this.blockLevel = new SeedBlockLevel(pageSize);
    }

    /** Hashing begins: this side's hashes are {@code hasher}'s. */
    void start(SeedStateHasher hasher) {
        this.hasher = hasher;
        this.pageHashes = hasher.pageHashes;
    }

    /** The DESCRIBE was answered: the exchange's version, the seed's version, whether it is a content seed. */
    void described(int version, byte[] seedVersion, boolean contentSeed) {
        this.version = version;
        this.seedVersion = seedVersion;
        this.contentSeed = contentSeed;
    }

    /** {@return patches sent as sub-blocks (FINE_PATCH ops)} */
    long finePatches() {
        return finePatches;
    }

    /** {@return would-be literal pages sent whole without asking their block hashes} */
    long pagesSkipped() {
        return blockLevel.pagesSkipped();
    }

    long firstBlockHashesAt() {
        return firstBlockHashesAt;
    }

    long firstOpsAt() {
        return firstOpsAt;
    }

    /**
     * Asks the block hashes of a decided group's would-be literal pages, unless they lead the round or are not
     * expected to pay; queues the group (its ops follow those of the groups before it).
     */
    void ask(SeedBlocksGroup b) {
        // The round's first would-be literal pages go whole, without asking their block hashes: they make the first
        // batches, which then leave two round trips (BLOCKS, then SUBBLOCKS) earlier, while the later groups' block
        // hashes are asked and answered. Not with a content seed, whose pages are found by the BLOCKS lookups.
        boolean lead = !contentSeed && b.literals > 0 && blockLevel.leadWhole(b.literals, leadWholePages);
        if (b.literals > 0 && !lead && blockLevel.ask(b.literals, version)) {
            int max = SeedWire.maxPagesPerBlockRequest(version);
            for (int from = 0; from < b.literals; from += max) {
                int n = Math.min(max, b.literals - from);
                ByteBuffer ask = SeedWire.blocksLookup(version)
                        ? SeedWire.blocksRequest(version, 0, pageSize, stateBytes, seedVersion, b.literalPages, pageHashes, from, n)
                        : SeedWire.indexRequest(version, SeedWire.TYPE_BLOCKS, 0, pageSize, stateBytes, seedVersion,
                        b.literalPages, from, n);
                b.replies.add(planner.send(ask));
            }
            // This side's block hashes, on the pool, while the receiver computes its own.
            b.mine = hasher.blockHashes(b.literalPages, b.literals, SeedWire.crcBlockHashes(version));
        }
        blocksInFlight.add(b);
    }

    /**
     * Whether to ask the next group's block hashes is judged from the probe's answers: takes the groups in flight
     * while the probe awaits them. {@return false when the seed changed}
     */
    boolean takeProbe(long replyTimeoutMillis) throws Exception {
        while (blockLevel.awaitingProbe() && !blocksInFlight.isEmpty()) {
            if (!blockHashes(blocksInFlight.poll(), replyTimeoutMillis)) {
                return false;
            }
        }
        return true;
    }

    /** Takes the BLOCK_HASHES replies that arrived (all when {@code blocking}), in order; {@return false when the seed changed} */
    boolean takeBlocks(boolean blocking, long replyTimeoutMillis) throws Exception {
        while (!blocksInFlight.isEmpty() && (blocking || blocksInFlight.peek().done())) {
            SeedBlocksGroup g = blocksInFlight.poll();
            if (!blockHashes(g, replyTimeoutMillis)) {
                return false;
            }
        }
        return true;
    }

    /** Takes the SUBBLOCK_HASHES replies that arrived (all when {@code blocking}), in order; {@return false when the seed changed} */
    boolean takeSubBlocks(boolean blocking, long replyTimeoutMillis) throws Exception {
        while (!subBlocksInFlight.isEmpty() && (blocking || subBlocksInFlight.peek().subBlocksDone())) {
            if (!subBlockHashes(subBlocksInFlight.poll(), replyTimeoutMillis)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Level 3 of the description: takes the block hashes of the receiver's pages that would go literal ({@link
     * SeedBlockLevel}); then the group's ops go to the writer. Returns false when the seed changed.
     */
    private boolean blockHashes(SeedBlocksGroup g, long replyTimeoutMillis) throws Exception {
        long[] mine = null;
        if (g.mine != null) {
            try {
                mine = g.mine.get();
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                throw c instanceof Exception ex ? ex : new IllegalStateException(c);
            }
        }
        int hashBytes = SeedWire.blockHashBytes(version);
        int k = 0;
        for (CompletableFuture<ByteBuffer> f : g.replies) {
            ByteBuffer answer = SeedPlanner.await(f, replyTimeoutMillis, "BLOCKS");
            if (!planner.status(answer)) {
                return false;
            }
            int count = Math.min(SeedWire.maxPagesPerBlockRequest(version), g.literals - k);
            boolean lookup = SeedWire.blocksLookup(version);
            if (answer.get() != SeedWire.STATUS_OK || answer.remaining() < 4 || answer.getInt() != count
                    || !lookup && answer.remaining() != (long) count * hashBytes * SeedWire.BLOCKS_PER_PAGE) {
                throw SeedWire.malformed("BLOCK_HASHES reply of " + answer.remaining() + " bytes for " + count + " pages");
            }
            blockLevel.apply(g, mine, answer, k, count, hashBytes, lookup ? pageLevel::lookedUpSource : null);
            if (firstBlockHashesAt == 0) {
                firstBlockHashesAt = System.nanoTime();
            }
            if (answer.hasRemaining()) {
                throw SeedWire.malformed("BLOCK_HASHES reply with " + answer.remaining() + " bytes too many");
            }
            k += count;
        }
        if (SeedWire.finePatches(version) && g.collectPatches() > 0) {
            // Level 4: the sub-block hashes of the blocks each patch would carry, theirs and this side's.
            for (int from = 0; from < g.patches; from += SeedWire.MAX_PAGES_PER_SUBBLOCK_REQUEST) {
                int n = Math.min(SeedWire.MAX_PAGES_PER_SUBBLOCK_REQUEST, g.patches - from);
                ByteBuffer ask = SeedWire.subBlocksRequest(version, 0, pageSize, stateBytes, seedVersion, g.patchPages,
                        g.patchBlockMasks, from, n);
                g.subReplies.add(planner.send(ask));
            }
            g.mineSub = hasher.subBlockHashes(g.patchPages, g.patchBlockMasks, g.patches);
        }
        if (g.subReplies.isEmpty() && subBlocksInFlight.isEmpty()) {
            addOps(g);
        } else {
            subBlocksInFlight.add(g);
        }
        return true;
    }

    private void addOps(SeedBlocksGroup g) {
        if (firstOpsAt == 0 && g.n > 0) {
            firstOpsAt = System.nanoTime();
        }
        for (int i = 0; i < g.n; i++) {
            ops.add(g.pages[i], g.sources[i], g.masks[i]);
        }
    }

    /**
     * Level 4 of the description (version 5 on): takes the sub-block hashes of the blocks the group's patches would
     * carry; a patch whose differing sub-blocks cost fewer bytes than its blocks becomes a FINE_PATCH carrying just
     * those. Then the group's ops go to the writer. Returns false when the seed changed.
     */
    private boolean subBlockHashes(SeedBlocksGroup g, long replyTimeoutMillis) throws Exception {
        if (g.subReplies.isEmpty()) {
            addOps(g);
            return true;
        }
        int[] mine;
        try {
            mine = g.mineSub.get();
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            throw c instanceof Exception ex ? ex : new IllegalStateException(c);
        }
        int bs = pageSize / SeedWire.BLOCKS_PER_PAGE;
        int ss = bs / SeedWire.SUBBLOCKS_PER_BLOCK;
        int k = 0;
        int at = 0;
        for (CompletableFuture<ByteBuffer> f : g.subReplies) {
            ByteBuffer answer = SeedPlanner.await(f, replyTimeoutMillis, "SUBBLOCKS");
            if (!planner.status(answer)) {
                return false;
            }
            int count = Math.min(SeedWire.MAX_PAGES_PER_SUBBLOCK_REQUEST, g.patches - k);
            long hashes = 0;
            for (int i = k; i < k + count; i++) {
                hashes += (long) Integer.bitCount(g.patchBlockMasks[i] & 0xff) * SeedWire.SUBBLOCKS_PER_BLOCK;
            }
            if (answer.get() != SeedWire.STATUS_OK || answer.remaining() != 4 + 4 * hashes || answer.getInt() != count) {
                throw SeedWire.malformed("SUBBLOCK_HASHES reply of " + answer.remaining() + " bytes for " + count + " pages");
            }
            for (int end = k + count; k < end; k++) {
                int op = g.patchOps[k];
                int blockMask = g.patchBlockMasks[k] & 0xff;
                long fine = 0;
                int pieces = 0;
                for (int b = 0; b < SeedWire.BLOCKS_PER_PAGE; b++) {
                    if ((blockMask & 1 << b) == 0) {
                        continue;
                    }
                    int sub = 0;
                    for (int j = 0; j < SeedWire.SUBBLOCKS_PER_BLOCK; j++) {
                        if (answer.getInt() != mine[at++]) {
                            sub |= 1 << j;
                        }
                    }
                    // The block differs (its hash did), so some piece does: equal CRCs everywhere is a collision of one
                    // of them, and the whole block goes.
                    if (sub == 0) {
                        sub = 0xff;
                    }
                    fine |= (long) sub << (SeedWire.SUBBLOCKS_PER_BLOCK * b);
                    pieces += Integer.bitCount(sub);
                }
                long fineBytes = 1L + Integer.bitCount(blockMask) + (long) pieces * ss;
                long patchBytes = 1L + (long) Integer.bitCount(blockMask) * bs;
                if (fineBytes < patchBytes) {
                    g.sources[op] = SeedWire.SOURCE_FINE_PATCH;
                    g.masks[op] = fine;
                    finePatches++;
                }
            }
        }
        addOps(g);
        return true;
    }
}
