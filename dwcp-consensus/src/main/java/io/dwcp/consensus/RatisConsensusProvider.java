package io.dwcp.consensus;

import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.spi.Consensus;
import io.dwcp.core.spi.ConsensusProvider;

/**
 * The ACP consensus provider: a Raft group on Apache Ratis, configured by the {@code dwcp.consensus.*} keys. Found by
 * {@code DwcpManager} through {@code META-INF/services}; users reach it as {@code manager.consensus()}.
 */
public final class RatisConsensusProvider implements ConsensusProvider {
    /** Used by {@link java.util.ServiceLoader}. */
    public RatisConsensusProvider() {
    }

    @Override
    public String name() {
        return "ratis";
    }

    @Override
    public Consensus create(ComponentContext context) {
        return new RatisConsensus(context);
    }
}
