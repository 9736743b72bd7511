package io.dwcp.transport.netty;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.Health;
import io.dwcp.core.transport.TransferHandler;
import io.dwcp.transport.wire.Hello;
import io.dwcp.transport.wire.HelloAck;
import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLPeerUnverifiedException;
import java.net.InetSocketAddress;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/*
 * The sessions of one AmstTransport and their admission: a client session opened by connect; a server session accepted
 * from a HELLO (dwcp.transport.max-sessions and max-sessions-per-peer, a session id not in use); a resume or a data
 * stream matched to its session (resume token, peer identity). Each new session reserves its receive window from the
 * transport's ReceiveBudget here, and sessionClosed (once per session, from its terminate()) is the one place that
 * returns it.
 *
 * Threading: thread-safe; both collections are concurrent. acceptHello runs on the event loop of the accepting channel;
 * a new session's admission (the limit checks, the window's reservation, the insertion and the session's opening)
 * holds {@code admission}, so HELLOs accepted at the same moment on different event loops cannot pass the limits
 * together. Only admissions take that lock, and nothing under it blocks or calls back into this table.
 */
final class SessionTable {
    private static final Logger LOG = LoggerFactory.getLogger(SessionTable.class);

    private final AmstTransport transport;
    private final SecureRandom random = new SecureRandom();
    private final Set<AmstSession> sessions = ConcurrentHashMap.newKeySet();
    /** Server sessions by their id in hex (resumes and data streams find their session here). */
    private final ConcurrentHashMap<String, AmstSession> serverSessions = new ConcurrentHashMap<>();
    /** Held by a new session's admission: limit checks, reservation and insertion into serverSessions. */
    private final Object admission = new Object();

    SessionTable(AmstTransport transport) {
        this.transport = transport;
    }

    /**
     * Client: a new session to {@code remote} with its receive window reserved, not started yet.
     *
     * @throws DwcpException when the receive budget refuses the window
     */
    AmstSession openClient(TransferHandler handler, InetSocketAddress remote) {
        Settings settings = transport.settings();
        byte[] id = new byte[16];
        random.nextBytes(id);
        long window = transport.receiveBudget().reserve(null, settings.reorderBufferBytes, settings.minReceiveWindowBytes());
        AmstSession s = new AmstSession(transport, AmstSession.Role.CLIENT, id, new byte[16], handler, remote,
                transport.group().next(), window);
        sessions.add(s);
        return s;
    }

    /** What the server does with a HELLO: the answer, the attached session/stream, and what to run after the ack. */
    record Accepted(HelloAck ack, AmstSession session, DataStream stream, Runnable afterAck) {
        static Accepted refuse(ErrorCode code, String message) {
            return new Accepted(HelloAck.refuse(code, message), null, null, () -> { });
        }
    }

