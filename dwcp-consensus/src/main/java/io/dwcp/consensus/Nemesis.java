package io.dwcp.consensus;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/*
 * The fault schedule of a ConsensusCheck run: one fault at a time, in turn over the chosen kinds (the seed picks the
 * first kind, the victims and the partition's minority), each held at least faultHold and until an operation completed
 * under it, then healed, then the clients must complete operations successfully again before the next one (a recovery
 * slower than the cap is recorded as a stall).
 *
 * Called by ConsensusCheck.run on its own thread (the run's thread) while the client threads run; it owns no thread
 * and no lock. It reads the shared CheckClients.Progress (its monitor) and writes the run's synchronized `injected`
 * map and `stalls` list. Lifecycle of one fault: inject (kill, SIGSTOP, proxy rule) -> hold -> heal (restart, SIGCONT,
 * proxy heal) -> recover; the loop never starts a fault before the previous one was healed.
 */
final class Nemesis {
    private Nemesis() {
    }

    /**
     * Injects faults in turn until every kind was injected once, {@code o.duration()} passed and the clients completed
     * {@code o.minOps()} operations successfully; returns with every fault it injected healed. On an exception between
     * inject and heal the caller's finally block heals the proxy and continues every replica, and closing the cluster
     * stops the rest.
     */
    static void run(ConsensusCheck.Options o, ReplicaCluster cluster, RatisConsensus observer, CheckClients.Progress progress,
                    Map<ConsensusCheck.Fault, Integer> injected, List<String> stalls, int processes) throws Exception {
        List<ConsensusCheck.Fault> kinds = new ArrayList<>(o.faults());
        Collections.sort(kinds);
        Random rnd = new Random(o.seed() ^ 0x5DEECE66DL);
        int offset = (int) Math.floorMod(o.seed(), (long) kinds.size());
        long end = System.nanoTime() + o.duration().toNanos();
        int nodes = o.nodes();
        for (int round = 0; round < kinds.size() || System.nanoTime() < end || progress.ok() < o.minOps(); round++) {
            ConsensusCheck.Fault fault = kinds.get((round + offset) % kinds.size());
            // Every other fault hits the leader (as the client last saw it); the others a random replica.
            int victim = round % 2 == 0
                    ? observer.leaderHint().map(cluster::indexOf).orElse(rnd.nextInt(nodes))
                    : rnd.nextInt(nodes);
            long completedBefore = progress.completed();
            long start = System.nanoTime();
            switch (fault) {
                case KILL -> cluster.kill(victim);
                case PAUSE -> cluster.signal(victim, true);
                case PARTITION -> {
                    Set<Integer> minority = new HashSet<>(Set.of(victim));
                    while (minority.size() < (nodes - 1) / 2) {
                        minority.add(rnd.nextInt(nodes));
                    }
                    cluster.proxy().partition(minority);
                }
                case ONEWAY -> {
                    Set<Integer> others = new HashSet<>();
                    for (int i = 0; i < nodes; i++) {
                        others.add(i);
                    }
                    cluster.proxy().cutOneWay(victim, others);
                }
                case DELAY -> cluster.proxy().delay(victim, o.electionMin().multipliedBy(3));
            }
            injected.merge(fault, 1, Integer::sum);
            // Hold: at least faultHold, and until some operation completed under the fault (bounded).
            Thread.sleep(o.faultHold().toMillis()); // the fault's length, not a synchronisation
            progress.await(completedBefore + 1, 0, start + ConsensusCheck.RECOVERY_CAP.toNanos());
            switch (fault) {
                case KILL -> cluster.restart(victim);
                case PAUSE -> cluster.signal(victim, false);
                default -> cluster.proxy().heal();
            }
            // Recover: the clients must complete operations successfully again before the next fault.
            long okTarget = progress.ok() + processes;
            long healed = System.nanoTime();
            if (!progress.await(0, okTarget, healed + ConsensusCheck.RECOVERY_CAP.toNanos())) {
                stalls.add("after " + fault.name().toLowerCase(Locale.ROOT) + " of n" + (victim + 1) + " (round " + round
                        + "): fewer than " + processes + " successful operations within "
                        + ConsensusCheck.RECOVERY_CAP.toSeconds() + " s");
            }
        }
    }
}
