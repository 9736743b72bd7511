package io.dwcp.core.migration;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;

/**
 * The PAGES level of a seeded round's description: compares this side's chunk hashes with the receiver's as the
 * state is hashed, asks the page hashes of the chunks that differ (several PAGES requests in flight, in chunk order),
 * and decides each page of such a chunk from the receiver's page hashes: kept (equal, a copy source), ZERO, COPY of a
 * kept page or of a page that moved, or a would-be literal. It also owns the copies' sources and the limit on those
 * the receiver must keep in memory ({@link #lookedUpSource}, also for the BLOCKS level's lookups).
 *
 * <p>One per {@link SeedPlanner}, which calls it from its pipeline: {@link #start} once hashing begins, {@link
 * #described} once the DESCRIBE is answered, then {@link #compareChunks} and {@link #decide(PagesGroup, ByteBuffer)}.
 * Not thread-safe: every field is confined to the planner's thread. The per-chunk loops ({@link #keep}, {@link
 * #theirPageHashes}, {@link #decide(int, long[], int, SeedBlocksGroup, boolean, boolean)}) are hot: small methods,
 * no allocation per page.
 */
final class SeedPageLevel {
    /** The planner: sends this level's requests (and counts their bytes). */
    private final SeedPlanner planner;
    private final int pageSize;
    private final long pages;
    private final long stateBytes;
    private final SeedHashIndex kept = new SeedHashIndex();
    /**
     * The receiver's pages that the round changes, by their old hash (its first 8 bytes with short page hashes): the
     * sources of copies of pages that moved (seed messages version 4 on).
     */
    private final SeedHashIndex moved = new SeedHashIndex();
    private final ArrayDeque<PagesGroup> pagesInFlight = new ArrayDeque<>();

    /** Hashes the state; its arrays are read for chunks it has hashed (set by {@link #start}). */
    private SeedStateHasher hasher;
    private long[] pageHashes;
    /** The exchange's version, the seed's version and chunk hashes (set by {@link #described}). */
    private int version;
    private byte[] seedVersion;
    private long[] theirChunks;
    /** The receiver only reads its seed (a CHUNKS flag, version 7): copies from earlier pages are not limited. */
    private boolean unwrittenSeed;

    private int comparedChunks;
    /** Pages whose fate (kept, or an op) is decided. */
    private long pagesDecided;
    private long chunksDiffering;
    /** Copies from moved pages, and those whose source lies before the copy. */
    private long movedPages;
    private int movedBefore;

    SeedPageLevel(SeedPlanner planner, int pageSize, long pages, long stateBytes) {
        this.planner = planner;
        this.pageSize = pageSize;
        this.pages = pages;
        this.stateBytes = stateBytes;
    }

    /** Hashing begins: the chunk and page hashes are {@code hasher}'s. */
    void start(SeedStateHasher hasher) {
        this.hasher = hasher;
        this.pageHashes = hasher.pageHashes;
    }

    /** The DESCRIBE was answered: the exchange's version, the seed's version and its chunk hashes. */
    void described(int version, byte[] seedVersion, long[] theirChunks, boolean unwrittenSeed) {
        this.version = version;
        this.seedVersion = seedVersion;
        this.theirChunks = theirChunks;
        this.unwrittenSeed = unwrittenSeed;
    }

    long pagesDecided() {
        return pagesDecided;
    }

    long chunksDiffering() {
        return chunksDiffering;
    }

    /** {@return copies of pages the round writes (pages that moved)} */
    long movedPages() {
        return movedPages;
    }

    /** {@return whether a PAGES reply is to be taken next} ({@code blocking}: one is in flight; else: one arrived) */
    boolean replyDue(boolean blocking) {
        return !pagesInFlight.isEmpty() && (blocking || pagesInFlight.peek().reply.isDone());
    }

    /** {@return the oldest PAGES request in flight} (removed) */
    PagesGroup next() {
        return pagesInFlight.poll();
    }

