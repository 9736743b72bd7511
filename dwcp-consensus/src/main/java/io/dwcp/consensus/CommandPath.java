package io.dwcp.consensus;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.config.ConsensusKeys;
import io.dwcp.core.config.DwcpConfig;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.apache.ratis.protocol.exceptions.GroupMismatchException;
import org.apache.ratis.protocol.exceptions.LeaderNotReadyException;
import org.apache.ratis.protocol.exceptions.RaftRetryFailureException;
import org.apache.ratis.protocol.exceptions.ReadException;
import org.apache.ratis.protocol.exceptions.ReadIndexException;
import org.apache.ratis.protocol.exceptions.ServerNotReadyException;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/*
 * How a RatisConsensus's commands reach its group: into the log, or as read-only requests; each tried again while its
 * failure says the group could not serve it yet and the proposal timeout has not passed; replies decoded, failures
 * mapped to the contract's codes and counted; Ratis' client replaced once it closed its request window; admin calls
 * (leader transfer, voter changes) run on the component's executor.
 *
 * Threading: thread-safe; no state of its own beyond the slot it reads (see GroupSlot: `slot.running == r` asks whether
 * the component still runs with the group an operation captured). Futures complete on the group's completer
 * (dwcp-acp-complete-N), never on Ratis' gRPC threads. The one lock taken here is a RunningGroup's monitor, held only
 * while its client is replaced (RunningGroup.release reads the client under the same monitor).
 */
final class CommandPath {
    private static final Logger LOG = LoggerFactory.getLogger(CommandPath.class);

    /** Marks a caller that handles FENCED and REFUSED replies itself (see RatisConsensus.send). */
    static final Function<Reply, Reply> LAYOUT_AWARE = x -> x;

    private final DwcpConfig config;
    private final GroupSlot slot;

    CommandPath(DwcpConfig config, GroupSlot slot) {
        this.config = config;
        this.slot = slot;
    }

    /**
     * A read-only request, tried again while it fails only because the contacted replica could not serve it yet (a
     * follower whose leader has no read index yet — a new leader before its first commit —, a replica not ready or not
     * the leader) and the proposal timeout has not passed. A read changes nothing, so trying again is always safe;
     * Ratis' client does not retry these failures itself.
     */
    <T> CompletableFuture<T> readOnly(RunningGroup r, byte[] bytes, RaftPeerId target, Function<Reply, T> map) {
        CompletableFuture<T> result = new CompletableFuture<>();
        attemptRead(r, bytes, target, System.nanoTime() + r.timers.proposalTimeout().toNanos(), map, result);
        return result;
    }

    private <T> void attemptRead(RunningGroup r, byte[] bytes, RaftPeerId target, long deadline, Function<Reply, T> map,
                                 CompletableFuture<T> result) {
        submitBytes(bytes, true, target, map).whenComplete((v, e) -> {
            if (e == null) {
                result.complete(v);
            } else if (slot.running == r && System.nanoTime() < deadline && notServedYet(e)) {
                long backoff = Math.max(10, Math.min(1000, config.get(ConsensusKeys.ELECTION_MIN).toMillis() / 4));
                CompletableFuture.delayedExecutor(backoff, TimeUnit.MILLISECONDS, r.completer)
                        .execute(() -> attemptRead(r, bytes, target, deadline, map, result));
            } else {
                result.completeExceptionally(e);
            }
        });
    }

    /** Whether a read-only request failed because the contacted replica could not serve it yet (see readOnly). */
    private static boolean notServedYet(Throwable e) {
        return RatisErrors.find(e, ReadIndexException.class) != null || RatisErrors.find(e, ReadException.class) != null
                || RatisErrors.find(e, GroupMismatchException.class) != null
                || RatisErrors.find(e, LeaderNotReadyException.class) != null
                || RatisErrors.find(e, ServerNotReadyException.class) != null;
    }

