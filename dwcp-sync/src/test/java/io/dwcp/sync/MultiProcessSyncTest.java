package io.dwcp.sync;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Replication between separate JVM processes over real loopback sockets, each link behind a fault-injecting proxy:
 * a workload under delays and connection resets, a partition with writes on both sides, a kill -9 and restart of a
 * replica, then a heal. Every replica must end with an identical canonical store, equal to the model: each counter the
 * sum of every increment issued, each set exactly the elements added and not removed (every acknowledged update is
 * checked).
 */
class MultiProcessSyncTest {
    /** The model: what the merge of every issued operation must give. */
    static final class Model {
        final Map<String, Long> counters = new HashMap<>();
        final Map<String, TreeSet<String>> sets = new HashMap<>();
        /** Elements each node added and may remove (it observed them: it added them itself). */
        final Map<Integer, List<String[]>> addedBy = new HashMap<>();
        int nextElement;
        int ops;
    }

    static void randomOps(SyncCluster c, Model m, Random rnd, int count, Set<Integer> nodes) throws IOException {
        List<Integer> pool = new ArrayList<>(nodes);
        for (int i = 0; i < count; i++) {
            int node = pool.get(rnd.nextInt(pool.size()));
            int kind = rnd.nextInt(10);
            if (kind < 5) {
                String key = "counter-" + rnd.nextInt(4);
                long delta = rnd.nextInt(21) - 10;
                c.node(node).call("inc " + key + " " + delta);
                m.counters.merge(key, delta, Long::sum);
            } else if (kind < 8 || m.addedBy.getOrDefault(node, List.of()).isEmpty()) {
                String key = "set-" + rnd.nextInt(3);
                String elem = "e" + (m.nextElement++);
                c.node(node).call("add " + key + " " + elem);
                m.sets.computeIfAbsent(key, k -> new TreeSet<>()).add(elem);
                m.addedBy.computeIfAbsent(node, k -> new ArrayList<>()).add(new String[]{key, elem});
            } else {
                List<String[]> mine = m.addedBy.get(node);
                String[] ke = mine.remove(rnd.nextInt(mine.size()));
                c.node(node).call("rem " + ke[0] + " " + ke[1]);
                m.sets.get(ke[0]).remove(ke[1]);
            }
            m.ops++;
        }
    }

    static Duration awaitConvergence(SyncCluster c, Duration atMost) throws Exception {
        long start = System.nanoTime();
        long deadline = start + atMost.toNanos();
        while (!c.converged()) {
            if (System.nanoTime() > deadline) {
                fail("replicas did not converge within " + atMost + ": " + c.digests());
            }
            TimeUnit.MILLISECONDS.sleep(100); // polling with a deadline
        }
        return Duration.ofNanos(System.nanoTime() - start);
    }

    static void checkModel(SyncCluster c, Model m) throws IOException {
        for (int i = 0; i < c.size(); i++) {
            for (Map.Entry<String, Long> e : m.counters.entrySet()) {
                assertEquals("VALUE " + e.getValue(), c.node(i).call("get-counter " + e.getKey()), "node " + i + " " + e.getKey());
            }
            for (Map.Entry<String, TreeSet<String>> e : m.sets.entrySet()) {
                assertEquals("VALUE " + String.join(",", e.getValue()), c.node(i).call("get-set " + e.getKey()),
                        "node " + i + " " + e.getKey());
            }
        }
    }

    /** One scenario: faults, partition with writes on both sides, kill -9 and restart, heal; converge; model. */
    static Duration scenario(int nodes, long seed, int opsPerPhase, Path logs) throws Exception {
        Random rnd = new Random(seed);
        Model m = new Model();
        Set<Integer> all = new TreeSet<>();
        for (int i = 0; i < nodes; i++) {
            all.add(i);
        }
        try (SyncCluster c = new SyncCluster(nodes, seed, logs)) {
            c.messageFaults(5, 0.01);
            randomOps(c, m, rnd, opsPerPhase, all);

            int isolated = nodes - 1;
            Set<Integer> minority = Set.of(isolated);
            Set<Integer> majority = new TreeSet<>(all);
            majority.remove(isolated);
            c.partition(minority, true);
            randomOps(c, m, rnd, opsPerPhase, majority);
            randomOps(c, m, rnd, opsPerPhase / 3, minority);

            // a majority replica that is in sync with the others is killed -9 and restarts empty
            int victim = 0;
            awaitMajorityConverged(c, majority, Duration.ofSeconds(20));
            c.kill(victim);
            c.restart(victim);
            randomOps(c, m, rnd, opsPerPhase / 3, majority);

            c.partition(minority, false);
            c.messageFaults(0, 0);
            Duration convergence = awaitConvergence(c, Duration.ofSeconds(30));
            checkModel(c, m);
            assertFalse(m.ops == 0);
            return convergence;
        }
    }

    static void awaitMajorityConverged(SyncCluster c, Set<Integer> group, Duration atMost) throws Exception {
        long deadline = System.nanoTime() + atMost.toNanos();
        while (true) {
            Set<String> d = new java.util.HashSet<>();
            for (int i : group) {
                d.add(c.node(i).call("digest"));
            }
            if (d.size() == 1) {
                return;
            }
            if (System.nanoTime() > deadline) {
                fail("the majority did not converge within " + atMost + ": " + d);
            }
            TimeUnit.MILLISECONDS.sleep(100); // polling with a deadline
        }
    }

    @Test
    @Tag("ASS-5")
    void threeProcessesConvergeAfterPartitionKillAndFaults() throws Exception {
        Duration d = scenario(3, 42, 60, Path.of("target", "sync-processes", "seed-42"));
        System.out.println("converged " + d.toMillis() + " ms after the heal");
    }
}