    /** Compares the chunks hashed since the last call; the differing ones go into PAGES requests. */
    void compareChunks() {
        int hashedChunks = hasher.hashedChunks();
        long[] chunkHashes = hasher.chunkHashes;
        int[] differing = new int[Math.min(SeedWire.MAX_CHUNKS_PER_REQUEST, Math.max(1, hashedChunks - comparedChunks))];
        int n = 0;
        for (; comparedChunks < hashedChunks; comparedChunks++) {
            int c = comparedChunks;
            // From version 5 on the receiver sends the first 4 bytes of each chunk hash (see SeedWire.chunkHashBytes).
            boolean shortChunks = SeedWire.chunkHashBytes(version) == 4;
            if (shortChunks ? theirChunks[2 * c] == (chunkHashes[2 * c] & 0xFFFFFFFF00000000L)
                    : theirChunks[2 * c] == chunkHashes[2 * c] && theirChunks[2 * c + 1] == chunkHashes[2 * c + 1]) {
                keep(c);
                continue;
            }
            chunksDiffering++;
            differing[n++] = c;
            if (n == differing.length) {
                pagesRequest(differing, n);
                n = 0;
            }
        }
        if (n > 0) {
            pagesRequest(differing, n);
        }
    }

    /** Keeps the pages of chunk {@code c}, equal to the receiver's: they become copy sources. */
    private void keep(int c) {
        long first = (long) c * SeedHashes.CHUNK_PAGES;
        int n = pagesOf(c);
        for (int p = 0; p < n; p++) {
            int i = (int) (first + p);
            kept.put(pageHashes[2 * i], pageHashes[2 * i + 1], i);
        }
        pagesDecided += n;
    }

    private void pagesRequest(int[] differing, int n) {
        int[] group = Arrays.copyOf(differing, n);
        ByteBuffer ask = SeedWire.indexRequest(version, SeedWire.TYPE_PAGES, 0, pageSize, stateBytes, seedVersion, group, 0, n);
        pagesInFlight.add(new PagesGroup(group, planner.send(ask)));
    }

    /**
     * Takes a PAGE_HASHES reply whose status the planner checked: pages equal to the receiver's are kept (and become
     * copy sources), the others become ZERO, COPY or would-be literals. {@return the group of the pages that differ}
     */
    SeedBlocksGroup decide(PagesGroup g, ByteBuffer answer) {
        long expected = 0;
        for (int c : g.chunks) {
            expected += pagesOf(c);
        }
        int count = g.chunks.length;
        int hashBytes = SeedWire.pageHashBytes(version);
        boolean shortHashes = hashBytes == 8;
        boolean moves = SeedWire.movedFromPageHashes(version);
        if (answer.get() != SeedWire.STATUS_OK || answer.remaining() != 4 + expected * SeedWire.pageHashBytes(version)
                || answer.getInt() != count) {
            throw SeedWire.malformed("PAGE_HASHES reply of " + answer.remaining() + " bytes for " + count + " chunks");
        }
        // A call per chunk for each of the two passes (a loop of at most a chunk's pages in each): the JIT compiles
        // those small methods once, instead of this whole method on the stack of its long loop and then again.
        long[] theirs = new long[(int) (2 * expected)];
        for (int k = 0, c0 = 0; c0 < count; c0++) {
            k = theirPageHashes(answer, g.chunks[c0], theirs, k, hashBytes, moves);
        }
        SeedBlocksGroup b = new SeedBlocksGroup((int) expected);
        for (int k = 0, c0 = 0; c0 < count; c0++) {
            k = decide(g.chunks[c0], theirs, k, b, moves, shortHashes);
        }
        return b;
    }

    /**
     * Reads the receiver's hashes of the pages of chunk {@code c} from a PAGE_HASHES reply into {@code theirs} from
     * page {@code k} of the group on (hi, lo; the bytes not sent are taken from this side's hash), and indexes the
     * receiver's pages that change as possible sources of moved pages. {@return the group's next page}
     */
    private int theirPageHashes(ByteBuffer answer, int c, long[] theirs, int k, int hashBytes, boolean moves) {
        boolean shortHashes = hashBytes == 8;
        long first = (long) c * SeedHashes.CHUNK_PAGES;
        int n = pagesOf(c);
        for (int p = 0; p < n; p++, k++) {
            int i = (int) (first + p);
            if (hashBytes == 4) {
                // The first 4 bytes: equal at the index when they match (the rest is taken from this side's hash).
                theirs[2 * k] = (long) answer.getInt() << 32 | pageHashes[2 * i] & 0xFFFFFFFFL;
                theirs[2 * k + 1] = pageHashes[2 * i + 1];
            } else {
                theirs[2 * k] = answer.getLong();
                theirs[2 * k + 1] = shortHashes ? pageHashes[2 * i + 1] : answer.getLong();
            }
            if (moves && (theirs[2 * k] != pageHashes[2 * i] || theirs[2 * k + 1] != pageHashes[2 * i + 1])) {
                // The receiver's page i changes: its old content may have moved (only the first 8 bytes of its
                // hash are known with short hashes: a wrong match fails the state digest, and the round goes full).
                moved.put(theirs[2 * k], shortHashes ? 0 : theirs[2 * k + 1], i);
            }
        }
        return k;
    }

