/**
 * ACP, the consensus module of DWCP: agreement on VM ownership hand-overs and placement decisions, on a Raft group run
 * by Apache Ratis. The public entry point is {@link io.dwcp.consensus.RatisConsensusProvider}, found by
 * {@code DwcpManager}; users program against {@link io.dwcp.core.spi.Consensus}, operators use {@link io.dwcp.consensus.ConsensusAdmin}. {@link io.dwcp.consensus.ConsensusNode}
 * runs one replica as a stand-alone process. Everything else is internal.
 */
package io.dwcp.consensus;
