package io.dwcp.sync.crdt;

import io.dwcp.core.time.HybridLogicalClock;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/** Random δ-mutations of every type, and random replica histories built from them, for the law properties. */
final class Models {
    private Models() {
    }

    /** Random valid δ-mutation of one type. */
    interface Model<T extends Crdt<T>> {
        T empty();

        T randomDelta(T state, String replica, Random rnd);
    }

    /** What a history produced: every delta issued, and every replica's final state. */
    record History<T extends Crdt<T>>(List<T> deltas, List<T> finals, List<T> snapshots) {
    }

    static final String[] ELEMENTS = {"a", "b", "c", "d"};

    static Model<?> of(CrdtType type) {
        HybridLogicalClock hlc = new HybridLogicalClock(Clock.fixed(Instant.ofEpochMilli(1_700_000_000_000L), ZoneOffset.UTC));
        return switch (type) {
            case G_COUNTER -> (Model<GCounter>) new Model<GCounter>() {
                public GCounter empty() {
                    return GCounter.EMPTY;
                }

                public GCounter randomDelta(GCounter s, String r, Random rnd) {
                    return s.incrementDelta(r, 1 + rnd.nextInt(5));
                }
            };
            case PN_COUNTER -> new Model<PNCounter>() {
                public PNCounter empty() {
                    return PNCounter.EMPTY;
                }

                public PNCounter randomDelta(PNCounter s, String r, Random rnd) {
                    return s.addDelta(r, rnd.nextInt(11) - 5);
                }
            };
            case G_SET -> new Model<GSet>() {
                public GSet empty() {
                    return GSet.EMPTY;
                }

                public GSet randomDelta(GSet s, String r, Random rnd) {
                    return s.addDelta(ELEMENTS[rnd.nextInt(ELEMENTS.length)]);
                }
            };
            case TWO_P_SET -> new Model<TwoPSet>() {
                public TwoPSet empty() {
                    return TwoPSet.EMPTY;
                }

                public TwoPSet randomDelta(TwoPSet s, String r, Random rnd) {
                    String e = ELEMENTS[rnd.nextInt(ELEMENTS.length)];
                    if (s.value().contains(e)) {
                        return s.removeDelta(e);
                    }
                    return s.tombstones().contains(e) ? TwoPSet.EMPTY : s.addDelta(e);
                }
            };
            case OR_SET -> new Model<OrSet>() {
                public OrSet empty() {
                    return OrSet.EMPTY;
                }

                public OrSet randomDelta(OrSet s, String r, Random rnd) {
                    String e = ELEMENTS[rnd.nextInt(ELEMENTS.length)];
                    return rnd.nextInt(3) == 0 ? s.removeDelta(e) : s.addDelta(r, e);
                }
            };
            case LWW_REGISTER -> new Model<LwwRegister>() {
                public LwwRegister empty() {
                    return LwwRegister.EMPTY;
                }

                public LwwRegister randomDelta(LwwRegister s, String r, Random rnd) {
                    return s.writeDelta(r, ELEMENTS[rnd.nextInt(ELEMENTS.length)], hlc);
                }
            };
            case MV_REGISTER -> new Model<MvRegister>() {
                public MvRegister empty() {
                    return MvRegister.EMPTY;
                }

                public MvRegister randomDelta(MvRegister s, String r, Random rnd) {
                    return s.writeDelta(r, ELEMENTS[rnd.nextInt(ELEMENTS.length)]);
                }
            };
            case OR_MAP -> new Model<OrMap>() {
                public OrMap empty() {
                    return OrMap.EMPTY;
                }

                public OrMap randomDelta(OrMap s, String r, Random rnd) {
                    int k = rnd.nextInt(2);
                    return switch (rnd.nextInt(4)) {
                        case 0 -> s.removeDelta(rnd.nextBoolean() ? "n" + k : "s" + k);
                        case 1 -> s.updateDelta(r, "s" + k, OrSet.EMPTY,
                                v -> rnd.nextInt(3) == 0 ? v.removeDelta("x") : v.addDelta(r, ELEMENTS[rnd.nextInt(2)]));
                        default -> s.updateDelta(r, "n" + k, PNCounter.EMPTY, v -> v.addDelta(r, rnd.nextInt(7) - 3));
                    };
                }
            };
            case RGA -> new Model<Rga>() {
                public Rga empty() {
                    return Rga.EMPTY;
                }

                public Rga randomDelta(Rga s, String r, Random rnd) {
                    int n = s.size();
                    if (n > 0 && rnd.nextInt(4) == 0) {
                        return s.removeDelta(rnd.nextInt(n));
                    }
                    return s.insertDelta(r, rnd.nextInt(n + 1), ELEMENTS[rnd.nextInt(ELEMENTS.length)]);
                }
            };
        };
    }

    /** Three replicas doing random mutations and random pairwise merges. */
    static <T extends Crdt<T>> History<T> history(Model<T> model, long seed, int steps) {
        Random rnd = new Random(seed);
        String[] replicas = {"r1", "r2", "r3"};
        List<T> states = new ArrayList<>(Collections.nCopies(3, model.empty()));
        List<T> deltas = new ArrayList<>();
        List<T> snapshots = new ArrayList<>();
        for (int i = 0; i < steps; i++) {
            int at = rnd.nextInt(3);
            if (rnd.nextInt(4) == 0) {
                states.set(at, states.get(at).merge(states.get(rnd.nextInt(3))));
            } else {
                T d = model.randomDelta(states.get(at), replicas[at], rnd);
                deltas.add(d);
                states.set(at, states.get(at).merge(d));
            }
            snapshots.add(states.get(at));
        }
        return new History<>(deltas, List.copyOf(states), snapshots);
    }
}
