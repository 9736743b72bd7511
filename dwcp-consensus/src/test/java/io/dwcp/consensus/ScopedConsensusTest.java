package io.dwcp.consensus;

import io.dwcp.core.config.DwcpConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Building and starting scopes without replicas (client-only groups do not connect until a command). */
class ScopedConsensusTest {
    private static final DwcpConfig BASE = DwcpConfig.builder().set("dwcp.node-id", "client-x").build();
    private static final String PEERS_A = "a1@127.0.0.1:1,a2@127.0.0.1:2,a3@127.0.0.1:3";
    private static final String PEERS_B = "b1@127.0.0.1:4,b2@127.0.0.1:5,b3@127.0.0.1:6";

    @Test
    void refusesBadRegionsWithAMessageThatSaysWhatToChange() {
        assertThrows(IllegalArgumentException.class, () -> ScopedConsensus.builder(BASE).build(), "no region");
        assertThrows(IllegalArgumentException.class, () -> ScopedConsensus.builder(BASE).region("a|b", PEERS_A));
        ScopedConsensus.Builder twice = ScopedConsensus.builder(BASE).region("a", PEERS_A);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> twice.region("a", PEERS_B));
        assertTrue(e.getMessage().contains("'a' given twice"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> ScopedConsensus.builder(BASE).region("a", PEERS_A).localRegion("b").build());
    }

    @Test
    void eachRegionHasItsOwnGroupAndMetersAndCloseIsIdempotent() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ScopedConsensus s = ScopedConsensus.builder(BASE).region("a", PEERS_A).region("b", PEERS_B).localRegion("b")
                .meterRegistry(registry).build();
        s.start();
        assertEquals(java.util.List.of("a", "b"), java.util.List.copyOf(s.regions()));
        assertTrue(s.local() == s.region("b"));
        assertTrue(s.region("a") != s.region("b"));
        assertThrows(IllegalArgumentException.class, () -> s.region("c"));
        assertThrows(IllegalArgumentException.class, () -> s.moveHome("k", "c"));
        for (String g : new String[]{"a", "b"}) {
            assertNotNull(registry.find("dwcp.acp.proposals").tag("group", g).tag("outcome", "committed").counter(), g);
        }
        s.close();
        s.close();
        assertNull(registry.find("dwcp.acp.proposals").tag("group", "a").counter(), "meters removed at close");
    }
}
