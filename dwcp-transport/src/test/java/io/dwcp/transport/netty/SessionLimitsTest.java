package io.dwcp.transport.netty;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.spi.Session;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One peer identity cannot hold more than its share of a listener's sessions. */
class SessionLimitsTest {
    private Peers peers;

    @AfterEach
    void stop() throws Exception {
        if (peers != null) {
            peers.close();
        }
    }

    @Test
    void aPeerBeyondItsSessionShareIsRefusedAndAClosedSessionFreesItsPlace() throws Exception {
        peers = new Peers(b -> b.set("dwcp.transport.max-sessions-per-peer", "2").set("dwcp.transport.max-sessions", "16"),
                b -> b.set("dwcp.transport.reconnect.max-attempts", "0"));
        List<Session> held = new ArrayList<>();
        held.add(peers.connect());
        held.add(peers.connect());
        ExecutionException e = assertThrows(ExecutionException.class, () -> peers.connect());
        DwcpException d = DwcpException.find(e);
        assertEquals(ErrorCode.LIMIT_EXCEEDED, d == null ? null : d.code(), String.valueOf(e.getCause()));
        assertTrue(d.getMessage().contains("max-sessions-per-peer"), d.getMessage());
        held.get(0).close();
        // The listener forgets a closed session; then the peer may open another.
        Session again = null;
        for (int attempt = 0; attempt < 100 && again == null; attempt++) {
            try {
                again = peers.connect();
            } catch (ExecutionException refused) {
                Thread.onSpinWait();
            }
        }
        assertTrue(again != null, "a closed session gives its place back");
        again.close();
        held.get(1).close();
    }

    @Test
    void aListenerClosesASessionThatHadNoTransferForTheIdleTimeout() throws Exception {
        peers = new Peers(b -> b.set("dwcp.transport.idle-timeout", "1s"), b -> b.set("dwcp.transport.reconnect.max-attempts", "0"));
        Session idle = peers.connect();
        // Heartbeats keep flowing (every 100 ms here); only transfers count as activity.
        idle.closeFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
        assertEquals(0, peers.server.sessions().size(), "the listener forgot the idle session");
        assertTrue(!idle.isOpen());
    }
}
