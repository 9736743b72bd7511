package io.dwcp.transport.netty;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.transport.control.Backoff;
import io.dwcp.transport.wire.FrameHeader;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Connections lost and made again, for one session. The client re-opens data streams that failed (with backoff, until
 * {@code dwcp.transport.reconnect-max-attempts} failures in a row) and, when its control connection drops, reconnects
 * with the session id and resume token until {@code dwcp.transport.session-timeout}; the server keeps the session that
 * long for a resume. After a resume both ends re-send what the peer may have missed: OPEN and END of unfinished
 * outbound transfers, the cumulative ACK of inbound ones.
 *
 * <p>Threading: every state change goes through the session's {@link SessionLifecycle} (compare-and-set), so a loss,
 * a resume and a close may race on any threads and the close always wins. Connection completions run on the event
 * loop of the new channel, or on the thread that registered the callback if the connection completed first; loss
 * handling on the event loop of the lost channel; the retry timers on the session loop. The fields below say who
 * writes them.
 */
final class Resumption {
    private static final Logger LOG = LoggerFactory.getLogger(Resumption.class);

    /** Opens a connection of a session: slot 0 is the control connection; flags are the HELLO's. */
    @FunctionalInterface
    interface Connector {
        CompletableFuture<Channel> connect(int streamIndex, int flags);
    }

    private final AmstSession session;
    private final AmstTransport transport;
    private final Settings settings;
    private final SessionLifecycle state;
    private final EventLoop loop;
    private final Backoff backoff;
    /**
     * How connections are made: the transport's connectChannel. Tests interpose here to complete a connection later
     * than it attached (the order a descheduled thread produces); set before the connection it should see.
     */
    volatile Connector connector;
    /** When the control connection was last lost (System.nanoTime). Written on the lost channel's event loop. */
    private volatile long lostAtNanos;
    /** The server's wait for a resume: set on the session loop, cancelled from any thread. */
    private volatile ScheduledFuture<?> sessionTimer;

    Resumption(AmstSession session, AmstTransport transport, Settings settings, SessionLifecycle state, EventLoop loop) {
        this.session = session;
        this.transport = transport;
        this.settings = settings;
        this.state = state;
        this.loop = loop;
        this.backoff = new Backoff(settings.reconnectInitialBackoff, settings.reconnectMaxBackoff,
                ThreadLocalRandom.current()::nextDouble);
        this.connector = (index, flags) -> transport.connectChannel(session, index, flags);
    }

    // ------------------------------------------------------------------ data streams (client)

    /** Client: opens data stream slot {@code index}; completes with whether it connected. */
    CompletableFuture<Boolean> openStream(int index) {
        // A retiring stream in this slot is replaced by a fresh connection (growth after a shrink).
        Boolean busy = session.queue.beginConnect(index);
        if (busy != null) {
            return CompletableFuture.completedFuture(busy);
        }
        return connector.connect(index, 0).handle((ch, e) -> {
            session.queue.endConnect(index);
            if (e != null) {
                streamConnectFailed(index, e);
                return false;
            }
            return true;
        });
    }

    private void streamConnectFailed(int index, Throwable e) {
        int failures = session.queue.connectFailed(index);
        DwcpException d = DwcpException.find(e);
        if (d != null && (d.code() == ErrorCode.SESSION_UNKNOWN || d.code() == ErrorCode.AUTH_FAILED)) {
            LOG.warn("session {}: stream {} refused by {}: {}", session.idHex, index, session.remoteAddress(), d.getMessage());
            return;
        }
        if (failures >= Math.max(1, settings.reconnectMaxAttempts) || !state.isLive()) {
            // After repeated failures the slot rests until the next adjustment re-opens it.
            LOG.warn("session {}: stream {} failed {} times in a row ({}); retired until the next adjustment",
                    session.idHex, index, failures, e.toString());
            return;
        }
        scheduleStreamReconnect(index, failures);
    }

    /** Client: re-opens slot {@code index} after the backoff for {@code attempt}, if it is still wanted then. */
    void scheduleStreamReconnect(int index, int attempt) {
        long delay = backoff.delayNanos(attempt);
        loop.schedule(() -> {
            if (state.isLive() && index <= session.targetStreams()) {
                transport.metrics().reconnects.increment();
                openStream(index);
            }
        }, delay, TimeUnit.NANOSECONDS);
    }

    // ------------------------------------------------------------------ the control connection