    /**
     * Decides the pages of chunk {@code c}, whose receiver's hashes are in {@code theirs} from the group's page {@code
     * k} on: equal pages are kept (and become copy sources), the others go into {@code b} as ZERO, COPY or would-be
     * literals. {@return the group's next page}
     */
    private int decide(int c, long[] theirs, int k, SeedBlocksGroup b, boolean moves, boolean shortHashes) {
        long first = (long) c * SeedHashes.CHUNK_PAGES;
        int n = pagesOf(c);
        for (int p = 0; p < n; p++, k++) {
            int i = (int) (first + p);
            long hi = theirs[2 * k];
            long lo = theirs[2 * k + 1];
            if (hi == pageHashes[2 * i] && lo == pageHashes[2 * i + 1]) {
                kept.put(hi, lo, i);
                continue;
            }
            int source = hasher.zero(c, p) ? SeedWire.SOURCE_ZERO
                    : kept.get(pageHashes[2 * i], pageHashes[2 * i + 1]);
            if (source == SeedWire.SOURCE_LITERAL && moves) {
                source = movedSource(i, shortHashes);
            }
            b.add(i, source);
        }
        pagesDecided += n;
        return k;
    }

    /**
     * {@return whether the receiver would have to keep more pages in memory for copies from earlier pages} Never when
     * it only reads its seed ({@link SeedWire#FLAG_UNWRITTEN_SEED}).
     */
    private boolean preservedFull() {
        return !unwrittenSeed && movedBefore >= SeedWire.maxPreservedPages(pageSize);
    }

    /**
     * {@return a page of the receiver's seed whose content moved to page {@code i}, or {@link SeedWire#SOURCE_LITERAL}}
     * A source before {@code i} is one the receiver must keep in memory until it writes page {@code i}: at most {@link
     * SeedWire#maxPreservedPages} such copies per round.
     */
    private int movedSource(int i, boolean shortHashes) {
        int j = moved.get(pageHashes[2 * i], shortHashes ? 0 : pageHashes[2 * i + 1]);
        if (j < 0 || j == i || j < i && preservedFull()) {
            return SeedWire.SOURCE_LITERAL;
        }
        if (j < i) {
            movedBefore++;
        }
        movedPages++;
        return j;
    }

    /**
     * {@return the source of a copy of page {@code i} from the receiver's page {@code j}} that a BLOCK_HASHES reply
     * (version 5 on) named as holding page {@code i}'s content, or {@link SeedWire#SOURCE_LITERAL} when it cannot be
     * one: {@code j} out of range or {@code i} itself, or a source before {@code i} past {@link
     * SeedWire#maxPreservedPages} (the page then goes whole).
     */
    int lookedUpSource(int i, int j) {
        if (j < 0 || j >= pages || j == i) {
            throw SeedWire.malformed("BLOCK_HASHES reply names page " + j + " as the content of page " + i);
        }
        if (j < i && preservedFull()) {
            return SeedWire.SOURCE_LITERAL;
        }
        if (j < i) {
            movedBefore++;
        }
        movedPages++;
        return j;
    }

    private int pagesOf(int chunk) {
        return (int) Math.min(SeedHashes.CHUNK_PAGES, pages - (long) chunk * SeedHashes.CHUNK_PAGES);
    }

    /** The differing chunks of one PAGES request and its reply. */
    record PagesGroup(int[] chunks, CompletableFuture<ByteBuffer> reply) {
    }
}
