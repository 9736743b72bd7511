package io.dwcp.consensus.check;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Decides whether a history of read / write / compare-and-set operations on a map of registers is linearizable.
 *
 * <p>Why our own: the established checkers are Knossos (Clojure) and Porcupine (Go); nothing maintained exists for
 * the JVM that a Java test could call, and the algorithm for one register is short. This is the Wing–Gong search
 * with Lowe's memoisation, as Porcupine implements it:
 *
 * <ul>
 *   <li>The history is split by key (each register is checked alone: linearizability is compositional).
 *   <li>Calls and returns are put in one list ordered by time (a call before a return at equal times, the more
 *       permissive reading). The search repeatedly takes a pending call that the register model accepts in the
 *       current state, "lifts" it (removes its call and return), and backtracks when it meets a return whose call has
 *       not been linearized yet.
 *   <li>Memoisation: a (set of linearized operations, register value) pair already explored is never explored again,
 *       which makes the search polynomial on the histories real systems produce.
 *   <li>Indeterminate operations (INFO) return at infinity, and the model accepts any result for them, so they may
 *       take effect anywhere after their call — or, placed last, in effect never. FAIL operations are dropped.
 * </ul>
 *
 * <p>Thread-safe (stateless); each call allocates its own search state. The search explores at most
 * {@code maxStates} states per key and then throws, so a pathological history cannot exhaust memory.
 */
public final class LinearizabilityChecker {
    private final long maxStates;

    /**
     * A checker that gives up after {@code maxStates} explored states per key.
     *
     * @param maxStates the bound, at least 1
     */
    public LinearizabilityChecker(long maxStates) {
        if (maxStates < 1) {
            throw new IllegalArgumentException("maxStates must be >= 1, got " + maxStates);
        }
        this.maxStates = maxStates;
    }

    /** A checker with a limit of 5 million explored states per key. */
    public LinearizabilityChecker() {
        this(5_000_000);
    }

    /**
     * The verdict on a history.
     *
     * @param linearizable whether every key's sub-history is linearizable
     * @param failingKey the first key found not linearizable, {@code null} when linearizable
     * @param failingHistory that key's operations (FAIL ones dropped), empty when linearizable
     * @param statesExplored search states explored over all keys
     */
    public record Result(boolean linearizable, String failingKey, List<Operation> failingHistory, long statesExplored) {
        /**
         * Copies the failing history.
         *
         * @param linearizable whether every key's sub-history is linearizable
         * @param failingKey the first key found not linearizable, or {@code null}
         * @param failingHistory that key's operations
         * @param statesExplored search states explored
         */
        public Result {
            failingHistory = List.copyOf(failingHistory);
        }
    }

    /**
     * Checks a history.
     *
     * @param history the operations, in any order (they are ordered by time)
     * @return the verdict
     * @throws IllegalStateException when a key needs more than {@code maxStates} states
     */
    public Result check(List<Operation> history) {
        Objects.requireNonNull(history, "history");
        Map<String, List<Operation>> byKey = new LinkedHashMap<>();
        for (Operation op : history) {
            if (op.outcome() != Operation.Outcome.FAIL) {
                byKey.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(op);
            }
        }
        long explored = 0;
        for (Map.Entry<String, List<Operation>> e : byKey.entrySet()) {
            long[] states = new long[1];
            if (!checkKey(e.getValue(), states)) {
                return new Result(false, e.getKey(), e.getValue(), explored + states[0]);
            }
            explored += states[0];
        }
        return new Result(true, null, List.of(), explored);
    }

