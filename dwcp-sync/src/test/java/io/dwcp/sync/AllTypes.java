package io.dwcp.sync;

import io.dwcp.sync.crdt.Crdt;
import io.dwcp.sync.crdt.GCounter;
import io.dwcp.sync.crdt.GSet;
import io.dwcp.sync.crdt.LwwRegister;
import io.dwcp.sync.crdt.MvRegister;
import io.dwcp.sync.crdt.OrMap;
import io.dwcp.sync.crdt.OrSet;
import io.dwcp.sync.crdt.PNCounter;
import io.dwcp.sync.crdt.Rga;
import io.dwcp.sync.crdt.TwoPSet;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The fault scenario's workload over all nine CRDT types, and its model. A replica process ({@link SyncNodeMain})
 * applies the operations with {@link #apply} and renders any key's value with {@link #render}; the harness issues
 * random operations with {@link Model#randomOp} and checks every replica's final value of every key against what the
 * issued operations must have produced ({@link Model#check}):
 * <ul>
 *   <li>G-Counter and PN-Counter ({@code gc-*}, {@code counter-*}): the sum of every increment issued;</li>
 *   <li>G-Set ({@code gs-*}): every element added; 2P-Set ({@code tp-*}): added and not removed; OR-Set
 *       ({@code set-*}): added and not removed, where a replica only removes elements it added itself (so it has
 *       observed them);</li>
 *   <li>LWW-Register ({@code lww-*}): the write with the highest (timestamp, replica, value), each write's timestamp and
 *       replica id reported by the writing replica;</li>
 *   <li>MV-Register ({@code mv-*}): every value written and not superseded, where a write supersedes exactly the values
 *       its replica held when it wrote (reported by that replica);</li>
 *   <li>OR-Map ({@code map-*}, fields holding PN-Counters): per field, the sum of its increments;</li>
 *   <li>RGA ({@code rga-*}): exactly the elements inserted and not deleted (a replica deletes only elements it inserted),
 *       each after the element it was inserted after (reported by the inserting replica) when that one is still
 *       there. A delete is not issued (the element stays live in the model; {@link Model#hiddenDeletes}) when the
 *       element is not visible at its inserter: after a restart, until anti-entropy brings back the element it was
 *       inserted after (received from another replica, so not in this replica's journal).</li>
 * </ul>
 * Values are unique per run ({@code e0, e1, …}), so each check names the update whose effect is missing or extra.
 */
final class AllTypes {
    private AllTypes() {
    }

    /** The nine key prefixes, one per type. */
    static final List<String> PREFIXES = List.of("counter-", "gc-", "gs-", "tp-", "set-", "lww-", "mv-", "map-", "rga-");

    // ------------------------------------------------------------------ replica side

    /**
     * Applies one operation on a replica: {@code gc-inc KEY N}, {@code gs-add KEY E}, {@code tp-add KEY E},
     * {@code tp-rem KEY E}, {@code lww KEY V} (answers {@code TS timestamp replica}), {@code mv KEY V} (answers
     * {@code REPLACED v,…}: the values the write superseded), {@code map-inc KEY FIELD N}, {@code rga-ins KEY V POS}
     * (inserts at POS modulo size + 1; answers {@code AFTER v} or {@code AFTER ^} at the head), {@code rga-del KEY V}.
     *
     * @param p the command split in at most three parts
     */
    static String apply(AssSync sync, String[] p) {
        ReplicatedStore store = sync.store();
        String me = store.replicaId();
        String key = p[1];
        switch (p[0]) {
            case "gc-inc" -> store.update(key, GCounter.EMPTY, c -> c.incrementDelta(me, Long.parseLong(p[2])));
            case "gs-add" -> store.update(key, GSet.EMPTY, s -> s.addDelta(p[2]));
            case "tp-add" -> store.update(key, TwoPSet.EMPTY, s -> s.addDelta(p[2]));
            case "tp-rem" -> store.update(key, TwoPSet.EMPTY, s -> s.removeDelta(p[2]));
            case "lww" -> {
                LwwRegister[] d = new LwwRegister[1];
                store.update(key, LwwRegister.EMPTY, r -> d[0] = r.writeDelta(me, p[2], sync.clock()));
                return "TS " + Long.toUnsignedString(d[0].timestamp()) + " " + d[0].replica();
            }
            case "mv" -> {
                List<String> replaced = new ArrayList<>();
                store.update(key, MvRegister.EMPTY, r -> {
                    replaced.addAll(r.value());
                    return r.writeDelta(me, p[2]);
                });
                return "REPLACED " + String.join(",", replaced);
            }
            case "map-inc" -> {
                String[] q = p[2].split(" ");
                store.update(key, OrMap.EMPTY, m -> m.updateDelta(me, q[0], PNCounter.EMPTY,
                        c -> c.addDelta(me, Long.parseLong(q[1]))));
            }
            case "rga-ins" -> {
                String[] q = p[2].split(" ");
                String[] after = new String[1];
                store.update(key, Rga.EMPTY, r -> {
                    List<String> v = r.value();
                    int at = Math.floorMod(Integer.parseInt(q[1]), v.size() + 1);
                    after[0] = at == 0 ? "^" : v.get(at - 1);
                    return r.insertDelta(me, at, q[0]);
                });
                return "AFTER " + after[0];
            }
            case "rga-del" -> {
                Rga cur = store.get(key).map(c -> (Rga) c).orElse(Rga.EMPTY);
                int at = cur.value().indexOf(p[2]);
                if (at < 0) {
                    // not visible here: a restarted replica recovers its own inserts from its journal but not the
                    // elements received from others that they were inserted after (received states are not journaled);
                    // an element after a missing one stays hidden until anti-entropy brings that one back
                    return "HIDDEN";
                }
                store.update(key, Rga.EMPTY, r -> r.removeDelta(r.value().indexOf(p[2])));
            }
            default -> throw new IllegalArgumentException("not an AllTypes operation: " + p[0]);
        }
        return "OK";
    }

    /** A value rendered for comparison with the model: numbers, sorted sets, the register's value, the sequence. */
    static String render(Crdt<?> v) {
        if (v == null) {
            return "-";
        }
        if (v instanceof GCounter g) {
            return Long.toString(g.value());
        } else if (v instanceof PNCounter c) {
            return Long.toString(c.value());
        } else if (v instanceof GSet s) {
            return String.join(",", s.value());
        } else if (v instanceof TwoPSet s) {
            return String.join(",", s.value());
        } else if (v instanceof OrSet s) {
            return String.join(",", s.value());
        } else if (v instanceof LwwRegister r) {
            return r.value().orElse("");
        } else if (v instanceof MvRegister r) {
            return String.join(",", new TreeSet<>(r.value()));
        } else if (v instanceof OrMap m) {
            List<String> fields = new ArrayList<>();
            for (String f : m.keys()) {
                fields.add(f + "=" + render(m.get(f).orElse(null)));
            }
            return String.join(";", fields);
        } else if (v instanceof Rga r) {
            return String.join(",", r.value());
        }
        throw new IllegalArgumentException("no rendering for " + v.type());
    }

    // ------------------------------------------------------------------ harness side

    /** One LWW write: its timestamp (unsigned), replica and value; the highest wins. */
    private record Write(long timestamp, String replica, String value) implements Comparable<Write> {
        @Override
        public int compareTo(Write o) {
            int c = Long.compareUnsigned(timestamp, o.timestamp);
            if (c == 0) {
                c = replica.compareTo(o.replica);
            }
            return c != 0 ? c : value.compareTo(o.value);
        }
    }

    /** The expected outcome of every issued operation. Driven by one thread. */
    static final class Model {
        private final Map<String, Long> counters = new TreeMap<>();
        private final Map<String, Long> gcounters = new TreeMap<>();
        private final Map<String, TreeSet<String>> gsets = new TreeMap<>();
        private final Map<String, TreeSet<String>> twoPhase = new TreeMap<>();
        private final Map<String, TreeSet<String>> orSets = new TreeMap<>();
        private final Map<String, Write> lww = new TreeMap<>();
        private final Map<String, Set<String>> mvWritten = new TreeMap<>();
        private final Map<String, Set<String>> mvReplaced = new TreeMap<>();
        private final Map<String, TreeMap<String, Long>> maps = new TreeMap<>();
        /** Per RGA key: element → the element it was inserted after ("^": the head). */
        private final Map<String, Map<String, String>> rgaAfter = new TreeMap<>();
        private final Set<String> rgaDeleted = new HashSet<>();
        /** Per replica index and type prefix: (key, element) pairs it added and may remove. */
        private final Map<String, List<String[]>> removable = new HashMap<>();
        private int nextElement;
        /**
         * RGA deletes not issued because the element was not visible at its (restarted) inserter at that moment: its
         * predecessor, received from another replica before the kill, was not yet recovered.
         */
        int hiddenDeletes;
        private final int[] opsByType = new int[PREFIXES.size()];
        int ops;

        /** Operations issued per type, in {@link #PREFIXES} order. */
        int[] opsByType() {
            return opsByType.clone();
        }

        /**
         * Issues one random operation of a random type at replica {@code node} and records its effect.
         *
         * @throws IOException when the replica fails the operation (the run fails: every operation must be accepted)
         */
        void randomOp(SyncCluster.Proc proc, int node, Random rnd, int keys) throws IOException {
            int type = rnd.nextInt(PREFIXES.size());
            String key = PREFIXES.get(type) + rnd.nextInt(keys);
            String elem = "e" + nextElement++;
            boolean remove = rnd.nextInt(10) >= 7;
            switch (type) {
                case 0 -> {
                    long d = rnd.nextInt(21) - 10;
                    proc.call("inc " + key + " " + d);
                    counters.merge(key, d, Long::sum);
                }
                case 1 -> {
                    long d = rnd.nextInt(10) + 1;
                    proc.call("gc-inc " + key + " " + d);
                    gcounters.merge(key, d, Long::sum);
                }
                case 2 -> {
                    proc.call("gs-add " + key + " " + elem);
                    gsets.computeIfAbsent(key, k -> new TreeSet<>()).add(elem);
                }
                case 3, 4 -> {
                    String prefix = PREFIXES.get(type);
                    Map<String, TreeSet<String>> sets = type == 3 ? twoPhase : orSets;
                    List<String[]> mine = removable.computeIfAbsent(node + prefix, k -> new ArrayList<>());
                    if (remove && !mine.isEmpty()) {
                        String[] ke = mine.remove(rnd.nextInt(mine.size()));
                        proc.call((type == 3 ? "tp-rem " : "rem ") + ke[0] + " " + ke[1]);
                        sets.get(ke[0]).remove(ke[1]);
                    } else {
                        proc.call((type == 3 ? "tp-add " : "add ") + key + " " + elem);
                        sets.computeIfAbsent(key, k -> new TreeSet<>()).add(elem);
                        mine.add(new String[]{key, elem});
                    }
                }
                case 5 -> {
                    String[] ts = proc.call("lww " + key + " " + elem).split(" ");
                    Write w = new Write(Long.parseUnsignedLong(ts[1]), ts[2], elem);
                    lww.merge(key, w, (a, b) -> a.compareTo(b) >= 0 ? a : b);
                }
                case 6 -> {
                    String replaced = proc.call("mv " + key + " " + elem).substring("REPLACED".length()).trim();
                    mvWritten.computeIfAbsent(key, k -> new HashSet<>()).add(elem);
                    if (!replaced.isEmpty()) {
                        mvReplaced.computeIfAbsent(key, k -> new HashSet<>()).addAll(Arrays.asList(replaced.split(",")));
                    }
                }
                case 7 -> {
                    String field = "f" + rnd.nextInt(3);
                    long d = rnd.nextInt(21) - 10;
                    proc.call("map-inc " + key + " " + field + " " + d);
                    maps.computeIfAbsent(key, k -> new TreeMap<>()).merge(field, d, Long::sum);
                }
                case 8 -> {
                    List<String[]> mine = removable.computeIfAbsent(node + "rga-", k -> new ArrayList<>());
                    if (remove && !mine.isEmpty()) {
                        String[] ke = mine.remove(rnd.nextInt(mine.size()));
                        if (proc.call("rga-del " + ke[0] + " " + ke[1]).equals("HIDDEN")) {
                            // not deleted: the model keeps it live, so the final check still finds it if it were lost
                            mine.add(ke);
                            hiddenDeletes++;
                        } else {
                            rgaDeleted.add(ke[1]);
                        }
                    } else {
                        String after = proc.call("rga-ins " + key + " " + elem + " " + rnd.nextInt(1 << 16))
                                .substring("AFTER ".length());
                        rgaAfter.computeIfAbsent(key, k -> new TreeMap<>()).put(elem, after);
                        mine.add(new String[]{key, elem});
                    }
                }
                default -> throw new IllegalStateException("type " + type);
            }
            opsByType[type]++;
            ops++;
        }

        /** Every key's expected rendering, except the RGA keys (checked by {@link #checkRga}). */
        private Map<String, String> expected() {
            Map<String, String> out = new TreeMap<>();
            counters.forEach((k, v) -> out.put(k, Long.toString(v)));
            gcounters.forEach((k, v) -> out.put(k, Long.toString(v)));
            gsets.forEach((k, v) -> out.put(k, String.join(",", v)));
            twoPhase.forEach((k, v) -> out.put(k, String.join(",", v)));
            orSets.forEach((k, v) -> out.put(k, String.join(",", v)));
            lww.forEach((k, w) -> out.put(k, w.value()));
            mvWritten.forEach((k, written) -> {
                TreeSet<String> live = new TreeSet<>(written);
                live.removeAll(mvReplaced.getOrDefault(k, Set.of()));
                out.put(k, String.join(",", live));
            });
            maps.forEach((k, fields) -> {
                List<String> f = new ArrayList<>();
                fields.forEach((name, sum) -> f.add(name + "=" + sum));
                out.put(k, String.join(";", f));
            });
            return out;
        }

        /**
         * Every replica's value of every key the workload touched, against the model.
         *
         * @return the violations, one line each (empty when every replica matches)
         */
        List<String> check(SyncCluster c) throws IOException {
            List<String> out = new ArrayList<>();
            Map<String, String> want = expected();
            for (int i = 0; i < c.size(); i++) {
                for (Map.Entry<String, String> e : want.entrySet()) {
                    String got = c.node(i).call("get " + e.getKey());
                    if (!got.equals("VALUE " + e.getValue())) {
                        out.add("replica " + i + " " + e.getKey() + ": " + got + ", model " + e.getValue());
                    }
                }
                for (Map.Entry<String, Map<String, String>> e : rgaAfter.entrySet()) {
                    String got = c.node(i).call("get " + e.getKey()).substring("VALUE ".length());
                    String bad = checkRga(got.isEmpty() || got.equals("-") ? List.of() : List.of(got.split(",")), e.getValue());
                    if (bad != null) {
                        out.add("replica " + i + " " + e.getKey() + ": " + got + ": " + bad);
                    }
                }
            }
            return out;
        }

        /** The sequence holds exactly the live elements, each after the element it was inserted after if that one is live. */
        private String checkRga(List<String> got, Map<String, String> after) {
            Set<String> live = new TreeSet<>(after.keySet());
            live.removeAll(rgaDeleted);
            if (got.size() != live.size() || !live.equals(new TreeSet<>(got))) {
                return "elements " + new TreeSet<>(got) + ", model " + live;
            }
            for (String x : live) {
                String a = after.get(x);
                if (!a.equals("^") && live.contains(a) && got.indexOf(a) > got.indexOf(x)) {
                    return x + " was inserted after " + a + " but comes before it";
                }
            }
            return null;
        }
    }

    /** Key prefix of a type index, for reports. */
    static String prefix(int type) {
        return PREFIXES.get(type);
    }

    /** Operations per type as {@code counter-=12 gc-=9 …}. */
    static String describe(int[] opsByType) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < opsByType.length; i++) {
            b.append(i == 0 ? "" : " ").append(PREFIXES.get(i)).append('=').append(opsByType[i]);
        }
        return b.toString();
    }
}
