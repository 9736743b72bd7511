package io.dwcp.sync.crdt;

import java.util.Objects;

/**
 * One event of one replica: the replica id and the event's sequence number there (1, 2, 3, …). Dots identify
 * additions in the OR-Set, writes in the MV-Register and key presence in the OR-Map; identity never involves wall
 * time. Ordered by replica, then counter.
 *
 * @param replica replica id, not null
 * @param counter sequence number, ≥ 1
 */
public record Dot(String replica, long counter) implements Comparable<Dot> {
    /**
     * Validates the components.
     *
     * @param replica replica id, not null
     * @param counter sequence number, ≥ 1
     * @throws NullPointerException when {@code replica} is null
     * @throws IllegalArgumentException when {@code counter} is below 1
     */
    public Dot {

        Objects.requireNonNull(replica, "replica");
        if (counter < 1) {
            throw new IllegalArgumentException("dot counter must be >= 1, got " + counter);
        }
    }

    @Override
    public int compareTo(Dot o) {
        int c = replica.compareTo(o.replica);
        return c != 0 ? c : Long.compare(counter, o.counter);
    }

    void encode(CanonicalWriter w) {
        w.string(replica).varint(counter);
    }

    static Dot decode(CanonicalReader r) {
        String replica = r.string();
        long counter = r.varint();
        if (counter < 1) {
            throw r.corrupt("dot counter 0");
        }
        return new Dot(replica, counter);
    }

    @Override
    public String toString() {
        return replica + ":" + counter;
    }
}
