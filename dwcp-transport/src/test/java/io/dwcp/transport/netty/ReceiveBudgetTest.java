package io.dwcp.transport.netty;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Receive windows promised per peer and per node: smaller windows near a cap, a refusal naming the cap past it. */
class ReceiveBudgetTest {
    @Test
    void aPeerNearItsCapGetsASmallerWindowThenARefusalNamingThePerPeerKey() {
        ReceiveBudget b = new ReceiveBudget(1000, 250);
        assertEquals(100, b.reserve("p", 100, 20));
        assertEquals(100, b.reserve("p", 100, 20));
        assertEquals(50, b.reserve("p", 100, 20), "what is left of the peer's share");
        DwcpException e = assertThrows(DwcpException.class, () -> b.reserve("p", 100, 20));
        assertEquals(ErrorCode.LIMIT_EXCEEDED, e.code());
        assertTrue(e.getMessage().contains("dwcp.transport.max-buffered-per-peer"), e.getMessage());
        // Another peer is not affected by the first one's share.
        assertEquals(100, b.reserve("q", 100, 20));
        assertEquals(250, b.reservedBytes("p"));
        assertEquals(350, b.reservedBytes(null));
        b.release("p", 100);
        assertEquals(100, b.reserve("p", 100, 20), "a released window is available again");
    }

    @Test
    void theNodeCapBindsAllPeersAndTheNodesOwnSessions() {
        ReceiveBudget b = new ReceiveBudget(300, 200);
        assertEquals(200, b.reserve("p", 200, 50));
        assertEquals(100, b.reserve(null, 200, 50), "a session this node opened counts against the node only");
        DwcpException e = assertThrows(DwcpException.class, () -> b.reserve("q", 200, 50));
        assertTrue(e.getMessage().contains("dwcp.transport.max-buffered ="), e.getMessage());
        b.release(null, 100);
        b.release("p", 200);
        assertEquals(0, b.reservedBytes(null));
        assertEquals(0, b.reservedBytes("p"));
        assertThrows(IllegalArgumentException.class, () -> new ReceiveBudget(0, 1));
    }
}
