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
    final byte[] masks;
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
        masks = new byte[capacity];
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
