package io.dwcp.consensus;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;

/*
 * Starting and stopping the Raft groups a multi-group scope (ScopedConsensus, SwitchingConsensus) owns: all started in
 * order or none (a failure stops those already started again), stopped in reverse order with every failure reported.
 */
final class GroupSet {
    private GroupSet() {
    }

    /** Starts every group in order; when one fails, stops those already started (reverse order) and rethrows. */
    static void startAll(Collection<RatisConsensus> groups) throws IOException {
        List<RatisConsensus> done = new ArrayList<>();
        try {
            for (RatisConsensus c : groups) {
                c.start();
                done.add(c);
            }
        } catch (IOException | RuntimeException e) {
            Collections.reverse(done);
            for (RatisConsensus c : done) {
                c.stop();
            }
            throw e;
        }
    }

    /** Stops every group in reverse order; the first failure is thrown with the others suppressed in it. */
    static void stopAll(Collection<RatisConsensus> groups) {
        List<RatisConsensus> all = new ArrayList<>(groups);
        Collections.reverse(all);
        RuntimeException first = null;
        for (RatisConsensus c : all) {
            try {
                c.stop();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
