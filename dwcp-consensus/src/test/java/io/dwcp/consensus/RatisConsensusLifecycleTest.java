package io.dwcp.consensus;

import io.dwcp.core.DwcpException;
import io.dwcp.core.DwcpManager;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.Health;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Lifecycle, meters, health and configuration errors of the component, without a running group. */
class RatisConsensusLifecycleTest {
    private static RatisConsensus consensus(DwcpConfig config, SimpleMeterRegistry registry) {
        return new RatisConsensus(ComponentContext.standalone(config, registry, 1));
    }

    @Test
    void theManagerFindsTheProviderThroughServiceLoader() {
        try (DwcpManager m = DwcpManager.builder().build()) {
            assertTrue(m.componentNames().contains("consensus"), m.componentNames().toString());
            assertTrue(m.consensus() instanceof RatisConsensus);
        }
    }

    @Test
    void withoutPeersItIsInactiveAndSaysWhy() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        RatisConsensus c = consensus(DwcpConfig.defaults(), registry);
        c.start();
        assertEquals(Health.Status.UNKNOWN, c.health().status());
        assertTrue(c.health().detail().contains("dwcp.consensus.peers"), c.health().detail());
        ExecutionException e = assertThrows(ExecutionException.class, () -> c.read("k").get(5, TimeUnit.SECONDS));
        assertEquals(ErrorCode.ILLEGAL_STATE, DwcpException.find(e).code());
        assertTrue(registry.getMeters().isEmpty(), "an inactive component registers no meters");
        c.stop();
    }

    @Test
    void aClientRegistersMetersOnStartRemovesThemOnStopAndCanStartAgain() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        DwcpConfig config = DwcpConfig.builder().set("dwcp.node-id", "client-x")
                .set("dwcp.consensus.peers", "n1@127.0.0.1:1,n2@127.0.0.1:2,n3@127.0.0.1:3").build();
        RatisConsensus c = consensus(config, registry);
        for (int round = 0; round < 2; round++) {
            c.start();
            assertTrue(registry.find("dwcp.acp.proposals").tag("outcome", "committed").counter() != null);
            assertTrue(registry.find("dwcp.acp.commit.latency").timer() != null);
            assertEquals(Health.Status.HEALTHY, c.health().status(), c.health().detail());
            // Oversized commands are refused before anything is sent.
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> c.write("k", "x".repeat(1 << 21)).get(5, TimeUnit.SECONDS));
            assertEquals(ErrorCode.LIMIT_EXCEEDED, DwcpException.find(e).code());
            assertEquals(1.0, registry.find("dwcp.acp.proposals").tag("outcome", "rejected").counter().count());
            c.stop();
            c.stop(); // idempotent
            assertTrue(registry.getMeters().isEmpty(), registry.getMeters().toString());
            assertEquals(Health.Status.UNKNOWN, c.health().status());
        }
    }

    @Test
    void stopCompletesACommandStillWaitingForAQuorum() throws Exception {
        DwcpConfig config = DwcpConfig.builder().set("dwcp.node-id", "client-y")
                .set("dwcp.consensus.peers", "n1@127.0.0.1:1,n2@127.0.0.1:2,n3@127.0.0.1:3")
                .set("dwcp.consensus.proposal-timeout", "10m").build();
        RatisConsensus c = consensus(config, new SimpleMeterRegistry());
        c.start();
        java.util.concurrent.CompletableFuture<io.dwcp.core.spi.Consensus.Versioned> pending = c.write("k", "v");
        c.stop();
        ExecutionException e = assertThrows(ExecutionException.class, () -> pending.get(30, TimeUnit.SECONDS));
        assertEquals(ErrorCode.CANCELLED, DwcpException.find(e).code(), e.toString());
    }

    @Test
    void aVoterWithoutStorageDirFailsToStartNamingTheKey() {
        DwcpConfig config = DwcpConfig.builder().set("dwcp.node-id", "n1")
                .set("dwcp.consensus.peers", "n1@127.0.0.1:1,n2@127.0.0.1:2,n3@127.0.0.1:3").build();
        RatisConsensus c = consensus(config, new SimpleMeterRegistry());
        DwcpException e = assertThrows(DwcpException.class, c::start);
        assertEquals(ErrorCode.INVALID_CONFIG, e.code());
        assertTrue(e.getMessage().contains("dwcp.consensus.storage-dir"), e.getMessage());
    }

    @Test
    void disabledCreatesNothing(@TempDir Path dir) throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        DwcpConfig config = DwcpConfig.builder().set("dwcp.consensus.enabled", "false").set("dwcp.node-id", "n1")
                .set("dwcp.consensus.peers", "n1@127.0.0.1:1,n2@127.0.0.1:2,n3@127.0.0.1:3")
                .set("dwcp.consensus.storage-dir", dir.toString()).build();
        RatisConsensus c = consensus(config, registry);
        c.start();
        assertTrue(c.health().detail().contains("disabled"), c.health().detail());
        assertTrue(registry.getMeters().isEmpty());
        assertEquals(0, java.nio.file.Files.list(dir).count(), "no storage touched");
        c.stop();
    }
}