    /** Server: decides on a HELLO. Event loop of {@code ch}. */
    Accepted acceptHello(Channel ch, Hello h, int flags, TransferHandler handler) {
        Settings settings = transport.settings();
        ReceiveBudget receiveBudget = transport.receiveBudget();
        String id = io.netty.buffer.ByteBufUtil.hexDump(h.sessionId());
        String peer = peerIdentity(ch);
        boolean resume = ServerHandshakeHandler.isResume(flags);
        if (h.streamIndex() == 0 && !resume) {
            synchronized (admission) {
                if (serverSessions.size() >= settings.maxSessions) {
                    return Accepted.refuse(ErrorCode.LIMIT_EXCEEDED,
                            "this listener already holds " + settings.maxSessions
                                    + " sessions (dwcp.transport.max-sessions)");
                }
                long fromPeer = serverSessions.values().stream().filter(x -> peer.equals(x.peerIdentity)).count();
                if (fromPeer >= settings.maxSessionsPerPeer) {
                    return Accepted.refuse(ErrorCode.LIMIT_EXCEEDED, "this listener already holds " + fromPeer
                            + " sessions of " + peer + " (dwcp.transport.max-sessions-per-peer = "
                            + settings.maxSessionsPerPeer + ")");
                }
                long window;
                try {
                    window = receiveBudget.reserve(peer, settings.reorderBufferBytes, settings.minReceiveWindowBytes());
                } catch (DwcpException e) {
                    return Accepted.refuse(e.code(), e.getMessage());
                }
                byte[] token = new byte[16];
                random.nextBytes(token);
                AmstSession s = new AmstSession(transport, AmstSession.Role.SERVER, h.sessionId(), token, handler,
                        (InetSocketAddress) ch.remoteAddress(), transport.group().next(), window);
                s.peerIdentity = peer;
                if (serverSessions.putIfAbsent(id, s) != null) {
                    receiveBudget.release(peer, window);
                    return Accepted.refuse(ErrorCode.PROTOCOL_ERROR, "session id " + id + " is already in use");
                }
                sessions.add(s);
                s.peerWindow(h.receiveWindowBytes());
                s.attachControl(ch);
                s.openServerSide();
                LOG.debug("AMST session {} accepted from {}", id, ch.remoteAddress());
                return new Accepted(HelloAck.accept(h.capabilities() & Hello.CAPABILITIES, s.receiveWindowBytes(),
                        token), s, null, () -> { });
            }
        }
        AmstSession s = serverSessions.get(id);
        if (s == null || !s.isOpen()) {
            return Accepted.refuse(ErrorCode.SESSION_UNKNOWN, "no session " + id + " here (expired, closed, or never opened)");
        }
        if (!MessageDigest.isEqual(s.resumeToken(), h.resumeToken())) {
            return Accepted.refuse(ErrorCode.AUTH_FAILED, "wrong resume token for session " + id);
        }
        if (!peer.equals(s.peerIdentity)) {
            return Accepted.refuse(ErrorCode.AUTH_FAILED, "session " + id + " belongs to another peer identity");
        }
        if (h.streamIndex() == 0) {
            return new Accepted(HelloAck.accept(h.capabilities() & Hello.CAPABILITIES, s.receiveWindowBytes(),
                    s.resumeToken()), s, null, () -> s.resumed(ch));
        }
        DataStream stream = s.attachStream(h.streamIndex(), ch);
        return new Accepted(HelloAck.accept(h.capabilities() & Hello.CAPABILITIES, s.receiveWindowBytes(),
                s.resumeToken()), s, stream, () -> { });
    }

    /** The peer's identity: its TLS certificate subject when mutual TLS is on, else its IP address. */
    private String peerIdentity(Channel ch) {
        SslHandler ssl = ch.pipeline().get(SslHandler.class);
        if (ssl != null) {
            try {
                return ssl.engine().getSession().getPeerPrincipal().getName();
            } catch (SSLPeerUnverifiedException e) {
                // No client certificate (tls.mutual = false): fall back to the address.
            }
        }
        return ((InetSocketAddress) ch.remoteAddress()).getAddress().getHostAddress();
    }

    /** The transport's health from its sessions': the worst of them, with session and stream counts. */
    Health health() {
        if (sessions.isEmpty()) {
            return Health.healthy("no session");
        }
        Health.Status worst = Health.Status.HEALTHY;
        int streams = 0;
        for (AmstSession s : sessions) {
            worst = Health.worst(worst, s.healthStatus());
            streams += s.activeStreams();
        }
        return new Health(worst, sessions.size() + " sessions, " + streams + " streams");
    }

    /** Inbound transfers open over every session of this node. */
    int inboundTransfers() {
        int n = 0;
        for (AmstSession s : sessions) {
            n += s.inboundCount();
        }
        return n;
    }

    /** Inbound transfers open now over every session of {@code peer} (its identity, or its address when it has none). */
    int inboundTransfersOf(String peer) {
        int n = 0;
        for (AmstSession s : sessions) {
            String id = s.peerIdentity != null ? s.peerIdentity : String.valueOf(s.remoteAddress());
            if (peer.equals(id)) {
                n += s.inboundCount();
            }
        }
        return n;
    }

    /** Once per session, from its terminate(): forgets it and returns its receive window to the budget. */
    void sessionClosed(AmstSession s) {
        sessions.remove(s);
        serverSessions.remove(s.idHex, s);
        transport.receiveBudget().release(s.role == AmstSession.Role.SERVER ? s.peerIdentity : null, s.receiveWindowBytes());
    }

    /** Ends every session with {@code cause} (pending transfers fail with it); at stop. */
    void terminateAll(DwcpException cause) {
        for (AmstSession s : sessions) {
            s.terminate(cause);
        }
    }

    /** Forgets every session; at stop, after {@link #terminateAll}. */
    void clear() {
        sessions.clear();
        serverSessions.clear();
    }

    /** The live set of sessions (the transport's meters, the idle reaper, tests). */
    Set<AmstSession> sessions() {
        return sessions;
    }
}
