package io.dwcp.transport.netty;

import io.dwcp.core.transport.Session;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A session closed while its control connection is being resumed stays closed: the late resume neither revives it
 * nor keeps the new connection. The proxy holds the server's HELLO_ACK of the resume until the session is closed, so
 * the order is the same in every run.
 */
class SessionStateRaceTest {

    @Test
    void aResumeThatCompletesAfterTheSessionClosedDoesNotReviveIt() throws Exception {
        try (Peers p = new Peers(b -> b.set("dwcp.tier.pin", "local"));
             HoldingProxy proxy = new HoldingProxy(p.listener.localAddress())) {
            Session s = p.client.connect(proxy.address(), p.clientRecorder).get(10, TimeUnit.SECONDS);
            AmstSession cs = p.client.sessions().iterator().next();
            proxy.holdNewConnections();
            // The control connection drops: the client reconnects with its resume token through the proxy.
            cs.controlChannel().close().sync();
            assertTrue(proxy.held.await(10, TimeUnit.SECONDS), "the server answered the resume");
            s.close();
            assertEquals(SessionLifecycle.State.CLOSED, cs.state());
            proxy.release();
            assertTrue(proxy.clientClosedHeld.await(10, TimeUnit.SECONDS),
                    "the client closes the resumed connection of a closed session");
            assertEquals(SessionLifecycle.State.CLOSED, cs.state());
            assertFalse(s.isOpen());
            assertTrue(cs.controlChannel() == null || !cs.controlChannel().isOpen(), "no live control connection is kept");
        }
    }
}
