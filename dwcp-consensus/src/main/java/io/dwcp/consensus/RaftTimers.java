package io.dwcp.consensus;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/*
 * Raft timers from the measured RTT between voters:
 *
 *   recommended election timeout = clamp(election.rtt-multiple × max voter RTT, election.min, election.max)
 *                                  (RatisConsensus only warns when it exceeds election.min: every voter must run the
 *                                  same timers, and each voter's probe measures its own view)
 *   proposal timeout             = max(proposal-timeout, 20 × max voter RTT)   (client side, used as is)
 *
 * Agreed timers (voters): a leader measures the RTT to the other voters every evaluate-interval and, when the wanted
 * timeout differs enough from the agreed one, commits the next value (nextAgreed) as a register of the group; every
 * voter applies that entry at the same log position and keeps the value beside its log, and starts with it next time
 * (startingElectionMin). Ratis fixes a server's timers for its lifetime, so a committed value takes effect on each
 * voter's next start; until then the voters run the value they started with.
 *
 * The RTT is measured once, when the replica or client starts, with TCP connection set-ups to each other voter's
 * address: a SYN answered by SYN-ACK (a listening replica) or by RST (a replica not started yet, on a reachable host)
 * takes one round trip either way. The least of PROBES set-ups per voter counts (a busy host only adds scheduling delay
 * to a probe, never takes any away, so the least is the best estimate of the network's share); a voter that answers neither within
 * the probe timeout is left out (unreachable now: it says nothing about the RTT). With no voter measured the timers
 * are the configured ones.
 */
record RaftTimers(Duration electionMin, Duration electionUpper, Duration proposalTimeout, Optional<Duration> maxVoterRtt) {
    /** Connection set-ups per voter; the least counts. */
    static final int PROBES = 3;
    /** How much longer than the election timeout a proposal may wait at least, in RTTs. */
    static final int PROPOSAL_RTTS = 20;

    /**
     * Derives the timers.
     *
     * @param maxVoterRtt the largest RTT measured to another voter, empty when none was measured
     * @param multiple election.rtt-multiple
     * @param min election.min
     * @param max election.max (greater than min)
     * @param proposalTimeout the configured proposal-timeout
     */
    static RaftTimers derive(Optional<Duration> maxVoterRtt, int multiple, Duration min, Duration max, Duration proposalTimeout) {
        if (multiple < 1 || min.isNegative() || max.compareTo(min) <= 0) {
            throw new IllegalArgumentException("need multiple >= 1 and 0 <= min < max, got " + multiple + ", " + min + ", " + max);
        }
        Duration election = min;
        Duration proposal = proposalTimeout;
        if (maxVoterRtt.isPresent()) {
            Duration scaled = maxVoterRtt.get().multipliedBy(multiple);
            election = scaled.compareTo(min) < 0 ? min : scaled.compareTo(max) > 0 ? max : scaled;
            Duration rttFloor = maxVoterRtt.get().multipliedBy(PROPOSAL_RTTS);
            proposal = rttFloor.compareTo(proposalTimeout) > 0 ? rttFloor : proposalTimeout;
        }
        Duration doubled = election.multipliedBy(2);
        Duration upper = doubled.compareTo(max) < 0 ? doubled : max;
        if (upper.compareTo(election) <= 0) {
            upper = election.plusMillis(1); // election == max: Ratis needs max > min
        }
        return new RaftTimers(election, upper, proposal, maxVoterRtt);
    }

    /** Largest factor by which one committed change moves the agreed election timeout (either way). */
    static final double AGREED_STEP = 1.5;
    /** Least relative difference between the agreed and the wanted timeout that is worth a commit. */
    static final double AGREED_HYSTERESIS = 0.2;