    /**
     * Shrinks a non-linearizable single-key history to a small sub-history that is still not linearizable, by delta
     * debugging (ddmin): repeatedly drop a chunk of operations while the rest stays non-linearizable. A sub-history
     * must keep the source of every value its operations relied on (see {@code Provenance}: by version when recorded),
     * so the result shows an anomaly of the original history (a stale read keeps the two writes and the read) instead
     * of one made by dropping the write a read saw. The result is 1-minimal when the search ends within
     * {@code maxChecks} checks, else as small as found.
     *
     * @param failing operations of one key, not linearizable (e.g. {@link Result#failingHistory()})
     * @param maxChecks how many linearizability checks the search may spend
     * @return a sub-list in the original order
     * @throws IllegalArgumentException when {@code failing} is linearizable
     */
    public List<Operation> minimize(List<Operation> failing, int maxChecks) {
        if (check(failing).linearizable()) {
            throw new IllegalArgumentException("the history is linearizable: nothing to minimise");
        }
        Provenance provenance = new Provenance(failing);
        List<Operation> cur = new ArrayList<>(failing);
        int n = 2;
        int checks = 0;
        while (cur.size() >= 2 && checks < maxChecks) {
            int chunk = (cur.size() + n - 1) / n;
            boolean reduced = false;
            for (int start = 0; start < cur.size() && checks < maxChecks; start += chunk) {
                List<Operation> rest = new ArrayList<>(cur.subList(0, start));
                rest.addAll(cur.subList(Math.min(cur.size(), start + chunk), cur.size()));
                if (rest.isEmpty() || !provenance.keepsSources(rest)) {
                    continue;
                }
                checks++;
                if (!check(rest).linearizable()) {
                    cur = rest;
                    n = Math.max(n - 1, 2);
                    reduced = true;
                    break;
                }
            }
            if (!reduced) {
                if (n >= cur.size()) {
                    break;
                }
                n = Math.min(cur.size(), n * 2);
            }
        }
        return List.copyOf(cur);
    }

    /**
     * Where the values an operation relied on came from, in the history being shrunk: a value read (or seen by a CAS
     * that did not apply) comes from the write or applied CAS with the same version when versions are recorded, else
     * from any operation that wrote that value; an applied CAS's expected value from any other writer of it. A
     * sub-history is kept only if it keeps, for each such value the whole history can explain, one of its sources —
     * so shrinking never invents an anomaly by dropping the write a read saw.
     */
    private static final class Provenance {
        private final Map<String, Operation> byVersion = new HashMap<>();
        private final Map<String, List<Operation>> byValue = new HashMap<>();

        Provenance(List<Operation> all) {
            for (Operation op : all) {
                if (op.kind() == Operation.Kind.READ || op.value() == null) {
                    continue;
                }
                byValue.computeIfAbsent(op.key() + '\u0000' + op.value(), k -> new ArrayList<>()).add(op);
                boolean wrote = op.outcome() == Operation.Outcome.OK && (op.kind() == Operation.Kind.WRITE || op.applied());
                if (wrote && op.version() > 0) {
                    byVersion.put(op.key() + '\u0000' + op.version(), op);
                }
            }
        }

        boolean keepsSources(List<Operation> subset) {
            Set<Operation> in = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
            in.addAll(subset);
            for (Operation op : subset) {
                if (op.outcome() != Operation.Outcome.OK) {
                    continue;
                }
                boolean seesOthers = op.kind() == Operation.Kind.READ || (op.kind() == Operation.Kind.CAS && !op.applied());
                if (seesOthers && op.observed() != null) {
                    Operation exact = op.version() > 0 ? byVersion.get(op.key() + '\u0000' + op.version()) : null;
                    if (exact != null ? !in.contains(exact) : !anyIn(op.key(), op.observed(), null, in)) {
                        return false;
                    }
                }
                if (op.kind() == Operation.Kind.CAS && op.applied() && op.expected() != null
                        && !anyIn(op.key(), op.expected(), op, in)) {
                    return false;
                }
            }
            return true;
        }

        /** True when some writer of the value other than {@code self} is kept, or when the history has none at all. */
        private boolean anyIn(String key, String value, Operation self, Set<Operation> in) {
            List<Operation> writers = byValue.getOrDefault(key + '\u0000' + value, List.of());
            boolean any = false;
            for (Operation w : writers) {
                if (w == self) {
                    continue;
                }
                any = true;
                if (in.contains(w)) {
                    return true;
                }
            }
            return !any;
        }
    }

