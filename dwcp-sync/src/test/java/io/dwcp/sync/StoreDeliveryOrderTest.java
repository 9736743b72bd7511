package io.dwcp.sync;

import io.dwcp.sync.crdt.OrMap;
import io.dwcp.sync.crdt.OrSet;
import io.dwcp.sync.crdt.PNCounter;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Store level: deltas of three replicas (counter and set updates, set removes, key removals), delivered to a fourth
 * replica in any order with duplicates, end equal to the replicas' merged state; with a tiny causal buffer, the held
 * or dropped deltas are made good by one anti-entropy-style full-state merge.
 */
class StoreDeliveryOrderTest {
    private record Sent(String key, OrMap delta) {
    }

    private static List<Sent> history(long seed, int steps, List<ReplicatedStore> replicas) {
        Random rnd = new Random(seed);
        List<Sent> sent = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ReplicatedStore s = new ReplicatedStore("r" + i, 1 << 20, 1000);
            s.onLocalDelta((k, d) -> sent.add(new Sent(k, d)));
            replicas.add(s);
        }
        for (int i = 0; i < steps; i++) {
            ReplicatedStore s = replicas.get(rnd.nextInt(3));
            int k = rnd.nextInt(3);
            switch (rnd.nextInt(5)) {
                case 0 -> s.update("c" + k, PNCounter.EMPTY, c -> c.addDelta(s.replicaId(), rnd.nextInt(9) - 4));
                case 1 -> s.update("s" + k, OrSet.EMPTY, v -> v.addDelta(s.replicaId(), "e" + rnd.nextInt(4)));
                case 2 -> s.update("s" + k, OrSet.EMPTY, v -> v.removeDelta("e" + rnd.nextInt(4)));
                case 3 -> s.remove(rnd.nextBoolean() ? "c" + k : "s" + k);
                default -> {
                    // a replica learns another's state (as anti-entropy would), so later updates build on it
                    ReplicatedStore from = replicas.get(rnd.nextInt(3));
                    String key = rnd.nextBoolean() ? "c" + k : "s" + k;
                    if (from.state(key) != null) {
                        s.mergeState(key, from.state(key));
                    }
                }
            }
        }
        return sent;
    }

    private static byte[] mergedOf(List<ReplicatedStore> replicas) {
        ReplicatedStore all = new ReplicatedStore("all", 1 << 20, 10);
        for (ReplicatedStore r : replicas) {
            for (String k : List.of("c0", "c1", "c2", "s0", "s1", "s2")) {
                if (r.state(k) != null) {
                    all.mergeState(k, r.state(k));
                }
            }
        }
        return all.canonicalSnapshot();
    }

    @Property(tries = 200)
    void deltasInAnyOrderWithDuplicatesConverge(@ForAll long seed, @ForAll @IntRange(min = 1, max = 60) int steps) {
        List<ReplicatedStore> replicas = new ArrayList<>();
        List<Sent> sent = history(seed, steps, replicas);
        List<Sent> delivery = new ArrayList<>(sent);
        Random rnd = new Random(seed ^ 0x5DEECE66DL);
        for (int i = 0; i < sent.size() / 4; i++) {
            delivery.add(sent.get(rnd.nextInt(sent.size())));
        }
        Collections.shuffle(delivery, rnd);
        ReplicatedStore receiver = new ReplicatedStore("rx", 1 << 20, 10_000);
        for (Sent s : delivery) {
            receiver.mergeDelta(s.key(), s.delta());
        }
        assertArrayEquals(mergedOf(replicas), receiver.canonicalSnapshot());
        assertEquals(0, receiver.bufferedDeltas(), "every held delta was released once its predecessor arrived");
    }

    @Property(tries = 100)
    void aTinyCausalBufferLosesNothingOnceFullStatesArrive(@ForAll long seed, @ForAll @IntRange(min = 1, max = 60) int steps) {
        List<ReplicatedStore> replicas = new ArrayList<>();
        List<Sent> sent = history(seed, steps, replicas);
        List<Sent> delivery = new ArrayList<>(sent);
        Collections.shuffle(delivery, new Random(seed));
        ReplicatedStore receiver = new ReplicatedStore("rx", 1 << 20, 1);
        for (Sent s : delivery) {
            receiver.mergeDelta(s.key(), s.delta());
        }
        for (ReplicatedStore r : replicas) {
            for (String k : List.of("c0", "c1", "c2", "s0", "s1", "s2")) {
                if (r.state(k) != null) {
                    receiver.mergeState(k, r.state(k));
                }
            }
        }
        assertArrayEquals(mergedOf(replicas), receiver.canonicalSnapshot());
    }
}
