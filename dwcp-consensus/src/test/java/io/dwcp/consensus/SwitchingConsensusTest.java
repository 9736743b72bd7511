package io.dwcp.consensus;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.config.DwcpConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a switching scope checks before anything reaches a group, and that it releases its meters. */
class SwitchingConsensusTest {
    private static final String PEERS = "n1@127.0.0.1:1,n2@127.0.0.1:2,n3@127.0.0.1:3";

    @Test
    void misusedBuilderArgumentsAreRefused() {
        SwitchingConsensus.Builder b = SwitchingConsensus.builder(DwcpConfig.defaults());
        assertThrows(IllegalArgumentException.class, () -> b.layout("bad name", PEERS, "eu"));
        assertThrows(IllegalArgumentException.class, () -> b.layout("a", PEERS, "eu", "us"), "one region or one per voter");
        assertThrows(IllegalArgumentException.class, () -> b.layout("a", PEERS, "e u"));
        b.layout("a", PEERS, "eu");
        assertThrows(IllegalArgumentException.class, () -> b.layout("a", PEERS, "eu"), "twice");
        assertThrows(IllegalArgumentException.class, () -> b.initialLayout("b").build());
        assertThrows(IllegalArgumentException.class, () -> SwitchingConsensus.builder(DwcpConfig.defaults()).build());
    }

    @Test
    void reservedKeysAndUnknownLayoutsAreRefusedAndMetersAreReleased() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        SwitchingConsensus s = SwitchingConsensus.builder(DwcpConfig.defaults()).layout("a", PEERS, "eu")
                .layout("x", PEERS.replace("n", "x"), "eu", "eu", "us").localRegion("eu").meterRegistry(registry).build();
        assertEquals(1.0, registry.get("dwcp.acp.algorithm").tag("layout", "a").gauge().value(), "the initial layout");
        assertEquals(0.0, registry.get("dwcp.acp.algorithm").tag("layout", "x").gauge().value());
        assertTrue(registry.find("dwcp.acp.locality").gauge() != null);
        assertThrows(IllegalArgumentException.class, () -> s.write("acp/layout", "v"));
        assertThrows(IllegalArgumentException.class, () -> s.read(""));
        assertThrows(IllegalArgumentException.class, () -> s.switchTo("nowhere"));
        // Not started: the groups refuse, nothing is sent.
        ExecutionException e = assertThrows(ExecutionException.class, () -> s.write("k", "v").get(10, TimeUnit.SECONDS));
        assertEquals(ErrorCode.ILLEGAL_STATE, DwcpException.find(e).code());
        s.close();
        s.close();
        assertTrue(registry.find("dwcp.acp.algorithm").gauges().isEmpty(), "meters removed at close");
        assertTrue(registry.find("dwcp.acp.switches").counters().isEmpty());
        assertTrue(registry.find("dwcp.acp.locality").gauges().isEmpty());
    }
}
