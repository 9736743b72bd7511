package io.dwcp.consensus.check;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.Deque;
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

    /** A checker that gives up after {@code maxStates} explored states per key. */
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
        public Result {
            failingHistory = List.copyOf(failingHistory);
        }
    }

    /**
     * Checks a history.
     *
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