    /** A control connection was attached (new or resumed): the server stops waiting for a resume. Any thread. */
    void controlAttached() {
        ScheduledFuture<?> timer = sessionTimer;
        if (timer != null) {
            timer.cancel(false);
            sessionTimer = null;
        }
    }

    /** The control connection was lost (already detached): fail the RTT probes, then resume or wait for one. */
    void controlLost(String why) {
        session.control.failPings(new DwcpException(ErrorCode.IO_ERROR, why));
        if (state.get() == SessionLifecycle.State.CONNECTING) {
            return;
        }
        lostAtNanos = System.nanoTime();
        if (session.role == AmstSession.Role.CLIENT) {
            if (!state.lost()) {
                // Closing (nothing to resume), or reconnecting: the resume under way sees the lost connection and
                // retries (see reconnectControl).
                return;
            }
            LOG.warn("session {}: {}; reconnecting to {} with the resume token", session.idHex, why, session.remoteAddress());
            reconnectControl(0);
        } else {
            LOG.info("session {}: {}; keeping it {} for a resume", session.idHex, why, settings.sessionTimeout);
            loop.execute(() -> {
                if (session.control.channel() == null && sessionTimer == null && state.isLive()) {
                    sessionTimer = loop.schedule(() -> {
                        if (session.control.channel() == null) {
                            session.terminate(new DwcpException(ErrorCode.TIMEOUT, "session " + session.idHex
                                    + ": no control connection for " + settings.sessionTimeout
                                    + " (dwcp.transport.session-timeout)"));
                        }
                    }, settings.sessionTimeout.toNanos(), TimeUnit.NANOSECONDS);
                }
            });
        }
    }

    /** Client: one resume attempt after the backoff for {@code attempt}; retries until the session timeout. */
    private void reconnectControl(int attempt) {
        if (!state.reconnecting()) {
            return;
        }
        if (System.nanoTime() - lostAtNanos > settings.sessionTimeout.toNanos()) {
            session.terminate(new DwcpException(ErrorCode.TIMEOUT, "session " + session.idHex + ": could not reconnect to "
                    + session.remoteAddress() + " within " + settings.sessionTimeout + " (dwcp.transport.session-timeout)"));
            return;
        }
        loop.schedule(() -> connector.connect(0, FrameHeader.FLAG_RESUME).whenComplete((ch, e) -> {
            if (e != null) {
                DwcpException d = DwcpException.find(e);
                if (d != null && (d.code() == ErrorCode.SESSION_UNKNOWN || d.code() == ErrorCode.AUTH_FAILED)) {
                    session.terminate(new DwcpException(d.code(), "session " + session.idHex + " cannot resume: "
                            + d.getMessage(), e));
                } else {
                    reconnectControl(attempt + 1);
                }
                return;
            }
            if (!state.resumed()) {
                // Closed while the resume was under way: the session stays closed and drops the new connection.
                ch.close();
                return;
            }
            if (session.control.channel() != ch) {
                // The resumed connection closed again before the session reopened (controlLost saw RECONNECTING and
                // left the retry to this completion): go on reconnecting, unless a close or another loss won the race.
                if (state.lost()) {
                    reconnectControl(0);
                }
                return;
            }
            transport.metrics().reconnects.increment();
            LOG.info("session {}: control connection resumed", session.idHex);
            afterResume();
            for (int i = 1; i <= session.targetStreams(); i++) {
                openStream(i);
            }
        }), backoff.delayNanos(attempt), TimeUnit.NANOSECONDS);
    }

    /** Server: a resumed control connection arrived. */
    void resumed(Channel ch) {
        session.attachControl(ch);
        LOG.info("session {}: resumed by {}", session.idHex, ch.remoteAddress());
        afterResume();
    }

    /** Re-sends what the peer may have missed while the control connection was down. */
    private void afterResume() {
        for (OutboundTransfer t : session.outbound.values()) {
            long end = session.queue.endOf(t);
            session.control.sendOpen(t);
            if (end >= 0) {
                session.control.sendEnd(t.id, end);
            }
        }
        for (Reassembly r : session.inbound.all()) {
            r.resendAck();
        }
    }

    /** Stops the server's wait for a resume (the session ends). Any thread. */
    void cancelTimer() {
        ScheduledFuture<?> timer = sessionTimer;
        if (timer != null) {
            timer.cancel(false);
        }
    }
}
