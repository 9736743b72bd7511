package io.dwcp.transport.netty;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.ProgressListener;
import io.dwcp.core.transport.TransferRequest;
import io.dwcp.core.transport.TransferResult;

import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The send side of one session's bookkeeping, the counterpart of {@link InboundTransfers}: the outbound transfers not
 * yet ended, their ids, and how each ends. A transfer is registered by {@code AmstSession.send} and ends exactly once:
 * {@link #succeeded} (the peer's DONE, from ControlFrames) or {@link #fail} (a local cancel, the producer, the peer's
 * ABORT, the session's end). Which end wins is decided under the send lock by {@code SendQueue.done} or
 * {@code SendQueue.fail} (the one that marks the transfer finished and releases its chunks); only the winner removes
 * it from the map, counts it and completes its future on the callback executor.
 *
 * <p>Locking: the map is concurrent (any thread adds, reads and removes; iteration is weakly consistent) and the id
 * counter atomic; no lock of this class is held across I/O or user code.
 */
final class OutboundTransfers {
    private final AmstSession session;
    private final AmstTransport transport;
    private final SendQueue queue;
    /** Outbound transfers not yet ended; removed by whoever ends one. */
    private final Map<Long, OutboundTransfer> open = new ConcurrentHashMap<>();
    /** Odd ids from the client, even ones from the server. */
    private final AtomicLong nextId;

    OutboundTransfers(AmstSession session, AmstTransport transport, SendQueue queue, boolean client) {
        this.session = session;
        this.transport = transport;
        this.queue = queue;
        this.nextId = new AtomicLong(client ? 1 : 2);
    }

    /** Registers a new transfer of {@code request} with the next id of this side. */
    OutboundTransfer register(TransferRequest request) {
        OutboundTransfer t = new OutboundTransfer(session, nextId.getAndAdd(2), request, System.nanoTime());
        open.put(t.id, t);
        return t;
    }

    /** The transfer with id {@code id}, or null when none is open. */
    OutboundTransfer get(long id) {
        return open.get(id);
    }

    /** The open transfers: a live, weakly consistent view. */
    Collection<OutboundTransfer> values() {
        return open.values();
    }

    boolean isEmpty() {
        return open.isEmpty();
    }

    /** The controller saw {@code streams} streams in use: each running transfer remembers the most it had. */
    void noteStreams(int streams) {
        for (OutboundTransfer t : open.values()) {
            t.maxStreams = Math.max(t.maxStreams, streams);
        }
    }

    /**
     * The peer received all {@code totalBytes} of {@code t}: completes it, unless it ended otherwise first. Control
     * connection's event loop.
     */
    void succeeded(OutboundTransfer t, long totalBytes) {
        if (!queue.done(t, totalBytes)) {
            return;
        }
        open.remove(t.id);
        long nanos = System.nanoTime() - t.startNanos;
        int streams = Math.max(t.maxStreams, session.activeStreams());
        TransferResult result = new TransferResult(totalBytes, t.wireBytes.get(), Duration.ofNanos(nanos), streams,
                t.resentChunks.get());
        transport.metrics().transfersSucceeded.increment();
        transport.metrics().transferDuration.record(nanos, TimeUnit.NANOSECONDS);
        transport.callback(() -> {
            if (t.request.progress() != ProgressListener.NONE) {
                t.request.progress().onProgress(totalBytes, t.totalBytes);
            }
            t.completion.complete(result);
        });
    }

    /** Fails an outbound transfer, releasing its chunks; tells the peer when {@code notifyPeer}. Any thread. */
    boolean fail(OutboundTransfer t, DwcpException cause, boolean notifyPeer) {
        if (!queue.fail(t)) {
            return false;
        }
        open.remove(t.id);
        if (notifyPeer) {
            session.control.sendAbort(t.id, cause.code(), cause.getMessage());
        }
        if (cause.code() == ErrorCode.CANCELLED) {
            transport.metrics().transfersCancelled.increment();
        } else {
            transport.metrics().transfersFailed.increment();
        }
        transport.callback(() -> t.completion.completeExceptionally(cause));
        return true;
    }
}
