package io.dwcp.core.migration;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;

/**
 * The ops a {@link SeedPlanner} decided from one PAGE_HASHES reply, waiting for the block hashes of their would-be
 * literal pages (the receiver's replies, and this side's, computed on the hashing pool). Owned by the planner's thread.
 */
final class SeedBlocksGroup {
    final int[] pages;
    final int[] sources;
    /** Per op: a PATCH's block mask, or a FINE_PATCH's sub-block mask (bit 8k + j: sub-block j of block k). */
    final long[] masks;
    int n;
    /** The would-be literal pages (ascending) and their index in {@link #pages}. */
    final int[] literalPages;
    final int[] literalOps;
    int literals;
    final List<CompletableFuture<ByteBuffer>> replies = new ArrayList<>(1);
    /** This side's block hashes of the would-be literals, 8 per page; null when not asked. */
    Future<long[]> mine;

    SeedBlocksGroup(int capacity) {
        pages = new int[capacity];
        sources = new int[capacity];
        masks = new long[capacity];
        literalPages = new int[capacity];
        literalOps = new int[capacity];
    }

    void add(int page, int source) {
        if (source == SeedWire.SOURCE_LITERAL) {
            literalPages[literals] = page;
            literalOps[literals++] = n;
        }
        pages[n] = page;
        sources[n++] = source;
    }

    /** The group's patches (after its block hashes): page, block mask and index in {@link #pages}. */
    int[] patchPages;
    byte[] patchBlockMasks;
    int[] patchOps;
    int patches;
    /** SUBBLOCK_HASHES replies for the patches (version 5 on), and this side's sub-block hashes. */
    final List<CompletableFuture<ByteBuffer>> subReplies = new ArrayList<>(1);
    Future<int[]> mineSub;

    /** Lists the group's PATCH ops (once its block hashes were applied); {@return how many} */
    int collectPatches() {
        patches = 0;
        for (int i = 0; i < n; i++) {
            if (sources[i] == SeedWire.SOURCE_PATCH) {
                patches++;
            }
        }
        patchPages = new int[patches];
        patchBlockMasks = new byte[patches];
        patchOps = new int[patches];
        int k = 0;
        for (int i = 0; i < n && k < patches; i++) {
            if (sources[i] == SeedWire.SOURCE_PATCH && masks[i] != 0) {
                patchPages[k] = pages[i];
                patchBlockMasks[k] = (byte) masks[i];
                patchOps[k++] = i;
            }
        }
        patches = k;
        return patches;
    }

    /** {@return whether the sub-block hashes of the group's patches are in} (both sides') */
    boolean subBlocksDone() {
        if (mineSub != null && !mineSub.isDone()) {
            return false;
        }
        for (CompletableFuture<ByteBuffer> f : subReplies) {
            if (!f.isDone()) {
                return false;
            }
        }
        return true;
    }

    boolean done() {
        if (mine != null && !mine.isDone()) {
            return false;
        }
        for (CompletableFuture<ByteBuffer> f : replies) {
            if (!f.isDone()) {
                return false;
            }
        }
        return true;
    }
}
