package io.dwcp.sync;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.transport.InboundTransfer;
import io.dwcp.core.transport.PayloadSource;
import io.dwcp.core.transport.Session;
import io.dwcp.core.transport.Transfer;
import io.dwcp.core.transport.TransferHandler;
import io.dwcp.core.transport.TransferKind;
import io.dwcp.core.transport.TransferRequest;
import io.dwcp.core.transport.TransferSink;
import io.dwcp.core.transport.Transport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;

/*
 * Maintainer notes. Carries sync messages over the core Transport SPI: every message is one transfer of kind
 * METADATA with the transfer key "dwcp-sync". Sessions to peers are opened on demand and cached per address; a session
 * that closed or failed to open is replaced at the next send. Requests carry a correlation id; the response comes back
 * on the same session and completes the waiting future, or the wait ends with TIMEOUT after request-timeout.
 * Inbound transfers are refused before any allocation when they are not METADATA or longer than max-message, and
 * collected into one array otherwise; the complete message goes to the dispatcher on the transport delivery thread.
 * Outbound, at most sendWindow transfers are in flight per session (32, or half max-transfers-per-peer if lower): a
 * receiver refuses transfers past that limit, and a burst of pushes (hundreds of updates at once) was mostly refused.
 * Further messages wait in the session's window, in order, bounded in bytes; a full queue fails the send at once.
 *
 * Threading: send/request from any thread; request() blocks its caller (only the anti-entropy worker calls it, never
 * a transport thread). Thread-safe.
 */

/** Sessions, one-way sends and correlated requests over the transport. Thread-safe. */
final class Messenger implements TransferHandler {
    private static final Logger LOG = LoggerFactory.getLogger(Messenger.class);
    static final String TRANSFER_KEY = "dwcp-sync";
    /** Most transfers in flight per session: half the transport's default max-transfers-per-peer (64). */
    static final int DEFAULT_SEND_WINDOW = 32;

    /** Reasons an inbound message is dropped (the {@code reason} tag of {@code dwcp.ass.rejected}). */
    enum Reject { NOT_SYNC, OVERSIZED, MALFORMED, UNKNOWN_TYPE, TYPE_MISMATCH, UNSOLICITED,
        /** The sender is a retired member (added for membership retirement). */
        RETIRED }

    interface Listener {
        void onMessage(Session session, byte[] message);

        void onReject(Reject reason, String detail);
    }

    private final Transport transport;
    private final int maxMessageBytes;
    private final Listener listener;
    private final Map<InetSocketAddress, CompletableFuture<Session>> sessions = new ConcurrentHashMap<>();
    private final Map<Long, CompletableFuture<byte[]>> pending = new ConcurrentHashMap<>();
    /** Per session with transfers in flight: those transfers (cancelled when it is dropped) and the waiting messages. */
    private final Map<Session, Window> windows = new ConcurrentHashMap<>();
    /** Most transfers in flight per session; further sends wait in its window's queue. */
    private final int sendWindow;
    /** Most bytes waiting per session. */
    private final long maxQueuedBytes;
    /** How long a request waits for its session to open (the transport's connect-timeout), before its own timeout. */
    private final long connectTimeoutMillis;
    private final AtomicLong nextCorrelation = new AtomicLong(System.nanoTime() & 0xFFFFFFFFL | 1);
    final AtomicLong bytesSent = new AtomicLong();
    final AtomicLong bytesReceived = new AtomicLong();
    private volatile boolean closed;

    /**
     * @param connectTimeoutMillis the transport's connect-timeout: a request gives a session being opened this long
     *     (a handshake with a replica that has just started can take longer than a request's own timeout)
     */
    Messenger(Transport transport, int maxMessageBytes, long connectTimeoutMillis, Listener listener) {
        this(transport, maxMessageBytes, connectTimeoutMillis, DEFAULT_SEND_WINDOW, listener);
    }

