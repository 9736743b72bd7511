package io.dwcp.transport.control;

/**
 * Chunk size rule: keep at least two chunks in flight per stream (chunk ≤ per-stream BDP ÷ 2), in 4 KiB
 * multiples within [min, max]; change only when the difference exceeds 10 %, by at most ×2 or ÷2 per step. With a
 * rate cap a chunk is also kept below 1 % of a second's bytes at the cap, so pacing holds ±5 %.
 * Stateless and thread-safe.
 */
public final class ChunkSizer {
    /** Chunk sizes are multiples of this many bytes (a page). */
    public static final int ALIGN_BYTES = 4096;

    private final int minBytes;
    private final int maxBytes;

    /**
     * @param minBytes the smallest chunk
     * @param maxBytes the largest chunk
     * @throws IllegalArgumentException when {@code minBytes > maxBytes}
     */
    public ChunkSizer(int minBytes, int maxBytes) {
        if (minBytes > maxBytes) {
            throw new IllegalArgumentException("min-chunk " + minBytes + " > max-chunk " + maxBytes);
        }
        this.minBytes = minBytes;
        this.maxBytes = maxBytes;
    }

    /**
     * The next chunk size.
     *
     * @param currentBytes the chunk in use
     * @param perStreamBdpBytes bandwidth × RTT ÷ streams, or ≤ 0 when unknown (keeps the current size)
     * @param rateCapBytesPerSecond the session's cap, 0 for none
     * @return the chunk size to use, in bytes
     */
    public int next(int currentBytes, long perStreamBdpBytes, long rateCapBytesPerSecond) {
        long target = perStreamBdpBytes > 0 ? perStreamBdpBytes / 2 : currentBytes;
        if (rateCapBytesPerSecond > 0) {
            target = Math.min(target, rateCapBytesPerSecond / 100);
        }
        target = Math.max(minBytes, Math.min(maxBytes, target / ALIGN_BYTES * ALIGN_BYTES));
        if (Math.abs(target - currentBytes) * 10 <= currentBytes) {
            return currentBytes;
        }
        long stepped = Math.max(currentBytes / 2, Math.min((long) currentBytes * 2, target));
        stepped = stepped / ALIGN_BYTES * ALIGN_BYTES;
        return (int) Math.max(minBytes, Math.min(maxBytes, stepped));
    }
}
