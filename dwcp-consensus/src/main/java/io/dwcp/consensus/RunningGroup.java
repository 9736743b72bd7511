package io.dwcp.consensus;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/*
 * Everything a RatisConsensus owns while started, and the one place that releases it (release: reverse order of
 * creation). Fields are set by RatisConsensus.start before the instance is published through its volatile `running`
 * field, and not reassigned afterwards, except `client` (replaced under this object's monitor when Ratis closed its
 * request window) and `lastTimedOut`.
 */
final class RunningGroup {
    GroupLayout layout;
    RaftServer server;
    /** This voter's state machine; replaced when the division re-opens with new timers (RatisConsensus.retime). */
    volatile RegisterStateMachine stateMachine;
    /** Leader changes seen by state machines this division replaced (the meter sums them with the current one's). */
    final java.util.concurrent.atomic.AtomicLong retiredLeaderChanges = new java.util.concurrent.atomic.AtomicLong();
    /** The voter's server properties; the election timers in it are changed live (RatisConsensus.retime). */
    org.apache.ratis.conf.RaftProperties serverProperties;
    /** The peer id of this voter; null on a client. */
    org.apache.ratis.protocol.RaftPeerId self;
    /** Replaced when Ratis closed its request window (RatisConsensus.replaceClientIfClosed); written under this. */
    volatile RaftClient client;
    /** The RTT measured at start and the proposal timeout from it. */
    RaftTimers timers;
    ExecutorService completions;
    /** A voter's agreement on election timers: measures and commits while it leads; null on a client. */
    TimerAgreement timerAgreement;
    /** The shortest election timeout this voter's Ratis server runs with (agreed or configured); null on a client. */
    volatile Duration electionMinInForce;
    /** Runs completions on {@link #completions}, or inline once it has shut down, so every future completes. */
    Executor completer;
    long maxCommandBytes;
    /** Reads as read-only requests (ReadIndex or lease) rather than log commands. */
    boolean readOnlyReads;
    Duration hardTimeout;
    final List<Meter> meters = new ArrayList<>();
    Counter committed;
    Counter rejected;
    Counter timedOut;
    Timer latency;
    volatile boolean lastTimedOut;

    /** This replica's division of the group; empty on a client or while the division is not open. */
    Optional<DivisionInfo> division() {
        if (server == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(server.getDivision(layout.groupId()).getInfo());
        } catch (IOException e) {
            return Optional.empty(); // the division is not open (starting or closing): no term to report
        }
    }

    /**
     * Closes in reverse order of creation: meters, the timer agreement, the client, the server, then the completion
     * executor (waiting up to {@code shutdownTimeout} for queued completions).
     *
     * @return the failures as one {@code IO_ERROR}, or null when there were none or they were added to {@code primary}
     */
    DwcpException release(MeterRegistry registry, Duration shutdownTimeout, Throwable primary) {
        List<Exception> failures = new ArrayList<>();
        for (Meter m : meters) {
            registry.remove(m);
        }
        meters.clear();
        if (timerAgreement != null) {
            timerAgreement.close();
        }
        // The client goes first: closing it fails its pending calls, whose completions still need the executor.
        // Read under this lock: a replacement (replaceClientIfClosed) either happened before or sees `running` cleared.
        RaftClient c;
        synchronized (this) {
            c = client;
        }
        if (c != null) {
            try {
                c.close();
            } catch (IOException | RuntimeException e) {
                failures.add(e);
            }
        }
        if (server != null) {
            try {
                server.close();
            } catch (IOException | RuntimeException e) {
                failures.add(e);
            }
        }
        if (completions != null) {
            completions.shutdown();
            try {
                if (!completions.awaitTermination(shutdownTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    completions.shutdownNow();
                }
            } catch (InterruptedException e) {
                completions.shutdownNow();
                Thread.currentThread().interrupt();
            }
        }
        if (failures.isEmpty()) {
            return null;
        }
        if (primary != null) {
            failures.forEach(primary::addSuppressed);
            return null;
        }
        DwcpException d = new DwcpException(ErrorCode.IO_ERROR, "consensus failed to stop cleanly: " + failures.get(0).getMessage(),
                failures.get(0));
        failures.subList(1, failures.size()).forEach(d::addSuppressed);
        return d;
    }
}
