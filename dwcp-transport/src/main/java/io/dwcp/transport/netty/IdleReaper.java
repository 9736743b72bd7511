package io.dwcp.transport.netty;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * Ends what peers hold without using it: a listener's sessions that have had no transfer for
 * {@code dwcp.transport.idle-timeout} (closed with GOAWAY TIMEOUT), and inbound transfers, in sessions of either role,
 * that have had no frame from their sender and delivered nothing for {@code dwcp.transport.transfer-idle-timeout}
 * (aborted with TIMEOUT, which the sender hears as an ABORT). An aborted transfer gives back its place of
 * {@code max-transfers-per-peer}, its delivery thread and its buffered bytes at once.
 *
 * <p>The transport runs {@link #tick} every {@link #periodNanos()} on an event loop with {@code System.nanoTime()};
 * tests call it with a time of their own, so no test waits for a timeout. Stateless apart from final fields; ticks
 * may overlap (every step it takes is idempotent).
 */
final class IdleReaper {
    private static final Logger LOG = LoggerFactory.getLogger(IdleReaper.class);

    private final AmstTransport transport;
    private final Settings settings;

    IdleReaper(AmstTransport transport, Settings settings) {
        this.transport = transport;
        this.settings = settings;
    }

    /** How often to tick: a quarter of the shorter timeout, between 250 ms and 30 s. */
    long periodNanos() {
        long shorter = Math.min(settings.idleTimeout.toNanos(), settings.transferIdleTimeout.toNanos());
        return Math.max(TimeUnit.MILLISECONDS.toNanos(250), Math.min(shorter / 4, TimeUnit.SECONDS.toNanos(30)));
    }

    /** Ends the sessions and transfers idle at {@code nowNanos} (a {@code System.nanoTime()} value). Any thread. */
    void tick(long nowNanos) {
        long sessionIdle = settings.idleTimeout.toNanos();
        long transferCutoff = nowNanos - settings.transferIdleTimeout.toNanos();
        for (AmstSession s : transport.sessions()) {
            for (Reassembly r : s.inbound.all()) {
                if (r.idleSince(transferCutoff)) {
                    expire(s, r);
                }
            }
            if (s.role == AmstSession.Role.SERVER && s.idleFor(nowNanos, sessionIdle)) {
                s.closeIdle(settings.idleTimeout);
            }
        }
    }

    private void expire(AmstSession s, Reassembly r) {
        String why = "transfer " + r.id + " (" + r.describe() + ") of session " + s.idHex + " had no data from its"
                + " sender for " + settings.transferIdleTimeout.toSeconds() + " s (dwcp.transport.transfer-idle-timeout)";
        if (r.expire(new DwcpException(ErrorCode.TIMEOUT, why))) {
            LOG.info("{}: aborted", why);
        }
    }
}