    /**
     * The next agreed election timeout (the value a leader commits) on the way from {@code agreed} to {@code wanted},
     * or empty when they differ by less than {@link #AGREED_HYSTERESIS} of {@code agreed}. One step moves by at most
     * {@link #AGREED_STEP} either way, so while voters restart one by one onto a new value, a leader on either value
     * still heartbeats (every half of its timeout) within every other voter's minimum timeout.
     *
     * @param agreed the committed timeout in force (the configured election.min before any commit)
     * @param wanted clamp(election.rtt-multiple × largest voter RTT, election.min, election.max)
     * @return the value to commit, or empty
     */
    static Optional<Duration> nextAgreed(Duration agreed, Duration wanted) {
        if (agreed.isNegative() || agreed.isZero() || wanted.isNegative() || wanted.isZero()) {
            throw new IllegalArgumentException("timeouts must be positive, got " + agreed + " and " + wanted);
        }
        double a = agreed.toNanos();
        double w = wanted.toNanos();
        if (Math.abs(w - a) < AGREED_HYSTERESIS * a) {
            return Optional.empty();
        }
        double next = w > a ? Math.min(w, a * AGREED_STEP) : Math.max(w, a / AGREED_STEP);
        return Optional.of(Duration.ofMillis(Math.max(1, Math.round(next / 1e6))));
    }

    /**
     * The election timeout a voter starts with: the agreed one (committed by the group, see
     * {@link RegisterStateMachine#AGREED_TIMERS_KEY}) clamped to [min, max), else the configured minimum.
     *
     * @param agreed the committed value this voter applied before it stopped, if any
     * @param min election.min
     * @param max election.max
     * @return the shortest election timeout to run with
     */
    static Duration startingElectionMin(Optional<Duration> agreed, Duration min, Duration max) {
        if (agreed.isEmpty() || agreed.get().compareTo(min) <= 0) {
            return min;
        }
        return agreed.get().compareTo(max) < 0 ? agreed.get() : max.minusMillis(1);
    }

    /**
     * The largest RTT to any of {@code addresses} ({@code host:port}), each the least of {@link #PROBES} TCP
     * connection set-ups; all probes together take at most {@code budget} (a silent host would otherwise hold a start
     * for long); addresses that answered no probe are left out.
     *
     * @return the largest RTT measured, or empty when no address answered
     */
    static Optional<Duration> measureMaxRtt(List<String> addresses, Duration budget) {
        long deadline = System.nanoTime() + budget.toNanos();
        Duration worst = null;
        for (String address : addresses) {
            Optional<Duration> rtt = probe(address, deadline);
            if (rtt.isPresent() && (worst == null || rtt.get().compareTo(worst) > 0)) {
                worst = rtt.get();
            }
        }
        return Optional.ofNullable(worst);
    }

    /** The least of up to {@link #PROBES} connection set-ups to {@code host:port} before the deadline (System.nanoTime()). */
    static Optional<Duration> probe(String address, long deadline) {
        int colon = address.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("address '" + address + "' is not host:port");
        }
        InetSocketAddress target = new InetSocketAddress(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)));
        if (target.isUnresolved()) {
            return Optional.empty();
        }
        long[] samples = new long[PROBES];
        int n = 0;
        for (int i = 0; i < PROBES; i++) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left < 1) {
                break;
            }
            long t0 = System.nanoTime();
            try (Socket s = new Socket()) {
                s.connect(target, (int) Math.min(Integer.MAX_VALUE, left));
                samples[n++] = System.nanoTime() - t0;
            } catch (ConnectException refused) {
                if (!String.valueOf(refused.getMessage()).contains("refused")) {
                    return Optional.empty(); // e.g. network unreachable: nothing measured
                }
                samples[n++] = System.nanoTime() - t0; // RST: the host answered after one round trip
            } catch (SocketTimeoutException silent) {
                break; // no answer within the budget: unreachable now
            } catch (IOException other) {
                return Optional.empty(); // no route: nothing measured
            }
        }
        if (n == 0) {
            return Optional.empty();
        }
        return Optional.of(Duration.ofNanos(Arrays.stream(samples, 0, n).min().getAsLong()));
    }
}
