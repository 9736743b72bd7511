package io.dwcp.sync.crdt;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The semilattice laws and the δ/encoding contracts, for every type, over states reached by random histories of three
 * replicas (random δ-mutations and pairwise merges).
 */
class CrdtLawsTest {
    private static <T extends Crdt<T>> void assertSame(T a, T b) {
        assertEquals(a, b);
        assertArrayEquals(a.encode(), b.encode(), "equal states must encode to equal bytes");
    }

    @SuppressWarnings("unchecked")
    private static <T extends Crdt<T>> Models.History<T> history(CrdtType type, long seed, int steps) {
        return Models.history((Models.Model<T>) Models.of(type), seed, steps);
    }

    private static <T extends Crdt<T>> T pick(List<T> states, Random rnd) {
        return states.get(rnd.nextInt(states.size()));
    }

    @Property(tries = 300)
    <T extends Crdt<T>> void mergeIsCommutative(@ForAll CrdtType type, @ForAll long seed, @ForAll @IntRange(min = 1, max = 40) int steps) {
        Models.History<T> h = history(type, seed, steps);
        Random rnd = new Random(seed);
        T a = pick(h.snapshots(), rnd);
        T b = pick(h.snapshots(), rnd);
        assertSame(a.merge(b), b.merge(a));
    }

    @Property(tries = 300)
    <T extends Crdt<T>> void mergeIsAssociative(@ForAll CrdtType type, @ForAll long seed, @ForAll @IntRange(min = 1, max = 40) int steps) {
        Models.History<T> h = history(type, seed, steps);
        Random rnd = new Random(seed);
        T a = pick(h.snapshots(), rnd);
        T b = pick(h.deltas().isEmpty() ? h.snapshots() : h.deltas(), rnd);
        T c = pick(h.snapshots(), rnd);
        assertSame(a.merge(b).merge(c), a.merge(b.merge(c)));
    }

    @Property(tries = 300)
    <T extends Crdt<T>> void mergeIsIdempotent(@ForAll CrdtType type, @ForAll long seed, @ForAll @IntRange(min = 1, max = 40) int steps) {
        Models.History<T> h = history(type, seed, steps);
        for (T s : h.finals()) {
            assertSame(s.merge(s), s);
        }
        for (T d : h.deltas()) {
            assertSame(d.merge(d), d);
        }
    }

    /**
     * A replica that receives only the deltas, shuffled and some duplicated, ends equal to one that merged every
     * replica's full state.
     */
    @Property(tries = 300)
    <T extends Crdt<T>> void deltasInAnyOrderEqualFullStateMerge(@ForAll CrdtType type, @ForAll long seed,
                                                                @ForAll @IntRange(min = 1, max = 40) int steps) {
        Models.History<T> h = history(type, seed, steps);
        List<T> shuffled = new ArrayList<>(h.deltas());
        Random rnd = new Random(seed);
        for (int i = 0; i < h.deltas().size() / 3; i++) {
            shuffled.add(pick(h.deltas(), rnd));
        }
        Collections.shuffle(shuffled, rnd);
        T full = h.finals().get(0);
        T viaDeltas = full; // a replica that already holds some of the updates
        T fromEmpty = emptyLike(full);
        for (T d : shuffled) {
            fromEmpty = fromEmpty.merge(d);
            viaDeltas = viaDeltas.merge(d);
        }
        for (T s : h.finals()) {
            full = full.merge(s);
        }
        assertSame(fromEmpty, full);
        assertSame(viaDeltas, full);
    }

    @Property(tries = 300)
    <T extends Crdt<T>> void encodingRoundTripsAndIsCanonical(@ForAll CrdtType type, @ForAll long seed,
                                                             @ForAll @IntRange(min = 0, max = 40) int steps) {
        Models.History<T> h = history(type, seed, steps);
        List<T> all = new ArrayList<>(h.finals());
        all.addAll(h.deltas());
        for (T s : all) {
            byte[] bytes = s.encode();
            Crdt<?> back = TypeRegistry.defaults().decode(bytes);
            assertEquals(s, back);
            assertArrayEquals(bytes, back.encode());
            assertEquals(type, back.type());
        }
        // the same set of updates merged in two different orders gives the same bytes
        T forward = emptyLike(h.finals().get(0));
        for (T s : h.finals()) {
            forward = forward.merge(s);
        }
        T backward = emptyLike(forward);
        for (int i = h.finals().size() - 1; i >= 0; i--) {
            backward = backward.merge(h.finals().get(i));
        }
        assertArrayEquals(forward.encode(), backward.encode());
        assertEquals(Arrays.hashCode(forward.encode()), Arrays.hashCode(backward.encode()));
    }

    @SuppressWarnings("unchecked")
    private static <T extends Crdt<T>> T emptyLike(T s) {
        return (T) TypeRegistry.defaults().empty(s.type());
    }
}
