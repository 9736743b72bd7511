package io.dwcp.consensus;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.protocol.exceptions.RaftRetryFailureException;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.protocol.exceptions.TimeoutIOException;

import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

/** Maps Ratis and JDK failures of a command to the error codes of the {@link io.dwcp.core.spi.Consensus} contract. */
final class RatisErrors {
    private RatisErrors() {
    }

    /**
     * The {@code DwcpException} for a failed command to group {@code groupName}: retries exhausted or a Ratis timeout
     * → {@code QUORUM_UNAVAILABLE} (with the last leader hint), our own deadline ({@code hardTimeout}) →
     * {@code TIMEOUT}, a not-leader refusal → {@code NOT_LEADER} with the hint (→ {@code QUORUM_UNAVAILABLE} when the
     * replica knows no leader), the state machine's refusals →
     * {@code LIMIT_EXCEEDED} / {@code PROTOCOL_ERROR}, a closed client → {@code CANCELLED}, anything else →
     * {@code IO_ERROR}. A {@code DwcpException} passes through unchanged.
     */
    static DwcpException translate(Throwable error, String groupName, Duration hardTimeout) {
        Throwable t = error;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof DwcpException d) {
            return d;
        }
        String group = "group '" + groupName + "'";
        NotLeaderException notLeader = find(t, NotLeaderException.class);
        RaftPeer hint = notLeader == null ? null : notLeader.getSuggestedLeader();
        String hintText = notLeader == null ? "" : hint == null ? "; the last replica asked knows no leader"
                : "; leader hint: " + hint.getId() + "@" + hint.getAddress();
        // Retries exhausted (whatever the last attempt saw) = no quorum committed it in time.
        if (t instanceof RaftRetryFailureException || t instanceof TimeoutIOException || t instanceof TimeoutException
                || find(t, TimeoutIOException.class) != null) {
            if (t instanceof TimeoutException) {
                return new DwcpException(ErrorCode.TIMEOUT, "no reply from " + group + " within " + hardTimeout.toMillis() + " ms", t);
            }
            return new DwcpException(ErrorCode.QUORUM_UNAVAILABLE, "no quorum of " + group + " committed the command within "
                    + "dwcp.consensus.proposal-timeout; it may still commit later" + hintText, t);
        }
        if (notLeader != null && hint == null) {
            // A replica that knows no leader is in a minority or mid-election: no quorum answered, as after a timeout.
            return new DwcpException(ErrorCode.QUORUM_UNAVAILABLE, "no quorum of " + group + " answered: the contacted "
                    + "replica is not the leader and knows none; the command may still commit later", t);
        }
        if (notLeader != null) {
            return new DwcpException(ErrorCode.NOT_LEADER, "the contacted replica of " + group + " is not the leader" + hintText, t);
        }
        StateMachineException sme = find(t, StateMachineException.class);
        if (sme != null) {
            String m = String.valueOf(sme.getMessage());
            if (m.contains(RegisterStateMachine.REFUSED_TOO_LARGE)) {
                return new DwcpException(ErrorCode.LIMIT_EXCEEDED, m.substring(m.indexOf(RegisterStateMachine.REFUSED_TOO_LARGE)
                        + RegisterStateMachine.REFUSED_TOO_LARGE.length()), t);
            }
            if (m.contains(RegisterStateMachine.REFUSED_MALFORMED)) {
                return new DwcpException(ErrorCode.PROTOCOL_ERROR, m.substring(m.indexOf(RegisterStateMachine.REFUSED_MALFORMED)
                        + RegisterStateMachine.REFUSED_MALFORMED.length()), t);
            }
        }
        if (find(t, AlreadyClosedException.class) != null) {
            return new DwcpException(ErrorCode.CANCELLED, "the consensus client of " + group + " was closed", t);
        }
        return new DwcpException(ErrorCode.IO_ERROR, "command to " + group + " failed: " + t, t);
    }

    static <E extends Throwable> E find(Throwable t, Class<E> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return type.cast(c);
            }
        }
        return null;
    }
}
