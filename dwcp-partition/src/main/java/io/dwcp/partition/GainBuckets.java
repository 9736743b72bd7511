package io.dwcp.partition;

import java.util.Arrays;

/**
 * A bucket priority queue of vertices keyed by an integer gain (the FM gain-bucket structure): one doubly linked list
 * per gain value, a pointer to the highest non-empty bucket, O(1) insert, remove and update, and pop-max in O(1)
 * amortised over a pass. Gains beyond ±{@code range} share the end buckets (their order among themselves is then
 * arbitrary; exact gains are still recomputed by the caller when a vertex is popped). Within a bucket the most
 * recently inserted vertex comes first. Not thread-safe; one instance per refinement.
 */
final class GainBuckets {
    private int range;
    private int[] head;
    private int[] next;
    private int[] prev;
    /** Bucket index of each vertex, or -1 when absent. */
    private int[] bucket;
    private int max = -1;
    /** The lowest bucket used since the last {@link #clear()}: clearing and emptying cost what was used, not the range. */
    private int low = Integer.MAX_VALUE;
    private int size;
    private int lastKey;

    GainBuckets(int vertices, int range) {
        this.range = Math.max(1, range);
        this.head = new int[2 * this.range + 1];
        Arrays.fill(head, -1);
        this.next = new int[vertices];
        this.prev = new int[vertices];
        this.bucket = new int[vertices];
        Arrays.fill(bucket, -1);
    }

    /**
     * Empties the queue and makes it hold vertices {@code 0 … vertices − 1} with gains in ±{@code range}, reusing the
     * arrays when they are large enough (one queue serves every level of a partitioning call).
     */
    void reset(int vertices, int range) {
        clear();
        int r = Math.max(1, range);
        if (head.length < 2 * r + 1) {
            head = new int[2 * r + 1];
            Arrays.fill(head, -1);
        }
        if (bucket.length < vertices) {
            int cap = Math.max(vertices, bucket.length + (bucket.length >> 1));
            next = new int[cap];
            prev = new int[cap];
            bucket = new int[cap];
            Arrays.fill(bucket, -1);
        }
        this.range = r;
    }

    private int index(long gain) {
        return (int) (Math.max(-range, Math.min(range, gain)) + range);
    }

    boolean contains(int v) {
        return bucket[v] >= 0;
    }

    int size() {
        return size;
    }

    void insert(int v, long gain) {
        int b = index(gain);
        bucket[v] = b;
        prev[v] = -1;
        next[v] = head[b];
        if (head[b] >= 0) {
            prev[head[b]] = v;
        }
        head[b] = v;
        if (b > max) {
            max = b;
        }
        if (b < low) {
            low = b;
        }
        size++;
    }

    void remove(int v) {
        int b = bucket[v];
        if (b < 0) {
            return;
        }
        if (prev[v] >= 0) {
            next[prev[v]] = next[v];
        } else {
            head[b] = next[v];
        }
        if (next[v] >= 0) {
            prev[next[v]] = prev[v];
        }
        bucket[v] = -1;
        size--;
    }

    /** Inserts {@code v} or moves it to the bucket of {@code gain}. */
    void update(int v, long gain) {
        if (bucket[v] == index(gain)) {
            return;
        }
        remove(v);
        insert(v, gain);
    }

    /** Removes and returns a vertex of the highest gain, or -1 when empty. */
    int popMax() {
        if (size == 0) {
            max = -1;
            return -1;
        }
        while (max >= 0 && head[max] < 0) {
            max--;
        }
        if (max < 0) {
            return -1;
        }
        int v = head[max];
        lastKey = max - range;
        remove(v);
        return v;
    }

    /** {@code gain} limited to the range the buckets hold (what {@link #key} would report for it). */
    long clamp(long gain) {
        return Math.max(-range, Math.min(range, gain));
    }

    /** The (clamped) gain of the vertex the last {@link #popMax()} returned. */
    long lastKey() {
        return lastKey;
    }

    /** The (clamped) gain {@code v} is queued with; {@code v} must be queued. */
    long key(int v) {
        return bucket[v] - range;
    }

    /** The highest (clamped) gain queued; {@code Long.MIN_VALUE} when empty. */
    long maxKey() {
        if (size == 0) {
            max = -1;
            return Long.MIN_VALUE;
        }
        while (max >= 0 && head[max] < 0) {
            max--;
        }
        return max < 0 ? Long.MIN_VALUE : max - range;
    }

    /** Removes every vertex. */
    void clear() {
        for (int b = Math.min(low, max + 1); b <= max; b++) {
            for (int v = head[b]; v >= 0; v = next[v]) {
                bucket[v] = -1;
            }
            head[b] = -1;
        }
        max = -1;
        low = Integer.MAX_VALUE;
        size = 0;
    }
}
