package io.dwcp.transport.netty;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.transport.Transfer;
import io.dwcp.core.transport.TransferRequest;
import io.dwcp.core.transport.TransferResult;

import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;

/**
 * A transfer this side sends. Its producer reads the source on a sender thread, cuts chunks and queues them on the
 * session; acknowledgements free them. {@link #unacked}, {@link #producedBytes}, {@link #endSent} and
 * {@link #finished} are guarded by the session lock; the rest is volatile or final. Thread-safe.
 */
final class OutboundTransfer implements Transfer {
    final AmstSession session;
    final long id;
    final TransferRequest request;
    final long totalBytes;
    final long startNanos;
    final CompletableFuture<TransferResult> completion = new CompletableFuture<>();
    /** Chunks sent or queued and not yet acknowledged, in offset order. */
    @GuardedBy("lock")
    final ArrayDeque<Chunk> unacked = new ArrayDeque<>();
    @GuardedBy("lock")
    long producedBytes;
    /** Written by the producer under the lock (SendQueue.enqueue); the producer alone also reads it without. */
    long chunksProduced;
    /** Final length once the source ended (streaming), else -1. */
    @GuardedBy("lock")
    long endBytes = -1;
    @GuardedBy("lock")
    boolean finished;
    volatile long ackedBytes;
    /** Added to by the event loops of every stream that carries the transfer: atomic, not just volatile. */
    final java.util.concurrent.atomic.AtomicLong wireBytes = new java.util.concurrent.atomic.AtomicLong();
    /** As {@link #wireBytes}. */
    final java.util.concurrent.atomic.AtomicLong resentChunks = new java.util.concurrent.atomic.AtomicLong();
    /** Most streams seen while the transfer ran: written by the controller tick (session loop), read at DONE. */
    volatile int maxStreams;
    /** When progress was last reported: written and read on the control connection's event loop. */
    volatile long lastProgressNanos;

    OutboundTransfer(AmstSession session, long id, TransferRequest request, long startNanos) {
        this.session = session;
        this.id = id;
        this.request = request;
        this.totalBytes = request.source().lengthBytes();
        this.startNanos = startNanos;
    }

    @Override
    public long id() {
        return id;
    }

    @Override
    public CompletableFuture<TransferResult> completion() {
        return completion;
    }

    @Override
    public long acknowledgedBytes() {
        return ackedBytes;
    }

    @Override
    public boolean cancel() {
        return session.failOutbound(this, new DwcpException(ErrorCode.CANCELLED, "transfer " + id
                + " cancelled by the caller"), true);
    }

    @Override
    public String toString() {
        return "transfer " + id + " (" + request.kind() + " '" + request.key() + "', " + totalBytes + " bytes)";
    }
}
