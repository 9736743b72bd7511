package io.dwcp.consensus.check;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The hand-over safety property: for every VM, each ownership epoch (the version, i.e. fencing token, of an owner
 * value) names exactly one site. Two clients that observed different owners under the same epoch would mean two
 * sites both believed they held the VM at that epoch — the split brain hand-overs must prevent.
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

    private static String observedOwner(Operation op) {
        return String.valueOf(op.observed());
    }
}
