package io.dwcp.transport.netty;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Pending connections are capped per peer address and per node, each refusal naming its key. */
class PendingConnectionsTest {
    @Test
    void capsPerPeerAndPerNodeAndReleasesPlaces() {
        PendingConnections p = new PendingConnections(5, 3);
        for (int i = 0; i < 3; i++) {
            p.acquire("10.0.0.1");
        }
        DwcpException peer = assertThrows(DwcpException.class, () -> p.acquire("10.0.0.1"));
        assertEquals(ErrorCode.LIMIT_EXCEEDED, peer.code());
        assertTrue(peer.getMessage().contains("dwcp.transport.max-pending-connections-per-peer"), peer.getMessage());
        p.acquire("10.0.0.2");
        p.acquire("10.0.0.2");
        DwcpException node = assertThrows(DwcpException.class, () -> p.acquire("10.0.0.3"));
        assertEquals(ErrorCode.LIMIT_EXCEEDED, node.code());
        assertTrue(node.getMessage().contains("dwcp.transport.max-pending-connections ="), node.getMessage());
        assertEquals(5, p.pending());
        assertEquals(0, p.pending("10.0.0.3"), "a refused connection takes no place");

        p.release("10.0.0.1");
        p.acquire("10.0.0.3");
        for (String a : new String[]{"10.0.0.1", "10.0.0.1", "10.0.0.2", "10.0.0.2", "10.0.0.3"}) {
            p.release(a);
        }
        assertEquals(0, p.pending());
        assertEquals(0, p.pending("10.0.0.1"));
    }

    @Test
    void refusedConnectionsHeldAreCappedAtTheNodesCap() {
        PendingConnections p = new PendingConnections(2, 1);
        assertTrue(p.holdRefused());
        assertTrue(p.holdRefused());
        assertTrue(!p.holdRefused(), "a third refused connection is closed at once");
        p.releaseRefused();
        assertTrue(p.holdRefused());
        assertEquals(2, p.refusedHeld());
    }
}