    /** One node of the doubly linked call/return list. */
    private static final class Entry {
        final int id;
        final boolean call;
        final long time;
        Entry match;
        Entry prev;
        Entry next;

        Entry(int id, boolean call, long time) {
            this.id = id;
            this.call = call;
            this.time = time;
        }
    }

    private record Memo(BitSet linearized, String state) {
    }

    private record Frame(Entry call, String stateBefore) {
    }

    /** Marks "the model refuses this operation in this state". */
    private static final String REFUSE = new String("refuse");

    private boolean checkKey(List<Operation> ops, long[] states) {
        List<Entry> events = new ArrayList<>(ops.size() * 2);
        for (int i = 0; i < ops.size(); i++) {
            Entry c = new Entry(i, true, ops.get(i).callNanos());
            Entry r = new Entry(i, false, ops.get(i).returnNanos());
            c.match = r;
            r.match = c;
            events.add(c);
            events.add(r);
        }
        events.sort(Comparator.comparingLong((Entry x) -> x.time).thenComparing(x -> !x.call).thenComparingInt(x -> x.id));
        Entry head = new Entry(-1, false, Long.MIN_VALUE);
        Entry last = head;
        for (Entry x : events) {
            last.next = x;
            x.prev = last;
            last = x;
        }
        BitSet linearized = new BitSet(ops.size());
        Set<Memo> seen = new HashSet<>();
        Deque<Frame> stack = new ArrayDeque<>();
        String state = null; // every register starts absent
        Entry entry = head.next;
        while (head.next != null) {
            if (entry == null) {
                return false; // cannot happen for well-formed lists: a return always ends the scan
            }
            if (entry.call) {
                String next = step(state, ops.get(entry.id));
                if (next != REFUSE) {
                    BitSet candidate = (BitSet) linearized.clone();
                    candidate.set(entry.id);
                    if (seen.add(new Memo(candidate, next))) {
                        if (++states[0] > maxStates) {
                            throw new IllegalStateException("linearizability search of key '" + ops.get(0).key()
                                    + "' exceeded " + maxStates + " states (" + ops.size() + " operations)");
                        }
                        stack.push(new Frame(entry, state));
                        state = next;
                        linearized.set(entry.id);
                        lift(entry);
                        entry = head.next;
                        continue;
                    }
                }
                entry = entry.next;
            } else {
                // A return whose call is still pending: the prefix so far admits no linearization; backtrack.
                if (stack.isEmpty()) {
                    return false;
                }
                Frame f = stack.pop();
                state = f.stateBefore();
                linearized.clear(f.call().id);
                unlift(f.call());
                entry = f.call().next;
            }
        }
        return true;
    }

    private static void lift(Entry call) {
        call.prev.next = call.next;
        if (call.next != null) {
            call.next.prev = call.prev;
        }
        Entry ret = call.match;
        ret.prev.next = ret.next;
        if (ret.next != null) {
            ret.next.prev = ret.prev;
        }
    }

    private static void unlift(Entry call) {
        Entry ret = call.match;
        ret.prev.next = ret;
        if (ret.next != null) {
            ret.next.prev = ret;
        }
        call.prev.next = call;
        if (call.next != null) {
            call.next.prev = call;
        }
    }

    /** The register model: the state after {@code op}, or {@link #REFUSE}. */
    private static String step(String state, Operation op) {
        boolean unknown = op.outcome() == Operation.Outcome.INFO;
        return switch (op.kind()) {
            case READ -> unknown || Objects.equals(state, op.observed()) ? state : REFUSE;
            case WRITE -> op.value();
            case CAS -> {
                boolean matches = Objects.equals(state, op.expected());
                if (unknown) {
                    yield matches ? op.value() : state;
                }
                if (op.applied()) {
                    yield matches ? op.value() : REFUSE;
                }
                yield matches ? REFUSE : state;
            }
        };
    }
}