    /**
     * @param sendWindow most transfers in flight per session (at most half the receivers' max-transfers-per-peer:
     *     responses to a peer's requests travel on its own session and count there too)
     */
    Messenger(Transport transport, int maxMessageBytes, long connectTimeoutMillis, int sendWindow, Listener listener) {
        if (sendWindow < 1) {
            throw new IllegalArgumentException("sendWindow must be >= 1, got " + sendWindow);
        }
        this.sendWindow = sendWindow;
        this.maxQueuedBytes = 4L * maxMessageBytes;
        this.transport = transport;
        this.maxMessageBytes = maxMessageBytes;
        this.connectTimeoutMillis = connectTimeoutMillis;
        this.listener = listener;
    }

    long newCorrelationId() {
        return nextCorrelation.getAndIncrement();
    }

    /** Sends one message to a peer without waiting; failures are logged at debug and counted by the caller's stats. */
    CompletableFuture<Void> send(InetSocketAddress peer, byte[] message) {
        return session(peer).thenCompose(s -> send(s, message));
    }

    /**
     * Sends one message on a given session (a response on the session its request came on). At most {@code
     * sendWindow} transfers are in flight per session; further messages wait, in order, for a place (up to
     * {@code maxQueuedBytes} per session, beyond which the send fails at once with {@code LIMIT_EXCEEDED}). The
     * receiver refuses transfers past its max-transfers-per-peer: a burst of pushes sent at once would see most
     * of them refused.
     */
    CompletableFuture<Void> send(Session session, byte[] message) {
        if (message.length > maxMessageBytes) {
            return CompletableFuture.failedFuture(new DwcpException(ErrorCode.LIMIT_EXCEEDED, "sync message of "
                    + message.length + " bytes above dwcp.sync.max-message (" + maxMessageBytes + " bytes)"));
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        Window w;
        while (true) {
            w = windows.computeIfAbsent(session, k -> new Window());
            synchronized (w) {
                if (w.retired) {
                    continue; // emptied and removed at this moment: take the session's new window
                }
                if (w.inFlight >= sendWindow) {
                    if (w.queuedBytes + message.length > maxQueuedBytes) {
                        return CompletableFuture.failedFuture(new DwcpException(ErrorCode.LIMIT_EXCEEDED, "sync send queue"
                                + " to " + session.remoteAddress() + " full (" + w.queue.size() + " messages, "
                                + w.queuedBytes + " bytes waiting behind " + w.inFlight + " transfers in flight)"));
                    }
                    w.queue.add(new Queued(message, done));
                    w.queuedBytes += message.length;
                    return done;
                }
                w.inFlight++;
                break;
            }
        }
        if (!start(session, w, new Queued(message, done))) {
            release(session, w);
        }
        return done;
    }

    /**
     * Starts one transfer that holds a place in {@code w}. Returns false when it already ended (its place is free
     * again: the caller passes it on); otherwise its completion passes the place on.
     */
    private boolean start(Session session, Window w, Queued q) {
        Transfer t;
        try {
            t = session.send(TransferRequest.of(TransferKind.METADATA, TRANSFER_KEY,
                    PayloadSource.of(ByteBuffer.wrap(q.message()))));
        } catch (RuntimeException e) {
            q.done().completeExceptionally(e);
            return false;
        }
        bytesSent.addAndGet(q.message().length);
        synchronized (w) {
            w.transfers.add(t);
        }
        if (t.completion().isDone()) {
            finish(w, t, q);
            return false;
        }
        t.completion().whenComplete((r, e) -> {
            finish(w, t, q);
            release(session, w);
        });
        return true;
    }

    private static void finish(Window w, Transfer t, Queued q) {
        synchronized (w) {
            w.transfers.remove(t);
        }
        t.completion().whenComplete((r, e) -> {
            if (e != null) {
                q.done().completeExceptionally(e);
            } else {
                q.done().complete(null);
            }
        });
    }

    /** A place in {@code w} became free: starts the waiting messages in order until one is in flight. */
    private void release(Session session, Window w) {
        while (true) {
            Queued next;
            synchronized (w) {
                next = w.queue.poll();
                if (next == null) {
                    w.inFlight--;
                    if (w.inFlight == 0) {
                        w.retired = true;
                        windows.remove(session, w);
                    }
                    return;
                }
                w.queuedBytes -= next.message().length;
            }
            if (start(session, w, next)) {
                return;
            }
        }
    }

    /** Transfers in flight on a session and the messages waiting for a place. Guarded by itself. */
    private static final class Window {
        int inFlight;
        long queuedBytes;
        /** Emptied and removed from {@code windows}: a new send takes a new window. */
        boolean retired;
        final ArrayDeque<Queued> queue = new ArrayDeque<>();
        final Set<Transfer> transfers = new HashSet<>();
    }

    private record Queued(byte[] message, CompletableFuture<Void> done) {
    }

    /**
     * Sends a request and waits for the response with the same correlation id. Blocks the caller: for the session up
     * to the transport's connect-timeout when it is still being opened, then for the response up to
     * {@code timeoutMillis}.
     *
     * @throws DwcpException {@code TIMEOUT} when the session did not open or the response did not come in time; the
     *     transport's code when opening the session or sending failed
     */
    byte[] request(InetSocketAddress peer, long correlationId, byte[] message, long timeoutMillis) {
        CompletableFuture<byte[]> response = new CompletableFuture<>();
        pending.put(correlationId, response);
        CompletableFuture<Session> session = session(peer);
        try {
            Session s;
            try {
                s = session.get(Math.max(timeoutMillis, connectTimeoutMillis), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                throw new DwcpException(ErrorCode.TIMEOUT, "no session to " + peer + " within "
                        + Math.max(timeoutMillis, connectTimeoutMillis) + " ms (dwcp.transport.connect-timeout)", e);
            }
            send(s, message).whenComplete((v, e) -> {
                if (e != null) {
                    response.completeExceptionally(e);
                }
            });
            return response.get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            drop(peer, session);
            throw new DwcpException(ErrorCode.TIMEOUT, "no sync response from " + peer + " within " + timeoutMillis + " ms", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DwcpException(ErrorCode.CANCELLED, "interrupted waiting for " + peer, e);
        } catch (ExecutionException e) {
            drop(peer, session);
            DwcpException d = DwcpException.find(e.getCause());
            throw d != null ? d : new DwcpException(ErrorCode.IO_ERROR, "sync request to " + peer + " failed: " + e.getCause(), e.getCause());
        } finally {
            pending.remove(correlationId);
        }
    }

    /**
     * Forgets and closes the session a failed request used when it cannot carry transfers: closed, or with no data
     * stream connected. A session whose connections were cut stays "open" while the transport tries to resume it (up to
     * its session-timeout), and requests queued on it wait for their whole timeout; the next request opens a fresh
     * session instead, which fails fast while the peer is unreachable and succeeds as soon as it is back. Kept: a
     * session still being opened (its handshake has its own connect-timeout, and abandoning it at every request timeout
     * would never let a slow handshake finish on a loaded machine), and a connected session whose peer was merely slow
     * (a new handshake would only add work).
     */
    private void drop(InetSocketAddress peer, CompletableFuture<Session> session) {
        if (!session.isDone() || session.isCompletedExceptionally()) {
            return;
        }
        Session s = session.join();
        if ((!s.isOpen() || s.activeStreams() == 0) && sessions.remove(peer, session)) {
            abandon(s);
        }
    }

    /**
     * Ends a session that cannot carry transfers, without waiting: its in-flight transfers are cancelled (their senders
     * see the failure; gossip queues them again for the next round), then it is closed on a short-lived thread. A
     * graceful close on the caller's thread would wait up to the transport's close-timeout for transfers that cannot
     * complete, and the anti-entropy worker that called it, with every further round with that peer, would wait too.
     */
    private void abandon(Session s) {
        List<Transfer> open = new ArrayList<>();
        List<Queued> waiting = new ArrayList<>();
        Window w = windows.get(s);
        if (w != null) {
            synchronized (w) {
                open.addAll(w.transfers);
                waiting.addAll(w.queue);
                w.queue.clear();
                w.queuedBytes = 0;
            }
        }
        DwcpException gone = new DwcpException(ErrorCode.IO_ERROR, "sync session to " + s.remoteAddress() + " dropped");
        waiting.forEach(q -> q.done().completeExceptionally(gone));
        open.forEach(Transfer::cancel);
        Thread t = new Thread(s::close, "dwcp-sync-drop");
        t.setDaemon(true);
        t.start();
    }

    /** Completes the request waiting for {@code correlationId}; false when none waits (late or unsolicited). */
    boolean complete(long correlationId, byte[] response) {
        CompletableFuture<byte[]> f = pending.remove(correlationId);
        return f != null && f.complete(response);
    }

    private CompletableFuture<Session> session(InetSocketAddress peer) {
        if (closed) {
            return CompletableFuture.failedFuture(new DwcpException(ErrorCode.ILLEGAL_STATE, "sync is stopped"));
        }
        return sessions.compute(peer, (a, cur) -> {
            if (cur != null && (!cur.isDone() || (!cur.isCompletedExceptionally() && cur.join().isOpen()))) {
                return cur;
            }
            return transport.connect(peer, this);
        });
    }

    /** Drops the cached session of {@code peer} (closing it). */
    void disconnect(InetSocketAddress peer) {
        CompletableFuture<Session> f = sessions.remove(peer);
        if (f != null) {
            f.thenAccept(Session::close);
        }
    }

    @Override
    public TransferSink onTransfer(Session session, InboundTransfer transfer) {
        if (transfer.kind() != TransferKind.METADATA || !TRANSFER_KEY.equals(transfer.key())) {
            listener.onReject(Reject.NOT_SYNC, transfer.kind() + " '" + transfer.key() + "'");
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "not a sync transfer: " + transfer.kind() + " '" + transfer.key() + "'");
        }
        if (transfer.lengthBytes() < 0 || transfer.lengthBytes() > maxMessageBytes) {
            listener.onReject(Reject.OVERSIZED, transfer.lengthBytes() + " bytes");
            throw new DwcpException(ErrorCode.LIMIT_EXCEEDED, "sync message of " + transfer.lengthBytes()
                    + " bytes refused: above dwcp.sync.max-message (" + maxMessageBytes + " bytes) or of unknown length");
        }
        byte[] buf = new byte[(int) transfer.lengthBytes()];
        return new TransferSink() {
            private int filled;

            @Override
            public void write(ByteBuffer data) {
                int n = data.remaining();
                if (n > buf.length - filled) {
                    throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "sync transfer longer than announced");
                }
                data.get(buf, filled, n);
                filled += n;
            }

            @Override
            public void complete() {
                if (filled != buf.length) {
                    throw new DwcpException(ErrorCode.TRANSFER_INCOMPLETE, filled + " of " + buf.length + " bytes");
                }
                bytesReceived.addAndGet(buf.length);
                listener.onMessage(session, buf);
            }

            @Override
            public void fail(Throwable cause) {
                LOG.debug("inbound sync transfer failed", cause);
            }
        };
    }

    /**
     * Fails the waiting requests with {@code CANCELLED} and closes every cached session, in parallel, waiting at most
     * {@code timeoutMillis} in all. A session's graceful close waits for its in-flight transfers (up to the
     * transport's close-timeout); a close still running at the deadline is left to finish on its own thread, which
     * ends when the transport aborts the session (at the latest when the transport stops). Idempotent.
     */
    void close(long timeoutMillis) throws InterruptedException {
        closed = true;
        for (CompletableFuture<byte[]> f : pending.values()) {
            f.completeExceptionally(new DwcpException(ErrorCode.CANCELLED, "sync stopped"));
        }
        pending.clear();
        List<Thread> closers = new ArrayList<>();
        for (InetSocketAddress a : new ArrayList<>(sessions.keySet())) {
            CompletableFuture<Session> f = sessions.remove(a);
            if (f == null || !f.isDone() || f.isCompletedExceptionally()) {
                if (f != null) {
                    f.thenAccept(Session::close); // still connecting: close it once it opens
                }
                continue;
            }
            Thread t = new Thread(() -> f.join().close(), "dwcp-sync-close-" + closers.size());
            t.setDaemon(true);
            t.start();
            closers.add(t);
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        for (Thread t : closers) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left > 0) {
                t.join(left);
            }
        }
    }

    void open() {
        closed = false;
    }

    static <T> BiConsumer<T, Throwable> logFailure(String what) {
        return (v, e) -> {
            if (e != null) {
                LOG.debug("{} failed: {}", what, e.toString());
            }
        };
    }
}
