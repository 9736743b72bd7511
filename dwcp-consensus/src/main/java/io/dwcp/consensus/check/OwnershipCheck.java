package io.dwcp.consensus.check;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The hand-over safety properties.
 *
 * <p><b>One owner per epoch</b> ({@link #conflicts}): for every VM, each ownership epoch (the version, i.e. fencing token, of an owner
 * value) names exactly one site. Two clients that observed different owners under the same epoch would mean two
 * sites both believed they held the VM at that epoch — the split brain hand-overs must prevent.
 *
 * <p><b>One owner at every instant</b> ({@link #overlaps}): sites run a VM only while they own it. A process that
 * acts for a site (a hand-over agent) runs the VM from the return of any successful operation that showed its site as
 * the owner until it calls its next compare-and-set from its site to another (it stops the VM before handing it
 * over, and resumes it only after seeing its site as the owner again). No two sites' running intervals of one VM may
 * overlap in time. A process acts for site S when every compare-and-set it issued on owner keys expected S, or created
 * the key with S; processes that issued none, or for several sites, are not agents.
 *
 * <p>Only operations that completed OK with a version (> 0) are evidence. Stateless and thread-safe.
 */
public final class OwnershipCheck {
    private OwnershipCheck() {
    }

    /**
     * Returns one line per conflict ({@code key epoch 17: site-a (p1) vs site-b (p4)}); empty when the property holds.
     *
     * @param history the recorded operations
     * @param keyPrefix only keys starting with this prefix are VM owner keys (e.g. {@code vm/})
     * @return the conflicts, in history order
     */
    public static List<String> conflicts(List<Operation> history, String keyPrefix) {
        Map<String, Map<Long, Operation>> seen = new HashMap<>();
        List<String> out = new ArrayList<>();
        for (Operation op : history) {
            if (op.outcome() != Operation.Outcome.OK || op.version() <= 0 || !op.key().startsWith(keyPrefix)) {
                continue;
            }
            String owner = observedOwner(op);
            Operation first = seen.computeIfAbsent(op.key(), k -> new HashMap<>()).putIfAbsent(op.version(), op);
            if (first != null && !observedOwner(first).equals(owner)) {
                out.add(op.key() + " epoch " + op.version() + ": " + observedOwner(first) + " (p" + first.process() + ") vs "
                        + owner + " (p" + op.process() + ")");
            }
        }
        return out;
    }

    /**
     * Returns one line per pair of sites that ran one VM at the same instant; empty when the property holds.
     *
     * @param history the recorded operations
     * @param keyPrefix only keys starting with this prefix are VM owner keys (e.g. {@code vm/})
     * @return the overlaps, e.g. {@code vm/vm-1/owner: site-a (p5) ran [100, 300] ns and site-b (p6) [200, 400]}
     */
    public static List<String> overlaps(List<Operation> history, String keyPrefix) {
        Map<Integer, java.util.Set<String>> sitesOf = new HashMap<>();
        for (Operation op : history) {
            if (op.kind() == Operation.Kind.CAS && op.key().startsWith(keyPrefix)) {
                sitesOf.computeIfAbsent(op.process(), p -> new java.util.HashSet<>())
                        .add(op.expected() != null ? op.expected() : String.valueOf(op.value()));
            }
        }
        record Tenure(String site, int process, long from, long to) {
        }
        Map<String, List<Tenure>> byKey = new HashMap<>();
        for (Map.Entry<Integer, java.util.Set<String>> agent : sitesOf.entrySet()) {
            if (agent.getValue().size() != 1) {
                continue;
            }
            int process = agent.getKey();
            String site = agent.getValue().iterator().next();
            Map<String, List<Operation>> mine = new HashMap<>();
            for (Operation op : history) {
                if (op.process() == process && op.key().startsWith(keyPrefix)) {
                    mine.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(op);
                }
            }
            for (Map.Entry<String, List<Operation>> e : mine.entrySet()) {
                List<Operation> ops = e.getValue();
                ops.sort(java.util.Comparator.comparingLong(Operation::callNanos));
                long start = -1;
                for (Operation op : ops) {
                    if (start >= 0 && op.kind() == Operation.Kind.CAS && site.equals(op.expected())) {
                        byKey.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(new Tenure(site, process, start, op.callNanos()));
                        start = -1;
                    }
                    if (start < 0 && op.outcome() == Operation.Outcome.OK && site.equals(op.observed())) {
                        start = op.returnNanos();
                    }
                }
                if (start >= 0) {
                    byKey.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(new Tenure(site, process, start, Long.MAX_VALUE));
                }
            }
        }
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, List<Tenure>> e : byKey.entrySet()) {
            List<Tenure> ts = e.getValue();
            ts.sort(java.util.Comparator.comparingLong(Tenure::from));
            for (int i = 0; i < ts.size(); i++) {
                for (int j = i + 1; j < ts.size() && ts.get(j).from() < ts.get(i).to(); j++) {
                    Tenure a = ts.get(i);
                    Tenure b = ts.get(j);
                    if (!a.site().equals(b.site())) {
                        out.add(e.getKey() + ": " + a.site() + " (p" + a.process() + ") ran [" + a.from() + ", " + end(a.to())
                                + "] ns and " + b.site() + " (p" + b.process() + ") [" + b.from() + ", " + end(b.to()) + "]");
                    }
                }
            }
        }
        return out;
    }

    private static String end(long to) {
        return to == Long.MAX_VALUE ? "end" : String.valueOf(to);
    }

    private static String observedOwner(Operation op) {
        return String.valueOf(op.observed());
    }
}
