package io.dwcp.core;

import io.dwcp.core.RecordingComponents.Log;
import io.dwcp.core.RecordingComponents.RecordingCodec;
import io.dwcp.core.RecordingComponents.RecordingTransport;
import io.dwcp.core.config.ConsensusKeys;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.spi.Consensus;
import io.dwcp.core.spi.ConsensusProvider;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The manager wires a consensus provider last and stops it first; its keys are validated. */
class ConsensusWiringTest {
    /** Records its lifecycle; data operations are never called by these tests. */
    static final class RecordingConsensus extends RecordingComponents.Recording implements Consensus {
        RecordingConsensus(Log log) {
            super("consensus", log);
        }

        @Override
        public CompletableFuture<Versioned> read(String key) {
            throw new UnsupportedOperationException("not used by manager tests");
        }

        @Override
        public CompletableFuture<Versioned> write(String key, String value) {
            throw new UnsupportedOperationException("not used by manager tests");
        }

        @Override
        public CompletableFuture<CasResult> compareAndSet(String key, String expected, String newValue) {
            throw new UnsupportedOperationException("not used by manager tests");
        }
    }

    @Test
    void startsConsensusAfterTransportAndCodecAndStopsItFirst() {
        Log log = new Log();
        RecordingConsensus consensus = new RecordingConsensus(log);
        ConsensusProvider provider = new ConsensusProvider() {
            @Override
            public String name() {
                return "recording";
            }

            @Override
            public Consensus create(ComponentContext context) {
                consensus.context = context;
                return consensus;
            }
        };
        try (DwcpManager m = DwcpManager.builder()
                .transportProvider(RecordingComponents.provider(new RecordingTransport(log)))
                .codecProvider(RecordingComponents.provider(new RecordingCodec(log)))
                .consensusProvider(provider).build()) {
            assertEquals(List.of("transport", "compression", "consensus"), m.componentNames());
            m.start();
            assertTrue(m.consensus() == consensus);
            m.stop();
        }
        assertEquals(List.of("start:transport", "start:compression", "start:consensus",
                "stop:consensus", "stop:compression", "stop:transport"), log.events);
    }

    @Test
    void withoutAProviderConsensusIsAnIllegalState() {
        try (DwcpManager m = DwcpManager.builder().classLoader(new ClassLoader(null) { }).build()) {
            DwcpException e = assertThrows(DwcpException.class, m::consensus);
            assertEquals(ErrorCode.ILLEGAL_STATE, e.code());
        }
    }

    @Test
    void rejectsAPeerListWithARepeatedId() {
        DwcpConfig.Builder b = DwcpConfig.builder().set("dwcp.consensus.peers", "n1@127.0.0.1:9001,n1@127.0.0.1:9002");
        DwcpException e = assertThrows(DwcpException.class, b::build);
        assertEquals(ErrorCode.INVALID_CONFIG, e.code());
        assertTrue(e.getMessage().contains("dwcp.consensus.peers"), e.getMessage());
    }

    @Test
    void rejectsAnElectionMaxNotAboveMin() {
        DwcpConfig.Builder b = DwcpConfig.builder()
                .set(ConsensusKeys.ELECTION_MIN, Duration.ofSeconds(2))
                .set(ConsensusKeys.ELECTION_MAX, Duration.ofSeconds(1));
        DwcpException e = assertThrows(DwcpException.class, b::build);
        assertEquals(ErrorCode.INVALID_CONFIG, e.code());
        assertTrue(e.getMessage().contains("election.max (1s) must be > election.min (2s)"), e.getMessage());
    }

    @Test
    void acceptsAThreeVoterPeerList() {
        DwcpConfig c = DwcpConfig.builder().set("dwcp.consensus.peers", "n1@127.0.0.1:9001, n2@localhost:9002,n3@10.0.0.3:9003").build();
        assertTrue(c.get(ConsensusKeys.PEERS).isPresent());
    }
}
