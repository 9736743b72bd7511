package io.dwcp.consensus;

import io.dwcp.core.config.ConsensusKeys;
import io.dwcp.core.config.DwcpConfig;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.GroupManagementRequest;
import org.apache.ratis.protocol.RaftClientReply;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/*
 * Live election timers. Ratis fixes a division's timers when it opens, so when the group applies an agreed election
 * timeout (TimerAgreement commits it; RegisterStateMachine applies it on every voter) a voter that does not run with
 * it yet re-opens its division with the new timers: it removes the group from its Ratis server, keeping log and
 * snapshots, and adds it again, which recovers the state like a restart without stopping the process (clients retry
 * across the gap: CommandPath.submit). Voters do it one after another — voter i of `peers` waits
 * i x (4 x the larger timeout + 1 s) — so the group keeps a quorum throughout.
 *
 * Threading: later() only schedules (it is called on Ratis' apply thread); the re-opening runs on the component's
 * completion executor, one at a time under `monitor`, which also wakes await().
 */
final class DivisionRetimer {
    private static final Logger LOG = LoggerFactory.getLogger(DivisionRetimer.class);

    private final DwcpConfig config;
    private final Object monitor = new Object();

    DivisionRetimer(DwcpConfig config) {
        this.config = config;
    }

    /**
     * The group applied {@code agreed}: schedules the re-opening of {@code r}'s division unless it runs with that
     * value already (or is a client).
     *
     * @param current whether {@code r} is still the running group (false once stopped)
     */
    void later(RunningGroup r, Duration agreed, BooleanSupplier current) {
        Duration min = RaftTimers.startingElectionMin(Optional.of(agreed), config.get(ConsensusKeys.ELECTION_MIN),
                config.get(ConsensusKeys.ELECTION_MAX));
        if (min.equals(r.electionMinInForce) || r.self == null) {
            return;
        }
        int index = 0;
        for (int i = 0; i < r.layout.peers().size(); i++) {
            if (r.layout.peers().get(i).getId().equals(r.self)) {
                index = i;
            }
        }
        long stagger = index * (4 * Math.max(min.toMillis(), r.electionMinInForce.toMillis()) + 1000);
        CompletableFuture.delayedExecutor(stagger, TimeUnit.MILLISECONDS, r.completer).execute(() -> reopen(r, min, current));
    }

    private void reopen(RunningGroup r, Duration min, BooleanSupplier current) {
        synchronized (monitor) {
            if (!current.getAsBoolean() || min.equals(r.electionMinInForce)) {
                return; // stopped meanwhile, or re-opened with it already
            }
            try {
                RatisSettings.setElectionTimers(r.serverProperties, config, min);
                long call = System.nanoTime();
                RaftClientReply removed = r.server.groupManagement(GroupManagementRequest.newRemove(ClientId.randomId(), r.self,
                        call, r.layout.groupId(), false, false));
                if (!removed.isSuccess()) {
                    throw removed.getException();
                }
                RaftClientReply added = r.server.groupManagement(GroupManagementRequest.newAdd(ClientId.randomId(), r.self,
                        call + 1, r.layout.group(), false));
                if (!added.isSuccess()) {
                    throw added.getException();
                }
                Duration was = r.electionMinInForce;
                r.electionMinInForce = min;
                LOG.info("group '{}': replica {} re-opened with the agreed election timeout {} (was {})", r.layout.name(),
                        r.self, min, was);
            } catch (IOException | RuntimeException e) {
                LOG.warn("group '{}': re-opening replica {} with the agreed election timeout {} failed; it keeps {} until"
                        + " the next agreement or start", r.layout.name(), r.self, min, r.electionMinInForce, e);
            } finally {
                monitor.notifyAll();
            }
        }
    }

    /** Waits until {@code condition} holds, re-checked after every re-opening; false when {@code timeout} passed first. */
    boolean await(BooleanSupplier condition, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (monitor) {
            while (!condition.getAsBoolean()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(monitor, left);
            }
            return true;
        }
    }
}