    /**
     * Sends a command into the log; tried again while the replica asked has no open division of the group (it is
     * re-opening with agreed timers: Ratis answers GroupMismatchException, which its client does not retry) and the
     * proposal timeout has not passed. Nothing was appended then; a retry that did commit twice would be answered
     * from the de-duplication table.
     */
    <T> CompletableFuture<T> submit(Command c, Function<Reply, T> map) {
        byte[] bytes = c.encode();
        RunningGroup r = slot.running;
        if (r == null) {
            return submitBytes(bytes, false, null, map);
        }
        CompletableFuture<T> result = new CompletableFuture<>();
        attemptSubmit(r, bytes, System.nanoTime() + r.timers.proposalTimeout().toNanos(), map, result);
        return result;
    }

    private <T> void attemptSubmit(RunningGroup r, byte[] bytes, long deadline, Function<Reply, T> map, CompletableFuture<T> result) {
        submitBytes(bytes, false, null, map).whenComplete((v, e) -> {
            if (e == null) {
                result.complete(v);
            } else if (slot.running == r && System.nanoTime() < deadline && RatisErrors.find(e, GroupMismatchException.class) != null) {
                CompletableFuture.delayedExecutor(retryBackoffMillis(), TimeUnit.MILLISECONDS, r.completer)
                        .execute(() -> attemptSubmit(r, bytes, deadline, map, result));
            } else {
                result.completeExceptionally(e);
            }
        });
    }

    private long retryBackoffMillis() {
        return Math.max(10, Math.min(1000, config.get(ConsensusKeys.ELECTION_MIN).toMillis() / 4));
    }

