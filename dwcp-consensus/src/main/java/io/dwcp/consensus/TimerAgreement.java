package io.dwcp.consensus;

import io.dwcp.core.config.ConsensusKeys;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.Consensus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/*
 * A voter's part in agreeing on the group's election timeout (see RaftTimers): while this voter leads, every
 * evaluate-interval, it measures the largest RTT to the other voters and commits the next agreed value to the register
 * RegisterStateMachine.AGREED_TIMERS_KEY through the group itself. Every voter applies that entry at the same log
 * position and keeps the value for its next start (RegisterStateMachine), so the voters agree by construction.
 *
 * Threading: one daemon thread (dwcp-acp-timers-<group>) from start() until close(); close() is idempotent.
 */
final class TimerAgreement implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TimerAgreement.class);
    /** Upper bound of all RTT probes of one measurement. */
    private static final Duration PROBE_BUDGET = Duration.ofSeconds(2);

    private final Consensus group;
    private final DwcpConfig config;
    private final String groupName;
    private final List<String> otherVoters;
    private final BooleanSupplier leading;
    private final Duration wait;
    private ScheduledExecutorService scheduler;

    /**
     * @param group the group's operations (this voter's own component)
     * @param config election.min / max / rtt-multiple, proposal-timeout, evaluate-interval
     * @param groupName for the thread name and logs
     * @param otherVoters host:port of the other voters
     * @param leading whether this voter leads now
     * @param wait how long one commit may take before this round gives up
     */
    TimerAgreement(Consensus group, DwcpConfig config, String groupName, List<String> otherVoters, BooleanSupplier leading,
                   Duration wait) {
        this.group = group;
        this.config = config;
        this.groupName = groupName;
        this.otherVoters = List.copyOf(otherVoters);
        this.leading = leading;
        this.wait = wait;
    }

    /** Starts the periodic measurement (first after one evaluate-interval). */
    synchronized void start() {
        if (scheduler != null || otherVoters.isEmpty()) {
            return;
        }
        scheduler = Executors.newSingleThreadScheduledExecutor(t -> {
            Thread th = new Thread(t, "dwcp-acp-timers-" + groupName);
            th.setDaemon(true);
            return th;
        });
        long every = config.get(ConsensusKeys.EVALUATE_INTERVAL).toMillis();
        scheduler.scheduleWithFixedDelay(this::round, every, every, TimeUnit.MILLISECONDS);
    }

    private void round() {
        if (!leading.getAsBoolean()) {
            return;
        }
        RaftTimers.measureMaxRtt(otherVoters, PROBE_BUDGET).ifPresent(rtt -> {
            try {
                agree(rtt).get(wait.toMillis(), TimeUnit.MILLISECONDS)
                        .ifPresent(d -> LOG.info("group '{}': agreed election timeout {} committed (largest voter RTT {});"
                                + " voters take it at their next start", groupName, d, rtt));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException | RuntimeException e) {
                LOG.debug("group '{}': agreeing on election timers failed this time: {}", groupName, e.toString());
            }
        });
    }

    /**
     * Commits the next agreed election timeout for a measured largest voter RTT (the wanted timeout is
     * clamp(election.rtt-multiple × RTT, election.min, election.max); one step moves at most 1.5× and only past a 20 %
     * difference, see {@link RaftTimers#nextAgreed}). A compare-and-set from the value read, so two leaders of
     * successive terms never step twice from the same value.
     *
     * @return the committed value, or empty when nothing needed committing (or another commit came first)
     */
    CompletableFuture<Optional<Duration>> agree(Duration maxVoterRtt) {
        Duration min = config.get(ConsensusKeys.ELECTION_MIN);
        Duration wanted = RaftTimers.derive(Optional.of(maxVoterRtt), config.get(ConsensusKeys.ELECTION_RTT_MULTIPLE), min,
                config.get(ConsensusKeys.ELECTION_MAX), config.get(ConsensusKeys.PROPOSAL_TIMEOUT)).electionMin();
        return group.read(RegisterStateMachine.AGREED_TIMERS_KEY).thenCompose(now -> {
            Duration agreed = now.value() == null ? min : RegisterStateMachine.parseAgreed(now.value()).orElse(min);
            Optional<Duration> next = RaftTimers.nextAgreed(agreed, wanted);
            if (next.isEmpty()) {
                return CompletableFuture.completedFuture(Optional.<Duration>empty());
            }
            return group.compareAndSet(RegisterStateMachine.AGREED_TIMERS_KEY, now.value(), Long.toString(next.get().toMillis()))
                    .thenApply(cas -> cas.applied() ? next : Optional.<Duration>empty());
        });
    }

    @Override
    public synchronized void close() {
        if (scheduler != null) {
            scheduler.shutdownNow();
            scheduler = null;
        }
    }
}