    /** Sends a command: into the log, or ({@code readOnly}) as a read-only request answered by the state machine's query. */
    <T> CompletableFuture<T> submitBytes(byte[] bytes, boolean readOnly, RaftPeerId target, Function<Reply, T> map) {
        RunningGroup r = slot.running;
        if (r == null) {
            return CompletableFuture.failedFuture(new DwcpException(ErrorCode.ILLEGAL_STATE, "consensus is " + slot.inactiveReason));
        }
        if (bytes.length > r.maxCommandBytes) {
            r.rejected.increment();
            return CompletableFuture.failedFuture(new DwcpException(ErrorCode.LIMIT_EXCEEDED, "command of " + bytes.length
                    + " bytes exceeds dwcp.consensus.max-command (" + r.maxCommandBytes + " bytes); nothing was sent"));
        }
        long t0 = System.nanoTime();
        RaftClient client = r.client;
        CompletableFuture<RaftClientReply> sent;
        try {
            Message message = Message.valueOf(ByteString.copyFrom(bytes));
            sent = !readOnly ? client.async().send(message)
                    : target == null ? client.async().sendReadOnly(message) : client.async().sendReadOnly(message, target);
        } catch (RuntimeException e) {
            replaceClientIfClosed(r, client, e);
            return CompletableFuture.failedFuture(translate(e, r));
        }
        return sent.orTimeout(r.hardTimeout.toMillis(), TimeUnit.MILLISECONDS).handleAsync((reply, error) -> {
            if (error != null) {
                replaceClientIfClosed(r, client, error);
                throw translate(error, r);
            }
            if (!reply.isSuccess()) {
                throw translate(reply.getException(), r);
            }
            Reply decoded = Reply.decode(reply.getMessage().getContent().asReadOnlyByteBuffer());
            r.lastTimedOut = false;
            r.latency.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
            switch (decoded.status()) {
                case MALFORMED -> {
                    r.rejected.increment();
                    throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "malformed command, nothing applied: " + decoded.error());
                }
                case STALE -> {
                    r.rejected.increment();
                    throw new DwcpException(ErrorCode.STALE, decoded.error());
                }
                case FENCED, REFUSED -> {
                    r.rejected.increment();
                    if (map == LAYOUT_AWARE) {
                        return map.apply(decoded);
                    }
                    throw new DwcpException(ErrorCode.ILLEGAL_STATE, "group '" + r.layout.name() + "' " + (decoded.status()
                            == Reply.Status.FENCED ? "was switched away from by a layout switch (epoch|layout: "
                            + decoded.error() + "); use the switching scope" : "refused: " + decoded.error()));
                }
                default -> {
                    r.committed.increment();
                    return map.apply(decoded);
                }
            }
        }, r.completer);
    }

    /**
     * Ratis' ordered asynchronous client closes its request window for good when a request exhausts its retries
     * ({@code RaftRetryFailureException}); every later request on that client then fails at once with
     * {@code AlreadyClosedException}. So after such a failure, while this component runs, the client is replaced by a
     * new one (a new Ratis client id; de-duplication in the state machine uses this component's own id, which stays).
     */
    private void replaceClientIfClosed(RunningGroup r, RaftClient failed, Throwable error) {
        if (RatisErrors.find(error, RaftRetryFailureException.class) == null
                && RatisErrors.find(error, AlreadyClosedException.class) == null) {
            return;
        }
        RaftClient fresh;
        synchronized (r) {
            if (slot.running != r || r.client != failed) {
                return; // stopping, or already replaced
            }
            fresh = RatisSettings.newClient(config, r.layout, r.timers, ClientId.randomId());
            r.client = fresh;
        }
        LOG.warn("consensus client of group '{}' replaced: Ratis closed its request window after {}", r.layout.name(),
                error.toString());
        r.completer.execute(() -> {
            try {
                failed.close();
            } catch (IOException | RuntimeException e) {
                LOG.debug("closing the replaced consensus client failed", e);
            }
        });
    }

    /** Maps a failure to the contract's codes (see {@link RatisErrors}) and counts it. */
    private DwcpException translate(Throwable error, RunningGroup r) {
        DwcpException d = slot.running == r && RatisErrors.find(error, AlreadyClosedException.class) != null
                // Not a stop: the client's request window had closed (it is being replaced); the command may have
                // been sent before it closed, so its outcome is unknown, as after a proposal timeout.
                ? new DwcpException(ErrorCode.QUORUM_UNAVAILABLE, "the consensus client of group '" + r.layout.name()
                        + "' gave up after an earlier command exhausted its retries; this command may still commit", error)
                : RatisErrors.translate(error, r.layout.name(), r.hardTimeout);
        if (d.code() == ErrorCode.QUORUM_UNAVAILABLE || d.code() == ErrorCode.TIMEOUT) {
            r.timedOut.increment();
            r.lastTimedOut = true;
        } else {
            r.rejected.increment();
        }
        return d;
    }

    /** Transfers the leadership of {@code r}'s group to {@code peerId}, within {@code timeout}. */
    CompletableFuture<Void> transferLeadership(RunningGroup r, String peerId, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        return admin(r, client -> {
            // An election can overtake the transfer (a loaded machine, a leader that missed heartbeats): Ratis then
            // fails it with DIFFERENT_LEADER. The caller asked for a leader, so ask the new leader again, in time.
            while (true) {
                long leftMillis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
                try {
                    RaftClientReply reply = client.admin().transferLeadership(RaftPeerId.valueOf(peerId), leftMillis);
                    if (reply.isSuccess() || !overtaken(reply.getException()) || System.nanoTime() >= deadline) {
                        return reply;
                    }
                } catch (IOException e) {
                    if (!overtaken(e) || System.nanoTime() >= deadline) {
                        throw e;
                    }
                }
            }
        });
    }

    /** Whether a leader transfer failed because an election chose another leader meanwhile. */
    private static boolean overtaken(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (String.valueOf(c.getMessage()).contains("DIFFERENT_LEADER")) {
                return true;
            }
        }
        return false;
    }

    /** One blocking Ratis admin call. */
    @FunctionalInterface
    interface AdminCall {
        RaftClientReply call(RaftClient client) throws IOException;
    }

    /** Runs a blocking admin call on the component's executor and maps its failure. */
    CompletableFuture<Void> admin(RunningGroup r, AdminCall call) {
        if (r == null) {
            return CompletableFuture.failedFuture(new DwcpException(ErrorCode.ILLEGAL_STATE, "consensus is " + slot.inactiveReason));
        }
        return CompletableFuture.runAsync(() -> {
            try {
                RaftClientReply reply = call.call(r.client);
                if (!reply.isSuccess()) {
                    throw translate(reply.getException(), r);
                }
            } catch (IOException e) {
                throw translate(e, r);
            }
        }, r.completer);
    }
}
